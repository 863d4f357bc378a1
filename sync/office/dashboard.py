"""Segment analysis for the dashboard: cards by segment, region, industry, owner and tag; new
cards and activities per week; purchases by segment; feedback ratings; a segment × region pivot;
per rep, the share of visits logged within 500 m of the customer's location; follow-up items
(open, overdue, median days to resolve).
Every figure answers only with the cards the user may see, under the same filters, and each can
be had as CSV rows.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sync.cards import followups
from sync.outward import surveys
from sync.db import identity
from sync.office import stages
from sync import db
from sync.access import User, owner_filter
from sync.errors import invalid
from sync.places import NEAR_M, distance_m, has_place
from sync.db import Store

FILTERS = ("owner", "segment", "region", "industry", "tag")
WEEKS = 12
NONE = "—"  # the bucket of cards where the field is empty
NOT_FIGURES = ("cards", "filters", "owner_names")  # in the answer, but no figure of their own (no CSV, no chart)


def _week(day: str) -> str:
    year, week, _ = date.fromisoformat(day[:10]).isocalendar()
    return f"{year}-W{week:02d}"


def _counted(counter: Counter) -> list[dict[str, Any]]:
    return [{"key": key, "count": count} for key, count in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))]


def _owner_names(people: list[dict[str, Any]], cards: list[dict[str, Any]]) -> dict[str, str]:
    """Display names of the owners counted here, where they differ from the login."""
    owners = {c["owner"] for c in cards}
    return {p["name"]: p["display"] for p in people if p["name"] in owners and p["display"] != p["name"]}


def figures(st: Store, user: User, filters: dict[str, str], today: date) -> dict[str, Any]:
    unknown = sorted(set(filters) - set(FILTERS))
    if unknown:
        raise invalid(unknown[0], "unknown filter")
    owner = owner_filter(user) or filters.get("owner")
    with st.read() as conn:
        cards = [c for c in db.live_cards(conn, owner) if _passes(c, filters)]
        activities = db.live_activities(conn, owner)
        follow_ups = followups.figures(conn, cards, today)
        people = identity.people(conn)
        answered = surveys.figures(conn, cards, activities, _week)
        lifecycle = stages.figures(conn, cards, today)
    ids = {c["id"] for c in cards}
    activities = [a for a in activities if a["card"] in ids]
    segment_of = {c["id"]: c.get("segment") or NONE for c in cards}

    weeks = [_week((today - timedelta(weeks=n)).isoformat()) for n in range(WEEKS - 1, -1, -1)]
    new_cards = Counter(_week(c["created_at"]) for c in cards)
    new_activities = Counter(_week(a.get("created_at") or a["at"]) for a in activities)
    purchases: dict[tuple[str, str], list[Decimal]] = defaultdict(list)
    ratings: list[int] = []
    for activity in activities:
        if activity["kind"] == "purchase" and activity.get("amount"):
            try:
                amount = Decimal(activity["amount"])
            except InvalidOperation:
                continue
            purchases[(segment_of[activity["card"]], activity.get("currency") or NONE)].append(amount)
        if activity["kind"] == "feedback" and activity.get("rating"):
            ratings.append(int(activity["rating"]))
    regions = sorted({c.get("region") or NONE for c in cards})
    segments = ["A", "B", "C", NONE]
    pivot = Counter((c.get("segment") or NONE, c.get("region") or NONE) for c in cards)
    return {
        "cards": len(cards),
        "filters": {k: v for k, v in filters.items() if v},
        "by_segment": _counted(Counter(c.get("segment") or NONE for c in cards)),
        "by_region": _counted(Counter(c.get("region") or NONE for c in cards)),
        "by_industry": _counted(Counter(c.get("industry") or NONE for c in cards)),
        "by_owner": _counted(Counter(c["owner"] for c in cards)),
        # The reps by the names people know them by (王伟 for wang.wei), for charts and screens.
        "owner_names": _owner_names(people, cards),
        "by_tag": _counted(Counter(t for c in cards for t in c.get("tags") or [])),
        "new_cards_per_week": [{"key": w, "count": new_cards.get(w, 0)} for w in weeks],
        "activities_per_week": [{"key": w, "count": new_activities.get(w, 0)} for w in weeks],
        "purchases_by_segment": [
            {"segment": s, "currency": cur, "total": str(sum(v)), "count": len(v)} for (s, cur), v in sorted(purchases.items())
        ],
        "feedback": {"average": round(sum(ratings) / len(ratings), 2) if ratings else None, "count": len(ratings)},
        "segment_by_region": {
            "rows": segments,
            "columns": regions,
            "cells": [[pivot.get((s, r), 0) for r in regions] for s in segments],
        },
        "visits_near": _visits_near(activities, {c["id"]: c.get("location") for c in cards}),
        "follow_ups": follow_ups,  # feedback followed up (issue 17): open, overdue, median days to resolve
        "surveys": answered,  # response rate, CSAT and NPS by segment, region, rep and week (issue 17)
        "stages": lifecycle,  # cards per lifecycle stage, moves per month, the win-back list (issue 17)
    }


def _visits_near(activities: list[dict[str, Any]], place_of: dict[str, Any]) -> list[dict[str, Any]]:
    """Per rep who logged visits: how many, how many with a position, how many within NEAR_M of the
    customer's location, and that share of all their visits. Shown, never used to refuse a visit."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for activity in activities:
        if activity["kind"] != "visit":
            continue
        row = counts[activity.get("by") or NONE]
        row[0] += 1
        where = activity.get("location")
        if where is not None and has_place(where):
            row[1] += 1
            customer = place_of.get(activity["card"])
            if customer is not None and has_place(customer) and distance_m(where, customer) <= NEAR_M:
                row[2] += 1
    return [
        {"key": rep, "visits": visits, "with_position": placed, "near": near, "share": round(near / visits, 3)}
        for rep, (visits, placed, near) in sorted(counts.items())
    ]


def _passes(card: dict[str, Any], filters: dict[str, str]) -> bool:
    for name in ("segment", "region", "industry"):
        if filters.get(name) and (card.get(name) or NONE) != filters[name]:
            return False
    if filters.get("owner") and card["owner"] != filters["owner"]:
        return False
    return not filters.get("tag") or filters["tag"] in (card.get("tags") or [])


def figure_rows(found: dict[str, Any], figure: str) -> tuple[list[str], list[list[str]]]:
    """One figure as a header and rows, for the CSV download beside each chart."""
    if figure not in found or figure in NOT_FIGURES:
        raise invalid("figure", "one of " + ", ".join(k for k in found if k not in NOT_FIGURES))
    value = found[figure]
    if figure == "segment_by_region":
        return ["segment", *value["columns"]], [[row, *map(str, cells)] for row, cells in zip(value["rows"], value["cells"])]
    if figure == "feedback":
        return ["average", "count"], [[str(value["average"] if value["average"] is not None else ""), str(value["count"])]]
    if figure == "stages":
        return (
            ["kind", "month", "from", "to", "count"],
            [["stage", "", "", c["key"], str(c["count"])] for c in value["counts"]]
            + [["move", f["month"], f["from"], f["to"], str(f["count"])] for f in value["flows"]],
        )
    if figure == "surveys":
        return _survey_rows(value)
    if figure == "follow_ups":
        keys: tuple[str, ...] = ("open", "overdue", "resolved", "median_days_to_resolve")
        return list(keys), [["" if value[k] is None else str(value[k]) for k in keys]]
    if figure == "visits_near":
        keys = ("key", "visits", "with_position", "near", "share")
        return ["rep", *keys[1:]], [[str(v[k]) for k in keys] for v in value]
    if figure == "purchases_by_segment":
        return ["segment", "currency", "total", "count"], [
            [p["segment"], p["currency"], p["total"], str(p["count"])] for p in value
        ]
    return ["key", "count"], [[item["key"], str(item["count"])] for item in value]


def _survey_rows(value: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """One row for all answers, then one per segment, region, rep and week: CSAT and NPS side by side."""

    def cells(csat: dict[str, Any] | None, nps: dict[str, Any] | None) -> list[str]:
        c, n = csat or {}, nps or {}
        return [
            str(c.get("average", "")),
            str(c.get("count", 0)),
            str(c.get("satisfied", "")),
            str(n.get("score", "")),
            str(n.get("count", 0)),
        ]

    rate = "" if value["response_rate"] is None else str(value["response_rate"])
    rows = [["all", "", str(value["sent"]), str(value["answered"]), rate, *cells(value["csat"], value["nps"])]]
    for group in ("segment", "region", "rep", "week"):
        csat = {r["key"]: r for r in value["csat_by"][group]}
        nps = {r["key"]: r for r in value["nps_by"][group]}
        rows += [[group, key, "", "", "", *cells(csat.get(key), nps.get(key))] for key in sorted(csat.keys() | nps.keys())]
    return (
        ["group", "key", "sent", "answered", "response_rate", "csat_average", "csat_count", "csat_satisfied", "nps", "nps_count"],
        rows,
    )
