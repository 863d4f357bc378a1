"""Admin endpoints: devices (list, revoke), backup status, restore points, restore."""
from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from sync import audit, store
from sync.engine import utc_now
from sync.errors import Conflict, NotFound, invalid

from ..backup import litestream
from ..backup.drill import run_drill
from .body import read_json


async def devices(request: Request) -> JSONResponse:

    def read() -> list[dict]:
        with request.app.state.store.read() as conn:
            return store.all_devices(conn)

    return JSONResponse({"devices": await run_in_threadpool(read)})


async def revoke_device(request: Request) -> JSONResponse:
    user = request.state.user
    device = request.path_params["device_id"]

    def write() -> bool:
        with request.app.state.store.write() as conn:
            found = store.revoke_device(conn, device, utc_now())
            if found:
                audit.record(conn, user.name, "device.revoke", device)
            return found

    if not await run_in_threadpool(write):
        raise NotFound("no such device")
    return JSONResponse({"device": device, "revoked": True})


async def backup_status(request: Request) -> JSONResponse:
    fresh = request.query_params.get("fresh") in ("1", "true")
    return JSONResponse(await run_in_threadpool(request.app.state.backup.status, fresh=fresh))


async def restore_points(request: Request) -> JSONResponse:
    raw_limit = request.query_params.get("limit")
    if raw_limit is not None and (not raw_limit.isdigit() or int(raw_limit) < 1):
        raise invalid("limit", "must be a whole number of at least 1")
    points = await run_in_threadpool(litestream.restore_points, request.app.state.config)
    if raw_limit is not None:
        points = points[-int(raw_limit):]  # the newest: what an admin usually restores to
    return JSONResponse({"restore_points": points})


async def restore(request: Request) -> JSONResponse:
    """`{"to": TIME, "dry_run": true}` previews; without dry_run the server restores while it runs."""
    user = request.state.user
    body = await read_json(request)
    if not isinstance(body, dict) or not isinstance(body.get("to"), str):
        raise invalid("to", 'required: an RFC 3339 time or "latest"')
    unknown = sorted(set(body) - {"to", "dry_run"})
    if unknown:
        raise invalid(unknown[0], "unknown field")
    dry_run = body.get("dry_run", False)
    if not isinstance(dry_run, bool):
        raise invalid("dry_run", "must be true or false")
    restorer = request.app.state.restorer
    if dry_run:
        return JSONResponse({"preview": await run_in_threadpool(restorer.preview, body["to"])})
    if not request.app.state.restore_lock.acquire(blocking=False):
        raise Conflict("a restore is already running")
    try:
        outcome = await run_in_threadpool(restorer.restore, body["to"], by=user.name)
    finally:
        request.app.state.restore_lock.release()
    return JSONResponse({"restore": outcome})


async def audit_log(request: Request) -> JSONResponse:
    try:
        after = int(request.query_params.get("after", "0"))
    except ValueError:
        raise invalid("after", "must be an entry number") from None

    def read() -> list[dict]:
        with request.app.state.store.read() as conn:
            return store.audit_entries(conn, after=after, limit=1000)

    return JSONResponse({"audit": await run_in_threadpool(read)})


async def drill(request: Request) -> JSONResponse:
    """Run a restore drill now (the admin screen's button); the result is recorded like a scheduled one."""
    if not request.app.state.restore_lock.acquire(blocking=False):
        raise Conflict("a restore or drill is already running")
    try:
        result = await run_in_threadpool(run_drill, request.app.state.config, request.app.state.store)
    finally:
        request.app.state.restore_lock.release()
    request.app.state.backup.status(fresh=True)
    return JSONResponse({"drill": result})
