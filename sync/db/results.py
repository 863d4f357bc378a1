"""Mutation results kept for idempotency: a retried push gets the same answer."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any
from sync.db.many import rows_for_ids
from sync.jsontext import dumps


def stored_result(conn: sqlite3.Connection, mutation_id: str) -> tuple[str, dict[str, Any]] | None:
    row = conn.execute("SELECT user, result FROM mutations WHERE id = ?", (mutation_id,)).fetchone()
    return (row[0], json.loads(row[1])) if row else None


def stored_results(conn: sqlite3.Connection, mutation_ids: Sequence[str]) -> dict[str, tuple[str, dict[str, Any]]]:
    """`stored_result` of many ids, a query per chunk of ids: a push looks its batch up once."""
    rows = rows_for_ids(conn, "SELECT id, user, result FROM mutations WHERE id IN ({})", mutation_ids)
    return {mutation_id: (user, json.loads(result)) for mutation_id, user, result in rows}


def store_result(conn: sqlite3.Connection, mutation_id: str, user: str, device: str, now: str, result: dict[str, Any]) -> None:
    conn.execute(
        "INSERT INTO mutations(id, user, device, received_at, result) VALUES (?, ?, ?, ?, ?)",
        (mutation_id, user, device, now, dumps(result)),
    )


def forget_results_before(conn: sqlite3.Connection, cutoff: str) -> int:
    """Drop idempotency records older than the contract's 90-day promise."""
    return conn.execute("DELETE FROM mutations WHERE received_at < ?", (cutoff,)).rowcount
