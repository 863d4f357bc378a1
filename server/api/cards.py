"""Card reads: list and search, one card with its activities, its history; `me` and `schema`."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from sync.outward import access_report, privacy
from sync.cards import queries, template
from sync.errors import invalid
from sync.cards.schema import schema_document

from .body import read_json


async def me(request: Request) -> JSONResponse:
    user = request.state.user
    return JSONResponse({"user": user.name, "role": user.role, "display": user.display})


async def schema(request: Request) -> JSONResponse:
    def read() -> dict:
        with request.app.state.store.read() as conn:
            return template.load(conn)

    card_template = await run_in_threadpool(read)
    return JSONResponse(schema_document(request.app.state.config.default_region, card_template))


async def save_template(request: Request) -> JSONResponse:
    """Admins: `PUT /api/v1/template` with custom_fields, industries, regions, tags."""
    body = await read_json(request)
    saved = await run_in_threadpool(template.save, request.app.state.store, request.state.user, body)
    return JSONResponse({"template": saved})


async def list_cards(request: Request) -> JSONResponse:
    user = request.state.user
    params = dict(request.query_params)
    return JSONResponse(await run_in_threadpool(queries.list_cards, request.app.state.store, user, params))


async def get_card(request: Request) -> JSONResponse:
    user = request.state.user
    found = await run_in_threadpool(queries.card_with_activities, request.app.state.store, user, request.path_params["card_id"])
    return JSONResponse(found)


async def card_history(request: Request) -> JSONResponse:
    user = request.state.user
    found = await run_in_threadpool(queries.card_history, request.app.state.store, user, request.path_params["card_id"])
    return JSONResponse(found)


async def erase_card(request: Request) -> JSONResponse:
    """Admins: purge a customer (PIPL erasure); devices are told `remove` with reason `erased`."""
    found = await run_in_threadpool(privacy.erase, request.app.state.engine, request.state.user, request.path_params["card_id"])
    return JSONResponse(found)


async def export_card(request: Request) -> Response:
    """Office and admins: everything held about one customer (the right of access), as JSON or, with
    `format=html`, as a page to read and print in English or Chinese (`lang=` or Accept-Language)."""
    fmt = request.query_params.get("format") or "json"
    if fmt not in ("json", "html"):
        raise invalid("format", "json or html")
    lang = request.query_params.get("lang") or None
    if lang not in (None, *access_report.LANGS):
        raise invalid("lang", "en or zh-CN")
    found = await run_in_threadpool(
        privacy.customer_export, request.app.state.store, request.state.user, request.path_params["card_id"]
    )
    name = f"customer-{found['card']['id']}"
    if fmt == "html":
        lang = access_report.pick_language(lang, request.headers.get("accept-language"))
        return HTMLResponse(
            access_report.render(found, lang),
            headers={
                "content-security-policy": access_report.CSP,
                "cache-control": "no-store",
                "content-disposition": f'attachment; filename="{name}.{lang}.html"',
            },
        )
    return JSONResponse(
        found, headers={"content-disposition": f'attachment; filename="{name}.json"', "cache-control": "no-store"}
    )
