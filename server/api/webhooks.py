"""Webhook endpoints over HTTP (admins): register, change, test, read the delivery log, redeliver."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

from sync.outward import webhooks

from .body import read_json
from .calls import as_user


async def list_endpoints(request: Request) -> JSONResponse:
    return await as_user(request, webhooks.list_endpoints, key="webhooks")


async def create_endpoint(request: Request) -> JSONResponse:
    return await as_user(request, webhooks.create_endpoint, await read_json(request), key="webhook", status=201)


async def update_endpoint(request: Request) -> JSONResponse:
    body = await read_json(request)
    return await as_user(request, webhooks.update_endpoint, request.path_params["webhook_id"], body, key="webhook")


async def test_endpoint(request: Request) -> JSONResponse:
    return await as_user(
        request, webhooks.send_test, request.path_params["webhook_id"], request.app.state.config.webhook_settings
    )


async def deliveries(request: Request) -> JSONResponse:
    return await as_user(request, webhooks.deliveries, request.path_params["webhook_id"], key="deliveries")


async def redeliver(request: Request) -> JSONResponse:
    return await as_user(request, webhooks.redeliver, request.path_params["delivery_id"], status=202)
