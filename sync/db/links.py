"""Customer links: signed, single-purpose, expiring."""

from __future__ import annotations

import sqlite3
from typing import Any


LINK_KEYS = ("id", "card", "purpose", "survey", "expires", "created_by", "created_at", "used_at", "revoked_at", "answer")


def insert_link(conn: sqlite3.Connection, link: dict[str, Any]) -> None:
    conn.execute(
        f"INSERT INTO links({', '.join(LINK_KEYS)}) VALUES ({', '.join('?' for _ in LINK_KEYS)})",
        tuple(link.get(k) for k in LINK_KEYS),
    )


def link_row(conn: sqlite3.Connection, link_id: str) -> dict[str, Any] | None:
    row = conn.execute(f"SELECT {', '.join(LINK_KEYS)} FROM links WHERE id = ?", (link_id,)).fetchone()
    return dict(zip(LINK_KEYS, row)) if row else None


def use_link(conn: sqlite3.Connection, link_id: str, now: str, answer: str) -> None:
    conn.execute(
        "UPDATE links SET used_at = coalesce(used_at, ?), answer = coalesce(answer, ?) WHERE id = ?", (now, answer, link_id)
    )


def revoke_link(conn: sqlite3.Connection, link_id: str, now: str) -> None:
    conn.execute("UPDATE links SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?", (now, link_id))


def forget_link_answers(conn: sqlite3.Connection, card_id: str, now: str) -> None:
    """An erasure: the customer's answers (their choices, their address) go; the links are withdrawn."""
    conn.execute("UPDATE links SET answer = NULL, revoked_at = coalesce(revoked_at, ?) WHERE card = ?", (now, card_id))


def links_of_card(conn: sqlite3.Connection, card_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(f"SELECT {', '.join(LINK_KEYS)} FROM links WHERE card = ? ORDER BY created_at", (card_id,))
    return [dict(zip(LINK_KEYS, r)) for r in rows]
