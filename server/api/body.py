"""Reading request bodies safely: size limit, UTF-8 JSON, no input that can crash the parser."""

from __future__ import annotations

import json
from typing import Any

import anyio
import orjson
from starlette.requests import Request

from sync.errors import TooLarge, TooSlow, invalid


async def read_json(request: Request) -> Any:
    limit: int = request.app.state.config.max_body
    raw = await read_bytes(request, limit, f"the request body is larger than {limit // (1024 * 1024)} MiB")
    return parse_json_bytes(raw, "", "the request body")


async def read_optional_json(request: Request) -> Any:
    """A body that may be left out (`POST …/revoke`, sign-out): `{}` when none was sent."""
    if request.headers.get("content-length", "0") in ("0", ""):
        return {}
    return await read_json(request)


async def read_bytes(request: Request, limit: int, too_large: str) -> bytes:
    """The raw body, at most `limit` bytes (`too_large` says so otherwise), within the body deadline:
    a client trickling its body must not hold a worker."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise TooLarge(too_large)
    chunks, size = [], 0
    deadline = request.app.state.config.body_deadline_s
    try:
        with anyio.fail_after(deadline):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise TooLarge(too_large)
                chunks.append(chunk)
    except TimeoutError:
        raise TooSlow(f"the request body did not arrive within {deadline:.0f} s") from None
    return b"".join(chunks)


def parse_json_bytes(raw: bytes, path: str, what: str) -> Any:
    """A request body: UTF-8 JSON, checked like `parse_json_text`."""
    if not raw.strip():
        raise invalid(path, f"{what} is empty; send a JSON object")
    data = _parse_fast(raw)
    if data is not _SLOW:
        return data
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise invalid(path, f"{what} is not UTF-8") from None
    return parse_json_text(text, path, what)


def parse_json_text(text: str, path: str, what: str) -> Any:
    """JSON text from a body or a form field, checked like a body: `path` names it in errors."""
    data = _parse_fast(text)
    if data is not _SLOW:
        return data
    try:
        data = json.loads(text, parse_constant=_no_constants)
    except RecursionError:
        raise invalid(path, "the JSON is nested too deeply") from None
    except ValueError as error:
        raise invalid(path, f"{what} is not valid JSON: {str(error)[:120]}") from None
    check_values(data, path)
    return data


MAX_DEPTH = 64
_SLOW = object()
_DIGITS = bytes(ord("9") if chr(i).isdigit() and i < 128 else ord(" ") for i in range(256))  # digit or not
_LONG_NUMBER = b"9" * 19  # an integer this long may be past 64 bits


def _parse_fast(raw: bytes | str) -> Any:
    """One orjson decode for the common, well-formed body; `_SLOW` for anything it cannot vouch
    for, which then takes the standard parser and `check_values`, so every refusal keeps its
    message and path. orjson itself refuses invalid UTF-8, lone surrogates, NaN and numbers that
    overflow a float; it would read an integer past 64 bits as a float (the standard parser keeps
    it whole), hence the slow path for any run of 19 digits; nesting is checked here."""
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    if _LONG_NUMBER in data.translate(_DIGITS):
        return _SLOW
    try:
        parsed = orjson.loads(raw)
    except ValueError:  # orjson.JSONDecodeError, or text holding a lone surrogate
        return _SLOW
    return parsed if _depth_within(parsed, MAX_DEPTH) else _SLOW


def _depth_within(value: Any, budget: int) -> bool:
    """Whether nothing inside `value` sits more than `budget` levels below it (as `check_values`
    counts levels). Recursion is safe: orjson refuses documents nested past 1,024 levels, and the
    walk stops at `budget`."""
    kind = type(value)
    children = value.values() if kind is dict else value if kind is list else ()
    if not children:
        return True
    if budget == 0:
        return False
    for child in children:
        kind = type(child)
        if (kind is dict or kind is list) and not _depth_within(child, budget - 1):
            return False
    return True


def check_values(data: Any, root: str = "") -> None:
    """Refuse what valid JSON can hold but nothing downstream should see: text that is not valid
    Unicode (a lone surrogate such as "\\ud800" cannot be stored or encoded as UTF-8), numbers
    too large for a float, and nesting deeper than any of our bodies needs. Iterative, so that a
    hostile body cannot exhaust the stack."""
    stack: list[tuple[str, Any, int]] = [(root, data, 0)]
    while stack:
        path, value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise invalid(path, f"nested more than {MAX_DEPTH} levels deep")
        if isinstance(value, str):
            if not _is_unicode(value):
                raise invalid(path, "holds text that is not valid Unicode (a lone surrogate)")
        elif isinstance(value, float):
            if value != value or value in (float("inf"), float("-inf")):
                raise invalid(path, "a number too large to use")
        elif isinstance(value, dict):
            for key, item in value.items():
                if not _is_unicode(key):
                    raise invalid(path, "has a key that is not valid Unicode (a lone surrogate)")
                stack.append((f"{path}.{key}" if path else key, item, depth + 1))
        elif isinstance(value, list):
            stack.extend((f"{path}[{i}]", item, depth + 1) for i, item in enumerate(value))


def _is_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _no_constants(name: str) -> None:
    raise ValueError(f"{name} is not allowed in JSON")
