"""Look-ups of many ids at once: `WHERE id IN (…)` in chunks, so that any number of ids stays
under SQLite's limit on a statement's variables (32,766) and each statement stays small."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from typing import Any

CHUNK = 500


def rows_for_ids(conn: sqlite3.Connection, select: str, ids: Sequence[str], *after: Any) -> Iterator[Any]:
    """The rows of `select`, a statement whose one `{}` is the list of ids (`... WHERE id IN ({})`),
    for every id of `ids`; `after`: the values of the statement's `?` that follow the list."""
    for start in range(0, len(ids), CHUNK):
        chunk = list(ids[start : start + CHUNK])
        yield from conn.execute(select.format(", ".join("?" * len(chunk))), [*chunk, *after])
