"""Customer links (contract 7, issue 17): a phone declares a link offline with a reserved signed
token; the customer, with no account, sees only their own details and answers once; the answer is
a change authored by `customer` under the usual merge rules."""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta, timezone

from sync.protocol.hlc import Clock
from tests.test_hostile import Office, app, put  # noqa: F401

CLOCK = Clock("dev")
PAGE = {"x-fieldcards": "1", "origin": "http://localhost:8000"}  # the customer page is our own origin


def push(app: Office, *mutations: dict, name: str = "rep1") -> list[dict]:  # noqa: F811
    answer = app.client.post("/api/v1/sync", json={"device": "phone", "mutations": list(mutations)}, headers=app.as_(name))
    assert answer.status_code == 200, answer.text
    return answer.json()["results"]


def link(card: str, link_id: str, purpose: str = "update", **extra) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "op": "link.create",
        "card": card,
        "at": CLOCK.now(),
        "link": {"id": link_id, "purpose": purpose, "survey": "csat-1" if purpose == "survey" else None, **extra},
    }


def test_a_customer_corrects_a_phone_through_a_link_made_offline(app: Office):  # noqa: F811
    card = str(uuid.uuid4())
    push(app, put(card, {"name": "李娜", "phones": ["13900001111"], "notes": "只有销售能看的备注", "tags": ["vip"]}))
    reserved = app.client.get("/api/v1/links/reserve", params={"n": 3}, headers=app.as_("rep1")).json()["links"]
    mine = reserved[0]
    assert mine["url"].endswith(f"/c/{mine['token']}")
    # Before the phone syncs, the QR it shows already names the link: not active yet.
    pending = app.client.get(f"/api/v1/public/links/{mine['token']}")
    assert pending.status_code == 404 and pending.json()["error"]["fields"] == [{"path": "token", "message": "pending"}]
    [made] = push(app, link(card, mine["id"]))
    assert made["status"] == "applied" and made["link"]["token"] == mine["token"]
    shown = app.client.get(f"/api/v1/public/links/{mine['token']}")
    assert shown.status_code == 200
    view = shown.json()
    assert view["purpose"] == "update" and set(view["card"]) == {
        "name",
        "company",
        "title",
        "phones",
        "emails",
        "address",
        "birthday",
    }
    assert "只有销售能看的备注" not in shown.text and "vip" not in shown.text
    answer = app.client.post(
        f"/api/v1/public/links/{mine['token']}",
        headers=PAGE,
        json={"fields": {"phones": ["13900002222"]}, "was": {"phones": view["card"]["phones"]}, "consent": "phone"},
    )
    assert answer.status_code == 200, answer.text
    card_now = app.client.get(f"/api/v1/cards/{card}", headers=app.as_("rep1")).json()["card"]
    assert card_now["phones"] == ["+8613900002222"] and card_now["notes"] == "只有销售能看的备注"
    last = app.client.get(f"/api/v1/cards/{card}/history", headers=app.as_("rep1")).json()["history"][-1]
    assert (last["user"], last["via"]) == ("customer", mine["id"])
    assert app.client.get(f"/api/v1/public/links/{mine['token']}").status_code == 410  # used once
    again = app.client.post(f"/api/v1/public/links/{mine['token']}", headers=PAGE, json={"fields": {}, "was": {}})
    assert again.status_code == 410 and again.json()["error"]["fields"][0]["message"] == "used"
    actions = [e["action"] for e in app.client.get("/api/v1/audit", headers=app.as_("admin")).json()["audit"]]
    assert "link.open" in actions and "link.answer" in actions


def test_a_field_the_rep_changed_meanwhile_becomes_a_conflict(app: Office):  # noqa: F811
    card, link_id = str(uuid.uuid4()), str(uuid.uuid4())
    push(app, put(card, {"name": "王伟", "title": "经理"}), link(card, link_id))
    token = app.client.get("/api/v1/links/reserve", headers=app.as_("rep1")).json()["links"][0]["token"]
    assert app.client.get(f"/api/v1/public/links/{token}").status_code == 404  # a reserved token, never declared
    [declared] = push(app, link(card, link_id))
    token = declared["link"]["token"]
    view = app.client.get(f"/api/v1/public/links/{token}").json()
    push(app, put(card, {"title": "总监"}, was={"title": "经理"}))  # the rep, meanwhile
    answer = app.client.post(
        f"/api/v1/public/links/{token}",
        headers=PAGE,
        json={"fields": {"title": "副总经理"}, "was": {"title": view["card"]["title"]}},
    )
    assert answer.status_code == 200 and answer.json()["statuses"] == ["conflict"]
    [record] = app.client.get("/api/v1/conflicts", params={"card": card}, headers=app.as_("rep1")).json()["conflicts"]
    assert record["field"] == "title" and {record["kept"], record["other"]} == {"总监", "副总经理"}


def test_forged_expired_revoked_and_wrong_links_get_a_clear_answer_never_data(app: Office):  # noqa: F811
    card = str(uuid.uuid4())
    soon = (datetime.now(timezone.utc) + timedelta(seconds=1)).isoformat()
    ids = [str(uuid.uuid4()) for _ in range(3)]
    results = push(
        app,
        put(card, {"name": "赵敏", "notes": "secret"}),
        link(card, ids[0], expires=soon),
        link(card, ids[1]),
        link(card, ids[2], purpose="newsletter"),
        link(card, str(uuid.uuid4()), expires="2020-01-01T00:00:00Z"),
    )
    assert [r["status"] for r in results] == ["applied", "applied", "applied", "rejected", "rejected"]
    assert results[3]["errors"][0]["path"] == "link.purpose" and results[4]["errors"][0]["path"] == "link.expires"
    expiring, revoked = results[1]["link"]["token"], results[2]["link"]["token"]
    assert app.client.post(f"/api/v1/links/{ids[1]}/revoke", headers=app.as_("rep2")).status_code == 404  # not theirs
    assert app.client.post(f"/api/v1/links/{ids[1]}/revoke", headers=app.as_("rep1")).status_code == 200
    time.sleep(1.2)
    for token, reason in ((expiring, "expired"), (revoked, "revoked")):
        got = app.client.get(f"/api/v1/public/links/{token}")
        assert got.status_code == 410 and got.json()["error"]["fields"][0]["message"] == reason and "secret" not in got.text
    head, _, mac = revoked.partition(".")
    for forged in (f"{head}.{mac[::-1]}", "not-a-token", head, "A" * 90):
        assert app.client.get(f"/api/v1/public/links/{forged}").status_code == 404
    only = app.client.post(f"/api/v1/public/links/{expiring}", headers=PAGE, json={"fields": {"notes": "x"}, "was": {}})
    assert only.status_code == 400 and only.json()["error"]["fields"][0]["path"] == "fields.notes"


def test_a_survey_answer_is_feedback_on_the_card_and_the_rate_limit_holds(app: Office):  # noqa: F811
    card, link_id = str(uuid.uuid4()), str(uuid.uuid4())
    [_, made] = push(app, put(card, {"name": "客户"}), link(card, link_id, purpose="survey"))
    token = made["link"]["token"]
    answer = app.client.post(
        f"/api/v1/public/links/{token}", headers=PAGE, json={"fields": {}, "was": {}, "rating": 2, "text": "送货太慢"}
    )
    assert answer.status_code == 200
    [feedback] = app.client.get(f"/api/v1/cards/{card}", headers=app.as_("rep1")).json()["activities"]
    assert (feedback["kind"], feedback["rating"], feedback["text"], feedback["by"], feedback["survey"]) == (
        "feedback",
        2,
        "送货太慢",
        "customer",
        "csat-1",
    )
    statuses = [app.client.get(f"/api/v1/public/links/{token}").status_code for _ in range(35)]
    assert 429 in statuses
