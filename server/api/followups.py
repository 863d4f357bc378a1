"""Follow-up items across cards, their rules, and what customers changed (sync/cards/followups.py)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from sync.cards import followups
from sync.errors import invalid

from .body import read_json
from .params import day, only, whole_number


async def list_items(request: Request) -> JSONResponse:
    """`GET /follow-ups?state=open|overdue&date=&owner=`: items not resolved, overdue first."""
    params = request.query_params
    only(params, {"state", "date", "owner"})
    state = params.get("state") or "open"
    if state not in ("open", "overdue"):
        raise invalid("state", "open or overdue")
    found = await run_in_threadpool(
        followups.open_items,
        request.app.state.store,
        request.state.user,
        day(params),
        only_overdue=state == "overdue",
        owner=params.get("owner") or None,
    )
    return JSONResponse(found)


async def get_settings(request: Request) -> JSONResponse:
    return JSONResponse(await run_in_threadpool(followups.read_settings, request.app.state.store))


async def save_settings(request: Request) -> JSONResponse:
    body = await read_json(request)
    found = await run_in_threadpool(followups.save_settings, request.app.state.store, request.state.user, body)
    return JSONResponse(found)


async def customer_updates(request: Request) -> JSONResponse:
    """`GET /customer-updates?days=30&date=`: customers' own corrections on the caller's cards."""
    params = request.query_params
    only(params, {"days", "date"})
    days = whole_number(params, "days", 30, *followups.UPDATES_DAYS)
    found = await run_in_threadpool(followups.customer_updates, request.app.state.store, request.state.user, day(params), days)
    return JSONResponse(found, headers={"cache-control": "private, no-store"})
