"""Imports kept server-side: one row per import (who, when, the file, counts, its problems) and
one per imported row (what it was before and after), for as long as undo is possible."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from typing import Any


def people_for_import(conn: sqlite3.Connection) -> list[tuple[str, str | None]]:
    """(name, display) of every enabled user: an owner column may name either."""
    return [(r[0], r[1]) for r in conn.execute("SELECT name, display FROM users WHERE disabled = 0")]


def import_exists(conn: sqlite3.Connection, import_id: str) -> bool:
    return conn.execute("SELECT 1 FROM imports WHERE id = ?", (import_id,)).fetchone() is not None


def insert_import_rows(conn: sqlite3.Connection, rows: Iterable[tuple[str, int, str, str, bytes, bytes]]) -> None:
    """(import, row, card, action, before JSON, after JSON) for each row the import applied; the
    JSON as UTF-8 bytes, stored as text (see `insert_journal`)."""
    conn.executemany(
        'INSERT INTO import_rows("import", row, card, action, before, after) '
        "VALUES (?, ?, ?, ?, CAST(? AS TEXT), CAST(? AS TEXT))",
        rows,
    )


def insert_import(
    conn: sqlite3.Connection,
    import_id: str,
    user: str,
    at: str,
    filename: str,
    mode: str,
    match: str,
    summary: dict[str, Any],
    problems: dict[str, Any] | None,
) -> None:
    conn.execute(
        "INSERT INTO imports(id, user, created_at, filename, mode, match, summary, problems) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            import_id,
            user,
            at,
            filename,
            mode,
            match,
            json.dumps(summary),
            json.dumps(problems, ensure_ascii=False) if problems is not None else None,
        ),
    )


def import_problems(conn: sqlite3.Connection, import_id: str) -> tuple[str | None] | None:
    """None when there is no such import; else a 1-tuple with its problems JSON (or None)."""
    row = conn.execute("SELECT problems FROM imports WHERE id = ?", (import_id,)).fetchone()
    return (row[0],) if row else None


def imports_newest_first(conn: sqlite3.Connection, limit: int) -> list[tuple[Any, ...]]:
    """(id, user, display, created_at, filename, mode, summary JSON, undone_at, undone_by)."""
    return conn.execute(
        "SELECT i.id, i.user, u.display, i.created_at, i.filename, i.mode, i.summary, i.undone_at, i.undone_by "
        "FROM imports i LEFT JOIN users u ON u.name = i.user ORDER BY i.created_at DESC, i.rowid DESC LIMIT ?",
        (limit,),
    ).fetchall()


def import_undone_at(conn: sqlite3.Connection, import_id: str) -> tuple[str | None] | None:
    """None when there is no such import; else a 1-tuple with when it was undone (or None)."""
    row = conn.execute("SELECT undone_at FROM imports WHERE id = ?", (import_id,)).fetchone()
    return (row[0],) if row else None


def import_rows_pages(
    conn: sqlite3.Connection, import_id: str, size: int = 1000
) -> Iterator[list[tuple[int, str, str, str, str]]]:
    """(row, card, action, before JSON, after JSON) of an import, in row order, a page at a time
    (keyed on the row number): an undo of 50,000 rows holds one page of rows and their cards."""
    after = -1
    while True:
        page = conn.execute(
            'SELECT row, card, action, before, after FROM import_rows WHERE "import" = ? AND row > ? ORDER BY row LIMIT ?',
            (import_id, after, size),
        ).fetchall()
        if not page:
            return
        yield page
        after = page[-1][0]


def versions_left_by(conn: sqlite3.Connection, device: str) -> dict[str, int]:
    """card -> the newest version a device (an import's `import:…`) wrote: one query, not one per row."""
    return dict(conn.execute("SELECT card, max(version) FROM history WHERE device = ? GROUP BY card", (device,)).fetchall())


def mark_import_undone(conn: sqlite3.Connection, import_id: str, at: str, by: str) -> None:
    conn.execute("UPDATE imports SET undone_at = ?, undone_by = ? WHERE id = ?", (at, by, import_id))
