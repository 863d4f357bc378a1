"""Identity records: passkey credentials, one-time invites and challenges, browser sessions, and
the user and token lists admins manage: plain SQL over a connection; the server's `auth/` package
decides when to call these.

Secrets (invite codes, session ids) are stored only as SHA-256 hashes, so a copy of the database
(or of a backup) cannot be used to sign in. Expiries are Unix seconds.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
from typing import Any

from sync.access import User
from sync.db.people import with_team


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


# --- users -------------------------------------------------------------------------------------


def known_webauthn_id(conn: sqlite3.Connection, user: str) -> bytes | None:
    """The user's passkey user id, if one was made (a read: safe on a reader connection)."""
    row = conn.execute("SELECT webauthn_id FROM users WHERE name = ?", (user,)).fetchone()
    return bytes.fromhex(row[0]) if row and row[0] else None


def webauthn_id(conn: sqlite3.Connection, user: str) -> bytes:
    """The opaque id a passkey stores for its user (random, so it reveals nothing about the name);
    made on first use, so call it inside a write transaction."""
    known = known_webauthn_id(conn, user)
    if known is not None:
        return known
    fresh = secrets.token_bytes(16)
    conn.execute("UPDATE users SET webauthn_id = ? WHERE name = ?", (fresh.hex(), user))
    return fresh


def list_users(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    rows = conn.execute(
        "SELECT u.name, u.role, u.display, u.created_at, u.disabled, "
        "(SELECT count(*) FROM credentials c WHERE c.user = u.name), "
        "(SELECT max(c.last_used_at) FROM credentials c WHERE c.user = u.name) "
        "FROM users u ORDER BY u.name"
    ).fetchall()
    keys = ("name", "role", "display", "created_at", "disabled", "passkeys", "last_sign_in")
    return [dict(zip(keys, row)) | {"disabled": bool(row[4])} for row in rows]


def people(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Who is who, for every signed-in user: the user name and the name people know them by
    (王伟 for wang.wei), disabled users too, since their cards and activities still name them."""
    rows = conn.execute("SELECT name, display, disabled FROM users ORDER BY name").fetchall()
    return [{"name": name, "display": display or name, "active": not disabled} for name, display, disabled in rows]


def any_user(conn: sqlite3.Connection, name: str) -> dict[str, Any] | None:
    """A user whether or not disabled (admins manage both)."""
    row = conn.execute("SELECT name, role, display, disabled FROM users WHERE name = ?", (name,)).fetchone()
    return {"name": row[0], "role": row[1], "display": row[2], "disabled": bool(row[3])} if row else None


def update_user(conn: sqlite3.Connection, name: str, changes: dict[str, Any]) -> None:
    for column in ("role", "display", "disabled"):
        if column in changes:
            value = int(changes[column]) if column == "disabled" else changes[column]
            conn.execute(f"UPDATE users SET {column} = ? WHERE name = ?", (value, name))


def count_admins(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT count(*) FROM users WHERE role = 'admin' AND disabled = 0").fetchone()[0]


# --- tokens ------------------------------------------------------------------------------------


def list_tokens(conn: sqlite3.Connection, user: str | None) -> list[dict[str, Any]]:
    """Tokens (never their secrets) of one user, or of everyone when `user` is None."""
    rows = conn.execute(
        "SELECT id, user, label, created_at, last_used_at, revoked_at FROM tokens "
        "WHERE ? IS NULL OR user = ? ORDER BY created_at DESC",
        (user, user),
    ).fetchall()
    keys = ("id", "user", "label", "created_at", "last_used_at", "revoked_at")
    return [dict(zip(keys, row)) for row in rows]


def token_owner(conn: sqlite3.Connection, token_id: str) -> str | None:
    row = conn.execute("SELECT user FROM tokens WHERE id = ?", (token_id,)).fetchone()
    return row[0] if row else None


def revoke_token(conn: sqlite3.Connection, token_id: str, now: str) -> None:
    conn.execute("UPDATE tokens SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?", (now, token_id))


def revoke_all_tokens(conn: sqlite3.Connection, user: str, now: str) -> int:
    return conn.execute("UPDATE tokens SET revoked_at = ? WHERE user = ? AND revoked_at IS NULL", (now, user)).rowcount


# --- invites -----------------------------------------------------------------------------------


def insert_invite(conn: sqlite3.Connection, code: str, user: str, by: str, now: str, expires: int) -> None:
    # A new invite replaces the user's unused ones: only the newest link works.
    conn.execute("DELETE FROM invites WHERE user = ? AND used_at IS NULL", (user,))
    conn.execute(
        "INSERT INTO invites(id, user, created_by, created_at, expires) VALUES (?, ?, ?, ?, ?)",
        (digest(code), user, by, now, expires),
    )


def invite_user(conn: sqlite3.Connection, code: str, now_s: int) -> str | None:
    """The user an unused, unexpired invite code is for."""
    row = conn.execute(
        "SELECT i.user FROM invites i JOIN users u ON u.name = i.user "
        "WHERE i.id = ? AND i.used_at IS NULL AND i.expires > ? AND u.disabled = 0",
        (digest(code), now_s),
    ).fetchone()
    return row[0] if row else None


def use_invite(conn: sqlite3.Connection, invite_hash: str, now: str, now_s: int) -> bool:
    cur = conn.execute(
        "UPDATE invites SET used_at = ? WHERE id = ? AND used_at IS NULL AND expires > ?", (now, invite_hash, now_s)
    )
    return cur.rowcount == 1


# --- challenges --------------------------------------------------------------------------------


def insert_challenge(
    conn: sqlite3.Connection,
    handle: str,
    purpose: str,
    challenge: bytes,
    user: str | None,
    invite_hash: str | None,
    expires: int,
    now_s: int,
) -> None:
    conn.execute("DELETE FROM challenges WHERE expires <= ?", (now_s,))
    conn.execute(
        "INSERT INTO challenges(id, purpose, challenge, user, invite, expires) VALUES (?, ?, ?, ?, ?, ?)",
        (digest(handle), purpose, challenge.hex(), user, invite_hash, expires),
    )


def take_challenge(conn: sqlite3.Connection, handle: str, purpose: str, now_s: int) -> dict[str, Any] | None:
    """Remove and return the challenge: it can be answered once, and only before it expires."""
    row = conn.execute(
        "DELETE FROM challenges WHERE id = ? AND purpose = ? RETURNING challenge, user, invite, expires",
        (digest(handle), purpose),
    ).fetchone()
    if row is None or row[3] <= now_s:
        return None
    return {"challenge": bytes.fromhex(row[0]), "user": row[1], "invite": row[2]}


# --- credentials -------------------------------------------------------------------------------


def insert_credential(
    conn: sqlite3.Connection,
    cred_id: str,
    user: str,
    public_key: bytes,
    sign_count: int,
    transports: list[str],
    label: str,
    now: str,
) -> None:
    conn.execute(
        "INSERT INTO credentials(id, user, public_key, sign_count, transports, label, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (cred_id, user, public_key.hex(), sign_count, json.dumps(transports), label, now),
    )


def credential(conn: sqlite3.Connection, cred_id: str) -> dict[str, Any] | None:
    row = conn.execute(
        "SELECT c.id, c.user, c.public_key, c.sign_count, u.disabled FROM credentials c "
        "JOIN users u ON u.name = c.user WHERE c.id = ?",
        (cred_id,),
    ).fetchone()
    if row is None:
        return None
    return {"id": row[0], "user": row[1], "public_key": bytes.fromhex(row[2]), "sign_count": row[3], "disabled": bool(row[4])}


def credential_ids(conn: sqlite3.Connection, user: str) -> list[str]:
    return [r[0] for r in conn.execute("SELECT id FROM credentials WHERE user = ?", (user,))]


def touch_credential(conn: sqlite3.Connection, cred_id: str, sign_count: int, now: str) -> None:
    conn.execute("UPDATE credentials SET sign_count = ?, last_used_at = ? WHERE id = ?", (sign_count, now, cred_id))


def list_credentials(conn: sqlite3.Connection, user: str | None) -> list[dict[str, Any]]:
    rows = conn.execute(
        "SELECT id, user, label, created_at, last_used_at FROM credentials WHERE ? IS NULL OR user = ? ORDER BY created_at",
        (user, user),
    ).fetchall()
    return [dict(zip(("id", "user", "label", "created_at", "last_used_at"), row)) for row in rows]


def delete_credential(conn: sqlite3.Connection, cred_id: str) -> None:
    conn.execute("DELETE FROM credentials WHERE id = ?", (cred_id,))


def credential_owner(conn: sqlite3.Connection, cred_id: str) -> str | None:
    row = conn.execute("SELECT user FROM credentials WHERE id = ?", (cred_id,)).fetchone()
    return row[0] if row else None


# --- sessions ----------------------------------------------------------------------------------


def insert_session(
    conn: sqlite3.Connection, session: str, user: str, now: str, now_s: int, expires: int, user_agent: str
) -> None:
    conn.execute(
        "INSERT INTO sessions(id, user, created_at, last_seen, expires, user_agent) VALUES (?, ?, ?, ?, ?, ?)",
        (digest(session), user, now, now_s, expires, user_agent[:300]),
    )


def session_row(conn: sqlite3.Connection, session: str) -> tuple[User, int, int] | None:
    """The live session's user, last-seen and absolute expiry (the caller checks the idle limit)."""
    row = conn.execute(
        "SELECT u.name, u.role, u.display, s.last_seen, s.expires FROM sessions s JOIN users u ON u.name = s.user "
        "WHERE s.id = ? AND s.revoked_at IS NULL AND u.disabled = 0",
        (digest(session),),
    ).fetchone()
    return (with_team(conn, User(row[0], row[1], row[2])), row[3], row[4]) if row else None


def touch_session(conn: sqlite3.Connection, session: str, now_s: int) -> None:
    conn.execute("UPDATE sessions SET last_seen = ? WHERE id = ?", (now_s, digest(session)))


def end_session(conn: sqlite3.Connection, session: str, now: str) -> None:
    conn.execute("UPDATE sessions SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?", (now, digest(session)))


def end_session_by_hash(conn: sqlite3.Connection, session_hash: str, now: str) -> None:
    conn.execute("UPDATE sessions SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?", (now, session_hash))


def end_sessions_of(conn: sqlite3.Connection, user: str, now: str) -> int:
    return conn.execute("UPDATE sessions SET revoked_at = ? WHERE user = ? AND revoked_at IS NULL", (now, user)).rowcount
