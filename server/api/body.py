"""Reading request bodies safely: size limit, UTF-8 JSON, no input that can crash the parser."""
from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from sync.errors import TooLarge, invalid


async def read_json(request: Request) -> Any:
    limit: int = request.app.state.config.max_body
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise TooLarge(f"the request body is larger than {limit // (1024 * 1024)} MiB")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"the request body is larger than {limit // (1024 * 1024)} MiB")
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip():
        raise invalid("", "the request body is empty; send a JSON object")
    try:
        return json.loads(raw.decode("utf-8"), parse_constant=_no_constants)
    except UnicodeDecodeError:
        raise invalid("", "the request body is not UTF-8") from None
    except RecursionError:
        raise invalid("", "the JSON is nested too deeply") from None
    except ValueError as error:
        raise invalid("", f"the request body is not valid JSON: {str(error)[:120]}") from None


def _no_constants(name: str) -> None:
    raise ValueError(f"{name} is not allowed in JSON")
