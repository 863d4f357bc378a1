"""The `meta` table: small named values (epoch, settings, keys)."""

from __future__ import annotations

import secrets
import json
import sqlite3
from typing import Any


def meta_value(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return row[0] if row else None


def set_meta(conn: sqlite3.Connection, key: str, value: str) -> None:
    conn.execute(
        "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (key, value),
    )


def delete_meta(conn: sqlite3.Connection, key: str) -> None:
    conn.execute("DELETE FROM meta WHERE key = ?", (key,))


def last_seq(conn: sqlite3.Connection) -> int:
    return int(meta_value(conn, "seq") or 0)


def new_epoch() -> str:
    return secrets.token_urlsafe(12)


def begin_new_epoch(conn: sqlite3.Connection) -> str:
    """After a restore: devices that saw the old epoch will reset and re-send their journals."""
    epoch = new_epoch()
    set_meta(conn, "epoch", epoch)
    return epoch


def meta_settings(conn: sqlite3.Connection, key: str, defaults: dict[str, Any]) -> dict[str, Any]:
    """A settings object kept as JSON under `key`, over its defaults (a key never saved reads as them)."""
    raw = meta_value(conn, key)
    return {**defaults, **(json.loads(raw) if raw else {})}
