"""The customer's voice: what customers changed, follow-up items over time, stages."""

from __future__ import annotations

import json
import sqlite3
from typing import Any
from sync.access import OwnerScope
from sync.db.cards import owned


def answered_links(conn: sqlite3.Connection, since: str, owner: OwnerScope) -> list[tuple[str, str, str, str]]:
    """(link, card, card name, used_at) of the links answered since `since`, on live cards of `owner`."""
    clause, values = owned(owner, "c.owner")
    sql = (
        "SELECT l.id, l.card, json_extract(c.data, '$.name'), l.used_at FROM links l JOIN cards c ON c.id = l.card "
        "WHERE l.used_at >= ? AND c.deleted = 0" + clause + " ORDER BY l.used_at DESC LIMIT 500"
    )
    return [tuple(r) for r in conn.execute(sql, [since, *values])]


def changes_via_link(conn: sqlite3.Connection, card_id: str, link_id: str) -> list[dict[str, list[Any]]]:
    """The changes the customer made through one link, oldest first."""
    rows = conn.execute("SELECT changes FROM history WHERE card = ? AND device = ? ORDER BY id", (card_id, f"link:{link_id}"))
    return [json.loads(r[0]) for r in rows]


def follow_up_history(conn: sqlite3.Connection, card_id: str) -> list[dict[str, Any]]:
    """`{"at", "before", "after"}` of each change of a card's follow-up items, oldest first."""
    rows = conn.execute(
        "SELECT received_at, json_extract(changes, '$.follow_ups') FROM history "
        "WHERE card = ? AND json_extract(changes, '$.follow_ups') IS NOT NULL ORDER BY id",
        (card_id,),
    )
    found = []
    for at, pair in rows:
        before, after = json.loads(pair)
        found.append({"at": at, "before": before, "after": after})
    return found


def survey_links(conn: sqlite3.Connection) -> list[tuple[str, str | None]]:
    """(card, used_at) of every survey link not withdrawn: the survey response rate's sent and answered."""
    return [tuple(r) for r in conn.execute("SELECT card, used_at FROM links WHERE purpose = 'survey' AND revoked_at IS NULL")]


def stage_facts(conn: sqlite3.Connection) -> dict[str, tuple[str | None, str | None]]:
    """card → (first purchase, last visit or purchase), from the activities, for the lifecycle stages."""
    rows = conn.execute(
        "SELECT card, min(CASE WHEN json_extract(data, '$.kind') = 'purchase' THEN json_extract(data, '$.at') END), "
        "max(json_extract(data, '$.at')) FROM activities "
        "WHERE json_extract(data, '$.kind') IN ('visit', 'purchase') GROUP BY card"
    )
    return {card: (first, last) for card, first, last in rows}


def card_stages(conn: sqlite3.Connection) -> list[tuple[str, str | None, str]]:
    """(card, stage, created_at) of every live card."""
    return [
        tuple(r)
        for r in conn.execute(
            "SELECT id, json_extract(data, '$.stage'), json_extract(data, '$.created_at') FROM cards "
            "WHERE deleted = 0 AND merged_into IS NULL"
        )
    ]


def stage_history(conn: sqlite3.Connection) -> list[tuple[str, str, str | None, str | None]]:
    """(card, received_at, stage before, stage after) of every change of a stage, oldest first."""
    rows = conn.execute(
        "SELECT card, received_at, json_extract(changes, '$.stage[0]'), json_extract(changes, '$.stage[1]') "
        "FROM history WHERE json_extract(changes, '$.stage') IS NOT NULL ORDER BY id"
    )
    return [tuple(r) for r in rows]


def touches_of(conn: sqlite3.Connection, card_id: str) -> list[str]:
    """The times of a card's visits and purchases."""
    sql = "SELECT json_extract(data, '$.at') FROM activities WHERE card = ? AND json_extract(data, '$.kind') IN ('visit', 'purchase')"
    return [r[0] for r in conn.execute(sql, (card_id,))]
