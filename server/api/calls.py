"""The shape most handlers share: call one function of `sync/` with the store and the signed-in
user (in a worker thread: it does SQLite I/O), and answer its result as JSON."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse


async def as_user(
    request: Request, call: Callable[..., Any], *args: Any, key: str | None = None, status: int = 200
) -> JSONResponse:
    """`call(store, user, *args)`; the answer is its result, under `key` when one is given."""
    found = await run_in_threadpool(call, request.app.state.store, request.state.user, *args)
    return JSONResponse({key: found} if key else found, status_code=status)
