"""What a restore undoes and what it never undoes (issue 12), with the real Litestream:
access is never rolled back, and the server's own work after the restore point comes back,
except what the admin excludes."""

from __future__ import annotations

import uuid

import httpx

from server.auth import sessions
from server.config import Config
from sync.protocol.hlc import Clock
from sync.db import Store
from tests.conftest import Server
from tests.test_restore import backed_up, moment_between, replica_txid, wait_replicated  # noqa: F401

CLOCK = Clock("script")


def sync(client: httpx.Client, device: str, *mutations: dict) -> dict:
    answer = client.post("/api/v1/sync", json={"device": device, "mutations": list(mutations)})
    assert answer.status_code == 200, answer.text
    return answer.json()


def put(card: str, fields: dict, was: dict | None = None) -> dict:
    body = {"id": str(uuid.uuid4()), "op": "card.put", "card": card, "at": CLOCK.now(), "fields": fields}
    if was is not None:
        body["was"] = was
    return body


def test_a_restore_never_brings_revoked_access_back(backed_up: Server, tmp_path):  # noqa: F811
    srv = backed_up
    srv.user("gone")
    srv.user("rep1b")  # a second token for rep1's colleague, revoked after the point
    with srv.client("rep1") as rep:
        sync(rep, "lost-phone", put(str(uuid.uuid4()), {"name": "在丢失的手机上"}))
    st = Store(srv.data / "fieldcards.db")
    try:
        with st.write() as conn:
            cookie = sessions.start(conn, Config.load(str(srv.data)), "rep1", "test browser")
    finally:
        st.close()
    browser = httpx.Client(base_url=srv.url, cookies={sessions.COOKIE: cookie})
    assert browser.get("/api/v1/me").status_code == 200
    mark = replica_txid(srv.data)
    with srv.client("admin") as admin:
        admin.post("/api/v1/sync", json={"device": "admin-desk", "mutations": [put(str(uuid.uuid4()), {"name": "mark"})]})
    wait_replicated(srv.data, mark)
    moment = moment_between()

    with srv.client("admin") as admin:
        tokens = admin.get("/api/v1/tokens", params={"user": "*"}).json()["tokens"]
        colleague_token = next(t["id"] for t in tokens if t["user"] == "rep1b")
        assert admin.post(f"/api/v1/tokens/{colleague_token}/revoke").status_code == 200
        assert admin.patch("/api/v1/users/gone", json={"disabled": True}).status_code == 200
        assert admin.post("/api/v1/devices/lost-phone/revoke").status_code == 200
    assert browser.post("/api/v1/auth/logout", headers={"x-fieldcards": "1", "origin": srv.url}).status_code == 200
    srv.user("newbie")  # made after the restore point
    newbie_phone = srv.device("newbie", tmp_path)
    newbie_card = newbie_phone.create_card(name="新同事的客户")
    newbie_phone.sync()

    def refused() -> tuple[int, int, int, int]:
        with srv.client("rep1b") as c1, srv.client("gone") as c2, srv.client("rep1") as c3:
            return (
                c1.get("/api/v1/me").status_code,
                c2.get("/api/v1/me").status_code,
                c3.post("/api/v1/sync", json={"device": "lost-phone"}).status_code,
                browser.get("/api/v1/me").status_code,
            )

    assert refused() == (401, 401, 403, 401)
    with srv.client("admin") as admin:
        preview = admin.post("/api/v1/admin/restore", json={"to": moment, "dry_run": True}).json()["preview"]
        assert "lost-phone" not in [d["id"] for d in preview["device_work"]["devices"]]
        done = admin.post("/api/v1/admin/restore", json={"to": moment})
        assert done.status_code == 200, done.text
        access = done.json()["restore"]
    assert refused() == (401, 401, 403, 401)  # all four revocations hold
    with srv.client("newbie") as newbie:
        assert newbie.get("/api/v1/me").status_code == 200  # a user made after the point keeps working
        assert newbie_phone.sync().reset
        newbie_phone.sync()
        assert newbie.get(f"/api/v1/cards/{newbie_card}").status_code == 200  # and their phone re-sent
    assert access["epoch"]


def test_the_servers_own_work_after_the_point_comes_back_unless_excluded(backed_up: Server, tmp_path):  # noqa: F811
    srv = backed_up
    srv.user("office", "office")
    srv.user("rep2")
    phone, laptop = srv.device("rep1", tmp_path), srv.device("rep1", tmp_path)
    keep = phone.create_card(name="张三", phones=["13900001111"])
    dupe = phone.create_card(name="张三 (重复)", phones=["13900001111"])
    moved = phone.create_card(name="Give to rep2")
    phone.sync()
    laptop.sync()
    phone.edit_card(keep, company="甲公司")
    laptop.edit_card(keep, company="乙公司")
    phone.sync()
    laptop.sync()
    with srv.client("office") as office:
        conflict = office.get("/api/v1/conflicts", params={"status": "open"}).json()["conflicts"][0]
    mark = replica_txid(srv.data)
    with srv.client("admin") as admin:
        sync(admin, "admin-desk", put(str(uuid.uuid4()), {"name": "mark"}))
    wait_replicated(srv.data, mark)
    moment = moment_between()

    with srv.client("office") as office:
        good = office.post("/api/v1/imports", files={"file": ("good.csv", "姓名,公司\n李娜,北京科技\n".encode(), "text/csv")})
        assert good.status_code == 200, good.text
        bad = office.post("/api/v1/imports", files={"file": ("bad.csv", "姓名,公司\n错误导入,坏数据\n".encode(), "text/csv")})
        assert bad.status_code == 200, bad.text
        merged = office.post("/api/v1/cards/merge", json={"into": keep, "from": [dupe], "values": {}})
        assert merged.status_code == 200, merged.text
        resolved = office.post(f"/api/v1/conflicts/{conflict['id']}/resolve", json={"value": "丙公司"})
        assert resolved.status_code == 200, resolved.text
        sync(office, "office-script", put(moved, {"owner": "rep2"}, was={"owner": "rep1"}))

        def state() -> dict:
            names = {c["name"] for c in office.get("/api/v1/cards", params={"limit": 1000}).json()["cards"]}
            return {
                "good": "李娜" in names,
                "bad": "错误导入" in names,
                "dupe_gone": "张三 (重复)" not in names,
                "company": office.get(f"/api/v1/cards/{keep}").json()["card"]["company"],
                "owner": office.get(f"/api/v1/cards/{moved}").json()["card"]["owner"],
            }

        assert state() == {"good": True, "bad": True, "dupe_gone": True, "company": "丙公司", "owner": "rep2"}

    with srv.client("admin") as admin:
        preview = admin.post("/api/v1/admin/restore", json={"to": moment, "dry_run": True}).json()["preview"]
        assert preview["server_work"]["by_kind"] == {"import": 2, "merge": 1, "resolve": 1, "sync": 1}
        bad_entry = next(e for e in preview["server_work"]["entries"] if e["kind"] == "import" and e["file"] == "bad.csv")
        done = admin.post("/api/v1/admin/restore", json={"to": moment, "exclude": [bad_entry["id"]]})
        assert done.status_code == 200, done.text
        assert done.json()["restore"]["reapplied"]["applied"] == {"import": 1, "merge": 1, "resolve": 1, "sync": 1}
        actions = [(e["action"], e["target"]) for e in admin.get("/api/v1/audit").json()["audit"]]
        assert ("backup.reapply", moment) in actions
    with srv.client("office") as office:
        assert state() == {"good": True, "bad": False, "dupe_gone": True, "company": "丙公司", "owner": "rep2"}
