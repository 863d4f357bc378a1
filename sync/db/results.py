"""Mutation results kept for idempotency: a retried push gets the same answer."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any
from sync.jsontext import dumps


def stored_result(conn: sqlite3.Connection, mutation_id: str) -> tuple[str, dict[str, Any]] | None:
    row = conn.execute("SELECT user, result FROM mutations WHERE id = ?", (mutation_id,)).fetchone()
    return (row[0], json.loads(row[1])) if row else None


def stored_results(conn: sqlite3.Connection, mutation_ids: Sequence[str]) -> dict[str, tuple[str, dict[str, Any]]]:
    """`stored_result` of many ids, a query per 1,000: a push looks its batch up once."""
    found: dict[str, tuple[str, dict[str, Any]]] = {}
    for start in range(0, len(mutation_ids), 1000):
        chunk = mutation_ids[start : start + 1000]
        marks = ", ".join("?" * len(chunk))
        for row in conn.execute(f"SELECT id, user, result FROM mutations WHERE id IN ({marks})", chunk):
            found[row[0]] = (row[1], json.loads(row[2]))
    return found


def store_result(conn: sqlite3.Connection, mutation_id: str, user: str, device: str, now: str, result: dict[str, Any]) -> None:
    conn.execute(
        "INSERT INTO mutations(id, user, device, received_at, result) VALUES (?, ?, ?, ?, ?)",
        (mutation_id, user, device, now, dumps(result)),
    )


def forget_results_before(conn: sqlite3.Connection, cutoff: str) -> int:
    """Drop idempotency records older than the contract's 90-day promise."""
    return conn.execute("DELETE FROM mutations WHERE received_at < ?", (cutoff,)).rowcount
