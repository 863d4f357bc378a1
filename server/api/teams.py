"""Teams over HTTP: everyone signed in lists the teams they belong to; admins make and change them."""
from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from sync.people import teams

from .body import read_json


async def list_teams(request: Request) -> JSONResponse:
    found = await run_in_threadpool(teams.visible_teams, request.app.state.store, request.state.user)
    return JSONResponse({"teams": found})


async def create_team(request: Request) -> JSONResponse:
    body = await read_json(request)
    found = await run_in_threadpool(teams.save, request.app.state.store, request.state.user, body)
    return JSONResponse({"team": found}, status_code=201)


async def update_team(request: Request) -> JSONResponse:
    body = await read_json(request)
    found = await run_in_threadpool(teams.save, request.app.state.store, request.state.user, body,
                                    request.path_params["team_id"])
    return JSONResponse({"team": found})
