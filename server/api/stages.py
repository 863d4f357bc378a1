"""Lifecycle stages over HTTP: the rules and the win-back list (sync/office/stages.py)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from sync.office import stages

from .body import read_json
from .params import day, only


async def get_rules(request: Request) -> JSONResponse:
    return JSONResponse(await run_in_threadpool(stages.read_rules, request.app.state.store))


async def save_rules(request: Request) -> JSONResponse:
    body = await read_json(request)
    return JSONResponse(await run_in_threadpool(stages.save_rules, request.app.state.store, request.state.user, body))


async def win_back(request: Request) -> JSONResponse:
    only(request.query_params, {"date"})
    found = await run_in_threadpool(stages.win_back, request.app.state.store, request.state.user, day(request.query_params))
    return JSONResponse(found)
