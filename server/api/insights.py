"""The dashboard's figures (JSON, and CSV per figure) and the data-quality report."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from sync.office import charts, dashboard, quality
from sync.office.spreadsheet import write_csv

from .params import day, whole_number


def _filters(request: Request, *extra: str) -> dict[str, str]:
    return {k: v for k, v in request.query_params.items() if k not in ("date", *extra)}


async def figures(request: Request) -> JSONResponse:
    found = await request.app.state.heavy.run(
        dashboard.figures, request.app.state.store, request.state.user, _filters(request), day(request.query_params)
    )
    return JSONResponse(found)


async def figure_csv(request: Request) -> Response:
    figure = request.query_params.get("figure", "")
    found = await request.app.state.heavy.run(
        dashboard.figures, request.app.state.store, request.state.user, _filters(request, "figure"), day(request.query_params)
    )
    headers, rows = dashboard.figure_rows(found, figure)
    return Response(
        write_csv(headers, rows),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="fieldcards-{figure}.csv"'},
    )


async def quality_report(request: Request) -> JSONResponse:
    stale = whole_number(request.query_params, "stale_days", 90, 1, 3650)
    found = await request.app.state.heavy.run(
        quality.report,
        request.app.state.store,
        request.state.user,
        day(request.query_params),
        stale_days=stale,
        region=request.app.state.config.default_region,
    )
    return JSONResponse(found)


async def figure_svg(request: Request) -> Response:
    figure = request.query_params.get("figure", "")
    found = await request.app.state.heavy.run(
        dashboard.figures, request.app.state.store, request.state.user, _filters(request, "figure"), day(request.query_params)
    )
    return Response(charts.chart(found, figure), media_type="image/svg+xml", headers={"cache-control": "private, max-age=60"})
