"""Browser sessions: a random id in an HttpOnly, SameSite=Lax cookie, its hash in SQLite.

Reps work offline for days, so the idle limit is long (FIELDCARDS_SESSION_IDLE_DAYS, default 30)
under an absolute one (FIELDCARDS_SESSION_MAX_DAYS, default 90). An expired session never costs
local work: the PWA keeps its outbox and sends it after the next sign-in.
"""

from __future__ import annotations

import secrets
import time

from starlette.responses import Response

from sync.db import identity
from sync.access import User
from sync.times import utc_now
from sync.db import Store

from ..config import Config

COOKIE = "fc_session"
TOUCH_EVERY_S = 300  # last-seen is written at most every 5 minutes: reads must not queue behind the writer


def start(conn, config: Config, user: str, user_agent: str) -> str:  # type: ignore[no-untyped-def]
    """A new session inside the caller's write transaction; returns the cookie value."""
    raw = secrets.token_urlsafe(32)
    now_s = int(time.time())
    identity.insert_session(conn, raw, user, utc_now(), now_s, now_s + int(config.session_max_days * 86400), user_agent)
    return raw


def user_for(st: Store, config: Config, raw: str) -> User | None:
    """The user of a live session, or None when it is unknown, ended, idle too long or too old."""
    if len(raw) > 100:
        return None
    with st.read() as conn:
        found = identity.session_row(conn, raw)
    if found is None:
        return None
    user, last_seen, expires = found
    now_s = int(time.time())
    if now_s >= expires or now_s - last_seen > config.session_idle_days * 86400:
        return None
    if now_s - last_seen >= TOUCH_EVERY_S:
        with st.write() as conn:
            identity.touch_session(conn, raw, now_s)
    return user


def set_cookie(response: Response, config: Config, raw: str) -> None:
    response.set_cookie(
        COOKIE,
        raw,
        max_age=int(config.session_max_days * 86400),
        path="/",
        httponly=True,
        samesite="lax",
        secure=config.secure_cookies,
    )


def clear_cookie(response: Response, config: Config) -> None:
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax", secure=config.secure_cookies)
