"""Reminders (the Today view) and the private calendar feed."""
from __future__ import annotations

from datetime import date, datetime, timezone

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from sync import reminders as rem
from sync.errors import invalid


def _day(text: str | None) -> date:
    """The person's own date (the app sends it: "today" depends on where they are); else UTC."""
    if not text:
        return datetime.now(timezone.utc).date()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise invalid("date", "a date as YYYY-MM-DD") from None


async def reminders(request: Request) -> JSONResponse:
    params = request.query_params
    unknown = sorted(set(params) - {"date", "owner", "stale_days"})
    if unknown:
        raise invalid(unknown[0], "unknown parameter")
    stale = params.get("stale_days", str(rem.DEFAULT_STALE_DAYS))
    if not stale.isdigit():
        raise invalid("stale_days", "a number of days from 1 to 3650")
    found = await run_in_threadpool(rem.reminders, request.app.state.store, request.state.user, _day(params.get("date")),
                                    owner=params.get("owner") or None, stale_days=int(stale))
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
    return Response(body, media_type="text/calendar; charset=utf-8",
                    headers={"cache-control": "private, max-age=300", "referrer-policy": "no-referrer"})
