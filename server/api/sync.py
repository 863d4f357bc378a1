"""`POST /api/v1/sync`: one round trip that pushes a device's mutations and pulls what changed."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from sync.people import users
from sync.protocol.engine import DeviceRevoked
from sync.protocol.model import parse_sync_request

from .. import memory
from .body import read_json


async def sync(request: Request) -> Response:
    user = request.state.user
    body = parse_sync_request(await read_json(request))
    engine = request.app.state.engine

    def sync_and_render() -> bytes:
        try:
            return engine.sync(
                user, body, user_agent=request.headers.get("user-agent"), credential=getattr(request.state, "credential", None)
            ).render()
        except DeviceRevoked:
            users.end_revoked_session(engine.store, user, getattr(request.state, "session", None))
            raise

    def answer() -> bytes:
        body = sync_and_render()
        memory.give_back_after_large(len(body))
        return body

    return Response(await run_in_threadpool(answer), media_type="application/json")
