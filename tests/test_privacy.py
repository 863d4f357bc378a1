"""The customer's rights (issue 18): access to everything held about them, and an erasure that
purges, reaches every device, refuses later mutations and survives a restore."""

from __future__ import annotations

import sqlite3
import uuid

from sync.protocol.hlc import Clock
from tests.conftest import Server
from tests.test_hostile import Office, app, put  # noqa: F401
from tests.test_restore import backed_up, moment_between, replica_txid, wait_replicated  # noqa: F401

CLOCK = Clock("dev")


def sync(app: Office, name: str, device: str, *mutations: dict, cursor: str | None = None) -> dict:  # noqa: F811
    answer = app.client.post(
        "/api/v1/sync", json={"device": device, "cursor": cursor, "mutations": list(mutations)}, headers=app.as_(name)
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_the_access_export_holds_everything_and_an_erasure_purges_it(app: Office):  # noqa: F811
    card, other = str(uuid.uuid4()), str(uuid.uuid4())
    visit = str(uuid.uuid4())
    first = sync(
        app,
        "rep1",
        "phone",
        put(card, {"name": "李娜", "phones": ["13900001111"], "emails": ["li.na@example.cn"], "notes": "喜欢绿茶"}),
        put(other, {"name": "王伟"}),
        {
            "id": str(uuid.uuid4()),
            "op": "activity.add",
            "card": card,
            "at": CLOCK.now(),
            "activity": {"id": visit, "kind": "visit", "at": "2026-11-24T10:00:00Z", "text": "拜访李娜"},
        },
    )
    created = first["results"][0]["id"]
    sync(app, "rep1", "phone", put(card, {"title": "经理"}, was={"title": None}))
    sync(app, "rep1", "laptop", put(card, {"company": "甲"}, was={"company": None}))
    sync(app, "rep1", "phone", put(card, {"company": "乙"}, was={"company": None}))  # a conflict record
    office = app.as_("office")
    assert app.client.get(f"/api/v1/cards/{card}/export", headers=app.as_("rep1")).status_code == 403
    held = app.client.get(f"/api/v1/cards/{card}/export", headers=office).json()
    assert held["card"]["name"] == "李娜" and held["card"]["phones"] == ["+8613900001111"]
    assert [a["text"] for a in held["activities"]] == ["拜访李娜"]
    assert [h["version"] for h in held["history"]] == [1, 2, 3, 4]
    assert held["conflicts"][0]["field"] == "company"

    assert app.client.post(f"/api/v1/cards/{card}/erase", headers=office).status_code == 403  # admins only
    done = app.client.post(f"/api/v1/cards/{card}/erase", headers=app.as_("admin"))
    assert done.status_code == 200 and done.json() == {"card": card, "erased": True}

    assert app.client.get(f"/api/v1/cards/{card}", headers=office).status_code == 404
    assert app.client.get(f"/api/v1/cards/{card}/export", headers=office).status_code == 404
    assert app.client.get("/api/v1/cards", params={"q": "李娜", "deleted": "true"}, headers=office).json()["cards"] == []
    pulled = sync(app, "rep1", "fresh")
    assert {"type": "remove", "card": card, "reason": "erased", "into": None} in pulled["changes"]
    assert all(c.get("card", {}).get("id") != card for c in pulled["changes"] if c["type"] == "card")
    late = sync(app, "rep1", "phone", put(card, {"notes": "离线时写的"}, was={"notes": "喜欢绿茶"}))["results"][0]
    assert late["status"] == "rejected" and late["code"] == "not_found" and "erased" in late["errors"][0]["message"]
    again = sync(
        app, "rep1", "phone", {"id": created, "op": "card.put", "card": card, "at": CLOCK.now(), "fields": {"name": "李娜"}}
    )["results"][0]
    assert again["status"] == "rejected" and "李娜" not in str(again)  # the stored result holds nothing of her
    with sqlite3.connect(app.db) as db:
        for table, column in (("history", "card"), ("activities", "card"), ("conflicts", "card"), ("card_keys", "card")):
            assert db.execute(f"SELECT count(*) FROM {table} WHERE {column} = ?", (card,)).fetchone()[0] == 0, table
        everywhere = " ".join(
            str(r)
            for t in ("cards", "mutations", "journal", "history", "audit")
            for r in db.execute(f"SELECT * FROM {t}").fetchall()
        )
        assert "李娜" not in everywhere and "13900001111" not in everywhere and "li.na@example.cn" not in everywhere
    audit = app.client.get("/api/v1/audit", headers=app.as_("admin")).json()["audit"]
    assert ("admin", "card.erase", card) in [(e["actor"], e["action"], e["target"]) for e in audit]
    assert app.client.get(f"/api/v1/cards/{other}", headers=office).status_code == 200  # nobody else is touched


def test_an_erasure_survives_a_restore_and_a_phone_re_sending_its_journal(backed_up: Server, tmp_path):  # noqa: F811
    srv = backed_up
    phone = srv.device("rep1", tmp_path)
    customer = phone.create_card(name="赵敏", phones=["13700001234"])
    keep = phone.create_card(name="留下的客户")
    phone.sync()
    mark = replica_txid(srv.data)
    phone.edit_card(customer, notes="有效的备注")
    phone.sync()
    wait_replicated(srv.data, mark)
    moment = moment_between()
    with srv.client("admin") as admin:
        assert admin.post(f"/api/v1/cards/{customer}/erase").status_code == 200
    phone.edit_card(customer, title="离线时的修改")  # a change the phone still holds (offline)
    with srv.client("admin") as admin:
        preview = admin.post("/api/v1/admin/restore", json={"to": moment, "dry_run": True}).json()["preview"]
        erasure = next(e for e in preview["server_work"]["entries"] if e["kind"] == "erase")
        refused = admin.post("/api/v1/admin/restore", json={"to": moment, "exclude": [erasure["id"]]})
        assert refused.status_code == 400  # an erasure is never excluded
        done = admin.post("/api/v1/admin/restore", json={"to": moment})
        assert done.status_code == 200, done.text
        assert done.json()["restore"]["reapplied"]["applied"].get("erase") == 1
        assert admin.get(f"/api/v1/cards/{customer}").status_code == 404
    assert phone.sync().reset  # the phone re-sends its journal, edits of the erased customer included
    phone.sync()
    with srv.client("admin") as admin:
        assert admin.get(f"/api/v1/cards/{customer}").status_code == 404
        assert admin.get(f"/api/v1/cards/{keep}").status_code == 200
    assert customer not in phone.cards()
    assert phone.db.execute("SELECT count(*) FROM journal WHERE card = ?", (customer,)).fetchone()[0] == 0
    with sqlite3.connect(srv.data / "fieldcards.db") as db:
        text = " ".join(
            str(r) for t in ("cards", "history", "mutations", "journal") for r in db.execute(f"SELECT * FROM {t}").fetchall()
        )
    assert "赵敏" not in text and "13700001234" not in text


def test_retention_purges_cards_deleted_long_ago_and_keeps_the_rest(app: Office):  # noqa: F811
    from datetime import datetime, timedelta, timezone

    from sync.outward import privacy
    from sync.db import Store

    old, recent, alive = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    sync(
        app,
        "rep1",
        "phone",
        put(old, {"name": "早已删除", "phones": ["13911112222"]}),
        put(recent, {"name": "刚删除"}),
        put(alive, {"name": "还在"}),
    )
    for card in (old, recent):
        sync(app, "rep1", "phone", {"id": str(uuid.uuid4()), "op": "card.delete", "card": card, "at": CLOCK.now(), "version": 1})
    st = Store(app.db)
    try:
        now = datetime.now(timezone.utc)
        with st.write() as conn:  # the first one was deleted 200 days ago
            conn.execute(
                "UPDATE cards SET updated_at = ? WHERE id = ?",
                ((now - timedelta(days=200)).isoformat().replace("+00:00", "Z"), old),
            )
        preview = privacy.purge_deleted(st, days=180, now=now, dry_run=True)
        assert (preview["cards"], preview["purged"]) == (1, 0)
        done = privacy.purge_deleted(st, days=180, now=now)
        assert done["purged"] == 1
        assert privacy.purge_deleted(st, days=180, now=now)["purged"] == 0  # nothing left to do
    finally:
        st.close()
    office = app.as_("office")
    listed = {c["id"] for c in app.client.get("/api/v1/cards", params={"deleted": "true"}, headers=office).json()["cards"]}
    assert listed == {recent, alive}  # the recent deletion can still be undone by office
    with sqlite3.connect(app.db) as db:
        assert db.execute("SELECT count(*) FROM history WHERE card = ?", (old,)).fetchone()[0] == 0
        assert "13911112222" not in " ".join(str(r) for r in db.execute("SELECT * FROM cards").fetchall())
    audit = app.client.get("/api/v1/audit", headers=app.as_("admin")).json()["audit"]
    assert '"days": 180' in [e for e in audit if e["action"] == "retention.purge"][0]["detail"].replace(":180", ": 180")
