"""Surveys an admin defines, and many survey links at once as a spreadsheet (sync/outward/surveys.py, sync/office/survey_links.py)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from sync.office import survey_links as bulk
from sync.outward import surveys

from .body import read_json


async def list_surveys(request: Request) -> JSONResponse:
    return JSONResponse(await run_in_threadpool(surveys.list_surveys, request.app.state.store))


async def create_survey(request: Request) -> JSONResponse:
    body = await read_json(request)
    found = await run_in_threadpool(surveys.create, request.app.state.store, request.state.user, body)
    return JSONResponse(found, status_code=201)


async def update_survey(request: Request) -> JSONResponse:
    body = await read_json(request)
    found = await run_in_threadpool(
        surveys.update, request.app.state.store, request.state.user, request.path_params["survey_id"], body
    )
    return JSONResponse(found)


async def survey_links(request: Request) -> Response:
    """`POST /surveys/{id}/links`: a link to the survey for each card given, as XLSX or CSV."""
    body = await read_json(request)
    data, media, filename, count = await request.app.state.heavy.run(
        bulk.bulk_links,
        request.app.state.engine,
        request.state.user,
        request.path_params["survey_id"],
        body,
        request.app.state.config.public_origin,
    )
    return Response(
        data,
        media_type=media,
        headers={"content-disposition": f'attachment; filename="{filename}"', "x-fieldcards-count": str(count)},
    )
