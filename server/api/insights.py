"""The dashboard's figures (JSON, and CSV per figure) and the data-quality report."""
from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from sync import charts, dashboard, quality
from sync.errors import invalid
from sync.spreadsheet import write_csv

from .reminders import _day


def _filters(request: Request, *extra: str) -> dict[str, str]:
    return {k: v for k, v in request.query_params.items() if k not in ("date", *extra)}


async def figures(request: Request) -> JSONResponse:
    found = await run_in_threadpool(dashboard.figures, request.app.state.store, request.state.user,
                                    _filters(request), _day(request.query_params.get("date")))
    return JSONResponse(found)


async def figure_csv(request: Request) -> Response:
    figure = request.query_params.get("figure", "")
    found = await run_in_threadpool(dashboard.figures, request.app.state.store, request.state.user,
                                    _filters(request, "figure"), _day(request.query_params.get("date")))
    headers, rows = dashboard.figure_rows(found, figure)
    return Response(write_csv(headers, rows), media_type="text/csv; charset=utf-8",
                    headers={"content-disposition": f'attachment; filename="fieldcards-{figure}.csv"'})


async def quality_report(request: Request) -> JSONResponse:
    stale = request.query_params.get("stale_days", "90")
    if not stale.isdigit() or not 1 <= int(stale) <= 3650:
        raise invalid("stale_days", "a number of days from 1 to 3650")
    found = await run_in_threadpool(quality.report, request.app.state.store, request.state.user,
                                    _day(request.query_params.get("date")), stale_days=int(stale),
                                    region=request.app.state.config.default_region)
    return JSONResponse(found)


async def figure_svg(request: Request) -> Response:
    figure = request.query_params.get("figure", "")
    found = await run_in_threadpool(dashboard.figures, request.app.state.store, request.state.user,
                                    _filters(request, "figure"), _day(request.query_params.get("date")))
    return Response(charts.chart(found, figure), media_type="image/svg+xml",
                    headers={"cache-control": "private, max-age=60"})
