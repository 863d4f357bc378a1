"""Attachments and the bytes of their blobs, uploaded in chunks."""

from __future__ import annotations

import sqlite3
from typing import Any


ATTACHMENT_KEYS = ("id", "card", "activity", "name", "type", "size", "sha256", "by", "created_at", "uploaded")


# The contract's attachment object, built by SQLite for the pull (uploaded as true/false).
ATTACHMENT_JSON = (
    "json_object('id', a.id, 'card', a.card, 'activity', a.activity, 'name', a.name, 'type', a.type, "
    "'size', a.size, 'sha256', a.sha256, 'by', a.by, 'created_at', a.created_at, "
    "'uploaded', json(CASE WHEN a.uploaded THEN 'true' ELSE 'false' END))"
)


def insert_attachment(conn: sqlite3.Connection, attachment: dict[str, Any], seq: int) -> None:
    conn.execute(
        f"INSERT INTO attachments({', '.join(ATTACHMENT_KEYS)}, seq) VALUES ({', '.join('?' for _ in ATTACHMENT_KEYS)}, ?)",
        (*(attachment.get(k) for k in ATTACHMENT_KEYS), seq),
    )


def attachment_row(conn: sqlite3.Connection, attachment_id: str) -> dict[str, Any] | None:
    row = conn.execute(f"SELECT {', '.join(ATTACHMENT_KEYS)} FROM attachments WHERE id = ?", (attachment_id,)).fetchone()
    return dict(zip(ATTACHMENT_KEYS, row)) if row else None


def attachments_of_card(conn: sqlite3.Connection, card_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(f"SELECT {', '.join(ATTACHMENT_KEYS)} FROM attachments WHERE card = ? ORDER BY seq", (card_id,))
    return [dict(zip(ATTACHMENT_KEYS, r)) for r in rows]


def attachment_ids_of_card(conn: sqlite3.Connection, card_id: str) -> list[str]:
    return [r[0] for r in conn.execute("SELECT id FROM attachments WHERE card = ? ORDER BY seq", (card_id,))]


def move_attachment(conn: sqlite3.Connection, attachment_id: str, card_id: str, seq: int) -> None:
    conn.execute("UPDATE attachments SET card = ?, seq = ? WHERE id = ?", (card_id, seq, attachment_id))


def bytes_declared_by(conn: sqlite3.Connection, user: str) -> int:
    return int(conn.execute("SELECT coalesce(sum(size), 0) FROM attachments WHERE by = ?", (user,)).fetchone()[0])


def blob_complete(conn: sqlite3.Connection, sha256: str) -> bool:
    return conn.execute("SELECT 1 FROM blobs WHERE sha256 = ?", (sha256,)).fetchone() is not None


def blob_received(conn: sqlite3.Connection, sha256: str) -> int:
    row = conn.execute("SELECT coalesce(sum(length(data)), 0) FROM blob_chunks WHERE sha256 = ?", (sha256,)).fetchone()
    return int(row[0])


def append_blob_chunk(conn: sqlite3.Connection, sha256: str, offset: int, data: bytes) -> None:
    conn.execute('INSERT INTO blob_chunks(sha256, "offset", data) VALUES (?, ?, ?)', (sha256, offset, data))


def blob_bytes(conn: sqlite3.Connection, sha256: str) -> bytes:
    done = conn.execute("SELECT data FROM blobs WHERE sha256 = ?", (sha256,)).fetchone()
    if done:
        return bytes(done[0])
    return b"".join(
        bytes(r[0]) for r in conn.execute('SELECT data FROM blob_chunks WHERE sha256 = ? ORDER BY "offset"', (sha256,))
    )


def drop_blob_chunks(conn: sqlite3.Connection, sha256: str) -> None:
    conn.execute("DELETE FROM blob_chunks WHERE sha256 = ?", (sha256,))


def complete_blob(conn: sqlite3.Connection, sha256: str, data: bytes) -> None:
    conn.execute("INSERT OR REPLACE INTO blobs(sha256, size, data) VALUES (?, ?, ?)", (sha256, len(data), data))
    drop_blob_chunks(conn, sha256)


def waiting_for_bytes(conn: sqlite3.Connection, sha256: str) -> list[str]:
    return [r[0] for r in conn.execute("SELECT id FROM attachments WHERE sha256 = ? AND uploaded = 0 ORDER BY seq", (sha256,))]


def mark_uploaded(conn: sqlite3.Connection, attachment_id: str, seq: int) -> None:
    conn.execute("UPDATE attachments SET uploaded = 1, seq = ? WHERE id = ?", (seq, attachment_id))


def forget_orphan_blobs(conn: sqlite3.Connection) -> None:
    conn.execute("DELETE FROM blobs WHERE sha256 NOT IN (SELECT sha256 FROM attachments)")
    conn.execute("DELETE FROM blob_chunks WHERE sha256 NOT IN (SELECT sha256 FROM attachments)")
