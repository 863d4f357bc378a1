"""Teams over HTTP: everyone signed in lists the teams they belong to; admins make and change them."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

from sync.people import teams

from .body import read_json
from .calls import as_user


async def list_teams(request: Request) -> JSONResponse:
    return await as_user(request, teams.visible_teams, key="teams")


async def create_team(request: Request) -> JSONResponse:
    return await as_user(request, teams.save, await read_json(request), key="team", status=201)


async def update_team(request: Request) -> JSONResponse:
    return await as_user(request, teams.save, await read_json(request), request.path_params["team_id"], key="team")
