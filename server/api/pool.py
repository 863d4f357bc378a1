"""The shared pool over HTTP (sync/cards/pool.py): the rep's pool view, its rules, the cards about to
return to it, and the offline duplicate check's buckets. Claims travel in `/sync` (`card.claim`)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from sync.cards import pool

from .body import read_json
from .params import day, only


async def view(request: Request) -> JSONResponse:
    found = await run_in_threadpool(pool.view, request.app.state.store, request.state.user, dict(request.query_params))
    return JSONResponse(found)


async def get_settings(request: Request) -> JSONResponse:
    store = request.app.state.store

    def read() -> dict:
        with store.read() as conn:
            return pool.settings(conn)

    return JSONResponse({"settings": await run_in_threadpool(read)})


async def save_settings(request: Request) -> JSONResponse:
    body = await read_json(request)
    found = await run_in_threadpool(pool.save_settings, request.app.state.store, request.state.user, body)
    return JSONResponse({"settings": found})


async def returning(request: Request) -> JSONResponse:
    """`date`: the person's today (the app sends it); the cards going back within `warn_days`."""
    only(request.query_params, {"date"})
    today = day(request.query_params)
    found = await run_in_threadpool(pool.returning, request.app.state.store, request.state.user, today)
    return JSONResponse({"cards": found})


async def buckets(request: Request) -> Response:
    found = await run_in_threadpool(pool.buckets, request.app.state.store)
    etag = f'"{found["version"]}"'
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers={"etag": etag})  # no body: "null" broke the 304 (h11 refused it)
    return JSONResponse(found, headers={"etag": etag, "cache-control": "private, no-cache"})
