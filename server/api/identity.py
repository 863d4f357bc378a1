"""Sign-in and who may do what: passkey ceremonies, sessions, passkeys, tokens, users.

Not part of the public contract (outside clients use bearer tokens); the PWA is their client.
Each sensitive act is written to the audit log in the same transaction as the act.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from sync import audit
from sync.db import identity
from sync.access import ROLES, User
from sync.times import utc_now
from sync.errors import Conflict, NotAllowed, NotFound, RateLimited, invalid
from sync.people import users
from sync.people.users import add_user, issue_token

from ..auth import passkeys, sessions
from ..auth.guard import authenticate, client_address
from .body import read_json, read_optional_json


def _object(body: Any, allowed: set[str]) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise invalid("", "send a JSON object")
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise invalid(unknown[0], "unknown field")
    return body


def _signed_in_response(request: Request, user: User, action: str, detail: dict[str, Any]) -> JSONResponse:
    """Start a session for `user` (the cookie) and record the sign-in."""
    st, config = request.app.state.store, request.app.state.config
    agent = request.headers.get("user-agent", "")
    with st.write() as conn:
        raw = sessions.start(conn, config, user.name, agent)
        audit.record(conn, user.name, action, user.name, detail | {"address": client_address(request)})
    response = JSONResponse({"user": user.name, "role": user.role, "display": user.display})
    sessions.set_cookie(response, config, raw)
    return response


# --- passkey ceremonies ------------------------------------------------------------------------

# Every options call stores a challenge (expiring after a few minutes): `throttles.challenges`
# (30 a minute per address) is plenty for people, and keeps a loop from filling the table (issue 11).


def _refuse_if_waiting(wait: int | None, what: str) -> None:
    if wait is not None:
        raise RateLimited(f"too many {what} from this address; wait and try again", wait)


def _count_challenge(request: Request) -> None:
    _refuse_if_waiting(request.app.state.throttles.challenges.failed(client_address(request)), "sign-in attempts")


async def register_options(request: Request) -> JSONResponse:
    """`{"invite": code}` for a first passkey; `{}` while signed in to add another."""
    _count_challenge(request)
    body = _object(await read_json(request), {"invite"})
    invite = body.get("invite")
    if invite is not None and (not isinstance(invite, str) or len(invite) > 200):
        raise invalid("invite", "not an invite code")
    st, config = request.app.state.store, request.app.state.config
    signed_in = None
    if invite is None:
        signed_in = await run_in_threadpool(authenticate, request)
    options = await run_in_threadpool(passkeys.registration_options, st, config, invite=invite, signed_in=signed_in)
    return JSONResponse(options)


async def register(request: Request) -> JSONResponse:
    body = _object(await read_json(request), {"handle", "credential", "label"})
    st, config = request.app.state.store, request.app.state.config
    user = await run_in_threadpool(
        passkeys.finish_registration, st, config, body.get("handle"), body.get("credential"), body.get("label")
    )
    return await run_in_threadpool(_signed_in_response, request, user, "auth.signin", {"via": "registration"})


async def login_options(request: Request) -> JSONResponse:
    _refuse_while_limited(request)
    _count_challenge(request)
    return JSONResponse(await run_in_threadpool(passkeys.login_options, request.app.state.store, request.app.state.config))


def _refuse_while_limited(request: Request) -> None:
    _refuse_if_waiting(request.app.state.throttles.sign_in_failures.retry_after(client_address(request)), "failed sign-ins")


async def login(request: Request) -> JSONResponse:
    _refuse_while_limited(request)
    body = _object(await read_json(request), {"handle", "credential"})
    st, config = request.app.state.store, request.app.state.config
    try:
        user, cred_id = await run_in_threadpool(passkeys.finish_login, st, config, body.get("handle"), body.get("credential"))
    except passkeys.SignInFailed as failure:
        address, reason = client_address(request), failure.reason
        request.app.state.throttles.sign_in_failures.failed(address)

        def record() -> None:
            with st.write() as conn:
                audit.record(conn, "anonymous", "auth.signin_failed", address, {"reason": reason})

        await run_in_threadpool(record)
        raise
    return await run_in_threadpool(_signed_in_response, request, user, "auth.signin", {"credential": cred_id[:16]})


async def logout(request: Request) -> JSONResponse:
    """Ends this browser's session (`{"everywhere": true}`: every session of the user)."""
    body = await read_optional_json(request)
    everywhere = _object(body, {"everywhere"}).get("everywhere", False)
    user: User = request.state.user
    st, config = request.app.state.store, request.app.state.config
    raw = getattr(request.state, "session", None)

    def end() -> int:
        with st.write() as conn:
            if everywhere is True:
                ended = identity.end_sessions_of(conn, user.name, utc_now())
            else:
                ended = 0
                if raw:
                    identity.end_session(conn, raw, utc_now())
                    ended = 1
            audit.record(conn, user.name, "auth.signout", user.name, {"sessions": ended, "everywhere": everywhere is True})
            return ended

    ended = await run_in_threadpool(end)
    response = JSONResponse({"ended": ended})
    sessions.clear_cookie(response, config)
    return response


# --- passkeys ----------------------------------------------------------------------------------


async def _listed(request: Request, what: str, reader: Callable[[Any, str | None], list[dict[str, Any]]]) -> JSONResponse:
    """Your own `what`; admins may ask for `?user=NAME`, or `?user=*` for everyone's."""
    user: User = request.state.user
    wanted = request.query_params.get("user", user.name)
    if wanted != user.name and not user.is_admin:
        raise NotAllowed(f"only admins may see other users' {what}")

    def read() -> list[dict[str, Any]]:
        with request.app.state.store.read() as conn:
            return reader(conn, None if wanted == "*" else wanted)

    return JSONResponse({what: await run_in_threadpool(read)})


async def list_passkeys(request: Request) -> JSONResponse:
    return await _listed(request, "passkeys", identity.list_credentials)


async def remove_passkey(request: Request) -> JSONResponse:
    cred_id = request.path_params["passkey_id"]
    await run_in_threadpool(users.remove_passkey, request.app.state.store, request.state.user, cred_id)
    return JSONResponse({"removed": cred_id})


# --- tokens ------------------------------------------------------------------------------------


async def list_tokens(request: Request) -> JSONResponse:
    return await _listed(request, "tokens", identity.list_tokens)


async def create_token(request: Request) -> JSONResponse:
    """`{"label": "…", "user": NAME}`: a token for yourself, or (admins) for anyone. Shown once."""
    user: User = request.state.user
    body = _object(await read_json(request), {"label", "user"})
    owner = body.get("user", user.name)
    label = body.get("label", "")
    if not isinstance(label, str) or len(label) > 80:
        raise invalid("label", "a text of at most 80 characters")
    if not isinstance(owner, str):
        raise invalid("user", "a user name")
    if owner != user.name and not user.is_admin:
        raise NotAllowed("only admins may create tokens for other users")
    made = await run_in_threadpool(issue_token, request.app.state.store, owner, label.strip(), by=user.name)
    return JSONResponse(made, status_code=201)


async def revoke_token(request: Request) -> JSONResponse:
    token_id = request.path_params["token_id"]
    await run_in_threadpool(users.revoke_token, request.app.state.store, request.state.user, token_id)
    return JSONResponse({"token": token_id, "revoked": True})


# --- users (admin) -----------------------------------------------------------------------------


async def list_users(request: Request) -> JSONResponse:
    def read() -> list[dict[str, Any]]:
        with request.app.state.store.read() as conn:
            return identity.list_users(conn)

    return JSONResponse({"users": await run_in_threadpool(read)})


async def list_people(request: Request) -> JSONResponse:
    """`{"people": [{"name", "display", "active"}]}`: display names for any signed-in user."""

    def read() -> list[dict[str, Any]]:
        with request.app.state.store.read() as conn:
            return identity.people(conn)

    return JSONResponse({"people": await run_in_threadpool(read)})


async def create_user(request: Request) -> JSONResponse:
    """`{"name", "role", "display"}`; answers with the user and an invite link for their passkey."""
    admin: User = request.state.user
    body = _object(await read_json(request), {"name", "role", "display"})
    display = body.get("display", "")
    if not isinstance(display, str):
        raise invalid("display", "a text")
    st, config = request.app.state.store, request.app.state.config
    made = await run_in_threadpool(add_user, st, body.get("name"), body.get("role"), display, by=admin.name)
    invite = await run_in_threadpool(passkeys.create_invite, st, config, made.name, admin.name)
    return JSONResponse(
        {"user": {"name": made.name, "role": made.role, "display": made.display}, "invite": invite}, status_code=201
    )


async def update_user(request: Request) -> JSONResponse:
    """`{"role", "display", "disabled"}`. Disabling ends the user's sessions and revokes their tokens."""
    admin: User = request.state.user
    name = request.path_params["name"]
    body = _object(await read_json(request), {"role", "display", "disabled"})
    if not body:
        raise invalid("", "nothing to change: send role, display or disabled")
    if "role" in body and body["role"] not in ROLES:
        raise invalid("role", "must be rep, manager, office or admin")
    if "display" in body and (not isinstance(body["display"], str) or not 0 < len(body["display"].strip()) <= 200):
        raise invalid("display", "1–200 characters")
    if "disabled" in body and not isinstance(body["disabled"], bool):
        raise invalid("disabled", "must be true or false")

    def update() -> dict[str, Any]:
        with request.app.state.store.write() as conn:
            before = identity.any_user(conn, name)
            if before is None:
                raise NotFound(f"no user named {name!r}")
            losing_admin = (
                before["role"] == "admin"
                and not before["disabled"]
                and (body.get("role", "admin") != "admin" or body.get("disabled") is True)
            )
            if losing_admin and identity.count_admins(conn) <= 1:
                raise Conflict("this is the last admin; make someone else admin first")
            identity.update_user(conn, name, body)
            changed: dict[str, Any] = {k: [before[k], v] for k, v in body.items() if before[k] != v}
            if body.get("disabled") is True:
                changed["sessions_ended"] = identity.end_sessions_of(conn, name, utc_now())
                changed["tokens_revoked"] = identity.revoke_all_tokens(conn, name, utc_now())
            audit.record(conn, admin.name, "user.update", name, changed)
            return identity.any_user(conn, name) or {}

    return JSONResponse({"user": await run_in_threadpool(update)})


async def invite_user(request: Request) -> JSONResponse:
    """A new one-time passkey link for a user (first passkey, or a lost phone)."""
    admin: User = request.state.user
    st, config = request.app.state.store, request.app.state.config
    invite = await run_in_threadpool(passkeys.create_invite, st, config, request.path_params["name"], admin.name)
    return JSONResponse({"invite": invite}, status_code=201)
