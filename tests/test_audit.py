"""The audit log's hash chain: intact entries verify; an altered, removed or reordered one fails."""

from __future__ import annotations

from sync import audit
from sync.db import Store
from tests.test_cli import fieldcards


def filled(tmp_path) -> Store:
    st = Store(tmp_path / "fieldcards.db")
    with st.write() as conn:
        for n in range(4):
            audit.record(conn, "admin", "user.add", f"user{n}", {"role": "rep"})
    return st


def verify(st: Store) -> tuple[bool, str]:
    with st.read() as conn:
        return audit.verify(conn)


def test_intact_chain_verifies(tmp_path):
    st = filled(tmp_path)
    assert verify(st) == (True, "4 entries, chain intact")


def test_altered_entry_breaks_the_chain(tmp_path):
    st = filled(tmp_path)
    with st.write() as conn:
        conn.execute('UPDATE audit SET detail = \'{"role": "admin"}\' WHERE id = 2')
    ok, message = verify(st)
    assert not ok and "entry 2 was altered" in message


def test_removed_entry_breaks_the_chain(tmp_path):
    st = filled(tmp_path)
    with st.write() as conn:
        conn.execute("DELETE FROM audit WHERE id = 3")
    ok, message = verify(st)
    assert not ok and "entry 4" in message


def test_cli_verify_exit_codes(tmp_path):
    st = filled(tmp_path / "data")
    st.close()
    run = lambda: fieldcards("--data", str(tmp_path / "data"), "audit", "verify")  # noqa: E731
    good = run()
    assert good.returncode == 0 and "chain intact" in good.stdout
    st = Store(tmp_path / "data" / "fieldcards.db")
    with st.write() as conn:
        conn.execute("UPDATE audit SET actor = 'mallory' WHERE id = 1")
    st.close()
    bad = run()
    assert bad.returncode == 1 and "BROKEN" in bad.stderr
