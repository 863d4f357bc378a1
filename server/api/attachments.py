"""Attachments over HTTP: the bytes of a declared photo or file, uploaded in resumable chunks and
served only to whoever may see the card (contract 7; the protocol is in sync/cards/attachments.py)."""

from __future__ import annotations

import re

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from sync.cards import attachments
from sync import db
from sync.access import User, can_see
from sync.errors import NotFound, invalid

from .body import read_bytes

_OFFSET = re.compile(r"[0-9]{1,12}")


def _visible(conn, user: User, attachment_id: str) -> dict:  # type: ignore[no-untyped-def]
    found = attachments.find(conn, attachment_id)
    card = db.card_json(conn, found["card"])
    if card is None or card.get("deleted") or not can_see(user, card.get("owner") or ""):
        raise NotFound("no such attachment")
    return found


async def content(request: Request) -> Response:
    """The bytes. Images show in the page; everything else downloads; nothing is ever sniffed or run."""
    user: User = request.state.user

    def read() -> tuple[dict, bytes]:
        with request.app.state.store.read() as conn:
            found = _visible(conn, user, request.path_params["attachment_id"])
            if not found["uploaded"]:
                raise NotFound("this attachment's bytes have not been uploaded yet")
            return found, db.blob_bytes(conn, found["sha256"])

    found, data = await run_in_threadpool(read)
    inline = found["type"] in attachments.INLINE_TYPES
    name = found["name"].replace('"', "'")
    disposition = "inline" if inline else "attachment"
    return Response(
        data,
        media_type=found["type"],
        headers={
            "content-disposition": f"{disposition}; filename*=UTF-8''{_quote(name)}",
            "x-content-type-options": "nosniff",
            "content-security-policy": "default-src 'none'; sandbox",
            "cache-control": "private, max-age=86400",
        },
    )


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")


async def upload_state(request: Request) -> JSONResponse:
    user: User = request.state.user

    def read() -> dict:
        with request.app.state.store.read() as conn:
            return attachments.upload_state(conn, _visible(conn, user, request.path_params["attachment_id"]))

    return JSONResponse(await run_in_threadpool(read))


async def upload_chunk(request: Request) -> JSONResponse:
    """`PUT …/upload?offset=N` with the next bytes of the file as the body."""
    user: User = request.state.user
    raw_offset = request.query_params.get("offset", "")
    if not _OFFSET.fullmatch(raw_offset):
        raise invalid("offset", "where this chunk starts in the file, in bytes (GET …/upload tells)")
    chunk = await read_bytes(request, attachments.CHUNK_MAX, f"a chunk is at most {attachments.CHUNK_MAX} bytes")

    def write() -> dict:
        with request.app.state.store.write() as conn:
            found = _visible(conn, user, request.path_params["attachment_id"])
            return attachments.accept_chunk(conn, found, int(raw_offset), chunk)

    return JSONResponse(await run_in_threadpool(write))
