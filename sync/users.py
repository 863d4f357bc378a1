"""Users and API tokens: creation, lookup by bearer token. Tokens are stored only as SHA-256 hashes."""
from __future__ import annotations

import hashlib
import re
import secrets
import time
import uuid

from . import store
from .access import ROLES, User
from .engine import utc_now
from .errors import Conflict, NotFound, invalid
from .store import Store

NAME_RE = re.compile(r"^[a-z0-9._-]{1,64}$")
TOKEN_PREFIX = "fc_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def add_user(st: Store, name: str, role: str, display: str = "") -> User:
    if not NAME_RE.match(name):
        raise invalid("name", "use 1–64 of a-z, 0-9, '.', '_' and '-'")
    if role not in ROLES:
        raise invalid("role", "must be rep, office or admin")
    with st.write() as conn:
        if store.user_exists(conn, name):
            raise Conflict(f"user {name!r} exists already")
        store.insert_user(conn, name, role, display or name, utc_now())
    return User(name, role, display or name)


def create_token(st: Store, name: str, label: str = "") -> str:
    """A new bearer token for `name`; only its hash is stored, so this is the one time it is seen."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with st.write() as conn:
        if store.user_named(conn, name) is None:
            raise NotFound(f"no user named {name!r}")
        store.insert_token(conn, str(uuid.uuid4()), name, hash_token(token), label, utc_now())
    return token


# Last-use times are recorded at most once a minute per token: a write per request would make
# every no-op sync queue behind the one writer.
TOUCH_EVERY_S = 60.0
_touched: dict[str, float] = {}


def user_for_token(st: Store, token: str) -> User | None:
    """The user a bearer token belongs to, recording its use; None for unknown or revoked tokens."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    digest = hash_token(token)
    with st.read() as conn:
        found = store.user_for_token_hash(conn, digest)
    if found is None:
        return None
    token_id, user = found
    now = time.monotonic()
    if now - _touched.get(token_id, -TOUCH_EVERY_S) >= TOUCH_EVERY_S:
        _touched[token_id] = now
        with st.write() as conn:
            store.touch_token(conn, token_id, utc_now())
    return user
