"""The shared pool (公海): pool rounds, claims, colleague checks, reclaim candidates."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any
from sync.access import OwnerScope
from sync.jsontext import dumps
from sync.db.cards import owned
from sync.db.many import rows_for_ids


# A card without an owner is in the pool; the `owner` column holds '' for it (the card's JSON, null).
# `pool_entries` names the round a pool card is in (the stamp it entered the pool at): a claim of
# that round may still be beaten by an earlier one. Assigning the card by hand ends the round.


def pool_since(conn: sqlite3.Connection, card_id: str) -> str | None:
    row = conn.execute("SELECT since FROM pool_entries WHERE card = ?", (card_id,)).fetchone()
    return row[0] if row else None


def set_pool_since(conn: sqlite3.Connection, card_id: str, since: str) -> None:
    conn.execute(
        "INSERT INTO pool_entries(card, since) VALUES (?, ?) ON CONFLICT(card) DO UPDATE SET since = excluded.since",
        (card_id, since),
    )


def end_pool_round(conn: sqlite3.Connection, card_id: str) -> None:
    conn.execute("DELETE FROM pool_entries WHERE card = ?", (card_id,))


def insert_claim(conn: sqlite3.Connection, claim: dict[str, Any]) -> None:
    conn.execute(
        "INSERT INTO claims(mutation, card, user, device, at, since, received_at, status, version) "
        "VALUES (:mutation, :card, :user, :device, :at, :since, :received_at, :status, :version)",
        claim,
    )


def winning_claim(conn: sqlite3.Connection, card_id: str, since: str) -> dict[str, Any] | None:
    row = conn.execute(
        "SELECT mutation, user, at, version FROM claims WHERE card = ? AND since = ? AND status = 'won'", (card_id, since)
    ).fetchone()
    return None if row is None else dict(zip(("mutation", "user", "at", "version"), row))


def set_claim_status(conn: sqlite3.Connection, mutation_id: str, status: str) -> None:
    conn.execute("UPDATE claims SET status = ? WHERE mutation = ?", (status, mutation_id))


def claims_won_since(conn: sqlite3.Connection, user: str, since: str) -> int:
    """Claims this user made that took a card, received at or after `since` (the per-day limit)."""
    return conn.execute(
        "SELECT count(*) FROM claims WHERE user = ? AND received_at >= ? AND status IN ('won', 'displaced')", (user, since)
    ).fetchone()[0]


def lost_claim(conn: sqlite3.Connection, card_id: str, user: str) -> bool:
    """Whether this user claimed the card and a colleague's earlier claim took it: their offline
    edits and activities on it are kept for the winner, as for a card reassigned away."""
    return (
        conn.execute(
            "SELECT 1 FROM claims WHERE card = ? AND user = ? AND status IN ('lost', 'displaced') LIMIT 1", (card_id, user)
        ).fetchone()
        is not None
    )


def cards_held(conn: sqlite3.Connection, user: str) -> int:
    return conn.execute("SELECT count(*) FROM cards WHERE owner = ? AND deleted = 0", (user,)).fetchone()[0]


def card_history_after(conn: sqlite3.Connection, card_id: str, version: int) -> list[tuple[int, str, dict[str, Any]]]:
    """(version, user, changes) of the card's history after `version`, oldest first."""
    rows = conn.execute(
        "SELECT version, user, changes FROM history WHERE card = ? AND version > ? ORDER BY id", (card_id, version)
    )
    return [(v, u, json.loads(c)) for v, u, c in rows]


def replace_result(conn: sqlite3.Connection, mutation_id: str, result: dict[str, Any]) -> None:
    """A claim beaten later by an earlier one: a retry of it must learn that it lost."""
    conn.execute("UPDATE mutations SET result = ? WHERE id = ?", (dumps(result), mutation_id))


def owners_sharing_keys(conn: sqlite3.Connection, card_id: str, keys: Sequence[str]) -> list[tuple[str, str]]:
    """(card, owner) of other live cards holding one of these keys; owner '' is the pool."""
    if not keys:
        return []
    marks = ",".join("?" * len(keys))
    return conn.execute(
        f"SELECT DISTINCT c.id, c.owner FROM card_keys k JOIN cards c ON c.id = k.card "
        f"WHERE k.key IN ({marks}) AND k.card != ? AND c.deleted = 0 AND c.erased = 0 ORDER BY c.id LIMIT 50",
        [*keys, card_id],
    ).fetchall()


def owners_of(conn: sqlite3.Connection, card_ids: Sequence[str]) -> dict[str, str | None]:
    """card -> owner (None: the pool)."""
    return {card: owner or None for card, owner in rows_for_ids(conn, "SELECT id, owner FROM cards WHERE id IN ({})", card_ids)}


def record_colleague_hit(conn: sqlite3.Connection, card_id: str, code: str, user: str, now: str) -> None:
    conn.execute("INSERT OR IGNORE INTO colleague_hits(card, code, user, at) VALUES (?, ?, ?, ?)", (card_id, code, user, now))


def colleague_hits_since(conn: sqlite3.Connection, user: str, since: str) -> int:
    return conn.execute("SELECT count(*) FROM colleague_hits WHERE user = ? AND at >= ?", (user, since)).fetchone()[0]


def colleague_hit_cards(conn: sqlite3.Connection) -> dict[str, str]:
    """Cards that collided with a colleague's or a pool card when synced: card -> code."""
    return dict(conn.execute("SELECT card, code FROM colleague_hits"))


def keys_for_buckets(conn: sqlite3.Connection) -> list[tuple[str, bool]]:
    """Every live card's duplicate keys, with whether the card is in the pool."""
    return [
        (k, owner == "")
        for k, owner in conn.execute(
            "SELECT k.key, c.owner FROM card_keys k JOIN cards c ON c.id = k.card WHERE c.deleted = 0 AND c.erased = 0"
        )
    ]


def cards_to_reclaim(
    conn: sqlite3.Connection, owner: OwnerScope = None
) -> list[tuple[str, str, str | None, str, str | None, str | None, str]]:
    """(id, owner, segment, created_at, when the owner was set, last activity, name) of every owned
    live card, only `owner`'s when given."""
    clause, values = owned(owner, "c.owner")
    return conn.execute(
        "SELECT c.id, c.owner, json_extract(c.data, '$.segment'), c.created_at, json_extract(c.clocks, '$.owner[0]'), "
        "(SELECT max(json_extract(a.data, '$.at')) FROM activities a WHERE a.card = c.id), json_extract(c.data, '$.name') "
        f"FROM cards c WHERE c.owner != '' AND c.deleted = 0 AND c.erased = 0 AND c.merged_into IS NULL{clause} "
        "ORDER BY c.id",
        values,
    ).fetchall()
