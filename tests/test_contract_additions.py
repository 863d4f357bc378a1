"""Card and activity fields of contract 1.1 (section 7): location, stage, follow-up items merged per
item, and feedback with a survey's answers. In-process over the real app and a real SQLite file."""

from __future__ import annotations

import uuid

from sync.protocol.hlc import Clock
from tests.test_hostile import Office, app, put  # noqa: F401

CLOCK = Clock("dev")


def push(app: Office, name: str, device: str, *mutations: dict) -> list[dict]:  # noqa: F811
    answer = app.client.post("/api/v1/sync", json={"device": device, "mutations": list(mutations)}, headers=app.as_(name))
    assert answer.status_code == 200, answer.text
    return answer.json()["results"]


def activity(card: str, **fields) -> dict:
    body = {"id": str(uuid.uuid4()), "kind": "visit", "at": "2026-11-24T10:00:00Z", **fields}
    return {"id": str(uuid.uuid4()), "op": "activity.add", "card": card, "at": CLOCK.now(), "activity": body}


def test_location_and_stage_are_scalars_with_clear_errors(app: Office):  # noqa: F811
    card = str(uuid.uuid4())
    [made] = push(app, "rep1", "p", put(card, {"name": "门店", "location": {"lat": 31.2304, "lng": 121.4737}, "stage": "lead"}))
    assert made["card"]["location"] == {"lat": 31.2304, "lng": 121.4737} and made["card"]["stage"] == "lead"
    bad = push(
        app,
        "rep1",
        "p",
        put(
            card, {"location": {"lat": 91, "lng": 0}, "stage": "vip"}, was={"location": made["card"]["location"], "stage": "lead"}
        ),
    )[0]
    assert bad["status"] == "rejected"
    assert {e["path"] for e in bad["errors"]} == {"fields.location", "fields.stage"}
    moved = push(
        app,
        "rep1",
        "p",
        put(card, {"location": None, "stage": "active"}, was={"location": made["card"]["location"], "stage": "lead"}),
    )[0]
    assert moved["card"]["location"] is None and moved["card"]["stage"] == "active"
    fresh = push(app, "rep1", "p", put(str(uuid.uuid4()), {"name": "空"}))[0]["card"]
    assert (fresh["location"], fresh["stage"], fresh["follow_ups"]) == (None, None, [])


def test_activities_carry_a_position_and_feedback_a_survey(app: Office):  # noqa: F811
    card = str(uuid.uuid4())
    results = push(
        app,
        "rep1",
        "p",
        put(card, {"name": "客户"}),
        activity(card, location={"lat": 39.9, "lng": 116.4, "accuracy_m": 35}),
        activity(card, kind="feedback", rating=2, survey="csat-1", answers={"q1": 2, "q2": "太慢了"}),
        activity(card, location={"lat": 39.9, "lng": 116.4, "accuracy_m": -1}),
        activity(card, survey="csat-1"),
    )
    assert [r["status"] for r in results] == ["applied", "applied", "applied", "rejected", "rejected"]
    assert results[3]["errors"][0]["path"] == "activity.location"
    assert results[4]["errors"][0]["path"] == "activity.survey"
    got = app.client.get(f"/api/v1/cards/{card}", headers=app.as_("rep1")).json()["activities"]
    assert {a["kind"]: a.get("location") for a in got}["visit"] == {"lat": 39.9, "lng": 116.4, "accuracy_m": 35}
    assert [a["answers"] for a in got if a["kind"] == "feedback"] == [{"q1": 2, "q2": "太慢了"}]


def test_follow_up_items_merge_per_item_and_per_field(app: Office):  # noqa: F811
    card = str(uuid.uuid4())
    one = {"id": "f1", "title": "寄样品", "due": "2026-12-10", "status": "open", "note": None}
    two = {"id": "f2", "title": "回访", "due": "2026-12-20", "status": "open", "note": None}
    [made] = push(app, "rep1", "phone", put(card, {"name": "客户", "follow_ups": [one, two]}))
    seen = made["card"]["follow_ups"]
    assert seen == [one, two]
    # Two devices, offline, change different items and the same field of one item.
    a = push(app, "rep1", "phone", put(card, {"follow_ups": [{**one, "status": "resolved"}, two]}, was={"follow_ups": seen}))[0]
    assert a["status"] == "applied"
    b = push(
        app,
        "rep1",
        "laptop",
        put(card, {"follow_ups": [{**one, "status": "in_progress"}, {**two, "note": "客户出差"}]}, was={"follow_ups": seen}),
    )[0]
    assert b["status"] == "conflict"
    items = {i["id"]: i for i in b["card"]["follow_ups"]}
    assert items["f2"]["note"] == "客户出差"  # the other item's edit survives
    assert items["f1"]["status"] == "in_progress"  # the later write wins; the other value is kept
    [record] = app.client.get("/api/v1/conflicts", params={"card": card}, headers=app.as_("rep1")).json()["conflicts"]
    assert record["field"] == "follow_ups.f1.status" and record["other"] == "resolved"
    done = app.client.post(f"/api/v1/conflicts/{record['id']}/resolve", json={"keep": "other"}, headers=app.as_("rep1"))
    assert done.status_code == 200, done.text
    assert {i["id"]: i["status"] for i in done.json()["card"]["follow_ups"]} == {"f1": "resolved", "f2": "open"}
    # An item removed on one device and one added on another: both happen.
    now = done.json()["card"]["follow_ups"]
    three = {"id": "f3", "title": "报价", "due": "2027-01-05", "status": "open", "note": None}
    push(app, "rep1", "phone", put(card, {"follow_ups": [i for i in now if i["id"] != "f2"]}, was={"follow_ups": now}))
    last = push(app, "rep1", "laptop", put(card, {"follow_ups": [*now, three]}, was={"follow_ups": now}))[0]
    assert [i["id"] for i in last["card"]["follow_ups"]] == ["f1", "f3"]
    bad = push(
        app,
        "rep1",
        "phone",
        put(
            card, {"follow_ups": [{"id": "x", "title": "", "due": "2026-02-30"}]}, was={"follow_ups": last["card"]["follow_ups"]}
        ),
    )[0]
    assert {e["path"] for e in bad["errors"]} == {"fields.follow_ups[0].title", "fields.follow_ups[0].due"}


def test_the_schema_describes_the_new_fields(app: Office):  # noqa: F811
    found = app.client.get("/api/v1/schema", headers=app.as_("rep1")).json()
    assert {"location", "stage", "follow_ups"} <= set(found["card"]["properties"])
    assert {"location", "survey", "answers"} <= set(found["activity"]["properties"])
