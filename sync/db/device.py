"""The reference device's own SQLite file (sync/protocol/client.py): its cards, activities, journal
of mutations, attachment bytes, pool view and small named values.

This is the phone's store, not the server's: callers write `from sync.db import device as local`
and `local.mutations(conn, "pending")`; the names stay in this module, not in `sync.db`. The
connection is in autocommit mode: every statement here is its own transaction, as the client has
always written its file.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS cards (id TEXT PRIMARY KEY, server TEXT, view TEXT);
CREATE TABLE IF NOT EXISTS activities (id TEXT PRIMARY KEY, card TEXT, data TEXT);
CREATE INDEX IF NOT EXISTS activities_card ON activities(card);
-- state: pending (in the outbox), acked (answered), rejected (kept to fix), discarded
CREATE TABLE IF NOT EXISTS journal (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE, card TEXT, body TEXT, state TEXT,
  result TEXT, created_ms INTEGER
);
CREATE INDEX IF NOT EXISTS journal_state ON journal(state, seq);
-- the bytes of attachments this device added, kept until the server holds them (and after: a
-- restore may need them again)
CREATE TABLE IF NOT EXISTS files (id TEXT PRIMARY KEY, card TEXT, sha256 TEXT, data BLOB, uploaded INTEGER DEFAULT 0);
-- the pool view (cards nobody owns, with the fields an admin allows), replaced by the client's `refresh_pool`
CREATE TABLE IF NOT EXISTS pool (id TEXT PRIMARY KEY, data TEXT);
"""


def _text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def open_store(path: Path | str) -> sqlite3.Connection:
    """The device's file at `path`, its tables created if new; autocommit, as the client expects."""
    conn = sqlite3.connect(str(path), isolation_level=None)
    conn.executescript(SCHEMA)
    return conn


# --- meta: the device id, epoch, cursor, last stamp, the duplicate check's lists ---------------


def meta_value(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return row[0] if row else None


def set_meta(conn: sqlite3.Connection, key: str, value: str | None) -> None:
    conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))


# --- cards: the last server copy and the view (server copy + pending edits) --------------------


def card_view(conn: sqlite3.Connection, card_id: str) -> dict[str, Any] | None:
    row = conn.execute("SELECT view FROM cards WHERE id = ?", (card_id,)).fetchone()
    return json.loads(row[0]) if row and row[0] else None


def card_views(conn: sqlite3.Connection) -> dict[str, dict[str, Any]]:
    return {r[0]: json.loads(r[1]) for r in conn.execute("SELECT id, view FROM cards WHERE view IS NOT NULL")}


def server_card(conn: sqlite3.Connection, card_id: str) -> dict[str, Any] | None:
    row = conn.execute("SELECT server FROM cards WHERE id = ?", (card_id,)).fetchone()
    return json.loads(row[0]) if row and row[0] else None


def server_cards(conn: sqlite3.Connection) -> dict[str, dict[str, Any]]:
    return {r[0]: json.loads(r[1]) for r in conn.execute("SELECT id, server FROM cards WHERE server IS NOT NULL")}


def save_server_card(conn: sqlite3.Connection, card: dict[str, Any]) -> None:
    conn.execute(
        "INSERT INTO cards(id, server) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET server = excluded.server",
        (card["id"], _text(card)),
    )


def save_view(conn: sqlite3.Connection, card_id: str, view: dict[str, Any]) -> None:
    conn.execute(
        "INSERT INTO cards(id, view) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET view = excluded.view", (card_id, _text(view))
    )


def clear_view(conn: sqlite3.Connection, card_id: str) -> None:
    """The card shows nothing but its server copy stays (a pending delete, say)."""
    conn.execute("UPDATE cards SET view = NULL WHERE id = ?", (card_id,))


def drop_card(conn: sqlite3.Connection, card_id: str) -> None:
    conn.execute("DELETE FROM cards WHERE id = ?", (card_id,))


def forget_card(conn: sqlite3.Connection, card_id: str, *, erased: bool = False) -> None:
    """The server removed the card from this device. If its customer's data was erased, nothing
    of it stays here either: not its queued or sent mutations, not its attachments' bytes."""
    conn.execute("DELETE FROM cards WHERE id = ?", (card_id,))
    conn.execute("DELETE FROM activities WHERE card = ?", (card_id,))
    if erased:
        conn.execute("DELETE FROM journal WHERE card = ?", (card_id,))
        conn.execute("DELETE FROM files WHERE card = ?", (card_id,))


# --- activities ------------------------------------------------------------------------------


def save_activity(conn: sqlite3.Connection, card_id: str, activity: dict[str, Any]) -> None:
    conn.execute("INSERT OR REPLACE INTO activities(id, card, data) VALUES (?, ?, ?)", (activity["id"], card_id, _text(activity)))


def activities(conn: sqlite3.Connection, card_id: str | None = None) -> list[dict[str, Any]]:
    """Every activity this device holds, or one card's, in id order."""
    sql = "SELECT data FROM activities"
    params: tuple[str, ...] = ()
    if card_id:
        sql, params = sql + " WHERE card = ?", (card_id,)
    return [json.loads(r[0]) for r in conn.execute(sql + " ORDER BY id", params)]


# --- the journal: the outbox (pending), answered (acked, rejected) and discarded mutations ------


def queue_mutation(conn: sqlite3.Connection, body: dict[str, Any], created_ms: int) -> None:
    conn.execute(
        "INSERT INTO journal(id, card, body, state, created_ms) VALUES (?, ?, ?, 'pending', ?)",
        (body["id"], body["card"], _text(body), created_ms),
    )


def mutations(conn: sqlite3.Connection, state: str, card_id: str | None = None) -> list[dict[str, Any]]:
    """The bodies of the journal's mutations in `state` (of one card, if given), oldest first."""
    sql, params = "SELECT body FROM journal WHERE state = ?", [state]
    if card_id:
        sql += " AND card = ?"
        params.append(card_id)
    return [json.loads(r[0]) for r in conn.execute(sql + " ORDER BY seq", params)]


def answered_mutations(conn: sqlite3.Connection, state: str) -> list[dict[str, Any]]:
    """Mutations the server answered (`acked` or `rejected`), each with its `result`, oldest first."""
    rows = conn.execute("SELECT body, result FROM journal WHERE state = ? ORDER BY seq", (state,))
    return [{**json.loads(b), "result": json.loads(r)} for b, r in rows]


def rejected_mutation(conn: sqlite3.Connection, mutation_id: str) -> dict[str, Any] | None:
    row = conn.execute("SELECT body FROM journal WHERE id = ? AND state = 'rejected'", (mutation_id,)).fetchone()
    return json.loads(row[0]) if row else None


def requeue_mutation(conn: sqlite3.Connection, mutation_id: str, body: dict[str, Any]) -> None:
    """A fixed mutation goes back to the outbox with the same id, its old answer forgotten."""
    conn.execute("UPDATE journal SET body = ?, state = 'pending', result = NULL WHERE id = ?", (_text(body), mutation_id))


def card_of_mutation(conn: sqlite3.Connection, mutation_id: str) -> str | None:
    row = conn.execute("SELECT card FROM journal WHERE id = ?", (mutation_id,)).fetchone()
    return row[0] if row else None


def discard_mutation(conn: sqlite3.Connection, mutation_id: str) -> None:
    conn.execute("UPDATE journal SET state = 'discarded' WHERE id = ?", (mutation_id,))


def record_answer(conn: sqlite3.Connection, result: dict[str, Any], state: str) -> None:
    """The server's result for one mutation, which leaves it `acked` or `rejected`."""
    conn.execute("UPDATE journal SET state = ?, result = ? WHERE id = ?", (state, _text(result), result["id"]))


def start_over(conn: sqlite3.Connection, resend_since_ms: int) -> None:
    """After a server restore: mutations acknowledged since `resend_since_ms` go back to the outbox,
    the local copies of cards and activities go, and the next pull starts from the beginning."""
    conn.execute("UPDATE journal SET state = 'pending' WHERE state = 'acked' AND created_ms >= ?", (resend_since_ms,))
    conn.execute("DELETE FROM cards")
    conn.execute("DELETE FROM activities")
    set_meta(conn, "cursor", None)


# --- files: attachment bytes this device added -------------------------------------------------


def save_file(conn: sqlite3.Connection, attachment_id: str, card_id: str, sha256: str, data: bytes) -> None:
    conn.execute("INSERT INTO files(id, card, sha256, data) VALUES (?, ?, ?, ?)", (attachment_id, card_id, sha256, data))


def files_to_upload(conn: sqlite3.Connection) -> list[tuple[str, bytes]]:
    """(attachment id, bytes) of every file whose declaration the server acknowledged and which it
    does not hold yet."""
    return conn.execute(
        "SELECT f.id, f.data FROM files f JOIN journal j ON j.card = f.card "
        "WHERE f.uploaded = 0 AND j.state = 'acked' AND j.body LIKE '%' || f.id || '%'"
    ).fetchall()


def set_uploaded(conn: sqlite3.Connection, attachment_id: str, uploaded: bool = True) -> None:
    conn.execute("UPDATE files SET uploaded = ? WHERE id = ?", (int(uploaded), attachment_id))


# --- the pool view ---------------------------------------------------------------------------


def replace_pool(conn: sqlite3.Connection, cards: list[dict[str, Any]]) -> None:
    conn.execute("DELETE FROM pool")
    conn.executemany("INSERT INTO pool(id, data) VALUES (?, ?)", [(c["id"], _text(c)) for c in cards])


def pool_cards(conn: sqlite3.Connection) -> dict[str, dict[str, Any]]:
    return {r[0]: json.loads(r[1]) for r in conn.execute("SELECT id, data FROM pool")}


def pool_card(conn: sqlite3.Connection, card_id: str) -> dict[str, Any] | None:
    row = conn.execute("SELECT data FROM pool WHERE id = ?", (card_id,)).fetchone()
    return json.loads(row[0]) if row else None


# --- a lost or revoked phone -----------------------------------------------------------------


def wipe(conn: sqlite3.Connection) -> None:
    """Forget everything: cards, activities, the journal, photos and files (their bytes too), the
    pool view and meta, and compact the file so deleted rows do not linger in its free pages. The
    app does the same (`clearAll` in pwa/js/app/db.js)."""
    for table in ("cards", "activities", "journal", "files", "pool", "meta"):
        conn.execute(f"DELETE FROM {table}")
    conn.execute("VACUUM")
