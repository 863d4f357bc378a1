"""The one gate every API route passes: who is calling (bearer token or session cookie), whether
a cookie-authenticated write is really from our own pages (CSRF), and whether the caller's role
may use the route (contract sections 2 and 6). Per-card rights are decided in `sync.access`.

Routes declare what they need in `server/app.py`: PUBLIC, ANYONE (signed in), OFFICE or ADMIN.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from sync import audit
from sync.access import User
from sync.errors import NotAllowed, RateLimited, Unauthenticated
from sync.db import Store
from sync.db.identity import digest
from sync.people.users import token_owner

from . import sessions
from .limits import AUDIT_REPEAT_S

PUBLIC, ANYONE, OFFICE, ADMIN = "public", "anyone", "office", "admin"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSRF_HEADER = "x-fieldcards"

Handler = Callable[[Request], Awaitable[Response]]


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def audit_throttled(request: Request, key: tuple[str, str], actor: str, action: str, target: str, detail: dict) -> None:
    if not request.app.state.throttles.audited.due(key, AUDIT_REPEAT_S):
        return
    with request.app.state.store.write() as conn:
        audit.record(conn, actor, action, target, detail)


def allowed(user: User, need: str) -> bool:
    if need == ADMIN:
        return user.is_admin
    if need == OFFICE:
        return user.sees_everything
    return True


def guarded(need: str, handler: Handler) -> Handler:
    """The endpoint behind its gate; the handler finds the caller in `request.state.user`."""

    async def endpoint(request: Request) -> Response:
        if need == PUBLIC:
            if request.method in UNSAFE_METHODS:
                check_same_origin(request)  # sign-in forms too: no logging people in from other sites
            return await handler(request)
        user = await run_in_threadpool(authenticate, request)
        request.state.user = user
        if not allowed(user, need):
            message = "only admins may do this" if need == ADMIN else "only office staff and admins may do this"
            await run_in_threadpool(
                audit_throttled,
                request,
                (user.name, request.url.path),
                user.name,
                "access.denied",
                f"{request.method} {request.url.path}",
                {"role": user.role, "needs": need},
            )
            raise NotAllowed(message)
        return await handler(request)

    endpoint.__name__ = handler.__name__
    return endpoint


def authenticate(request: Request) -> User:
    """The caller, from `Authorization: Bearer` or the session cookie; 401 when neither is valid."""
    header = request.headers.get("authorization")
    if header is not None:
        return _bearer(request, header)
    raw = request.cookies.get(sessions.COOKIE)
    if raw:
        user = sessions.user_for(request.app.state.store, request.app.state.config, raw)
        if user is None:
            raise Unauthenticated("your session has ended; sign in again (your unsent changes are kept)")
        if request.method in UNSAFE_METHODS:
            check_same_origin(request)
        request.state.session = raw
        request.state.credential = f"session:{digest(raw)}"
        return user
    raise Unauthenticated("sign in, or send Authorization: Bearer <token>")


def _bearer(request: Request, header: str) -> User:
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("send Authorization: Bearer <token>")
    st: Store = request.app.state.store
    found = token_owner(st, token.strip())
    if found is not None:
        request.state.credential = f"token:{found[1]}"
        return found[0]
    address = client_address(request)
    audit_throttled(request, ("token", address), "anonymous", "auth.token_failed", address, {})
    wait = request.app.state.throttles.token_failures.failed(address)
    if wait is not None:
        raise RateLimited("too many failed tokens from this address; wait and try again", wait)
    raise Unauthenticated("this token is not valid (unknown or revoked)")


def check_same_origin(request: Request) -> None:
    """A cookie rides along on requests from any site; our own pages also send the header and
    their own origin, which another site cannot forge."""
    if request.headers.get(CSRF_HEADER) != "1":
        raise NotAllowed("a browser request that changes something must carry the header X-Fieldcards: 1")
    origin = request.headers.get("origin")
    ours = {request.app.state.config.public_origin, str(request.base_url).rstrip("/")}
    if origin not in ours:
        raise NotAllowed(f"requests from {origin or 'an unknown origin'} may not change anything here")
