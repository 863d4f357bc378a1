"""Mutation results kept for idempotency: a retried push gets the same answer."""

from __future__ import annotations

import json
import sqlite3
from typing import Any
from sync.jsontext import dumps


def stored_result(conn: sqlite3.Connection, mutation_id: str) -> tuple[str, dict[str, Any]] | None:
    row = conn.execute("SELECT user, result FROM mutations WHERE id = ?", (mutation_id,)).fetchone()
    return (row[0], json.loads(row[1])) if row else None


def store_result(conn: sqlite3.Connection, mutation_id: str, user: str, device: str, now: str, result: dict[str, Any]) -> None:
    conn.execute(
        "INSERT INTO mutations(id, user, device, received_at, result) VALUES (?, ?, ?, ?, ?)",
        (mutation_id, user, device, now, dumps(result)),
    )


def forget_results_before(conn: sqlite3.Connection, cutoff: str) -> int:
    """Drop idempotency records older than the contract's 90-day promise."""
    return conn.execute("DELETE FROM mutations WHERE received_at < ?", (cutoff,)).rowcount
