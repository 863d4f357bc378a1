"""What a restore reads and keeps: the newest change, what it would roll back, the access state
that survives it (users, tokens, devices, settings), consistent copies and integrity checks."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any
from sync.db.connection import connect
from sync.db.devices import all_devices
from sync.db.meta import meta_value, set_meta


def latest_change(conn: sqlite3.Connection) -> dict[str, Any] | None:
    """The newest history entry: what a drill compares between the live database and a restore."""
    row = conn.execute("SELECT id, card, version, received_at FROM history ORDER BY id DESC LIMIT 1").fetchone()
    return dict(zip(("id", "card", "version", "received_at"), row)) if row else None


def history_after(conn: sqlite3.Connection, history_id: int, limit: int) -> list[dict[str, Any]]:
    """History entries newer than `history_id`: the changes a restore would roll back."""
    rows = conn.execute(
        "SELECT id, card, version, received_at, user, device, mutation, changes FROM history WHERE id > ? ORDER BY id LIMIT ?",
        (history_id, limit),
    )
    keys = ("id", "card", "version", "received_at", "user", "device", "mutation")
    return [{**dict(zip(keys, r[:7])), "changes": json.loads(r[7])} for r in rows]


def count_history_after(conn: sqlite3.Connection, history_id: int) -> int:
    return conn.execute("SELECT count(*) FROM history WHERE id > ?", (history_id,)).fetchone()[0]


def history_sources_after(conn: sqlite3.Connection, history_id: int) -> list[tuple[str | None, str, int]]:
    """(device, user, changes) for the history newer than `history_id`: who would re-send what."""
    rows = conn.execute("SELECT device, user, count(*) FROM history WHERE id > ? GROUP BY device, user", (history_id,))
    return [(r[0], r[1], r[2]) for r in rows]


def devices_not_synced_since(conn: sqlite3.Connection, moment: str) -> list[dict[str, Any]]:
    return [d for d in all_devices(conn) if not d["revoked_at"] and (d["last_sync"] or "") < moment]


def counts(conn: sqlite3.Connection) -> dict[str, int]:
    return {
        "cards": conn.execute("SELECT count(*) FROM cards WHERE deleted = 0").fetchone()[0],
        "activities": conn.execute("SELECT count(*) FROM activities").fetchone()[0],
        "changes": conn.execute("SELECT count(*) FROM history").fetchone()[0],
    }


def integrity(conn: sqlite3.Connection) -> str:
    """`ok`, or the first problem PRAGMA integrity_check found."""
    return str(conn.execute("PRAGMA integrity_check").fetchone()[0])


def empty_wal(path: Path) -> bool:
    """Checkpoint every WAL frame into the database file and truncate the `-wal` to nothing, so
    the file can be renamed or replaced without committed work left behind in (or a stale WAL
    left in front of) it. False when a reader kept the WAL from being emptied."""
    conn = connect(path)
    try:
        busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        conn.close()
    return busy == 0


# Who may do what: never rolled back by a restore (issue 12). Parents before children, so that
# deleting children first and inserting parents first keeps every foreign key whole.
# Webhook endpoints (their settings and secrets) are access-like: a restore must not roll them back.
ACCESS_TABLES = ("users", "tokens", "credentials", "invites", "sessions", "devices", "teams", "team_members", "webhook_endpoints")


ACCESS_META = "calendar:%"  # private calendar feed keys, one per user


# The key that signs customer links (a restore must not void them), and the admin's privacy
# notice and lost-phone lock, the pool's rules and the duplicate check's key (settings, not
# customer data: a restore must not roll them back).
ACCESS_KEYS = ("link_key", "privacy_notice", "lock_after_days", "pool_settings", "dedupe_key")


def copy_access_state(live: sqlite3.Connection, restored: sqlite3.Connection) -> dict[str, int]:
    """Replace the restored database's users, roles, disabled flags, tokens, passkeys, invites,
    sessions, devices (and their revocations) and calendar keys with the live ones. Runs inside
    the caller's transaction on `restored`. Returns the rows copied per table."""
    copied: dict[str, int] = {}
    for table in reversed(ACCESS_TABLES):
        restored.execute(f"DELETE FROM {table}")  # table names are the constants above
    restored.execute("DELETE FROM challenges")  # a few minutes' worth, tied to the old file
    for table in ACCESS_TABLES:
        columns = [row[1] for row in live.execute(f"PRAGMA table_info({table})")]
        names = ", ".join(f'"{c}"' for c in columns)
        marks = ", ".join("?" for _ in columns)
        rows = live.execute(f"SELECT {names} FROM {table}").fetchall()
        restored.executemany(f"INSERT INTO {table}({names}) VALUES ({marks})", rows)
        copied[table] = len(rows)
    restored.execute("DELETE FROM meta WHERE key LIKE ?", (ACCESS_META,))
    keys = live.execute("SELECT key, value FROM meta WHERE key LIKE ?", (ACCESS_META,)).fetchall()
    restored.executemany("INSERT INTO meta(key, value) VALUES (?, ?)", keys)
    for key in ACCESS_KEYS:
        value = meta_value(live, key)
        if value is not None:
            set_meta(restored, key, value)
    copied["calendar_keys"] = len(keys)
    return copied


def copy_database(source: Path, target: Path) -> None:
    """A consistent copy of a live database through SQLite's backup API (WAL content included)."""
    src = sqlite3.connect(str(source), timeout=5.0)
    dst = sqlite3.connect(str(target))
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
