"""Devices: what each phone last did, names, revocations."""

from __future__ import annotations

import sqlite3
from typing import Any


def device_revoked(conn: sqlite3.Connection, device: str) -> bool:
    row = conn.execute("SELECT revoked_at FROM devices WHERE id = ?", (device,)).fetchone()
    return bool(row and row[0])


def record_device(
    conn: sqlite3.Connection,
    device: str,
    user: str,
    now: str,
    pending: int | None,
    app: str | None,
    user_agent: str | None,
    credential: str | None = None,
) -> None:
    conn.execute(
        "INSERT INTO devices(id, user, first_sync, last_sync, pending, app, user_agent, credential) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET user = excluded.user, "
        "last_sync = excluded.last_sync, pending = coalesce(excluded.pending, devices.pending), "
        "app = coalesce(excluded.app, devices.app), "
        "user_agent = coalesce(excluded.user_agent, devices.user_agent), "
        "credential = coalesce(excluded.credential, devices.credential)",
        (device, user, now, now, pending, app, user_agent, credential),
    )


def device_credential(conn: sqlite3.Connection, device: str) -> str | None:
    row = conn.execute("SELECT credential FROM devices WHERE id = ?", (device,)).fetchone()
    return row[0] if row else None


def device_known(conn: sqlite3.Connection, device: str) -> bool:
    return conn.execute("SELECT 1 FROM devices WHERE id = ?", (device,)).fetchone() is not None


def active_devices_of_user(conn: sqlite3.Connection, user: str) -> int:
    """Devices of this user that are not revoked: what the per-user device cap counts."""
    return conn.execute("SELECT count(*) FROM devices WHERE user = ? AND revoked_at IS NULL", (user,)).fetchone()[0]


DEVICE_KEYS = ("id", "user", "first_sync", "last_sync", "pending", "app", "user_agent", "revoked_at", "name")


def all_devices(conn: sqlite3.Connection, *, limit: int = -1, offset: int = 0) -> list[dict[str, Any]]:
    rows = conn.execute(
        f"SELECT {', '.join(DEVICE_KEYS)} FROM devices ORDER BY last_sync DESC, id LIMIT ? OFFSET ?", (limit, offset)
    ).fetchall()
    return [dict(zip(DEVICE_KEYS, row)) for row in rows]


def device_of(conn: sqlite3.Connection, device: str) -> dict[str, Any] | None:
    row = conn.execute(f"SELECT {', '.join(DEVICE_KEYS)} FROM devices WHERE id = ?", (device,)).fetchone()
    return dict(zip(DEVICE_KEYS, row)) if row else None


def name_device(conn: sqlite3.Connection, device: str, name: str | None) -> None:
    conn.execute("UPDATE devices SET name = ? WHERE id = ?", (name, device))


def revoke_device(conn: sqlite3.Connection, device: str, now: str) -> bool:
    cur = conn.execute("UPDATE devices SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", (now, device))
    return cur.rowcount > 0 or conn.execute("SELECT 1 FROM devices WHERE id = ?", (device,)).fetchone() is not None
