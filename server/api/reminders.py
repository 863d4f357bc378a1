"""Reminders (the Today view) and the private calendar feed."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from sync.office import reminders as rem

from .params import day, only, whole_number


async def reminders(request: Request) -> JSONResponse:
    params = request.query_params
    only(params, {"date", "owner", "stale_days"})
    stale = whole_number(params, "stale_days", rem.DEFAULT_STALE_DAYS, 1, 3650)
    found = await run_in_threadpool(
        rem.reminders,
        request.app.state.store,
        request.state.user,
        day(params),
        owner=params.get("owner") or None,
        stale_days=stale,
    )
    return JSONResponse(found)


async def new_calendar_key(request: Request) -> JSONResponse:
    """A new private feed link for the signed-in user; the previous link stops working."""
    key = await run_in_threadpool(rem.new_feed_key, request.app.state.store, request.state.user)
    origin = request.app.state.config.public_origin
    return JSONResponse({"url": f"{origin}/api/v1/calendar.ics?key={key}"}, status_code=201)


async def calendar(request: Request) -> Response:
    st = request.app.state.store
    user = await run_in_threadpool(rem.feed_user, st, request.query_params.get("key", ""))
    body = await run_in_threadpool(rem.calendar, st, user, request.app.state.config.public_origin)
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={"cache-control": "private, max-age=300", "referrer-policy": "no-referrer"},
    )
