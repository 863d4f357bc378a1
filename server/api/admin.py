"""Admin endpoints: devices (list, revoke)."""
from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from sync import store
from sync.engine import utc_now
from sync.errors import NotFound

from ..auth.roles import require_admin
from ..auth.tokens import authenticate


async def devices(request: Request) -> JSONResponse:
    user = await run_in_threadpool(authenticate, request)
    require_admin(user)

    def read() -> list[dict]:
        with request.app.state.store.read() as conn:
            return store.all_devices(conn)

    return JSONResponse({"devices": await run_in_threadpool(read)})


async def revoke_device(request: Request) -> JSONResponse:
    user = await run_in_threadpool(authenticate, request)
    require_admin(user)
    device = request.path_params["device_id"]

    def write() -> bool:
        with request.app.state.store.write() as conn:
            return store.revoke_device(conn, device, utc_now())

    if not await run_in_threadpool(write):
        raise NotFound("no such device")
    return JSONResponse({"device": device, "revoked": True})
