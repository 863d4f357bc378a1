"""Webhook endpoints over HTTP (admins): register, change, test, read the delivery log, redeliver."""
from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from sync.outward import webhooks

from .body import read_json


async def list_endpoints(request: Request) -> JSONResponse:
    found = await run_in_threadpool(webhooks.list_endpoints, request.app.state.store, request.state.user)
    return JSONResponse({"webhooks": found})


async def create_endpoint(request: Request) -> JSONResponse:
    body = await read_json(request)
    found = await run_in_threadpool(webhooks.create_endpoint, request.app.state.store, request.state.user, body)
    return JSONResponse({"webhook": found}, status_code=201)


async def update_endpoint(request: Request) -> JSONResponse:
    body = await read_json(request)
    found = await run_in_threadpool(webhooks.update_endpoint, request.app.state.store, request.state.user,
                                    request.path_params["webhook_id"], body)
    return JSONResponse({"webhook": found})


async def test_endpoint(request: Request) -> JSONResponse:
    found = await run_in_threadpool(webhooks.send_test, request.app.state.store, request.state.user,
                                    request.path_params["webhook_id"], request.app.state.config.webhook_settings)
    return JSONResponse(found)


async def deliveries(request: Request) -> JSONResponse:
    found = await run_in_threadpool(webhooks.deliveries, request.app.state.store, request.state.user,
                                    request.path_params["webhook_id"])
    return JSONResponse({"deliveries": found})


async def redeliver(request: Request) -> JSONResponse:
    found = await run_in_threadpool(webhooks.redeliver, request.app.state.store, request.state.user,
                                    request.path_params["delivery_id"])
    return JSONResponse(found, status_code=202)
