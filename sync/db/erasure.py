"""Erasure under the customer's personal-information rights: what is forgotten, and where."""

from __future__ import annotations

import json
import sqlite3
from typing import Any
from sync.db.attachments import forget_orphan_blobs
from sync.db.audit import AUDIT_KEYS


def cards_merged_into(conn: sqlite3.Connection, card_id: str) -> list[str]:
    return [r[0] for r in conn.execute("SELECT id FROM cards WHERE merged_into = ?", (card_id,))]


def _forget_import_problems(conn: sqlite3.Connection, card_id: str) -> None:
    """An erased customer's row leaves the problems kept with imports (sync/office/importer.py problem_rows)."""
    found = conn.execute("SELECT id, problems FROM imports WHERE instr(problems, ?) > 0", (card_id,)).fetchall()
    for import_id, text in found:
        record = json.loads(text)
        gone = {row[0] for row in record["rows"] if len(row) > 2 and row[2] == card_id}
        record["rows"] = [row for row in record["rows"] if row[0] not in gone]
        record["problems"] = [p for p in record["problems"] if p["row"] not in gone]
        conn.execute("UPDATE imports SET problems = ? WHERE id = ?", (json.dumps(record, ensure_ascii=False), import_id))


def erase_card(conn: sqlite3.Connection, card_id: str, owner: str, version: int, seq: int, now: str) -> None:
    """Purge one card: its history, activities, conflicts, duplicate keys, search text, import rows,
    merge snapshots and stored mutation results. The row stays as a tombstone with no personal data
    at a new stream position, so devices are told it left (`erased`)."""
    for sql in (
        "DELETE FROM history WHERE card = ?",
        "DELETE FROM activities WHERE card = ?",
        "DELETE FROM conflicts WHERE card = ?",
        "DELETE FROM card_keys WHERE card = ?",
        "DELETE FROM import_rows WHERE card = ?",
        "DELETE FROM attachments WHERE card = ?",
    ):
        conn.execute(sql, (card_id,))
    forget_orphan_blobs(conn)
    _forget_import_problems(conn, card_id)
    conn.execute(
        'DELETE FROM merges WHERE "into" = ? OR instr("from", ?) > 0 OR instr(snapshot, ?) > 0', (card_id, card_id, card_id)
    )
    gone = json.dumps(
        {
            "id": "",
            "status": "rejected",
            "code": "not_found",
            "errors": [{"path": "card", "message": "this customer's data was erased"}],
        }
    )
    conn.execute(
        "UPDATE mutations SET result = json_set(?, '$.id', json_extract(result, '$.id')) WHERE instr(result, ?) > 0",
        (gone, card_id),
    )
    tombstone = {"id": card_id, "owner": owner, "deleted": True, "erased": True, "version": version, "updated_at": now}
    conn.execute(
        "UPDATE cards SET data = ?, clocks = '{}', search = '', deleted = 1, erased = 1, merged_into = NULL, "
        "version = ?, seq = ?, updated_at = ? WHERE id = ?",
        (json.dumps(tombstone), version, seq, now, card_id),
    )


def deleted_cards_before(conn: sqlite3.Connection, cutoff: str) -> list[tuple[str, str, int]]:
    """(id, owner, version) of cards a person deleted before `cutoff` (not merged, not erased)."""
    return [
        (r[0], r[1], r[2])
        for r in conn.execute(
            "SELECT id, owner, version FROM cards WHERE deleted = 1 AND erased = 0 AND merged_into IS NULL "
            "AND updated_at < ? ORDER BY updated_at",
            (cutoff,),
        )
    ]


def journal_mentioning(conn: sqlite3.Connection, card_id: str) -> list[tuple[int, str]]:
    return [(r[0], r[1]) for r in conn.execute("SELECT id, payload FROM journal WHERE instr(payload, ?) > 0", (card_id,))]


def replace_journal_payload(conn: sqlite3.Connection, entry_id: int, payload: str) -> None:
    conn.execute("UPDATE journal SET payload = ? WHERE id = ?", (payload, entry_id))


def import_rows_of_card(conn: sqlite3.Connection, card_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        'SELECT r."import", i.filename, i.created_at, r.row, r.action, r.after FROM import_rows r '
        'JOIN imports i ON i.id = r."import" WHERE r.card = ? ORDER BY i.created_at',
        (card_id,),
    )
    return [
        {"import": r[0], "file": r[1], "at": r[2], "row": r[3], "action": r[4], "values": json.loads(r[5] or "{}")} for r in rows
    ]


def audit_about(conn: sqlite3.Connection, target: str) -> list[dict[str, Any]]:
    rows = conn.execute(f"SELECT {', '.join(AUDIT_KEYS)} FROM audit WHERE target = ? ORDER BY id", (target,))
    return [dict(zip(AUDIT_KEYS, r)) for r in rows]
