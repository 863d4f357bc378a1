"""What rep scorecards count."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any

from sync.db.many import rows_for_ids


def rep_names(conn: sqlite3.Connection) -> list[str]:
    """Every rep who is not disabled, by name."""
    return [r[0] for r in conn.execute("SELECT name FROM users WHERE role = 'rep' AND disabled = 0 ORDER BY name")]


def activities_by(conn: sqlite3.Connection, users: Sequence[str], first: str, last: str) -> list[dict[str, Any]]:
    """The activities these users logged on days first..last (by the activity's own time)."""
    marks = ",".join("?" * len(users))
    rows = conn.execute(
        f"SELECT data FROM activities WHERE json_extract(data, '$.by') IN ({marks}) "
        "AND substr(json_extract(data, '$.at'), 1, 10) BETWEEN ? AND ?",
        [*users, first, last],
    )
    return [json.loads(r[0]) for r in rows]


def cards_created_by(conn: sqlite3.Connection, users: Sequence[str], first: str, last: str) -> dict[str, int]:
    """How many cards each of these users created on days first..last."""
    marks = ",".join("?" * len(users))
    rows = conn.execute(
        f"SELECT user, count(*) FROM history WHERE version = 1 AND user IN ({marks}) "
        "AND substr(received_at, 1, 10) BETWEEN ? AND ? GROUP BY user",
        [*users, first, last],
    )
    return {user: count for user, count in rows}


def ratings_on_cards(conn: sqlite3.Connection, cards: Sequence[str], first: str, last: str) -> list[tuple[str, int]]:
    """(card, rating) of the feedback on these cards on days first..last."""
    select = (
        "SELECT card, json_extract(data, '$.rating') FROM activities WHERE card IN ({}) "
        "AND json_extract(data, '$.kind') = 'feedback' AND json_extract(data, '$.rating') IS NOT NULL "
        "AND substr(json_extract(data, '$.at'), 1, 10) BETWEEN ? AND ?"
    )
    return [tuple(r) for r in rows_for_ids(conn, select, cards, first, last)]
