"""Reminders: follow-ups due and overdue, birthdays in the coming week, cards nobody updated for N
days; per rep, or across reps for office staff. And a private calendar feed (iCalendar) per user,
so follow-ups and birthdays show in the phone's own calendar. Every function takes `today`, so
tests and the Today view agree on one clock.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
from datetime import date, datetime, timedelta
from typing import Any

from sync import db
from sync.access import User, owner_filter
from sync.errors import NotFound, invalid
from sync.db import Store

BIRTHDAY_DAYS = 7
DEFAULT_STALE_DAYS = 90
FEED_PREFIX = "cal_"


def _cards(conn: sqlite3.Connection, user: User, owner: str | None) -> list[dict[str, Any]]:
    return db.live_cards(conn, owner_filter(user) or owner)


def _next_birthday(birthday: str, today: date) -> date | None:
    try:
        month, day = int(birthday[5:7]), int(birthday[8:10])
    except (ValueError, TypeError):
        return None
    for year in (today.year, today.year + 1):
        try:
            candidate = date(year, month, day)
        except ValueError:  # 29 February in a common year: celebrate on the 28th
            candidate = date(year, 2, 28)
        if candidate >= today:
            return candidate
    return None


def _brief(card: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "id": card["id"],
        "name": card["name"],
        "company": card.get("company"),
        "owner": card["owner"],
        "phones": card.get("phones") or [],
        "emails": card.get("emails") or [],
        **extra,
    }


def reminders(
    st: Store, user: User, today: date, *, owner: str | None = None, stale_days: int = DEFAULT_STALE_DAYS
) -> dict[str, Any]:
    if not 1 <= stale_days <= 3650:
        raise invalid("stale_days", "a number of days from 1 to 3650")
    with st.read() as conn:
        cards = _cards(conn, user, owner)
    iso = today.isoformat()
    stale_before = (today - timedelta(days=stale_days)).isoformat()
    due, overdue, birthdays, stale = [], [], [], []
    for card in cards:
        follow = card.get("follow_up")
        if follow and follow == iso:
            due.append(_brief(card, follow_up=follow))
        elif follow and follow < iso:
            overdue.append(_brief(card, follow_up=follow, days_late=(today - date.fromisoformat(follow)).days))
        if card.get("birthday"):
            upcoming = _next_birthday(card["birthday"], today)
            if upcoming and (upcoming - today).days < BIRTHDAY_DAYS:
                birthdays.append(
                    _brief(card, birthday=card["birthday"], on=upcoming.isoformat(), in_days=(upcoming - today).days)
                )
        if (card.get("updated_at") or "")[:10] < stale_before:
            stale.append(_brief(card, updated_at=card.get("updated_at")))
    overdue.sort(key=lambda c: c["follow_up"])
    birthdays.sort(key=lambda c: c["on"])
    stale.sort(key=lambda c: c["updated_at"] or "")
    by_owner: dict[str, dict[str, int]] = {}
    for kind, items in (("due", due), ("overdue", overdue), ("birthdays", birthdays), ("stale", stale)):
        for item in items:
            by_owner.setdefault(item["owner"], {"due": 0, "overdue": 0, "birthdays": 0, "stale": 0})[kind] += 1
    return {
        "date": iso,
        "due": due,
        "overdue": overdue,
        "birthdays": birthdays,
        "stale": stale,
        "stale_days": stale_days,
        "by_owner": by_owner,
    }


# --- the calendar feed -------------------------------------------------------------------------


def new_feed_key(st: Store, user: User) -> str:
    """A new private feed key for `user` (the old one stops working); only its hash is kept."""
    key = FEED_PREFIX + secrets.token_urlsafe(24)
    with st.write() as conn:
        db.set_calendar_key(conn, user.name, hashlib.sha256(key.encode()).hexdigest())
    return key


def feed_user(st: Store, key: str) -> User:
    if not key.startswith(FEED_PREFIX) or len(key) > 100:
        raise NotFound("no such calendar")
    digest = hashlib.sha256(key.encode()).hexdigest()
    with st.read() as conn:
        found = db.user_for_calendar_key(conn, digest)
    if found is None:
        raise NotFound("no such calendar (the link was replaced or the user disabled)")
    return found


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _fold(line: str) -> str:
    """iCalendar lines are at most 75 octets; longer ones continue on lines starting with a space."""
    out, current = [], ""
    for char in line:
        if len((current + char).encode()) > 75:
            out.append(current)
            current = " " + char
        else:
            current += char
    return "\r\n".join(out + [current])


def calendar(st: Store, user: User, origin: str) -> str:
    """Follow-ups as all-day events, birthdays as yearly ones, for the cards `user` may see."""
    with st.read() as conn:
        cards = _cards(conn, user, None)
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Fieldcards//Reminders//EN",
        "CALSCALE:GREGORIAN",
        f"X-WR-CALNAME:{_escape('Fieldcards · ' + (user.display or user.name))}",
    ]
    for card in sorted(cards, key=lambda c: c["id"]):
        stamp = datetime.fromisoformat(card["updated_at"].replace("Z", "+00:00")).strftime("%Y%m%dT%H%M%SZ")
        who = card["name"] + (f" ({card['company']})" if card.get("company") else "")
        link = f"{origin}/index.html#/card/{card['id']}"
        if card.get("follow_up"):
            day = date.fromisoformat(card["follow_up"])
            lines += [
                "BEGIN:VEVENT",
                f"UID:follow-{card['id']}@fieldcards",
                f"DTSTAMP:{stamp}",
                f"DTSTART;VALUE=DATE:{day:%Y%m%d}",
                f"DTEND;VALUE=DATE:{day + timedelta(days=1):%Y%m%d}",
                f"SUMMARY:{_escape('Follow up / 跟进: ' + who)}",
                f"URL:{link}",
                "END:VEVENT",
            ]
        if card.get("birthday"):
            born = date.fromisoformat(card["birthday"])
            rule = "RRULE:FREQ=YEARLY" + (";BYMONTH=2;BYMONTHDAY=-1" if (born.month, born.day) == (2, 29) else "")
            lines += [
                "BEGIN:VEVENT",
                f"UID:birthday-{card['id']}@fieldcards",
                f"DTSTAMP:{stamp}",
                f"DTSTART;VALUE=DATE:{born:%Y%m%d}",
                rule,
                f"SUMMARY:{_escape('Birthday / 生日: ' + who)}",
                f"URL:{link}",
                "END:VEVENT",
            ]
    lines.append("END:VCALENDAR")
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"
