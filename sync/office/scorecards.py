"""Rep scorecards (绩效考核, issue 17): per rep and period, what they did and how their customers
fare, with the targets an admin set (no target is invented: a figure without one shows no progress).

Figures, over the days `start`..`end` (inclusive, by the activity's or change's day in UTC):
visits, calls, new cards (created by the rep), visits with a position, follow-up items resolved on
time and late (resolved after their due day), items open and overdue now (at `end`), feedback items
resolved (items opened by feedback, `fb-…`), data completeness (the average score of the rep's cards,
sync/office/quality.py) and the average CSAT of their customers (1–5 ratings on the rep's cards).
Office staff and admins see every rep; a manager their teams' reps; a rep only themselves.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from sync import audit, db
from sync.office import quality
from sync.cards import template
from sync.access import User, admin_only
from sync.errors import invalid

KEY = "scorecard_targets"
FIGURES = (
    "visits",
    "calls",
    "new_cards",
    "visits_with_position",
    "follow_ups_on_time",
    "follow_ups_late",
    "follow_ups_overdue",
    "feedback_resolved",
    "completeness",
    "csat",
)
LONGEST_DAYS = 366


def targets(conn: Any) -> dict[str, float]:
    raw = db.meta_value(conn, KEY)
    return json.loads(raw) if raw else {}


def save_targets(st: db.Store, user: User, body: object) -> dict[str, Any]:
    """Admins: `{figure: target per rep and period, or null to drop it}` for any of FIGURES."""
    admin_only(user, "set scorecard targets")
    if not isinstance(body, dict) or set(body) - set(FIGURES):
        raise invalid("", "send {figure: number or null} for " + ", ".join(FIGURES))
    for name, value in body.items():
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 100_000):
            raise invalid(name, "a number from 0 to 100000, or null")
    with st.write() as conn:
        saved = {k: v for k, v in {**targets(conn), **body}.items() if v is not None}
        db.set_meta(conn, KEY, json.dumps(saved))
        audit.record(conn, user.name, "settings.targets", "scorecards", saved)
    return {"targets": saved}


def _reps_in_scope(conn: Any, user: User) -> list[str]:
    if user.sees_everything:
        return db.rep_names(conn)
    if user.role == "manager":
        return sorted(n for n in user.team if n != user.name)
    return [user.name]


def scorecards(st: db.Store, user: User, start: date, end: date, *, rep: str | None = None) -> dict[str, Any]:
    if end < start or (end - start).days >= LONGEST_DAYS:
        raise invalid("to", f"a day on or after `from`, at most {LONGEST_DAYS} days later")
    first, last = start.isoformat(), end.isoformat()
    with st.read() as conn:
        reps = _reps_in_scope(conn, user)
        if rep is not None:
            if rep not in reps:
                raise invalid("rep", "not a rep you may see")
            reps = [rep]
        wanted = set(reps)
        cards = [c for c in db.live_cards(conn, tuple(reps) if reps else "\x00") if c.get("owner") in wanted]
        activities = db.activities_by(conn, tuple(reps), first, last) if reps else []
        created = db.cards_created_by(conn, tuple(reps), first, last) if reps else {}
        required = [f["key"] for f in template.active(template.load(conn)) if f.get("required")]
        history = {c["id"]: db.follow_up_history(conn, c["id"]) for c in cards if c.get("follow_ups")}
        goals = targets(conn)
        ratings = db.ratings_on_cards(conn, [c["id"] for c in cards], first, last) if cards else []
    rows: dict[str, dict[str, Any]] = {name: {figure: 0 for figure in FIGURES} for name in reps}
    for a in activities:
        row = rows.get(a["by"])
        if row is None:
            continue
        if a["kind"] == "visit":
            row["visits"] += 1
            row["visits_with_position"] += bool(a.get("location"))
        elif a["kind"] == "call":
            row["calls"] += 1
    for name, count in created.items():
        if name in rows:
            rows[name]["new_cards"] = count
    scores: dict[str, list[int]] = {name: [] for name in reps}
    for card in cards:
        owner = card["owner"]
        scores[owner].append(quality.completeness(card, required)[0])
        for item in card.get("follow_ups") or []:
            if item.get("status") != "resolved" and item.get("due", "9999") < last:
                rows[owner]["follow_ups_overdue"] += 1
        for item_id, (resolved_on, due) in _resolutions(history.get(card["id"], [])).items():
            if first <= resolved_on <= last:
                rows[owner]["follow_ups_on_time" if resolved_on <= due else "follow_ups_late"] += 1
                rows[owner]["feedback_resolved"] += item_id.startswith("fb-")
    owner_of = {c["id"]: c["owner"] for c in cards}
    csat: dict[str, list[int]] = {name: [] for name in reps}
    for card_id, rating in ratings:
        csat[owner_of[card_id]].append(rating)
    for name in reps:
        rows[name]["completeness"] = round(sum(scores[name]) / len(scores[name])) if scores[name] else None
        rows[name]["csat"] = round(sum(csat[name]) / len(csat[name]), 2) if csat[name] else None
    out = []
    for name in reps:
        row = rows[name]
        progress = {f: round(row[f] / goals[f], 3) for f in FIGURES if goals.get(f) and row[f] is not None}
        out.append({"rep": name, **row, "progress": progress})
    return {"from": first, "to": last, "figures": list(FIGURES), "targets": goals, "reps": out}


def _resolutions(history: list[dict[str, Any]]) -> dict[str, tuple[str, str]]:
    """item id → (the day it was first resolved, its due day then)."""
    found: dict[str, tuple[str, str]] = {}
    for entry in history:
        before = {i.get("id"): i for i in entry["before"] or []}
        for item in entry["after"] or []:
            was = (before.get(item["id"]) or {}).get("status")
            if item.get("status") == "resolved" and was != "resolved" and item["id"] not in found:
                found[item["id"]] = (entry["at"][:10], item.get("due") or "9999-12-31")
    return found


def figure_rows(found: dict[str, Any], figure: str) -> tuple[list[str], list[list[str]]]:
    """One figure per rep as CSV rows (rep, value, target, progress), or every figure with `all`."""
    if figure == "all":
        return (["rep", *FIGURES], [[r["rep"], *("" if r[f] is None else str(r[f]) for f in FIGURES)] for r in found["reps"]])
    if figure not in FIGURES:
        raise invalid("figure", "one of all, " + ", ".join(FIGURES))
    goal = found["targets"].get(figure)
    return (
        ["rep", figure, "target", "progress"],
        [
            [
                r["rep"],
                "" if r[figure] is None else str(r[figure]),
                "" if goal is None else str(goal),
                str(r["progress"].get(figure, "")),
            ]
            for r in found["reps"]
        ],
    )
