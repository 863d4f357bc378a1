"""Feedback that is followed up (issue 17, 反馈跟进), and what customers changed themselves.

- A `feedback` activity with a rating at or below the admin's threshold (default 2), or marked
  `needs_action` by a rep, opens a follow-up item on the card (`follow_ups`, contract 7) for its
  owner: due `due_days` after the feedback, status `open`. The engine adds it in the activity's own
  transaction as a normal versioned change (sync/protocol/batch.py `_activity`), so history, stream position
  and the per-item merge stay one way; the item's id is `fb-<activity id>`, so a retried mutation
  never opens it twice.
- Lists for people: open and overdue items of the cards a user may see (office sees overdue items
  across reps), the figures for the dashboard (open, overdue, median days to resolve), and the
  recent changes customers made through links to the user's cards ("李娜 updated her details").
"""

from __future__ import annotations

import json
import statistics
from datetime import date, datetime, timedelta
from typing import Any

from sync import audit, db
from sync.access import User, admin_only, owner_filter
from sync.inputs import whole_numbers
from sync.errors import invalid
from sync.cards.links import CUSTOMER_FIELDS
from sync.cards.validate import MAX_FOLLOW_UPS

SETTINGS_KEY = "follow_up_settings"
DEFAULTS = {"rating_at_most": 2, "due_days": 3}
TITLE_LIMIT = 200
UPDATES_DAYS = (1, 90)
NPS_DETRACTOR = 6  # as sync/outward/surveys.py DETRACTOR


def settings(conn: Any) -> dict[str, int]:
    return db.meta_settings(conn, SETTINGS_KEY, DEFAULTS)


def read_settings(st: db.Store) -> dict[str, Any]:
    with st.read() as conn:
        return {"settings": settings(conn)}


def save_settings(st: db.Store, user: User, body: object) -> dict[str, Any]:
    """Admins: `{"rating_at_most": 0–5, "due_days": 0–90}` (any of them; 0 opens no item for a rating)."""
    admin_only(user, "change the follow-up rules")
    changed = whole_numbers(body, {"rating_at_most": (0, 5), "due_days": (0, 90)}, '{"rating_at_most": 0–5, "due_days": 0–90}')
    with st.write() as conn:
        saved = {**settings(conn), **changed}
        db.set_meta(conn, SETTINGS_KEY, json.dumps(saved))
        audit.record(conn, user.name, "settings.follow_ups", "follow_ups", saved)
    return {"settings": saved}


def item_for_feedback(conn: Any, activity: dict[str, Any], card: dict[str, Any]) -> dict[str, Any] | None:
    """The follow-up item a new feedback opens, or None (not negative, already there, or the card full)."""
    if activity.get("kind") != "feedback":
        return None
    rules = settings(conn)
    rating = activity.get("rating")
    score = (activity.get("answers") or {}).get("nps")  # an NPS survey's 0–10: detractors (0–6) are followed up
    negative = (rating is not None and rating <= rules["rating_at_most"]) or (
        isinstance(score, int) and not isinstance(score, bool) and score <= NPS_DETRACTOR
    )
    if not negative and not activity.get("needs_action"):
        return None
    items = card.get("follow_ups") or []
    item_id = f"fb-{activity['id']}"
    if len(items) >= MAX_FOLLOW_UPS or any(item.get("id") == item_id for item in items):
        return None
    day = date.fromisoformat(activity["at"][:10]) + timedelta(days=rules["due_days"])
    text = " ".join((activity.get("text") or "").split())
    title = (f"★{rating} " if rating is not None else f"NPS {score} " if negative and rating is None else "") + text
    return {
        "id": item_id,
        "title": title.strip()[:TITLE_LIMIT] or "feedback",
        "due": day.isoformat(),
        "status": "open",
        "note": None,
    }


def _brief(card: dict[str, Any], item: dict[str, Any], today: str) -> dict[str, Any]:
    overdue = item.get("status") != "resolved" and item.get("due", "9999") < today
    return {"card": card["id"], "name": card.get("name"), "owner": card.get("owner"), "item": item, "overdue": overdue}


def open_items(st: db.Store, user: User, today: date, *, only_overdue: bool = False, owner: str | None = None) -> dict[str, Any]:
    """Items not resolved on the cards the user may see (a rep: theirs), overdue first, then by due date."""
    iso = today.isoformat()
    with st.read() as conn:
        cards = db.live_cards(conn, owner_filter(user) or owner)
    found = [
        _brief(card, item, iso) for card in cards for item in card.get("follow_ups") or [] if item.get("status") != "resolved"
    ]
    if only_overdue:
        found = [f for f in found if f["overdue"]]
    found.sort(key=lambda f: (not f["overdue"], f["item"].get("due") or "", f["name"] or ""))
    return {"date": iso, "items": found}


def _days(start: str, end: str) -> float:
    a = datetime.fromisoformat(start.replace("Z", "+00:00"))
    b = datetime.fromisoformat(end.replace("Z", "+00:00"))
    return max(0.0, (b - a).total_seconds() / 86400)


def figures(conn: Any, cards: list[dict[str, Any]], today: date) -> dict[str, Any]:
    """Open and overdue items now, resolved items and the median days from opening to resolving
    (from history: when the item first appeared, when its status first became resolved)."""
    iso = today.isoformat()
    open_, overdue = 0, 0
    for card in cards:
        for item in card.get("follow_ups") or []:
            if item.get("status") != "resolved":
                open_ += 1
                overdue += item.get("due", "9999") < iso
    durations = []
    for card in cards:
        if not card.get("follow_ups"):
            continue
        opened: dict[str, str] = {}
        for entry in db.follow_up_history(conn, card["id"]):
            before = {i.get("id"): i for i in entry["before"] or []}
            for item in entry["after"] or []:
                opened.setdefault(item["id"], entry["at"])
                if item.get("status") == "resolved" and (before.get(item["id"]) or {}).get("status") != "resolved":
                    durations.append(_days(opened[item["id"]], entry["at"]))
    median = round(statistics.median(durations), 1) if durations else None
    return {"open": open_, "overdue": overdue, "resolved": len(durations), "median_days_to_resolve": median}


def customer_updates(st: db.Store, user: User, today: date, days: int = 30) -> dict[str, Any]:
    """What customers changed of their own details through links, in the last `days`, on the cards
    the user may see: one entry per answer, with each field's value before and after."""
    if not UPDATES_DAYS[0] <= days <= UPDATES_DAYS[1]:
        raise invalid("days", f"a number of days from {UPDATES_DAYS[0]} to {UPDATES_DAYS[1]}")
    since = (today - timedelta(days=days)).isoformat()
    with st.read() as conn:
        found = []
        for link, card, name, used_at in db.answered_links(conn, since, owner_filter(user)):
            changes: dict[str, list[Any]] = {}
            for entry in db.changes_via_link(conn, card, link):
                for field, (before, after) in entry.items():
                    if field in CUSTOMER_FIELDS:
                        changes[field] = [changes.get(field, [before])[0], after]
            if changes:
                found.append({"id": link, "link": link, "card": card, "name": name, "at": used_at, "changes": changes})
    found.sort(key=lambda u: str(u["at"]), reverse=True)
    return {"updates": found}
