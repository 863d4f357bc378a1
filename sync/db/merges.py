"""Merges of duplicate cards, kept with a snapshot of what each card was, so a merge can be undone;
and the duplicate candidates read from the card keys."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from typing import Any


def shared_card_keys(conn: sqlite3.Connection) -> Iterator[tuple[str, str]]:
    """(key, space-separated card ids) for every duplicate key more than one live card holds."""
    yield from conn.execute(
        "SELECT k.key, group_concat(k.card, ' ') FROM card_keys k JOIN cards c ON c.id = k.card "
        "WHERE c.deleted = 0 GROUP BY k.key HAVING count(*) > 1"
    )


def live_names_and_companies(conn: sqlite3.Connection) -> Iterator[tuple[str, str, str | None]]:
    """(id, name, company) of every live card: a card always has a name."""
    yield from conn.execute(
        "SELECT id, json_extract(data, '$.name'), json_extract(data, '$.company') FROM cards WHERE deleted = 0"
    )


def insert_merge(
    conn: sqlite3.Connection,
    merge_id: str,
    into: str,
    from_ids: Sequence[str],
    snapshot: dict[str, Any],
    result: dict[str, Any],
    by: str,
    at: str,
) -> None:
    conn.execute(
        'INSERT INTO merges(id, "into", "from", snapshot, result, by, at) VALUES (?, ?, ?, ?, ?, ?, ?)',
        (
            merge_id,
            into,
            json.dumps(list(from_ids)),
            json.dumps(snapshot, ensure_ascii=False),
            json.dumps(result, ensure_ascii=False),
            by,
            at,
        ),
    )


def move_activity_to_card(conn: sqlite3.Connection, activity_id: str, card_id: str, seq: int) -> None:
    conn.execute(
        "UPDATE activities SET card = ?, data = json_set(data, '$.card', ?), seq = ? WHERE id = ?",
        (card_id, card_id, seq, activity_id),
    )


def merge_record(conn: sqlite3.Connection, merge_id: str) -> tuple[str, str, str, str, str | None] | None:
    """(into, from JSON, snapshot JSON, result JSON, undone_at) of one merge."""
    return conn.execute('SELECT "into", "from", snapshot, result, undone_at FROM merges WHERE id = ?', (merge_id,)).fetchone()


def mark_merge_undone(conn: sqlite3.Connection, merge_id: str, at: str, by: str) -> None:
    conn.execute("UPDATE merges SET undone_at = ?, undone_by = ? WHERE id = ?", (at, by, merge_id))
