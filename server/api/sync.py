"""`POST /api/v1/sync`: one round trip that pushes a device's mutations and pulls what changed."""
from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from sync import audit
from sync.db import identity
from sync.protocol.engine import DeviceRevoked
from sync.protocol.model import parse_sync_request
from sync.times import utc_now

from .body import read_json


async def sync(request: Request) -> Response:
    user = request.state.user
    body = parse_sync_request(await read_json(request))
    engine = request.app.state.engine

    def sync_and_render() -> bytes:
        try:
            return engine.sync(user, body, user_agent=request.headers.get("user-agent"),
                               credential=getattr(request.state, "credential", None)).render()
        except DeviceRevoked:
            # A revoked (lost) phone wipes itself on this answer; its browser session ends with it,
            # so the same cookie cannot start over as a new device.
            session = getattr(request.state, "session", None)
            if session:
                with request.app.state.store.write() as conn:
                    identity.end_session(conn, session, utc_now())
                    audit.record(conn, user.name, "auth.signout", user.name, {"reason": "device revoked"})
            raise

    return Response(await run_in_threadpool(sync_and_render), media_type="application/json")
