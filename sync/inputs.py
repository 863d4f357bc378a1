"""Small checks of request bodies that several settings share (a leaf: imports only errors)."""

from __future__ import annotations

from typing import Any

from sync.errors import invalid


def whole_numbers(body: object, ranges: dict[str, tuple[int, int]], example: str, unit: str = "") -> dict[str, Any]:
    """A non-empty object of some of `ranges`' keys, each a whole number within its (low, high).
    `example` is the body shown when the shape is wrong; `unit` ("days") goes into the message."""
    if not isinstance(body, dict) or not body or set(body) - set(ranges):
        raise invalid("", f"send {example}")
    for name, value in body.items():
        low, high = ranges[name]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise invalid(name, f"a whole number{' of ' + unit if unit else ''} from {low} to {high}")
    return body
