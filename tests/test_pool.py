"""The shared pool (公海, issue 19; contract 7): pool cards shown with the fields an admin allows,
claims made offline (the earliest bounded `at` wins, the loser is told `claimed` and loses
nothing), claim limits, reclaim rules under an injected clock, and the company-wide duplicate check
that never shows a colleague's card."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import date, timedelta
from pathlib import Path

from sync.cards import pool
from sync.office import reclaim
from sync.access import User
from sync.protocol.engine import Engine
from sync.protocol.model import parse_sync_request
from sync.db import Store
from sync.people.users import add_user

from .conftest import App

PHONE = "+8613812345678"


def _pool_card(srv: App, tmp_path: Path, **fields) -> str:
    """Office makes a card with no owner: it is in the pool."""
    office = srv.device("office", tmp_path)
    card = office.create_card(owner=None, **fields)
    report = office.sync()
    assert report.statuses == {"applied": 1}, report
    return card


def _setup(srv: App) -> None:
    srv.user("office", "office")
    srv.user("admin", "admin")
    srv.user("li.na")
    srv.user("wang.wei")


def test_reps_see_pool_cards_with_the_allowed_fields_only(app: App, tmp_path: Path) -> None:
    _setup(app)
    card = _pool_card(app, tmp_path, name="张伟", company="华为", phones=[PHONE], address="深圳", region="华南", notes="secret")
    rep = app.client("li.na")
    found = rep.get("/api/v1/pool").json()
    assert [c["id"] for c in found["cards"]] == [card]
    shown = found["cards"][0]
    assert shown["name"] == "张伟" and shown["company"] == "华为" and shown["owner"] is None
    assert "phones" not in shown and "notes" not in shown and "address" not in shown
    # The card itself and its history stay closed to a rep until they claim it.
    assert rep.get(f"/api/v1/cards/{card}").status_code == 404
    # An admin allows the address; reps now see it, and still no phone.
    assert rep.put("/api/v1/pool/settings", json={"fields": ["address"]}).status_code == 403
    answer = app.client("admin").put("/api/v1/pool/settings", json={"fields": ["company", "address"]})
    assert answer.status_code == 200, answer.text
    shown = rep.get("/api/v1/pool").json()["cards"][0]
    assert shown["address"] == "深圳" and "region" not in shown and "phones" not in shown
    # Filters and bad parameters.
    assert rep.get("/api/v1/pool", params={"q": "华为"}).json()["cards"][0]["id"] == card
    assert rep.get("/api/v1/pool", params={"q": "nobody"}).json()["cards"] == []
    bad = rep.get("/api/v1/pool", params={"limit": "0"})
    assert bad.status_code == 400 and bad.json()["error"]["fields"][0]["path"] == "limit"
    bad = app.client("admin").put("/api/v1/pool/settings", json={"fields": ["phones"], "max_held": -1})
    assert bad.status_code == 400
    assert {f["path"] for f in bad.json()["error"]["fields"]} == {"fields[0]", "max_held"}


def test_a_rep_cannot_edit_a_pool_card_or_put_one_in_the_pool(app: App, tmp_path: Path) -> None:
    _setup(app)
    card = _pool_card(app, tmp_path, name="张伟")
    phone = app.device("li.na", tmp_path)
    phone.refresh_pool()
    # Editing without claiming: the card is not theirs.
    response = phone.http.post(
        "/api/v1/sync",
        json={
            "device": "d1",
            "mutations": [
                {"id": "m1", "op": "card.put", "card": card, "at": phone.clock.now(), "fields": {"notes": "x"}, "was": {}},
                {
                    "id": "m2",
                    "op": "card.put",
                    "card": str(uuid.uuid4()),
                    "at": phone.clock.now(),
                    "fields": {"name": "新客户", "owner": None},
                },
            ],
        },
    ).json()
    assert [r["status"] for r in response["results"]] == ["rejected", "rejected"]
    assert response["results"][0]["code"] == "not_found"
    assert response["results"][1]["code"] == "forbidden"
    assert response["results"][1]["errors"][0]["path"] == "fields.owner"


def test_two_phones_claim_offline_and_the_earlier_claim_wins_whoever_syncs_first(app: App, tmp_path: Path) -> None:
    _setup(app)
    card = _pool_card(app, tmp_path, name="张伟", company="华为")
    early, late = app.device("li.na", tmp_path), app.device("wang.wei", tmp_path)
    for phone in (early, late):
        phone.sync()
        phone.refresh_pool()
    # Both offline: li.na claims first, wang.wei a moment later and edits the card and logs a visit.
    early_claim = early.claim(card)
    late_claim = late.claim(card)
    assert late.card(card)["name"] == "张伟"  # shown as theirs at once, offline
    late.edit_card(card, title="采购经理")
    visit = late.add_activity(card, "visit", "first visit")
    # The later claim reaches the server first and holds the card for a while.
    report = late.sync()
    assert report.statuses == {"applied": 3}, report
    assert late.card(card)["title"] == "采购经理"
    # Then the earlier claim arrives: it wins.
    report = early.sync()
    assert [r["result"]["status"] for r in early.acknowledged() if r["id"] == early_claim] in (["applied"], ["conflict"])
    mine = early.card(card)
    assert mine["owner"] == "li.na"
    # wang.wei's edit left the card but is kept for li.na as a conflict record.
    assert mine["title"] is None
    conflicts = app.client("li.na").get("/api/v1/conflicts").json()["conflicts"]
    assert [(c["field"], c["other"], c["other_by"]) for c in conflicts] == [("title", "采购经理", "wang.wei")]
    # wang.wei's phone lets the card go; a retry of their claim learns it lost.
    late.sync()
    assert late.card(card) is None
    again = late.http.post(
        "/api/v1/sync",
        json={
            "device": late.device_id,
            "mutations": [next(r for r in late.acknowledged() if r["id"] == late_claim) | {"result": None}],
        },
    )
    stored = again.json()["results"][0]
    assert stored["status"] == "rejected" and stored["code"] == "claimed"
    # The visit wang.wei logged stays on the card for li.na.
    assert visit in [a["id"] for a in app.client("li.na").get(f"/api/v1/cards/{card}").json()["activities"]]
    # Exactly one owner, every move in history and the audit log.
    history = app.client("admin").get(f"/api/v1/cards/{card}/history").json()["history"]
    owners = [h["changes"]["owner"] for h in history if "owner" in h["changes"] and h["version"] > 1]
    assert owners == [[None, "wang.wei"], ["wang.wei", "li.na"]]
    actions = [e["action"] for e in app.client("admin").get("/api/v1/audit").json()["audit"]]
    assert actions.count("card.claim") == 2


def test_a_claim_that_arrives_after_an_earlier_one_is_told_claimed_and_loses_nothing(app: App, tmp_path: Path) -> None:
    _setup(app)
    card = _pool_card(app, tmp_path, name="张伟", company="华为")
    early, late = app.device("li.na", tmp_path), app.device("wang.wei", tmp_path)
    for phone in (early, late):
        phone.refresh_pool()
    early.claim(card)
    late_claim = late.claim(card)
    late.edit_card(card, title="总经理")
    visit = late.add_activity(card, "visit", "met at the fair")
    assert early.sync().statuses == {"applied": 1}
    report = late.sync()
    assert report.statuses == {"rejected": 1, "conflict": 1, "applied": 1}, report
    [rejected] = late.rejected()
    assert rejected["id"] == late_claim
    assert rejected["result"]["code"] == "claimed"
    assert rejected["result"]["errors"] == [{"path": "card", "message": "already claimed by a colleague"}]
    assert late.card(card) is None  # nothing of li.na's card on wang.wei's phone
    conflicts = app.client("li.na").get("/api/v1/conflicts").json()["conflicts"]
    assert [(c["field"], c["other"], c["other_by"]) for c in conflicts] == [("title", "总经理", "wang.wei")]
    assert visit in [a["id"] for a in app.client("li.na").get(f"/api/v1/cards/{card}").json()["activities"]]
    assert app.client("wang.wei").get("/api/v1/pool").json()["cards"] == []


def test_claim_limits(app: App, tmp_path: Path) -> None:
    _setup(app)
    cards = [_pool_card(app, tmp_path, name=f"客户{i}") for i in range(3)]
    admin = app.client("admin")
    assert admin.put("/api/v1/pool/settings", json={"claims_per_day": 1}).status_code == 200
    phone = app.device("li.na", tmp_path)
    phone.refresh_pool()
    phone.claim(cards[0])
    phone.claim(cards[1])
    report = phone.sync()
    assert report.statuses == {"applied": 1, "rejected": 1}
    [refused] = phone.rejected()
    assert refused["result"]["code"] == "forbidden" and "a day" in refused["result"]["errors"][0]["message"]
    assert admin.put("/api/v1/pool/settings", json={"claims_per_day": None, "max_held": 1}).status_code == 200
    phone.claim(cards[2])
    report = phone.sync()
    assert phone.rejected()[-1]["result"]["errors"][0]["message"].startswith("you already hold 1 cards")


def test_office_returns_and_hands_out_cards_and_the_old_owner_lets_go(app: App, tmp_path: Path) -> None:
    _setup(app)
    rep = app.device("li.na", tmp_path)
    card = rep.create_card(name="张伟", company="华为")
    rep.sync()
    office = app.device("office", tmp_path)
    office.sync()
    office.edit_card(card, owner=None)
    assert office.sync().statuses == {"applied": 1}
    rep.sync()
    assert rep.card(card) is None
    rep.refresh_pool()
    assert list(rep.pool_cards()) == [card]
    # Handed out by hand: no claim can take it back.
    office.edit_card(card, owner="wang.wei")
    office.sync()
    rep.claim(card)
    rep.sync()
    assert rep.rejected()[0]["result"]["code"] == "claimed"
    actions = [
        (e["action"], json.loads(e["detail"]) if isinstance(e["detail"], str) else e["detail"])
        for e in app.client("admin").get("/api/v1/audit").json()["audit"]
    ]
    moves = [d for a, d in actions if a == "card.hand"]
    assert {"from": "li.na", "to": None} in moves and {"from": None, "to": "wang.wei"} in moves
    # Office still sees pool and held cards everywhere, without a 500 on any figure.
    for path in (
        "/api/v1/dashboard",
        "/api/v1/quality",
        "/api/v1/reminders",
        "/api/v1/duplicates",
        "/api/v1/export?format=csv",
        "/api/v1/cards",
    ):
        assert app.client("office").get(path).status_code == 200, path


def test_the_colleague_check_warns_without_showing_the_colleagues_card(app: App, tmp_path: Path) -> None:
    _setup(app)
    mine = app.device("li.na", tmp_path)
    held = mine.create_card(name="张伟", company="华为", phones=[PHONE])
    mine.sync()
    pooled = _pool_card(app, tmp_path, name="刘洋", emails=["liu@example.cn"])
    other = app.device("wang.wei", tmp_path)
    other.refresh_buckets()
    # Offline, before anything is sent: a maybe from the buckets.
    assert other.colleague_check(phones=[PHONE]) == "held_by_colleague"
    assert other.colleague_check(emails=["LIU@example.cn"]) == "in_pool"
    assert other.colleague_check(name="张 伟", company="华为") == "held_by_colleague"
    assert other.colleague_check(phones=["+8613900000000"]) is None
    lists = other.http.get("/api/v1/dedupe/buckets").json()
    assert PHONE not in json.dumps(lists) and len(base64.b64decode(lists["held"])) % 3 == 0
    # At sync: exact, and still nothing of the other cards.
    new = other.create_card(name="张伟", phones=["138 1234 5678"])
    report = other.sync()
    assert report.statuses == {"applied": 1}
    assert report.warnings == [{"mutation": other.acknowledged()[0]["id"], "code": "held_by_colleague", "cards": []}]
    second = other.create_card(name="刘洋", emails=["liu@example.cn"])
    report = other.sync()
    assert [w["code"] for w in report.warnings] == ["in_pool"] and report.warnings[0]["cards"] == []
    assert set(other.cards()) == {new, second}  # nothing of li.na's card or the pool card arrived
    # Office sees the candidate with both owners; nothing was merged.
    groups = app.client("office").get("/api/v1/duplicates").json()["groups"]
    group = next(g for g in groups if set(g["cards"]) == {held, new})
    assert sorted(group["owners"]) == ["li.na", "wang.wei"] and group["candidate"] == ["held_by_colleague"]
    assert next(g for g in groups if set(g["cards"]) == {pooled, second})["owners"].count(None) == 1
    # A rep's own duplicate is still only theirs to see.
    own = other.create_card(name="张伟二", phones=["13812345678"])
    report = other.sync()
    codes = sorted(w["code"] for w in report.warnings if w["mutation"] == other.acknowledged()[-1]["id"])
    assert codes == ["held_by_colleague", "possible_duplicate"]
    assert own in other.cards()


def test_reclaim_returns_idle_cards_with_an_injected_clock(tmp_path: Path) -> None:
    """In-process: the engine over a real SQLite file; `today` is chosen, not read from the clock."""
    st = Store(tmp_path / "fieldcards.db")
    try:
        add_user(st, "li.na", "rep")
        engine = Engine(st)
        rep = User("li.na", "rep")
        admin = User("admin", "admin")
        pool.save_settings(st, admin, {"reclaim_days": {"A": 30, "none": None}})
        cards = [str(uuid.uuid4()) for _ in range(3)]
        mutations = [
            {
                "id": f"m{i}",
                "op": "card.put",
                "card": c,
                "at": engine.clock.now(),
                "fields": {"name": f"客户{i}", "segment": "A" if i < 2 else None},
            }
            for i, c in enumerate(cards)
        ]
        engine.sync(rep, parse_sync_request({"device": "d", "mutations": mutations}))
        with st.read() as conn:
            created = date.fromisoformat(conn.execute("SELECT min(created_at) FROM cards").fetchone()[0][:10])
        # A visit on the second card 20 days later keeps it for 30 days more.
        visit = {
            "id": str(uuid.uuid4()),
            "card": cards[1],
            "kind": "visit",
            "at": f"{(created + timedelta(days=20)).isoformat()}T10:00:00Z",
            "text": "visit",
        }
        engine.sync(
            rep,
            parse_sync_request(
                {
                    "device": "d",
                    "mutations": [
                        {"id": "v", "op": "activity.add", "card": cards[1], "at": engine.clock.now(), "activity": visit}
                    ],
                }
            ),
        )
        soon = pool.returning(st, rep, created + timedelta(days=27))
        assert [(r["card"], r["returns_on"]) for r in soon] == [(cards[0], (created + timedelta(days=30)).isoformat())]
        assert reclaim.reclaim(engine, created + timedelta(days=29)) == []
        assert reclaim.reclaim(engine, created + timedelta(days=30)) == [cards[0]]
        assert reclaim.reclaim(engine, created + timedelta(days=49)) == []
        assert reclaim.reclaim(engine, created + timedelta(days=50)) == [cards[1]]
        assert [c["id"] for c in pool.view(st, rep, {})["cards"]] == sorted(cards[:2])
        with st.read() as conn:
            history = conn.execute(
                "SELECT user, changes FROM history WHERE card = ? ORDER BY id DESC LIMIT 1", (cards[0],)
            ).fetchone()
            actions = [r[0] for r in conn.execute("SELECT action FROM audit WHERE target = ?", (cards[0],))]
        assert history[0] == "system" and json.loads(history[1]) == {"owner": ["li.na", None]}
        assert actions == ["card.reclaim"]
        # The rep's phone lets them go.
        answer = engine.sync(rep, parse_sync_request({"device": "d", "cursor": None}))
        removed = [c for c in map(json.loads, answer.changes) if c.get("type") == "remove"]
        assert {c["card"] for c in removed} == set(cards[:2]) and {c["reason"] for c in removed} == {"revoked"}
    finally:
        st.close()
