"""Photos and files (contract 7, issue 16): declared by a mutation, uploaded in resumable chunks,
served only to who may see the card, and brought back by the phone after a restore."""

from __future__ import annotations

import hashlib
import os
import uuid

from sync.protocol.hlc import Clock
from tests.conftest import Server
from tests.test_hostile import Office, app, put  # noqa: F401
from tests.test_restore import backed_up, moment_between, replica_txid, wait_replicated  # noqa: F401

CLOCK = Clock("dev")
PHOTO = os.urandom(700_000)  # a downscaled shop-front photo, roughly


def declare(card: str, data: bytes, **extra) -> dict:
    attachment = {
        "id": str(uuid.uuid4()),
        "activity": None,
        "name": "门头照片.jpg",
        "type": "image/jpeg",
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        **extra,
    }
    return {"id": str(uuid.uuid4()), "op": "attachment.add", "card": card, "at": CLOCK.now(), "attachment": attachment}


def push(app: Office, name: str, *mutations: dict) -> dict:  # noqa: F811
    answer = app.client.post(
        "/api/v1/sync", json={"device": f"{name}-phone", "mutations": list(mutations)}, headers=app.as_(name)
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_an_upload_cut_halfway_resumes_and_is_served_only_to_who_may_see_the_card(app: Office):  # noqa: F811
    card = str(uuid.uuid4())
    declared = declare(card, PHOTO)
    attachment_id = declared["attachment"]["id"]
    answer = push(app, "rep1", put(card, {"name": "门店"}), declared)
    assert answer["results"][1]["status"] == "applied"
    assert answer["results"][1]["attachment"]["uploaded"] is False
    assert [c["attachment"]["uploaded"] for c in answer["changes"] if c["type"] == "attachment"] == [False]
    rep = app.as_("rep1")
    url = f"/api/v1/attachments/{attachment_id}/upload"
    assert app.client.get(url, headers=rep).json() == {"id": attachment_id, "offset": 0, "size": len(PHOTO), "uploaded": False}
    first = app.client.put(url, params={"offset": 0}, content=PHOTO[:300_000], headers=rep)
    assert first.status_code == 200 and first.json()["offset"] == 300_000
    # The connection drops; the phone asks where to go on, and a chunk sent again is refused.
    again = app.client.put(url, params={"offset": 0}, content=PHOTO[:300_000], headers=rep)
    assert again.status_code == 409 and again.json()["error"]["fields"] == [{"path": "offset", "message": "expected 300000"}]
    offset = app.client.get(url, headers=rep).json()["offset"]
    assert offset == 300_000
    assert app.client.get(f"/api/v1/attachments/{attachment_id}", headers=rep).status_code == 404  # not yet
    done = app.client.put(url, params={"offset": offset}, content=PHOTO[offset:], headers=rep)
    assert done.json() == {"id": attachment_id, "offset": len(PHOTO), "size": len(PHOTO), "uploaded": True}
    got = app.client.get(f"/api/v1/attachments/{attachment_id}", headers=rep)
    assert got.status_code == 200 and got.content == PHOTO
    assert got.headers["content-type"] == "image/jpeg" and got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-disposition"].startswith("inline")
    assert app.client.get(f"/api/v1/attachments/{attachment_id}", headers=app.as_("rep2")).status_code == 404
    assert app.client.get(f"/api/v1/attachments/{attachment_id}", headers=app.as_("office")).content == PHOTO
    pulled = push(app, "office")
    shown = [c["attachment"] for c in pulled["changes"] if c["type"] == "attachment"]
    assert [(a["id"], a["uploaded"]) for a in shown] == [(attachment_id, True)]
    # The same bytes declared again (a second card, say) are uploaded at once: content addressing.
    other = str(uuid.uuid4())
    twin = push(app, "rep1", put(other, {"name": "分店"}), declare(other, PHOTO))["results"][1]
    assert twin["attachment"]["uploaded"] is True


def test_declarations_and_uploads_that_break_the_rules_are_refused(app: Office):  # noqa: F811
    card = str(uuid.uuid4())
    results = push(
        app,
        "rep1",
        put(card, {"name": "门店"}),
        declare(card, b"<html>", type="text/html"),
        declare(card, b"x", size=11 * 1024 * 1024),
        declare(card, b"x", sha256="nothex"),
        declare(str(uuid.uuid4()), b"x"),
    )["results"]
    assert [r["status"] for r in results] == ["applied", "rejected", "rejected", "rejected", "rejected"]
    assert [r["errors"][0]["path"] for r in results[1:4]] == ["attachment.type", "attachment.size", "attachment.sha256"]
    assert results[4]["code"] == "not_found"
    lying = declare(card, b"the real bytes")
    attachment_id = lying["attachment"]["id"]
    push(app, "rep1", lying)
    wrong = app.client.put(
        f"/api/v1/attachments/{attachment_id}/upload", params={"offset": 0}, content=b"other bytes!!!", headers=app.as_("rep1")
    )
    assert wrong.status_code == 400 and wrong.json()["error"]["fields"][0]["path"] == "sha256"
    assert app.client.get(f"/api/v1/attachments/{attachment_id}/upload", headers=app.as_("rep1")).json()["offset"] == 0
    assert (
        app.client.put(
            f"/api/v1/attachments/{attachment_id}/upload", params={"offset": "x"}, content=b"a", headers=app.as_("rep1")
        ).status_code
        == 400
    )


def test_a_photo_uploaded_after_the_restore_point_comes_back_from_the_phone(backed_up: Server, tmp_path):  # noqa: F811
    srv = backed_up
    phone = srv.device("rep1", tmp_path)
    card = phone.create_card(name="门店")
    mark = replica_txid(srv.data)
    phone.sync()
    wait_replicated(srv.data, mark)
    moment = moment_between()
    attachment_id = phone.add_attachment(card, PHOTO, "门头.jpg", "image/jpeg")
    phone.sync()
    assert phone.upload_files() == len(PHOTO)
    with srv.client("admin") as admin:
        assert admin.get(f"/api/v1/attachments/{attachment_id}").content == PHOTO
        done = admin.post("/api/v1/admin/restore", json={"to": moment})
        assert done.status_code == 200, done.text
        assert admin.get(f"/api/v1/attachments/{attachment_id}").status_code == 404  # rolled back
    assert phone.sync().reset  # the phone re-sends its journal: the declaration comes back, not the bytes
    assert phone.upload_files() == len(PHOTO)  # so it sends the bytes again
    with srv.client("rep1") as rep:
        assert rep.get(f"/api/v1/attachments/{attachment_id}").content == PHOTO
