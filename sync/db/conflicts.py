"""Conflict records: overwritten concurrent values, kept for a person to decide."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any
from sync.access import OwnerScope
from sync.db.cards import owned


CONFLICT_KEYS = ("id", "card", "field", "status", "kept", "other", "kept_by", "other_by", "kept_at", "other_at", "created_at")


def insert_conflict(conn: sqlite3.Connection, record: dict[str, Any], mutation: str | None) -> None:
    conn.execute(
        "INSERT INTO conflicts(id, card, field, status, kept, other, kept_by, other_by, kept_at, other_at, "
        "created_at, mutation) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            record["id"],
            record["card"],
            record["field"],
            record["status"],
            json.dumps(record["kept"], ensure_ascii=False),
            json.dumps(record["other"], ensure_ascii=False),
            record["kept_by"],
            record["other_by"],
            record["kept_at"],
            record["other_at"],
            record["created_at"],
            mutation,
        ),
    )


def _conflict_from_row(row: Sequence[Any]) -> dict[str, Any]:
    record = dict(zip(CONFLICT_KEYS, row))
    record["kept"] = json.loads(record["kept"])
    record["other"] = json.loads(record["other"])
    return record


def conflict_by_id(conn: sqlite3.Connection, conflict_id: str) -> dict[str, Any] | None:
    row = conn.execute(f"SELECT {', '.join(CONFLICT_KEYS)} FROM conflicts WHERE id = ?", (conflict_id,)).fetchone()
    return _conflict_from_row(row) if row else None


def list_conflicts(conn: sqlite3.Connection, *, status: str | None, owner: OwnerScope, card: str | None) -> list[dict[str, Any]]:
    cols = ", ".join(f"k.{c}" for c in CONFLICT_KEYS)
    sql = f"SELECT {cols} FROM conflicts k JOIN cards c ON c.id = k.card WHERE 1 = 1"
    params: list[Any] = []
    if status:
        sql += " AND k.status = ?"
        params.append(status)
    clause, values = owned(owner, "c.owner")
    sql += clause
    params.extend(values)
    if card:
        sql += " AND k.card = ?"
        params.append(card)
    return [_conflict_from_row(r) for r in conn.execute(sql + " ORDER BY k.created_at, k.id LIMIT 1000", params)]


def resolve_conflict_row(conn: sqlite3.Connection, conflict_id: str, user: str, now: str) -> None:
    conn.execute(
        "UPDATE conflicts SET status = 'resolved', resolved_at = ?, resolved_by = ? WHERE id = ?",
        (now, user, conflict_id),
    )
