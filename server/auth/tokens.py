"""Bearer-token authentication for scripts and the reference client."""
from __future__ import annotations

from starlette.requests import Request

from sync.access import User
from sync.errors import Unauthenticated
from sync.store import Store
from sync.users import user_for_token


def authenticate(request: Request) -> User:
    """The user behind the request's credentials; 401 when there are none or they are wrong."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("sign in, or send Authorization: Bearer <token>")
    st: Store = request.app.state.store
    user = user_for_token(st, token.strip())
    if user is None:
        raise Unauthenticated("this token is not valid (unknown or revoked)")
    return user
