"""Rep scorecards over HTTP: the figures per rep and period, one figure as CSV, and the targets
(sync/office/scorecards.py)."""

from __future__ import annotations

from datetime import date, timedelta

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from sync.office import scorecards
from sync.office.spreadsheet import write_csv

from .body import read_json
from .params import day, only


def _period(request: Request) -> tuple[date, date]:
    """`from`..`to`; by default the 30 days up to `to` (itself today in UTC by default)."""
    params = request.query_params
    end = day(params, "to")
    start = day(params, "from") if params.get("from") else end - timedelta(days=29)
    return start, end


async def figures(request: Request) -> JSONResponse:
    only(request.query_params, {"from", "to", "rep"})
    start, end = _period(request)
    found = await request.app.state.heavy.run(
        scorecards.scorecards,
        request.app.state.store,
        request.state.user,
        start,
        end,
        rep=request.query_params.get("rep") or None,
    )
    return JSONResponse(found)


async def figure_csv(request: Request) -> Response:
    only(request.query_params, {"from", "to", "rep", "figure"})
    start, end = _period(request)
    figure = request.query_params.get("figure") or "all"
    found = await request.app.state.heavy.run(
        scorecards.scorecards,
        request.app.state.store,
        request.state.user,
        start,
        end,
        rep=request.query_params.get("rep") or None,
    )
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
