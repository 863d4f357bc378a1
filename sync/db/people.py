"""Users, API tokens and teams."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import replace
from typing import Any
from sync.access import User


def insert_user(conn: sqlite3.Connection, name: str, role: str, display: str, now: str) -> None:
    conn.execute(
        "INSERT INTO users(name, role, display, created_at, disabled) VALUES (?, ?, ?, ?, 0)",
        (name, role, display, now),
    )


def teams(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    found = []
    for team_id, name, created in conn.execute("SELECT id, name, created_at FROM teams ORDER BY name, id"):
        members = conn.execute("SELECT user, manages FROM team_members WHERE team = ? ORDER BY user", (team_id,)).fetchall()
        found.append(
            {
                "id": team_id,
                "name": name,
                "created_at": created,
                "members": [u for u, m in members if not m],
                "managers": [u for u, m in members if m],
            }
        )
    return found


def save_team(
    conn: sqlite3.Connection, team_id: str, name: str, members: Sequence[str], managers: Sequence[str], now: str
) -> None:
    conn.execute(
        "INSERT INTO teams(id, name, created_at) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET name = excluded.name",
        (team_id, name, now),
    )
    conn.execute("DELETE FROM team_members WHERE team = ?", (team_id,))
    conn.executemany(
        "INSERT INTO team_members(team, user, manages) VALUES (?, ?, ?)",
        [(team_id, u, 0) for u in members] + [(team_id, u, 1) for u in managers],
    )


def team_exists(conn: sqlite3.Connection, team_id: str) -> bool:
    return conn.execute("SELECT 1 FROM teams WHERE id = ?", (team_id,)).fetchone() is not None


def delete_team(conn: sqlite3.Connection, team_id: str) -> None:
    conn.execute("DELETE FROM team_members WHERE team = ?", (team_id,))
    conn.execute("DELETE FROM teams WHERE id = ?", (team_id,))


def user_named(conn: sqlite3.Connection, name: str) -> User | None:
    row = conn.execute("SELECT name, role, display FROM users WHERE name = ? AND disabled = 0", (name,)).fetchone()
    return with_team(conn, User(*row)) if row else None


def with_team(conn: sqlite3.Connection, user: User) -> User:
    """A manager with the reps of the teams they manage; anyone else as they are."""
    if user.role != "manager":
        return user
    rows = conn.execute(
        "SELECT DISTINCT m.user FROM team_members m JOIN team_members me ON me.team = m.team "
        "WHERE me.user = ? AND me.manages = 1 AND m.manages = 0",
        (user.name,),
    )
    return replace(user, team=frozenset(r[0] for r in rows))


def user_exists(conn: sqlite3.Connection, name: str) -> bool:
    return conn.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone() is not None


def insert_token(conn: sqlite3.Connection, token_id: str, user: str, token_hash: str, label: str, now: str) -> None:
    conn.execute(
        "INSERT INTO tokens(id, user, hash, label, created_at) VALUES (?, ?, ?, ?, ?)",
        (token_id, user, token_hash, label, now),
    )


def user_for_token_hash(conn: sqlite3.Connection, token_hash: str) -> tuple[str, User] | None:
    """The live token with this hash and its user; the hash is an index key, so no timing leak."""
    row = conn.execute(
        "SELECT t.id, u.name, u.role, u.display FROM tokens t JOIN users u ON u.name = t.user "
        "WHERE t.hash = ? AND t.revoked_at IS NULL AND u.disabled = 0",
        (token_hash,),
    ).fetchone()
    return (row[0], with_team(conn, User(row[1], row[2], row[3]))) if row else None


def touch_token(conn: sqlite3.Connection, token_id: str, now: str) -> None:
    conn.execute("UPDATE tokens SET last_used_at = ? WHERE id = ?", (now, token_id))


def user_count(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT count(*) FROM users").fetchone()[0])


def first_admin(conn: sqlite3.Connection) -> str | None:
    """The admin made first and still enabled: who the CLI acts as when not told."""
    row = conn.execute("SELECT name FROM users WHERE role = 'admin' AND disabled = 0 ORDER BY created_at LIMIT 1").fetchone()
    return row[0] if row else None


def set_calendar_key(conn: sqlite3.Connection, user: str, digest: str) -> None:
    """The hash of a user's private calendar feed key; a new one replaces the old."""
    conn.execute("DELETE FROM meta WHERE key = ?", (f"calendar:{user}",))
    conn.execute("INSERT INTO meta(key, value) VALUES (?, ?)", (f"calendar:{user}", digest))


def user_for_calendar_key(conn: sqlite3.Connection, digest: str) -> User | None:
    row = conn.execute(
        "SELECT u.name, u.role, u.display FROM meta m JOIN users u ON m.key = 'calendar:' || u.name "
        "WHERE m.value = ? AND u.disabled = 0",
        (digest,),
    ).fetchone()
    return with_team(conn, User(*row)) if row else None
