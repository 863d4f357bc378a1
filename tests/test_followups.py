"""Feedback that is followed up (issue 17): a bad rating from a customer or a rep's "needs action"
opens a follow-up item on the card as a normal versioned change; office sees overdue items; the
dashboard's figures; and the list of what customers changed on a rep's cards."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

from sync.protocol.hlc import Clock
from tests.test_hostile import Office, app, put  # noqa: F401
from tests.test_links import PAGE, link, push

CLOCK = Clock("dev2")


def feedback(card: str, rating: int | None, text: str = "", at: str = "2026-03-02T09:00:00Z", **extra) -> dict:
    activity = {"id": str(uuid.uuid4()), "kind": "feedback", "at": at, "text": text, **extra}
    if rating is not None:
        activity["rating"] = rating
    return {"id": str(uuid.uuid4()), "op": "activity.add", "card": card, "at": CLOCK.now(), "activity": activity}


def card_of(app: Office, card: str, who: str = "rep1") -> dict:  # noqa: F811
    return app.client.get(f"/api/v1/cards/{card}", headers=app.as_(who)).json()["card"]


def test_a_customers_bad_rating_opens_a_follow_up_item_in_history(app: Office):  # noqa: F811
    card, link_id = str(uuid.uuid4()), str(uuid.uuid4())
    [_, made] = push(app, put(card, {"name": "李娜"}), link(card, link_id, purpose="survey"))
    answer = app.client.post(
        f"/api/v1/public/links/{made['link']['token']}",
        headers=PAGE,
        json={"fields": {}, "was": {}, "rating": 1, "text": "送货太慢，  没人回电话"},
    )
    assert answer.status_code == 200, answer.text
    [activity] = app.client.get(f"/api/v1/cards/{card}", headers=app.as_("rep1")).json()["activities"]
    [item] = card_of(app, card)["follow_ups"]
    assert item["id"] == f"fb-{activity['id']}" and item["status"] == "open" and item["title"] == "★1 送货太慢， 没人回电话"
    assert item["due"] > activity["at"][:10]  # three days after the feedback by default
    last = app.client.get(f"/api/v1/cards/{card}/history", headers=app.as_("rep1")).json()["history"][-1]
    assert last["user"] == "customer" and list(last["changes"]) == ["follow_ups"]


def test_a_good_rating_opens_nothing_and_needs_action_does(app: Office):  # noqa: F811
    card = str(uuid.uuid4())
    push(app, put(card, {"name": "王伟"}), feedback(card, 4, "满意"), feedback(card, 3, "一般"))
    assert card_of(app, card)["follow_ups"] == []
    marked = feedback(card, None, "要求换货", needs_action=True)
    [result] = push(app, marked)
    assert result["status"] == "applied"
    [item] = card_of(app, card)["follow_ups"]
    assert item["title"] == "要求换货" and item["due"] == "2026-03-05"
    push(app, marked)  # the same mutation again: still one item
    assert len(card_of(app, card)["follow_ups"]) == 1
    [refused] = push(
        app, {**feedback(card, None), "activity": {**feedback(card, None)["activity"], "kind": "call", "needs_action": True}}
    )
    assert refused["status"] == "rejected" and refused["errors"][0]["path"] == "activity.needs_action"
    [refused] = push(app, {**feedback(card, None), "activity": {**feedback(card, None)["activity"], "needs_action": 1}})
    assert refused["status"] == "rejected" and refused["errors"][0]["path"] == "activity.needs_action"


def test_the_admin_threshold_decides_which_rating_opens_an_item(app: Office):  # noqa: F811
    assert app.client.get("/api/v1/follow-ups/settings", headers=app.as_("rep1")).json()["settings"] == {
        "rating_at_most": 2,
        "due_days": 3,
    }
    assert app.client.put("/api/v1/follow-ups/settings", json={"rating_at_most": 3}, headers=app.as_("office")).status_code == 403
    bad = app.client.put("/api/v1/follow-ups/settings", json={"rating_at_most": 9}, headers=app.as_("admin"))
    assert bad.status_code == 400 and bad.json()["error"]["fields"][0]["path"] == "rating_at_most"
    saved = app.client.put("/api/v1/follow-ups/settings", json={"rating_at_most": 3, "due_days": 7}, headers=app.as_("admin"))
    assert saved.json()["settings"] == {"rating_at_most": 3, "due_days": 7}
    card = str(uuid.uuid4())
    push(app, put(card, {"name": "赵敏"}), feedback(card, 3, "一般", at="2026-03-30T09:00:00Z"))
    [item] = card_of(app, card)["follow_ups"]
    assert item["due"] == "2026-04-06"


def test_a_rep_resolves_the_item_and_office_sees_overdue_ones_and_the_figures(app: Office):  # noqa: F811
    mine, theirs = str(uuid.uuid4()), str(uuid.uuid4())
    push(app, put(mine, {"name": "客户甲"}), feedback(mine, 1, "坏了", at="2026-03-01T09:00:00Z"))
    push(app, put(theirs, {"name": "客户乙"}), feedback(theirs, 2, "慢", at="2026-03-10T09:00:00Z"), name="rep2")
    office = app.client.get(
        "/api/v1/follow-ups", params={"state": "overdue", "date": "2026-03-08"}, headers=app.as_("office")
    ).json()
    assert [(i["name"], i["owner"], i["overdue"]) for i in office["items"]] == [("客户甲", "rep1", True)]
    everyone = app.client.get("/api/v1/follow-ups", params={"date": "2026-03-08"}, headers=app.as_("office")).json()
    assert [i["name"] for i in everyone["items"]] == ["客户甲", "客户乙"]  # overdue first
    own = app.client.get("/api/v1/follow-ups", params={"date": "2026-03-08"}, headers=app.as_("rep2")).json()
    assert [i["name"] for i in own["items"]] == ["客户乙"]  # a rep sees their own
    bad = app.client.get("/api/v1/follow-ups", params={"state": "late"}, headers=app.as_("office"))
    assert bad.status_code == 400 and bad.json()["error"]["fields"][0]["path"] == "state"
    figures = app.client.get("/api/v1/dashboard", params={"date": "2026-03-08"}, headers=app.as_("office")).json()
    assert figures["follow_ups"] == {"open": 2, "overdue": 1, "resolved": 0, "median_days_to_resolve": None}
    [item] = card_of(app, mine)["follow_ups"]
    done = {**item, "status": "resolved", "note": "换了新机器"}
    [result] = push(app, put(mine, {"follow_ups": [done]}, was={"follow_ups": [item]}))
    assert result["status"] == "applied" and result["card"]["follow_ups"] == [done]
    left = app.client.get("/api/v1/follow-ups", params={"date": "2026-03-08"}, headers=app.as_("office")).json()
    assert [i["name"] for i in left["items"]] == ["客户乙"]
    figures = app.client.get("/api/v1/dashboard", params={"date": "2026-03-08"}, headers=app.as_("office")).json()
    assert figures["follow_ups"]["resolved"] == 1 and figures["follow_ups"]["open"] == 1
    assert figures["follow_ups"]["median_days_to_resolve"] is not None


def test_customer_updates_list_what_customers_changed_on_my_cards_only(app: Office):  # noqa: F811
    card, link_id = str(uuid.uuid4()), str(uuid.uuid4())
    [_, made] = push(app, put(card, {"name": "李娜", "phones": ["13900001111"], "title": "经理"}), link(card, link_id))
    token = made["link"]["token"]
    shown = app.client.get(f"/api/v1/public/links/{token}").json()["card"]
    answer = app.client.post(
        f"/api/v1/public/links/{token}",
        headers=PAGE,
        json={
            "fields": {"phones": ["13900002222"], "title": "总监"},
            "was": {"phones": shown["phones"], "title": "经理"},
            "consent": "phone",
        },
    )
    assert answer.status_code == 200
    day = datetime.now(timezone.utc).date().isoformat()  # the server's clock stamped the answer just now
    [update] = app.client.get("/api/v1/customer-updates", params={"date": day}, headers=app.as_("rep1")).json()["updates"]
    assert update["card"] == card and update["name"] == "李娜" and update["link"] == link_id
    assert update["changes"] == {"phones": [["+8613900001111"], ["+8613900002222"]], "title": ["经理", "总监"]}
    assert app.client.get("/api/v1/customer-updates", params={"date": day}, headers=app.as_("rep2")).json()["updates"] == []
    assert len(app.client.get("/api/v1/customer-updates", params={"date": day}, headers=app.as_("office")).json()["updates"]) == 1
    bad = app.client.get("/api/v1/customer-updates", params={"days": 0}, headers=app.as_("rep1"))
    assert bad.status_code == 400 and bad.json()["error"]["fields"][0]["path"] == "days"
