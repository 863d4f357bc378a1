"""Rep scorecards over HTTP: the figures per rep and period, one figure as CSV, and the targets
(sync/office/scorecards.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from sync.office import scorecards
from sync.office.spreadsheet import write_csv

from .body import read_json
from .params import day, only


async def _scorecards(request: Request) -> dict[str, Any]:
    """The scorecards of `from`..`to` (by default the 30 days up to `to`, itself today in UTC by
    default), of one `rep` or all the caller may see, computed in the heavy lane."""
    params = request.query_params
    end = day(params, "to")
    start = day(params, "from") if params.get("from") else end - timedelta(days=29)
    return await request.app.state.heavy.run(
        scorecards.scorecards, request.app.state.store, request.state.user, start, end, rep=params.get("rep") or None
    )


async def figures(request: Request) -> JSONResponse:
    only(request.query_params, {"from", "to", "rep"})
    return JSONResponse(await _scorecards(request))


async def figure_csv(request: Request) -> Response:
    only(request.query_params, {"from", "to", "rep", "figure"})
    figure = request.query_params.get("figure") or "all"
    found = await _scorecards(request)
    headers, rows = scorecards.figure_rows(found, figure)
    name = f"fieldcards-scorecard-{figure}-{found['from']}-{found['to']}.csv"
    return Response(
        write_csv(headers, rows),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )


async def save_targets(request: Request) -> JSONResponse:
    body = await read_json(request)
    return JSONResponse(await run_in_threadpool(scorecards.save_targets, request.app.state.store, request.state.user, body))
