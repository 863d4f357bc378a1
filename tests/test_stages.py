"""Lifecycle stages (issue 17): computed from visits and purchases by rules office may change,
applied by the periodic job as changes by `system` (history), a stage set by hand kept until the
rules move it on, and the dashboard's counts, moves per month and win-back list."""

from __future__ import annotations

import uuid
from datetime import date

from sync.office import stages
from sync.protocol.engine import Engine
from sync.db import Store
from tests.test_hostile import Office, app, put  # noqa: F401
from tests.test_links import CLOCK, push


def activity(card: str, kind: str, at: str, **extra) -> dict:
    body = {"id": str(uuid.uuid4()), "kind": kind, "at": at, "text": "", **extra}
    return {"id": str(uuid.uuid4()), "op": "activity.add", "card": card, "at": CLOCK.now(), "activity": body}


def run(app: Office, today: str) -> list[dict]:  # noqa: F811
    st = Store(app.db)
    try:
        return stages.apply(Engine(st), date.fromisoformat(today))
    finally:
        st.close()


def stage_of(app: Office, card: str) -> str | None:  # noqa: F811
    return app.client.get(f"/api/v1/cards/{card}", headers=app.as_("office")).json()["card"]["stage"]


def test_the_rules_move_cards_through_the_stages_as_system(app: Office):  # noqa: F811
    lead, buyer = str(uuid.uuid4()), str(uuid.uuid4())
    push(
        app,
        put(lead, {"name": "只拜访过"}),
        activity(lead, "visit", "2026-01-05T09:00:00Z"),
        put(buyer, {"name": "老客户", "segment": "A"}),
        activity(buyer, "purchase", "2026-01-10T09:00:00Z", amount="100", currency="CNY"),
    )
    moved = run(app, "2026-01-20")
    assert {(m["card"], m["to"]) for m in moved} == {(lead, "lead"), (buyer, "new")}
    assert run(app, "2026-01-21") == []  # nothing new: nothing moves
    last = app.client.get(f"/api/v1/cards/{buyer}/history", headers=app.as_("office")).json()["history"][-1]
    assert last["user"] == "system" and last["changes"] == {"stage": [None, "new"]}
    run(app, "2026-03-01")
    assert stage_of(app, buyer) == "active"
    run(app, "2026-04-15")  # 95 days after the last purchase
    assert stage_of(app, buyer) == "at_risk"
    run(app, "2026-07-10")
    assert stage_of(app, buyer) == "lost"
    push(app, activity(buyer, "visit", "2026-07-11T09:00:00Z"))
    run(app, "2026-07-12")
    assert stage_of(app, buyer) == "won_back"
    run(app, "2026-07-20")
    assert stage_of(app, buyer) == "won_back"  # still within new_days of the win
    run(app, "2026-08-20")
    assert stage_of(app, buyer) == "active"
    figures = app.client.get("/api/v1/dashboard", params={"date": "2026-08-20"}, headers=app.as_("office")).json()["stages"]
    assert {c["key"]: c["count"] for c in figures["counts"]}["active"] == 1
    moves = {(f["from"], f["to"]) for f in figures["flows"]}  # by the month each move was made (now, here)
    assert {
        ("none", "new"),
        ("new", "active"),
        ("active", "at_risk"),
        ("at_risk", "lost"),
        ("lost", "won_back"),
        ("won_back", "active"),
    } <= moves
    sheet = app.client.get("/api/v1/dashboard.csv", params={"figure": "stages"}, headers=app.as_("office")).text
    assert "stage,,,active,1" in sheet and "move," in sheet


def test_a_stage_set_by_hand_stays_until_something_new_happens(app: Office):  # noqa: F811
    card = str(uuid.uuid4())
    push(app, put(card, {"name": "手动"}), activity(card, "purchase", "2026-01-10T09:00:00Z", amount="5", currency="CNY"))
    run(app, "2026-03-01")
    assert stage_of(app, card) == "active"
    [result] = push(app, put(card, {"stage": "at_risk"}, was={"stage": "active"}))  # the rep knows better
    assert result["status"] == "applied"
    assert run(app, "2026-03-02") == [] and stage_of(app, card) == "at_risk"
    push(app, activity(card, "purchase", "2099-01-01T09:00:00Z", amount="5", currency="CNY"))  # a purchase after the hand
    run(app, "2099-01-02")
    assert stage_of(app, card) == "won_back"


def test_office_changes_the_rules_reps_may_not_and_the_win_back_list(app: Office):  # noqa: F811
    assert app.client.get("/api/v1/stages/rules", headers=app.as_("rep1")).json()["rules"] == {
        "at_risk_days": 90,
        "lost_days": 180,
        "new_days": 30,
    }
    assert app.client.put("/api/v1/stages/rules", json={"at_risk_days": 30}, headers=app.as_("rep1")).status_code == 403
    bad = app.client.put("/api/v1/stages/rules", json={"at_risk_days": 400}, headers=app.as_("office"))
    assert bad.status_code == 400 and bad.json()["error"]["fields"][0]["path"] == "lost_days"
    zero = app.client.put("/api/v1/stages/rules", json={"new_days": 0}, headers=app.as_("office"))
    assert zero.status_code == 400 and zero.json()["error"]["fields"][0]["path"] == "new_days"
    saved = app.client.put("/api/v1/stages/rules", json={"at_risk_days": 30}, headers=app.as_("office")).json()["rules"]
    assert saved["at_risk_days"] == 30
    mine, theirs = str(uuid.uuid4()), str(uuid.uuid4())
    push(app, put(mine, {"name": "快流失"}), activity(mine, "purchase", "2026-01-10T09:00:00Z", amount="5", currency="CNY"))
    push(
        app,
        put(theirs, {"name": "别人的"}),
        activity(theirs, "purchase", "2026-01-10T09:00:00Z", amount="5", currency="CNY"),
        name="rep2",
    )
    run(app, "2026-02-20")
    own = app.client.get("/api/v1/stages/win-back", params={"date": "2026-02-20"}, headers=app.as_("rep1")).json()["cards"]
    assert [(c["name"], c["stage"], c["last_touch"]) for c in own] == [("快流失", "at_risk", "2026-01-10")]
    everyone = app.client.get("/api/v1/stages/win-back", headers=app.as_("office")).json()["cards"]
    assert {c["name"] for c in everyone} == {"快流失", "别人的"}
