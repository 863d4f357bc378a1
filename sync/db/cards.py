"""Cards: the current row of each card, its search and duplicate keys, and who may see it."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any
from sync.access import OwnerScope
from sync.jsontext import dumps_utf8, loads_card_text
from sync.db.many import rows_for_ids
from sync.db.rows import CardRow


def cards_changed_after(conn: sqlite3.Connection, seq: int) -> list[tuple[str, str]]:
    """(id, JSON) of every card written after stream position `seq`, deleted ones included."""
    return [(r[0], r[1]) for r in conn.execute("SELECT id, data FROM cards WHERE seq > ?", (seq,))]


def live_card_ids_of(conn: sqlite3.Connection, owner: str) -> list[str]:
    return [r[0] for r in conn.execute("SELECT id FROM cards WHERE owner = ? AND deleted = 0 ORDER BY seq", (owner,))]


def move_card_to_seq(conn: sqlite3.Connection, card_id: str, seq: int) -> None:
    conn.execute("UPDATE cards SET seq = ? WHERE id = ?", (seq, card_id))


# Fields added after 1.0 (contract 7), with the value a card written before them has.
LATER_FIELDS: dict[str, Any] = {"location": None, "stage": None, "follow_ups": [], "consent": None}


def card_row(conn: sqlite3.Connection, card_id: str) -> CardRow | None:
    row = conn.execute("SELECT data, clocks, seq, merged_into FROM cards WHERE id = ?", (card_id,)).fetchone()
    if row is None:
        return None
    card = loads_card_text(row[0])
    if not card.get("erased"):
        for name, empty in LATER_FIELDS.items():
            card.setdefault(name, list(empty) if isinstance(empty, list) else empty)
    return CardRow(card, loads_card_text(row[1] or "{}"), row[2], row[3])


_SAVE_CARD = (
    "INSERT INTO cards(id, owner, deleted, version, seq, created_at, updated_at, merged_into, "
    "clocks, search, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, CAST(? AS TEXT), ?, CAST(? AS TEXT)) "
    "ON CONFLICT(id) DO UPDATE SET "
    "owner = excluded.owner, deleted = excluded.deleted, version = excluded.version, "
    "seq = excluded.seq, updated_at = excluded.updated_at, merged_into = excluded.merged_into, "
    "clocks = excluded.clocks, search = excluded.search, data = excluded.data"
)


def save_card(conn: sqlite3.Connection, row: CardRow, search: str) -> None:
    """Insert or replace the stored card; `row.seq` must already be the new stream position."""
    conn.execute(_SAVE_CARD, _card_values(row, search))


def _card_values(row: CardRow, search: str) -> tuple[Any, ...]:
    """The JSON as UTF-8 bytes, stored as text (`CAST`): no Python string of it is made."""
    card = row.card
    return (
        card["id"],
        card["owner"] or "",
        int(card["deleted"]),
        card["version"],
        row.seq,
        card["created_at"],
        card["updated_at"],
        row.merged_into,
        dumps_utf8(row.clocks),
        search,
        dumps_utf8(card),
    )


def replace_card_keys(conn: sqlite3.Connection, card_id: str, keys: Sequence[str]) -> None:
    conn.execute("DELETE FROM card_keys WHERE card = ?", (card_id,))
    add_card_keys(conn, card_id, keys)


def add_card_keys(conn: sqlite3.Connection, card_id: str, keys: Sequence[str]) -> None:
    """The keys of a card that has none stored yet (a new card), in one statement: a card has a
    few, and `executemany` cost ~2 µs more per card (at most 21 keys: a statement for each count)."""
    if keys:
        values = ", ".join(["(?, ?)"] * len(keys))
        conn.execute(f"INSERT OR IGNORE INTO card_keys(key, card) VALUES {values}", [v for k in keys for v in (k, card_id)])


def owned(owner: OwnerScope, column: str) -> tuple[str, list[Any]]:
    """` AND <column> = ?` for one owner, `IN (…)` for a manager's team, nothing for everyone."""
    if owner is None:
        return "", []
    if isinstance(owner, str):
        return f" AND {column} = ?", [owner]
    return f" AND {column} IN ({','.join('?' * len(owner))})", list(owner)


def shares_a_key(conn: sqlite3.Connection, card_id: str, keys: Sequence[str]) -> bool:
    """Whether another card holds one of these keys: a look at the key index alone. Most cards share
    no key with any other (a new card of a push asks this), so the joins below mostly never run."""
    if not keys:
        return False
    marks = ",".join("?" * len(keys))
    return (
        conn.execute(f"SELECT 1 FROM card_keys WHERE key IN ({marks}) AND card != ? LIMIT 1", [*keys, card_id]).fetchone()
        is not None
    )


def cards_sharing_keys(conn: sqlite3.Connection, card_id: str, keys: Sequence[str], owner: OwnerScope) -> list[str]:
    """Other live cards with one of these phone/email keys, restricted to `owner` when given."""
    if not keys:
        return []
    marks = ",".join("?" * len(keys))
    sql = (
        f"SELECT DISTINCT k.card FROM card_keys k JOIN cards c ON c.id = k.card "
        f"WHERE k.key IN ({marks}) AND k.card != ? AND c.deleted = 0"
    )
    params: list[Any] = [*keys, card_id]
    clause, values = owned(owner, "c.owner")
    return [r[0] for r in conn.execute(sql + clause + " ORDER BY k.card LIMIT 20", params + values)]


def live_cards(conn: sqlite3.Connection, owner: OwnerScope) -> list[dict[str, Any]]:
    """Every card that is not deleted, only `owner`'s when given, as the contract's JSON."""
    clause, values = owned(owner or None, "owner")
    return [loads_card_text(r[0]) for r in conn.execute("SELECT data FROM cards WHERE deleted = 0" + clause, values)]


def live_activities(conn: sqlite3.Connection, owner: OwnerScope) -> list[dict[str, Any]]:
    """The activities of those cards."""
    clause, values = owned(owner or None, "c.owner")
    sql = "SELECT a.data FROM activities a JOIN cards c ON c.id = a.card WHERE c.deleted = 0" + clause
    return [loads_card_text(r[0]) for r in conn.execute(sql, values)]


def card_json(conn: sqlite3.Connection, card_id: str) -> dict[str, Any] | None:
    row = conn.execute("SELECT data FROM cards WHERE id = ?", (card_id,)).fetchone()
    return loads_card_text(row[0]) if row else None


def cards_json(conn: sqlite3.Connection, card_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """`card_json` of many cards, a query per chunk of ids."""
    return {r[0]: loads_card_text(r[1]) for r in rows_for_ids(conn, "SELECT id, data FROM cards WHERE id IN ({})", card_ids)}


def _contains(q: str) -> str:
    """A LIKE pattern (with ESCAPE '\\') matching text that contains `q`, lowercased."""
    escaped = q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def list_cards(
    conn: sqlite3.Connection,
    *,
    owner: OwnerScope,
    q: str | None,
    segment: str | None,
    tag: str | None,
    region: str | None,
    due_before: str | None,
    include_deleted: bool,
    after: str | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Cards matching the filters, in id order from `after` (keyset pagination)."""
    where, params = ["erased = 0"], []
    if not include_deleted:
        where.append("deleted = 0")
    if owner is not None:
        clause, values = owned(owner, "owner")
        where.append(clause.removeprefix(" AND "))
        params.extend(values)
    if q:
        where.append("search LIKE ? ESCAPE '\\'")
        params.append(_contains(q))
    if segment == "none":  # cards with no segment yet
        where.append("json_extract(data, '$.segment') IS NULL")
    elif segment:
        where.append("json_extract(data, '$.segment') = ?")
        params.append(segment)
    for value, clause in (
        (region, "json_extract(data, '$.region') = ?"),
        (tag, "EXISTS (SELECT 1 FROM json_each(cards.data, '$.tags') WHERE value = ?)"),
        (due_before, "json_extract(data, '$.follow_up') <= ?"),
        (after, "id > ?"),
    ):
        if value:
            where.append(clause)
            params.append(value)
    sql = f"SELECT data FROM cards WHERE {' AND '.join(where)} ORDER BY id LIMIT ?"
    return [loads_card_text(r[0]) for r in conn.execute(sql, [*params, limit])]


def mark_exit(conn: sqlite3.Connection, seq: int, card_id: str, user: str, reason: str, into: str | None) -> None:
    conn.execute(
        "INSERT INTO exits(seq, card, user, reason, into_card) VALUES (?, ?, ?, ?, ?)",
        (seq, card_id, user, reason, into),
    )


def managers_of(conn: sqlite3.Connection, owner: str | None) -> set[str]:
    """The managers who see `owner`'s cards (through the teams `owner` is a member of)."""
    if not owner:
        return set()
    rows = conn.execute(
        "SELECT DISTINCT boss.user FROM team_members m JOIN team_members boss ON boss.team = m.team "
        "WHERE m.user = ? AND m.manages = 0 AND boss.manages = 1",
        (owner,),
    )
    return {r[0] for r in rows}


def card_left_user(conn: sqlite3.Connection, card_id: str, user: str) -> bool:
    """Whether this card was once the user's and was reassigned away (their edits become conflicts)."""
    return (
        conn.execute("SELECT 1 FROM exits WHERE card = ? AND user = ? AND reason = 'revoked' LIMIT 1", (card_id, user)).fetchone()
        is not None
    )
