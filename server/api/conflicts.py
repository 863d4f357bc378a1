"""The conflict inbox: list conflict records, resolve one as a normal change."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from sync.cards import queries

from .body import read_json


async def list_conflicts(request: Request) -> JSONResponse:
    user = request.state.user
    found = await run_in_threadpool(queries.conflicts, request.app.state.store, user, dict(request.query_params))
    return JSONResponse(found)


async def resolve(request: Request) -> JSONResponse:
    user = request.state.user
    body = await read_json(request)
    card = await run_in_threadpool(request.app.state.engine.resolve_conflict, user, request.path_params["conflict_id"], body)
    return JSONResponse({"card": card})
