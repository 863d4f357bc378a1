"""The audit log's rows (sync/audit.py chains them)."""

from __future__ import annotations

import sqlite3
from typing import Any


AUDIT_KEYS = ("id", "at", "actor", "action", "target", "detail", "prev_hash", "hash")


def last_audit(conn: sqlite3.Connection) -> tuple[int, str] | None:
    row = conn.execute("SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()
    return (row[0], row[1]) if row else None


def insert_audit(conn: sqlite3.Connection, entry: dict[str, Any]) -> None:
    conn.execute(
        "INSERT INTO audit(id, at, actor, action, target, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        tuple(entry[k] for k in AUDIT_KEYS),
    )


def audit_entries(conn: sqlite3.Connection, after: int = 0, limit: int = 1000) -> list[dict[str, Any]]:
    rows = conn.execute(f"SELECT {', '.join(AUDIT_KEYS)} FROM audit WHERE id > ? ORDER BY id LIMIT ?", (after, limit))
    return [dict(zip(AUDIT_KEYS, r)) for r in rows]
