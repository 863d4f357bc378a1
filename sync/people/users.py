"""Users and API tokens: creation, lookup by bearer token. Tokens are stored only as SHA-256 hashes."""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid

from sync import audit, db
from sync.db import identity
from sync.access import ROLES, User
from sync.times import utc_now
from sync.recent import RecentTable
from sync.errors import Conflict, NotFound, invalid
from sync.db import Store

NAME_RE = re.compile(r"^[a-z0-9._-]{1,64}$")
TOKEN_PREFIX = "fc_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def add_user(st: Store, name: object, role: object, display: str = "", *, by: str = "cli") -> User:
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise invalid("name", "use 1–64 of a-z, 0-9, '.', '_' and '-'")
    if not isinstance(role, str) or role not in ROLES:
        raise invalid("role", "must be rep, manager, office or admin")
    display = (display or name).strip()[:200] or name
    with st.write() as conn:
        if db.user_exists(conn, name):
            raise Conflict(f"user {name!r} exists already")
        db.insert_user(conn, name, role, display, utc_now())
        audit.record(conn, by, "user.add", name, {"role": role})
    return User(name, role, display)


def issue_token(st: Store, name: str, label: str = "", *, by: str = "cli") -> dict[str, str]:
    """A new bearer token for `name`; only its hash is stored, so this is the one time it is seen."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token_id = str(uuid.uuid4())
    with st.write() as conn:
        if db.user_named(conn, name) is None:
            raise NotFound(f"no active user named {name!r}")
        db.insert_token(conn, token_id, name, hash_token(token), label, utc_now())
        audit.record(conn, by, "token.create", token_id, {"user": name, "label": label})
    return {"id": token_id, "token": token, "user": name, "label": label}


def create_token(st: Store, name: str, label: str = "", *, by: str = "cli") -> str:
    return issue_token(st, name, label, by=by)["token"]


# Last-use times are recorded at most once a minute per token: a write per request would make
# every no-op sync queue behind the one writer.
TOUCH_EVERY_S = 300.0  # like sessions (server/auth/sessions.py): a script or phone polling every 30 s must not write each time
_touched = RecentTable(max_keys=100_000, ttl_s=TOUCH_EVERY_S)
# Token use goes to the audit log once an hour per token: enough to see which tokens are alive.
AUDIT_USE_EVERY_S = 3600.0
_audited = RecentTable(max_keys=100_000, ttl_s=AUDIT_USE_EVERY_S)


def user_for_token(st: Store, token: str) -> User | None:
    """The user a bearer token belongs to, recording its use; None for unknown or revoked tokens."""
    found = token_owner(st, token)
    return found[0] if found else None


def token_owner(st: Store, token: str) -> tuple[User, str] | None:
    """The user a bearer token belongs to and the token's id, recording its use."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    digest = hash_token(token)
    with st.read() as conn:
        found = db.user_for_token_hash(conn, digest)
    if found is None:
        return None
    token_id, user = found
    if _touched.due(token_id, TOUCH_EVERY_S):
        with st.write() as conn:
            db.touch_token(conn, token_id, utc_now())
            if _audited.due(token_id, AUDIT_USE_EVERY_S):
                audit.record(conn, user.name, "token.use", token_id)
    return user, token_id


def _own_or_admin(owner: str | None, user: User, what: str) -> str:
    """The owner of a passkey or a token, when `user` may manage it (theirs, or any for an admin);
    NotFound otherwise, so that nobody learns which ids exist."""
    if owner is None or (owner != user.name and not user.is_admin):
        raise NotFound(f"no such {what}")
    return owner


def remove_passkey(st: Store, user: User, cred_id: str) -> None:
    with st.write() as conn:
        owner = _own_or_admin(identity.credential_owner(conn, cred_id), user, "passkey")
        identity.delete_credential(conn, cred_id)
        audit.record(conn, user.name, "passkey.remove", owner, {"credential": cred_id[:16]})


def revoke_token(st: Store, user: User, token_id: str) -> None:
    with st.write() as conn:
        owner = _own_or_admin(identity.token_owner(conn, token_id), user, "token")
        identity.revoke_token(conn, token_id, utc_now())
        audit.record(conn, user.name, "token.revoke", token_id, {"user": owner})


def end_revoked_session(st: Store, user: User, session: str | None) -> None:
    """A revoked (lost) phone wipes itself on the answer to its sync; the browser session it synced
    with ends too, so the same cookie cannot start over as a new device."""
    if not session:
        return
    with st.write() as conn:
        identity.end_session(conn, session, utc_now())
        audit.record(conn, user.name, "auth.signout", user.name, {"reason": "device revoked"})
