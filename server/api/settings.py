"""Admin settings over HTTP (sync/people/settings.py): the privacy notice, public as JSON and as the page
`/privacy`, and the lost-phone lock every signed-in app reads after a sync."""

from __future__ import annotations

from html import escape

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse

from sync.people import settings
from sync.outward.access_report import pick_language

from .body import read_json


async def public_privacy(request: Request) -> JSONResponse:
    """`GET /api/v1/public/privacy`: the notice in both languages, no credentials."""
    found = await run_in_threadpool(settings.read_notice, request.app.state.store)
    return JSONResponse(found, headers={"cache-control": "no-cache"})


async def save_privacy(request: Request) -> JSONResponse:
    body = await read_json(request)
    return JSONResponse(await run_in_threadpool(settings.save_notice, request.app.state.store, request.state.user, body))


async def device_settings(request: Request) -> JSONResponse:
    return JSONResponse(await run_in_threadpool(settings.device_settings, request.app.state.store))


async def save_device_settings(request: Request) -> JSONResponse:
    body = await read_json(request)
    return JSONResponse(await run_in_threadpool(settings.save_device_settings, request.app.state.store, request.state.user, body))


PAGE_WORDS = {"en": ("Privacy notice", "简体中文", "zh-CN", "Last changed"), "zh-CN": ("隐私声明", "English", "en", "最后修改")}


async def page(request: Request) -> HTMLResponse:
    """`/privacy`: the notice as a page of its own (no script), in the reader's language; linked from
    the customer link page, the app and the sign-in page."""
    asked = request.query_params.get("lang")
    lang = pick_language(asked if asked in settings.LANGUAGES else None, request.headers.get("accept-language"))
    found = await run_in_threadpool(settings.read_notice, request.app.state.store)
    title, other_name, other_lang, changed = PAGE_WORDS[lang]
    paragraphs = "".join(f"<p>{escape(part)}</p>" for part in settings.paragraphs(found[lang]))
    stamp = f'<p class="hint">{changed}: {escape(found["updated_at"][:10])}</p>' if found["updated_at"] else ""
    body = (
        f'<!doctype html>\n<html lang="{lang}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>{title} · Fieldcards</title><link rel="stylesheet" href="/css/app.css"><link rel="icon" href="/icons/icon-192.png" type="image/png"></head>'
        f'<body><main class="customer privacy-notice" id="privacy"><header class="bar"><h1>{title}</h1>'
        f'<a href="/privacy?lang={other_lang}" lang="{other_lang}" id="privacy-lang">{other_name}</a></header>'
        f"{paragraphs}{stamp}</main></body></html>\n"
    )
    return HTMLResponse(body, headers={"cache-control": "no-cache", "content-language": lang})
