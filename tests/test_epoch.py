"""A restore simulated by hand: the database is replaced with an older copy under a new epoch.
Devices see `reset`, re-send their journals, and the work acknowledged after the copy is back.
(The real Litestream restore is tested in test_restore.py.)"""

from __future__ import annotations

import shutil
import sqlite3

from sync import db
from sync.db import Store
from tests.conftest import App


def copy_database(source, target) -> None:
    """A consistent copy through SQLite's backup API, as a replica would hold it."""
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    src.backup(dst)
    src.close()
    dst.close()


def test_work_acknowledged_after_the_restore_point_comes_back_from_devices(app: App, tmp_path):
    app.user("rep1")
    app.user("office1", "office")
    phone, laptop, office = app.device("rep1", tmp_path), app.device("rep1", tmp_path), app.device("office1", tmp_path)
    early = phone.create_card(name="早期客户", phones=["+8613800000001"])
    phone.sync()
    laptop.sync()
    office.sync()
    old_epoch = phone.epoch

    copy_database(app.data / "fieldcards.db", tmp_path / "older.db")

    late = phone.create_card(name="Late Customer", tags=["after"])
    phone.edit_card(early, notes="called after the copy")
    phone.add_activity(early, "visit", "拜访")
    phone.sync()
    laptop.edit_card(early, segment="A")
    laptop.sync()
    office_card = office.create_card(name="Office Made", owner="rep1")
    office.sync()
    acknowledged = {m["id"] for d in (phone, laptop, office) for m in d.acknowledged()}

    # The restore: stop, swap in the older copy with a new epoch, start again.
    app.stop()
    path = app.data / "fieldcards.db"
    for suffix in ("-wal", "-shm"):
        (app.data / f"fieldcards.db{suffix}").unlink(missing_ok=True)
    shutil.copy(tmp_path / "older.db", path)
    st = Store(path)
    with st.write() as conn:
        db.set_meta(conn, "epoch", db.new_epoch())
    with st.read() as conn:
        assert db.card_row(conn, late) is None  # really rolled back
    st.close()
    app.start()

    reports = [device.sync() for device in (phone, laptop, office)]
    assert all(r.reset for r in reports)
    for device in (phone, laptop, office):
        device.sync()

    assert phone.epoch != old_epoch
    with app.client("rep1") as c:
        card = c.get(f"/api/v1/cards/{early}").json()
        assert card["card"]["notes"] == "called after the copy"
        assert card["card"]["segment"] == "A"
        assert [a["text"] for a in card["activities"]] == ["拜访"]
        assert c.get(f"/api/v1/cards/{late}").json()["card"]["tags"] == ["after"]
        assert c.get(f"/api/v1/cards/{office_card}").json()["card"]["owner"] == "rep1"
        listed = c.get("/api/v1/cards").json()["cards"]
    assert len(listed) == 3  # nothing duplicated
    recorded = {r[0] for r in sqlite3.connect(path).execute("SELECT id FROM mutations")}
    assert acknowledged <= recorded
    assert phone.cards() == laptop.cards()
