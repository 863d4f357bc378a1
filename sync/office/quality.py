"""Data quality: how complete each card is against the template, incomplete and stale cards per
rep, and a cleaning run that finds stored values that no longer pass validation (a phone that
cannot be read as E.164, an email that is not valid) so a person can fix them."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sync import db
from sync.cards import template
from sync.access import User, owner_filter
from sync.db import Store
from sync.cards.validate import normalize_email, normalize_phone

RECOMMENDED = ("company", "contact", "segment", "region", "industry", "follow_up")
INCOMPLETE_BELOW = 70
LISTED = 500


def completeness(card: dict[str, Any], required_custom: list[str]) -> tuple[int, list[str]]:
    """A score from 0 to 100 and the fields missing; a phone or an email counts as the contact."""
    missing = [
        name
        for name in RECOMMENDED
        if (name == "contact" and not (card.get("phones") or card.get("emails"))) or (name != "contact" and not card.get(name))
    ]
    missing += [f"custom.{key}" for key in required_custom if not (card.get("custom") or {}).get(key)]
    total = 1 + len(RECOMMENDED) + len(required_custom)  # the name is always there
    return round(100 * (total - len(missing)) / total), missing


def report(st: Store, user: User, today: date, *, stale_days: int = 90, region: str = "CN") -> dict[str, Any]:
    owner = owner_filter(user)
    with st.read() as conn:
        cards = db.live_cards(conn, owner)
        required = [f["key"] for f in template.active(template.load(conn)) if f.get("required")]
    stale_before = (today - timedelta(days=stale_days)).isoformat()
    incomplete, stale, problems = [], [], []
    per_owner: dict[str, dict[str, Any]] = {}
    scores = []
    for card in cards:
        score, missing = completeness(card, required)
        scores.append(score)
        mine = per_owner.setdefault(card["owner"], {"cards": 0, "incomplete": 0, "stale": 0, "score_sum": 0})
        mine["cards"] += 1
        mine["score_sum"] += score
        brief = {"id": card["id"], "name": card["name"], "owner": card["owner"]}
        if score < INCOMPLETE_BELOW:
            mine["incomplete"] += 1
            incomplete.append({**brief, "score": score, "missing": missing})
        if (card.get("updated_at") or "")[:10] < stale_before:
            mine["stale"] += 1
            stale.append({**brief, "updated_at": card.get("updated_at")})
        problems += _invalid_values(card, region)
    owners = {
        name: {
            "cards": v["cards"],
            "incomplete": v["incomplete"],
            "stale": v["stale"],
            "average_score": round(v["score_sum"] / v["cards"]),
        }
        for name, v in sorted(per_owner.items())
    }
    incomplete.sort(key=lambda c: (c["score"], c["name"]))
    return {
        "cards": len(cards),
        "average_score": round(sum(scores) / len(scores)) if scores else None,
        "owners": owners,
        "incomplete": incomplete[:LISTED],
        "stale": stale[:LISTED],
        "invalid_values": problems[:LISTED],
        "stale_days": stale_days,
    }


def _invalid_values(card: dict[str, Any], region: str) -> list[dict[str, Any]]:
    """Values stored under older rules, or written straight into the database, that fail today's."""
    found = []
    for n, phone in enumerate(card.get("phones") or []):
        try:
            if normalize_phone(phone, region) != phone:
                raise ValueError(f"stored as {phone}, should be {normalize_phone(phone, region)}")
        except ValueError as error:
            found.append(
                {"card": card["id"], "name": card["name"], "field": f"phones[{n}]", "value": phone, "message": str(error)}
            )
    for n, email in enumerate(card.get("emails") or []):
        try:
            normalize_email(email)
        except ValueError as error:
            found.append(
                {"card": card["id"], "name": card["name"], "field": f"emails[{n}]", "value": email, "message": str(error)}
            )
    return found
