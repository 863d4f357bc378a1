"""Activities (visits, calls, notes) on cards."""

from __future__ import annotations

import json
import sqlite3
from typing import Any
from sync.jsontext import dumps


def activity_exists(conn: sqlite3.Connection, activity_id: str) -> bool:
    return conn.execute("SELECT 1 FROM activities WHERE id = ?", (activity_id,)).fetchone() is not None


def activity_author(conn: sqlite3.Connection, activity_id: str) -> str | None:
    """Who logged the activity with this id, or None when there is none."""
    row = conn.execute("SELECT json_extract(data, '$.by') FROM activities WHERE id = ?", (activity_id,)).fetchone()
    return None if row is None else str(row[0] or "")


def insert_activity(conn: sqlite3.Connection, activity: dict[str, Any], seq: int) -> None:
    conn.execute(
        "INSERT INTO activities(id, card, seq, data) VALUES (?, ?, ?, ?)",
        (activity["id"], activity["card"], seq, dumps(activity)),
    )


def activity_ids_of_card(conn: sqlite3.Connection, card_id: str) -> list[str]:
    return [r[0] for r in conn.execute("SELECT id FROM activities WHERE card = ? ORDER BY seq", (card_id,))]


def move_activity_to_seq(conn: sqlite3.Connection, activity_id: str, seq: int) -> None:
    conn.execute("UPDATE activities SET seq = ? WHERE id = ?", (seq, activity_id))


def activities_of_card(conn: sqlite3.Connection, card_id: str) -> list[dict[str, Any]]:
    rows = conn.execute("SELECT data FROM activities WHERE card = ? ORDER BY json_extract(data, '$.at'), seq", (card_id,))
    return [json.loads(r[0]) for r in rows]
