"""Rep scorecards (绩效考核, issue 17): per rep and period, the work done and the customers' side,
with admin-set targets and progress; office sees every rep, a manager their team, a rep themselves;
CSV per figure."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import datetime, timedelta, timezone

from tests.test_hostile import Office, app, put  # noqa: F401
from tests.test_links import CLOCK, push

# Activities carry their own time; the cards' creation is stamped by the server now, so the period
# runs around the server's today for `new_cards`, and activity days are chosen inside it.
TODAY = datetime.now(timezone.utc).date()
FIRST, LAST = (TODAY - timedelta(days=10)).isoformat(), (TODAY + timedelta(days=1)).isoformat()
IN = f"{(TODAY - timedelta(days=2)).isoformat()}T09:00:00Z"
BEFORE = f"{(TODAY - timedelta(days=40)).isoformat()}T09:00:00Z"


def activity(card: str, kind: str, at: str = IN, **extra) -> dict:
    body = {"id": str(uuid.uuid4()), "kind": kind, "at": at, "text": "", **extra}
    return {"id": str(uuid.uuid4()), "op": "activity.add", "card": card, "at": CLOCK.now(), "activity": body}


def cards_of(app: Office, who: str, **params) -> dict:  # noqa: F811
    answer = app.client.get("/api/v1/scorecards", params={"from": FIRST, "to": LAST, **params}, headers=app.as_(who))
    assert answer.status_code == 200, answer.text
    return {r["rep"]: r for r in answer.json()["reps"]}


def test_the_scorecard_counts_a_reps_work_and_their_customers(app: Office):  # noqa: F811
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    push(
        app,
        put(a, {"name": "李娜", "phones": ["13900001111"], "company": "北京科技", "segment": "A"}),
        put(b, {"name": "王伟"}),
        activity(a, "visit", location={"lat": 31.2, "lng": 121.4, "accuracy_m": 20}),
        activity(b, "visit"),
        activity(a, "visit", at=BEFORE),
        activity(a, "call"),
        activity(a, "feedback", rating=1),
        activity(b, "feedback", rating=4),
    )
    [item] = app.client.get(f"/api/v1/cards/{a}", headers=app.as_("rep1")).json()["card"]["follow_ups"]
    push(app, put(a, {"follow_ups": [{**item, "status": "resolved", "note": "已处理"}]}, was={"follow_ups": [item]}))
    rep1 = cards_of(app, "office")["rep1"]
    assert (rep1["visits"], rep1["visits_with_position"], rep1["calls"], rep1["new_cards"]) == (2, 1, 1, 2)
    assert (rep1["follow_ups_on_time"], rep1["follow_ups_late"], rep1["feedback_resolved"]) == (1, 0, 1)
    assert rep1["csat"] == 2.5 and 0 < rep1["completeness"] < 100
    assert rep1["progress"] == {}  # no target is invented
    assert set(cards_of(app, "office")) == {"rep1", "rep2"}


def test_targets_show_progress_and_each_person_sees_whom_they_may(app: Office):  # noqa: F811
    card = str(uuid.uuid4())
    push(app, put(card, {"name": "客户"}), activity(card, "visit"), activity(card, "visit"))
    assert app.client.put("/api/v1/scorecards/targets", json={"visits": 8}, headers=app.as_("office")).status_code == 403
    bad = app.client.put("/api/v1/scorecards/targets", json={"hugs": 3}, headers=app.as_("admin"))
    assert bad.status_code == 400
    bad = app.client.put("/api/v1/scorecards/targets", json={"visits": -1}, headers=app.as_("admin"))
    assert bad.status_code == 400 and bad.json()["error"]["fields"][0]["path"] == "visits"
    saved = app.client.put("/api/v1/scorecards/targets", json={"visits": 8, "calls": 4}, headers=app.as_("admin"))
    assert saved.json()["targets"] == {"visits": 8, "calls": 4}
    rep1 = cards_of(app, "office")["rep1"]
    assert rep1["progress"] == {"visits": 0.25, "calls": 0.0}
    assert list(cards_of(app, "rep1")) == ["rep1"]  # a rep sees their own
    assert list(cards_of(app, "rep2")) == ["rep2"]
    refused = app.client.get("/api/v1/scorecards", params={"rep": "rep2"}, headers=app.as_("rep1"))
    assert refused.status_code == 400 and refused.json()["error"]["fields"][0]["path"] == "rep"
    backwards = app.client.get("/api/v1/scorecards", params={"from": LAST, "to": FIRST}, headers=app.as_("office"))
    assert backwards.status_code == 400 and backwards.json()["error"]["fields"][0]["path"] == "to"
    sheet = app.client.get(
        "/api/v1/scorecards.csv", params={"from": FIRST, "to": LAST, "figure": "visits"}, headers=app.as_("office")
    )
    rows = list(csv.reader(io.StringIO(sheet.content.decode("utf-8-sig"))))
    assert rows[0] == ["rep", "visits", "target", "progress"] and ["rep1", "2", "8", "0.25"] in rows
    every = app.client.get("/api/v1/scorecards.csv", params={"from": FIRST, "to": LAST}, headers=app.as_("office"))
    assert every.text.splitlines()[0].lstrip("\ufeff").startswith("rep,visits,calls,new_cards")
    unknown = app.client.get("/api/v1/scorecards.csv", params={"figure": "hugs"}, headers=app.as_("office"))
    assert unknown.status_code == 400 and unknown.json()["error"]["fields"][0]["path"] == "figure"


def test_a_manager_sees_the_reps_of_their_team(app: Office):  # noqa: F811
    from sync.db import Store
    from sync.people.users import add_user, create_token

    st = Store(app.db)
    try:
        add_user(st, "boss", "manager")
        app.tokens["boss"] = create_token(st, "boss")
    finally:
        st.close()
    made = app.client.post(
        "/api/v1/teams", json={"name": "华东", "members": ["rep1"], "managers": ["boss"]}, headers=app.as_("admin")
    )
    assert made.status_code in (200, 201), made.text
    assert list(cards_of(app, "boss")) == ["rep1"]
