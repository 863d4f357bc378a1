"""Encrypted snapshots, the second backup location: a round trip that rescues a server whose data
directory and replica are both gone, and clear refusals of a wrong key, a readable key file, and
altered, reordered, truncated or foreign files, with the live database untouched by every refusal."""

from __future__ import annotations

import os
import sqlite3
import struct
from pathlib import Path

import pytest

from server.backup import snapshot
from server.config import Config
from sync.db import Store
from tests import test_cli
from tests.conftest import Server, start_server, stop_server
from tests.test_restore import fieldcards, names_in, replica_txid, wait_replicated


def command(data: Path, *args: str):
    """`fieldcards --data DATA ARGS` through the CLI's main in-process: the refusals are the
    command's words and exit codes, with no server running."""
    return test_cli.fieldcards("--data", str(data), *args)


@pytest.fixture
def keyfile(tmp_path) -> Path:
    path = tmp_path / "keys" / "snapshot.key"
    path.parent.mkdir()
    made = command(tmp_path / "data", "backup", "keygen", str(path))
    assert made.returncode == 0, made.stderr
    return path


def test_snapshot_rescues_a_server_that_lost_its_data_and_its_replica(tmp_path, keyfile):
    data, offsite = tmp_path / "data", tmp_path / "offsite"
    proc, url = start_server(data)
    srv = Server(url, data, proc)
    try:
        srv.user("admin", "admin")
        srv.user("rep1")
        phone = srv.device("rep1", tmp_path)
        first = phone.create_card(name="王伟", phones=["13812345678"])
        phone.sync()
        made = fieldcards(data, "backup", "snapshot", "--to", str(offsite), "--key", str(keyfile), "--json")
        assert made.returncode == 0, made.stderr  # taken while the server serves
        sealed = Path(next(iter(offsite.glob("*.fcsnap"))))
        assert b"13812345678" not in sealed.read_bytes() and "王伟".encode() not in sealed.read_bytes()
        later = phone.create_card(name="After the snapshot")
        phone.sync()
        stop_server(srv.proc)

        # The disaster: the disk and the bucket are both gone.
        for path in sorted(data.rglob("*"), reverse=True):
            path.rmdir() if path.is_dir() else path.unlink()
        assert not (data / "fieldcards.db").exists()

        dry = fieldcards(data, "backup", "restore-snapshot", str(sealed), "--key", str(keyfile), "--dry-run")
        assert dry.returncode == 0, dry.stderr
        assert '"cards": 1' in dry.stdout
        done = fieldcards(data, "backup", "restore-snapshot", str(sealed), "--key", str(keyfile), "--yes")
        assert done.returncode == 0, done.stderr
        assert names_in(data / "fieldcards.db") == {"王伟"}

        srv.proc, srv.url = start_server(data)  # replication starts afresh on the restored database
        phone.http.base_url = srv.url  # the same phone, talking to the restarted server
        assert phone.sync().reset  # a new epoch: the phone re-sends its journal
        phone.sync()
        with srv.client("rep1") as rep:
            assert rep.get(f"/api/v1/cards/{first}").status_code == 200
            assert rep.get(f"/api/v1/cards/{later}").status_code == 200  # the phone brought it back
        mark = replica_txid(data)
        phone.create_card(name="Replicated again")
        phone.sync()
        wait_replicated(data, mark)
        drill = fieldcards(data, "drill")
        assert drill.returncode == 0, drill.stdout + drill.stderr
        with srv.client("admin") as admin:
            actions = [e["action"] for e in admin.get("/api/v1/audit").json()["audit"]]
        assert "backup.restore_snapshot" in actions
        assert fieldcards(data, "audit", "verify").returncode == 0
    finally:
        for device in srv.devices:
            device.close()
        stop_server(srv.proc)


def big_database(data: Path) -> Config:
    """A database of a few MB, so its snapshot spans several chunks."""
    config = Config.load(str(data))
    st = Store(config.db_path)
    with st.write() as conn:
        conn.execute("CREATE TABLE filler(blob BLOB)")
        conn.executemany("INSERT INTO filler VALUES (randomblob(100000))", [()] * 30)
    st.close()
    return config


def chunks_of(raw: bytes) -> tuple[bytes, list[bytes]]:
    """The header part and each length-prefixed chunk of a snapshot file."""
    at = len(snapshot.MAGIC) + 4 + struct.unpack(">I", raw[8:12])[0]
    head, parts = raw[:at], []
    while at < len(raw):
        length = struct.unpack(">I", raw[at : at + 4])[0]
        parts.append(raw[at : at + 4 + length])
        at += 4 + length
    return head, parts


def test_refusals_are_clear_and_leave_the_live_database_alone(tmp_path, keyfile):
    data = tmp_path / "data"
    config = big_database(data)
    made = snapshot.write_snapshot(config, tmp_path / "offsite", keyfile)
    sealed = Path(made["file"])
    raw = sealed.read_bytes()
    head, parts = chunks_of(raw)
    assert len(parts) >= 3

    other_key = tmp_path / "keys" / "other.key"
    assert command(data, "backup", "keygen", str(other_key)).returncode == 0
    again = command(data, "backup", "keygen", str(other_key))
    assert again.returncode == 1 and "never overwritten" in again.stderr

    def refused(blob: bytes | None, key: Path = keyfile) -> str:
        target = sealed if blob is None else tmp_path / "bad.fcsnap"
        if blob is not None:
            target.write_bytes(blob)
        result = command(data, "backup", "restore-snapshot", str(target), "--key", str(key), "--yes")
        assert result.returncode == 1, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
        return result.stderr

    assert "wrong key" in refused(None, other_key)
    flipped = bytearray(raw)
    flipped[len(raw) // 2] ^= 0x01
    assert "altered" in refused(bytes(flipped))
    assert "altered" in refused(head + parts[1] + parts[0] + b"".join(parts[2:]))  # reordered chunks
    assert "truncated" in refused(head + b"".join(parts[:-1]))  # the last chunk dropped
    assert "truncated" in refused(raw[:-100])  # cut mid-chunk
    assert "altered" in refused(raw + parts[-1])  # data after the end
    header_changed = raw.replace(b'"format": 1', b'"format": 1 ', 1)
    assert "altered" in refused(header_changed[: 12 - 4] + struct.pack(">I", len(head) - 11) + header_changed[12:])
    assert "not a Fieldcards snapshot" in refused(b"PK\x03\x04 a spreadsheet, not a snapshot")

    os.chmod(keyfile, 0o644)
    assert "chmod 600" in refused(None)
    os.chmod(keyfile, 0o600)
    inside = data / "snapshot.key"
    inside.write_bytes(keyfile.read_bytes())
    os.chmod(inside, 0o600)
    beside = command(data, "backup", "snapshot", "--to", str(tmp_path / "offsite"), "--key", str(inside))
    assert beside.returncode == 1 and "apart" in beside.stderr

    conn = sqlite3.connect(config.db_path)
    assert conn.execute("SELECT count(*) FROM filler").fetchone()[0] == 30
    conn.close()
    assert not list(data.glob("pre-restore-*")) and not list(data.glob("restore-scratch-*"))

    good = command(data, "backup", "restore-snapshot", str(sealed), "--key", str(keyfile), "--yes")
    assert good.returncode == 0, good.stderr
    assert len(list(data.glob("pre-restore-*.db"))) == 1


def test_keep_prunes_older_snapshots(tmp_path, keyfile):
    config = big_database(tmp_path / "data")
    target = tmp_path / "offsite"
    for name in ("fieldcards-20260101T000000Z.fcsnap", "fieldcards-20260102T000000Z.fcsnap"):
        (target / name).parent.mkdir(exist_ok=True)
        (target / name).write_bytes(b"old")
    made = snapshot.write_snapshot(config, target, keyfile, keep=2)
    assert sorted(p.name for p in target.iterdir()) == ["fieldcards-20260102T000000Z.fcsnap", Path(made["file"]).name]
    assert made["pruned"] == [str(target / "fieldcards-20260101T000000Z.fcsnap")]
