"""Admin endpoints: devices (list, revoke), backup status, restore points, restore."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from sync import audit, db
from sync.db import identity
from sync.people import devices as device_names
from sync.times import utc_now
from sync.errors import Conflict, NotFound, invalid

from ..backup import litestream
from ..backup.drill import run_drill
from .body import read_json, read_optional_json
from .params import whole_number


async def devices(request: Request) -> JSONResponse:
    """Newest sync first, in pages: `limit` (default 500) and `after` (the `next` of the last page)."""
    limit = whole_number(request.query_params, "limit", 500, 1, 1000)
    offset = whole_number(request.query_params, "after", 0, 0, 10**9)

    def read() -> list[dict]:
        with request.app.state.store.read() as conn:
            return db.all_devices(conn, limit=limit + 1, offset=offset)

    found = await run_in_threadpool(read)
    more = len(found) > limit
    return JSONResponse({"devices": found[:limit], "next": str(offset + limit) if more else None})


async def name_device(request: Request) -> JSONResponse:
    """`{"name": "王伟的华为"}` names one's own device (an admin: any); `""` clears the name."""
    body = await read_json(request)
    if not isinstance(body, dict) or set(body) != {"name"}:
        raise invalid("name", 'send {"name": "…"}, at most 60 characters ("" clears it)')
    device = request.path_params["device_id"]
    found = await run_in_threadpool(device_names.rename, request.app.state.store, request.state.user, device, body["name"])
    return JSONResponse({"device": found["id"], "name": found["name"]})


async def revoke_device(request: Request) -> JSONResponse:
    """Revoke a (lost) device. With `{"credential": true}` the token it last synced with is revoked
    too (or its browser session ended), so the same token cannot start over as a new device."""
    user = request.state.user
    device = request.path_params["device_id"]
    body = await read_optional_json(request)
    if not isinstance(body, dict) or set(body) - {"credential"} or not isinstance(body.get("credential", False), bool):
        raise invalid("credential", 'send {} or {"credential": true} to revoke its token or session too')
    also = body.get("credential", False)

    def write() -> dict | None:
        with request.app.state.store.write() as conn:
            if not db.revoke_device(conn, device, utc_now()):
                return None
            audit.record(conn, user.name, "device.revoke", device)
            credential = db.device_credential(conn, device) if also else None
            if credential and credential.startswith("token:"):
                identity.revoke_token(conn, credential.removeprefix("token:"), utc_now())
                audit.record(conn, user.name, "token.revoke", credential.removeprefix("token:"), {"device": device})
            elif credential and credential.startswith("session:"):
                identity.end_session_by_hash(conn, credential.removeprefix("session:"), utc_now())
                audit.record(conn, user.name, "auth.signout", device, {"device": device, "reason": "device revoked"})
            return {"device": device, "revoked": True, "credential": credential.split(":")[0] if credential else None}

    found = await run_in_threadpool(write)
    if found is None:
        raise NotFound("no such device")
    return JSONResponse(found)


async def backup_status(request: Request) -> JSONResponse:
    fresh = request.query_params.get("fresh") in ("1", "true")
    return JSONResponse(await run_in_threadpool(request.app.state.backup.status, fresh=fresh))


async def restore_points(request: Request) -> JSONResponse:
    limit = whole_number(request.query_params, "limit", 0, 1, 1_000_000)
    points = await request.app.state.heavy.run(litestream.restore_points, request.app.state.config)
    if limit:
        points = points[-limit:]  # the newest: what an admin usually restores to
    return JSONResponse({"restore_points": points})


async def restore(request: Request) -> JSONResponse:
    """`{"to": TIME, "dry_run": true}` previews; without dry_run the server restores while it runs."""
    user = request.state.user
    body = await read_json(request)
    if not isinstance(body, dict) or not isinstance(body.get("to"), str):
        raise invalid("to", 'required: an RFC 3339 time or "latest"')
    unknown = sorted(set(body) - {"to", "dry_run", "exclude"})
    if unknown:
        raise invalid(unknown[0], "unknown field")
    exclude = body.get("exclude", [])
    if (
        not isinstance(exclude, list)
        or len(exclude) > 10_000
        or not all(isinstance(e, int) and not isinstance(e, bool) and 0 < e < 2**62 for e in exclude)
    ):
        raise invalid("exclude", "a list of the ids of server work not to re-apply (preview: server_work.entries)")
    dry_run = body.get("dry_run", False)
    if not isinstance(dry_run, bool):
        raise invalid("dry_run", "must be true or false")
    restorer = request.app.state.restorer
    if dry_run:
        return JSONResponse({"preview": await request.app.state.heavy.run(restorer.preview, body["to"])})
    if not request.app.state.restore_lock.acquire(blocking=False):
        raise Conflict("a restore is already running")
    try:
        outcome = await request.app.state.heavy.run(restorer.restore, body["to"], by=user.name, exclude=exclude)
    finally:
        request.app.state.restore_lock.release()
    return JSONResponse({"restore": outcome})


async def audit_log(request: Request) -> JSONResponse:
    after = whole_number(request.query_params, "after", 0, 0, 2**62)

    def read() -> list[dict]:
        with request.app.state.store.read() as conn:
            return db.audit_entries(conn, after=after, limit=1000)

    return JSONResponse({"audit": await run_in_threadpool(read)})


async def drill(request: Request) -> JSONResponse:
    """Run a restore drill now (the admin screen's button); the result is recorded like a scheduled one."""
    if not request.app.state.restore_lock.acquire(blocking=False):
        raise Conflict("a restore or drill is already running")
    try:
        result = await request.app.state.heavy.run(run_drill, request.app.state.config, request.app.state.store)
    finally:
        request.app.state.restore_lock.release()
    request.app.state.backup.status(fresh=True)
    return JSONResponse({"drill": result})
