"""The server's own work, journaled so that a restore does not lose it."""

from __future__ import annotations

import sqlite3
from typing import Any


JOURNAL_KEYS = ("id", "at", "user", "role", "kind", "ref", "payload", "excluded_at", "excluded_by")


def insert_journal(
    conn: sqlite3.Connection, at: str, user: str, role: str, kind: str, ref: str | None, payload: str | bytes | memoryview
) -> int:
    """`payload` may be UTF-8 bytes: stored as the same text (SQLite reads a BLOB cast to TEXT in
    the database's encoding, UTF-8), without a Python string of it."""
    cur = conn.execute(
        "INSERT INTO journal(at, user, role, kind, ref, payload) VALUES (?, ?, ?, ?, ?, CAST(? AS TEXT))",
        (at, user, role, kind, ref, payload),
    )
    return int(cur.lastrowid or 0)


def last_journal_id(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT coalesce(max(id), 0) FROM journal").fetchone()[0])


def journal_after(conn: sqlite3.Connection, after: int) -> list[dict[str, Any]]:
    """Journal entries newer than `after`, oldest first, payload still as JSON text."""
    rows = conn.execute(f"SELECT {', '.join(JOURNAL_KEYS)} FROM journal WHERE id > ? ORDER BY id", (after,))
    return [dict(zip(JOURNAL_KEYS, row)) for row in rows]


def insert_journal_entry(conn: sqlite3.Connection, entry: dict[str, Any]) -> None:
    """An entry copied as it is, id included (a restore carries the live journal forward)."""
    conn.execute(
        f"INSERT INTO journal({', '.join(JOURNAL_KEYS)}) VALUES ({', '.join('?' for _ in JOURNAL_KEYS)})",
        tuple(entry[k] for k in JOURNAL_KEYS),
    )


def exclude_journal_entry(conn: sqlite3.Connection, entry_id: int, at: str, by: str) -> None:
    conn.execute("UPDATE journal SET excluded_at = ?, excluded_by = ? WHERE id = ?", (at, by, entry_id))


def forget_journal_before(conn: sqlite3.Connection, cutoff: str) -> int:
    return conn.execute("DELETE FROM journal WHERE at < ?", (cutoff,)).rowcount


def has_journal(conn: sqlite3.Connection) -> bool:
    """A replica from before migration 6 has no journal table (it is made when the file goes live)."""
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'journal'").fetchone() is not None
