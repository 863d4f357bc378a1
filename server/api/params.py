"""Query parameters read at the boundary: whole numbers and dates in ASCII digits, inside ranges
the code below can compute with, so that `limit=²`, `after=10^30` or `date=0001-01-01` are a 400
naming the parameter, never a 500 further down (issue 11)."""

from __future__ import annotations

import re
from datetime import date, datetime, timezone

from starlette.datastructures import QueryParams

from sync.errors import invalid

_WHOLE = re.compile(r"[0-9]{1,18}")
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# Dates a person plans with; far enough from date.min/max that "90 days before" always exists.
FIRST_YEAR, LAST_YEAR = 1900, 2999


def whole_number(params: QueryParams, name: str, default: int, low: int, high: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    if not _WHOLE.fullmatch(raw) or not low <= int(raw) <= high:
        raise invalid(name, f"must be a whole number from {low} to {high}")
    return int(raw)


def day(params: QueryParams, name: str = "date") -> date:
    """The person's own date (the app sends it: "today" depends on where they are); else UTC."""
    raw = params.get(name)
    if not raw:
        return datetime.now(timezone.utc).date()
    try:
        if not _DAY.fullmatch(raw):
            raise ValueError
        found = date.fromisoformat(raw)
    except ValueError:
        raise invalid(name, "a date as YYYY-MM-DD") from None
    if not FIRST_YEAR <= found.year <= LAST_YEAR:
        raise invalid(name, f"a date between {FIRST_YEAR} and {LAST_YEAR}")
    return found


def only(params: QueryParams, known: set[str]) -> None:
    unknown = sorted(set(params) - known)
    if unknown:
        raise invalid(unknown[0], "unknown parameter")
