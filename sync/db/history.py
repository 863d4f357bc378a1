"""Every change to a card, with who made it and from which device."""

from __future__ import annotations

import sqlite3
from typing import Any
from sync.jsontext import dumps_utf8, loads_card_text


def insert_history(
    conn: sqlite3.Connection,
    *,
    card: str,
    version: int,
    at: str,
    authored_at: str,
    received_at: str,
    user: str,
    device: str | None,
    mutation: str | None,
    changes: dict[str, list[Any]],
) -> None:
    """The changes go as UTF-8 JSON bytes, stored as text (`CAST`): no Python string of them is made."""
    conn.execute(
        "INSERT INTO history(card, version, at, authored_at, received_at, user, device, mutation, changes) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, CAST(? AS TEXT))",
        (card, version, at, authored_at, received_at, user, device, mutation, dumps_utf8(changes)),
    )


def history_of_card(conn: sqlite3.Connection, card_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        "SELECT version, at, authored_at, received_at, user, device, mutation, changes FROM history WHERE card = ? ORDER BY id",
        (card_id,),
    )
    keys = ("version", "at", "authored_at", "received_at", "user", "device", "mutation")
    found = [{**dict(zip(keys, r[:7])), "changes": loads_card_text(r[7])} for r in rows]
    for entry in found:  # a change a customer made through a link names the link (contract 7)
        if (entry["device"] or "").startswith("link:"):
            entry["via"] = entry["device"].removeprefix("link:")
    return found


def edited_by_other_device_since(conn: sqlite3.Connection, card_id: str, version: int, device: str) -> bool:
    """Whether a device other than `device` changed the card after `version` (delete-vs-edit rule)."""
    return (
        conn.execute(
            "SELECT 1 FROM history WHERE card = ? AND version > ? AND (device IS NULL OR device != ?) LIMIT 1",
            (card_id, version, device),
        ).fetchone()
        is not None
    )


def mutation_ids_in_history(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT DISTINCT mutation FROM history WHERE mutation IS NOT NULL")}
