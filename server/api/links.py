"""Customer links over HTTP: phones reserve signed tokens and revoke links; customers open and
answer them with no account (sync/cards/links.py, sync/outward/customers.py)."""

from __future__ import annotations

from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response

from sync.outward import customers
from sync.errors import RateLimited

from ..auth.guard import client_address
from .body import read_json
from .params import whole_number


def _count(request: Request) -> None:
    # A link is for one person: 30 requests per 10 minutes per link, 120 per address, then 429.
    throttles = request.app.state.throttles
    for limiter, key in (
        (throttles.per_link, request.path_params.get("token", "")[:100]),
        (throttles.per_link_address, client_address(request)),
    ):
        wait = limiter.failed(key)
        if wait is not None:
            raise RateLimited("too many requests for this link; wait a few minutes and try again", wait)


async def reserve(request: Request) -> JSONResponse:
    """`GET /links/reserve?n=10`: tokens a phone keeps so that it can show a link's QR offline."""
    count = whole_number(request.query_params, "n", 10, 1, 50)
    found = await run_in_threadpool(customers.reserve, request.app.state.engine, count)
    origin = request.app.state.config.public_origin
    return JSONResponse({"links": [{**item, "url": f"{origin}/c/{item['token']}"} for item in found]})


async def revoke(request: Request) -> JSONResponse:
    found = await run_in_threadpool(
        customers.revoke, request.app.state.engine, request.state.user, request.path_params["link_id"]
    )
    return JSONResponse(found)


async def public_view(request: Request) -> JSONResponse:
    _count(request)
    found = await run_in_threadpool(
        customers.public_view, request.app.state.engine, request.path_params["token"], client_address(request)
    )
    return JSONResponse(found, headers={"cache-control": "no-store", "referrer-policy": "no-referrer"})


async def public_answer(request: Request) -> JSONResponse:
    _count(request)
    body = await read_json(request)
    found = await run_in_threadpool(
        customers.answer, request.app.state.engine, request.path_params["token"], body, client_address(request)
    )
    return JSONResponse(found, headers={"cache-control": "no-store"})


async def page(request: Request) -> Response:
    """`/c/{token}`: the customer's page (static; it reads the token from its own address)."""
    path = Path(request.app.state.config.pwa_dir) / "customer.html"
    return FileResponse(
        path, media_type="text/html; charset=utf-8", headers={"cache-control": "no-store", "referrer-policy": "no-referrer"}
    )
