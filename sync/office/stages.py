"""Lifecycle stages (issue 17): lead, new, active, at risk, lost, won back, computed from a card's
visits and purchases by rules office staff and admins may change, and applied by a periodic job
(hourly in the server, and `fieldcards stages`) as normal changes by user `system`, like the pool's
reclaim (sync/office/reclaim.py). `today` is given so that tests choose the day.

The rules, from the last touch (the newest visit or purchase) and the first purchase:
- no purchase yet: `lead`;
- no touch for `lost_days`: `lost`; for `at_risk_days`: `at_risk`;
- first purchase within `new_days`: `new`;
- touched again after being at risk or lost: `won_back`, which becomes `active` `new_days` after
  the touch that won it back;
- otherwise `active`.

A stage set by hand stays until the rules move it on: the job changes it only when the event behind
the computed stage (the touch, or the day the touch became too old) came after the hand's change.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from typing import Any

from sync import audit, db
from sync.protocol import hlc
from sync.access import User, office_only, owner_filter
from sync.protocol.batch import Batch, CardWrite
from sync.protocol.engine import Engine
from sync.inputs import whole_numbers
from sync.errors import invalid
from sync.times import utc_now

SYSTEM = User("system", "admin", "Fieldcards")
KEY = "stage_rules"
DEFAULTS = {"at_risk_days": 90, "lost_days": 180, "new_days": 30}
WIN_BACK_LIMIT = 200


def rules(conn: Any) -> dict[str, int]:
    return db.meta_settings(conn, KEY, DEFAULTS)


def save_rules(st: db.Store, user: User, body: object) -> dict[str, Any]:
    """Office and admins: any of `at_risk_days`, `lost_days`, `new_days` (1–3650; at risk before lost)."""
    office_only(user, "change the stage rules")
    changed = whole_numbers(
        body, {name: (1, 3650) for name in DEFAULTS}, '{"at_risk_days": 90, "lost_days": 180, "new_days": 30}', unit="days"
    )
    with st.write() as conn:
        saved = {**rules(conn), **changed}
        if saved["at_risk_days"] >= saved["lost_days"]:
            raise invalid("lost_days", "more days than at_risk_days")
        db.set_meta(conn, KEY, json.dumps(saved))
        audit.record(conn, user.name, "settings.stages", "stages", saved)
    return {"rules": saved}


def read_rules(st: db.Store) -> dict[str, Any]:
    with st.read() as conn:
        return {"rules": rules(conn)}


def _day(moment: str | None) -> date | None:
    return date.fromisoformat(moment[:10]) if moment else None


def computed(
    current: str | None, first_purchase: date | None, last_touch: date | None, won_at: date | None, today: date, r: dict[str, int]
) -> tuple[str, date | None]:
    """The stage the rules give, and the day of the event behind it (None: no event, e.g. a lead)."""
    if first_purchase is None or last_touch is None:
        return "lead", None
    idle = (today - last_touch).days
    if idle >= r["lost_days"]:
        return "lost", last_touch + timedelta(days=r["lost_days"])
    if idle >= r["at_risk_days"]:
        return "at_risk", last_touch + timedelta(days=r["at_risk_days"])
    if current in ("at_risk", "lost"):
        return "won_back", last_touch
    if current == "won_back" and won_at is not None and (today - won_at).days < r["new_days"]:
        return "won_back", won_at
    if (today - first_purchase).days < r["new_days"]:
        return "new", first_purchase
    return "active", last_touch if current != "won_back" else (won_at or last_touch) + timedelta(days=r["new_days"])


def _clock_day(clock: list[Any] | None) -> date | None:
    """The day of a field's last change, from its clock `[HLC, user, device]`."""
    if not clock or not clock[0]:
        return None
    millis = hlc.parse(clock[0]).ms
    return datetime.fromtimestamp(millis / 1000, timezone.utc).date()


def _won_at(touches: list[str], r: dict[str, int]) -> date | None:
    """The day of the touch that won the customer back: the last one after a gap of at least
    `at_risk_days` since the touch before it."""
    days = sorted(d for d in {_day(t) for t in touches if t} if d is not None)
    won = None
    for before, after in zip(days, days[1:]):
        if (after - before).days >= r["at_risk_days"]:
            won = after
    return won


def due(conn: Any, today: date) -> list[tuple[str, str | None, str]]:
    """(card, stage now, stage the rules give) of every live card whose stage should change today."""
    r = rules(conn)
    facts = db.stage_facts(conn)
    found = []
    for card_id, current, created in db.card_stages(conn):
        first, last = facts.get(card_id, (None, None))
        first_day, last_day = _day(first), _day(last)
        won_at = _won_at(db.touches_of(conn, card_id), r) if current == "won_back" else None
        stage, since = computed(current, first_day, last_day, won_at, today, r)
        if stage == current:
            continue
        clock = None
        if current is not None:
            row = db.card_row(conn, card_id)
            clock = row.clocks.get("stage") if row else None
        set_at = _clock_day(clock)
        by_hand = clock is not None and clock[1] != SYSTEM.name
        if by_hand and (since is None or set_at is None or since <= set_at):
            continue  # set by hand after what the rules go by: it stays until something new happens
        found.append((card_id, current, stage))
    return found


def apply(engine: Engine, today: date) -> list[dict[str, Any]]:
    """Move every card whose stage the rules change, in one transaction, as user `system`."""
    with engine.store.write() as conn:
        moves = due(conn, today)
        if not moves:
            return []
        batch = Batch(engine, conn, SYSTEM, None, utc_now())
        at = engine.clock.now()
        for card_id, before, after in moves:
            row = db.card_row(conn, card_id)
            if row is None:
                continue
            write = CardWrite(row, dict(row.card))
            write.changes["stage"] = [before, after]
            row.card["stage"] = after
            row.clocks["stage"] = [at, SYSTEM.name, ""]
            batch.save(write, at, None, mutation_ref=f"stage:{today.isoformat()}:{card_id}")
        batch.finish()
    return [{"card": c, "from": b, "to": a} for c, b, a in moves]


def figures(conn: Any, cards: list[dict[str, Any]], today: date) -> dict[str, Any]:
    """Cards per stage, moves between stages per month (from history), and the win-back list: cards
    at risk or lost, longest untouched first."""
    ids = {c["id"]: c for c in cards}
    counts = Counter(c.get("stage") or "none" for c in cards)
    flows: Counter[tuple[str, str, str]] = Counter()
    for card_id, received_at, before, after in db.stage_history(conn):
        if card_id in ids:
            flows[(received_at[:7], before or "none", after or "none")] += 1
    facts = db.stage_facts(conn)
    win_back = sorted(
        (
            {
                "card": c["id"],
                "name": c.get("name"),
                "owner": c.get("owner"),
                "stage": c["stage"],
                "last_touch": (facts.get(c["id"], (None, None))[1] or "")[:10] or None,
            }
            for c in cards
            if c.get("stage") in ("at_risk", "lost")
        ),
        key=lambda w: (w["last_touch"] or "", w["name"] or ""),
    )[:WIN_BACK_LIMIT]
    return {
        "counts": [
            {"key": k, "count": counts.get(k, 0)} for k in ("lead", "new", "active", "at_risk", "lost", "won_back", "none")
        ],
        "flows": [{"month": m, "from": f, "to": t, "count": n} for (m, f, t), n in sorted(flows.items())],
        "win_back": win_back,
        "won_back": counts.get("won_back", 0),
    }


def win_back(st: db.Store, user: User, today: date) -> dict[str, Any]:
    """`GET /stages/win-back`: the caller's cards (office: everyone's) at risk or lost."""
    with st.read() as conn:
        cards = db.live_cards(conn, owner_filter(user))
        found = figures(conn, cards, today)["win_back"]
    return {"date": today.isoformat(), "cards": found}
