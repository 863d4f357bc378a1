"""The server's own work, journaled so that a restore does not lose it (issue 12).

Phones keep a journal of their mutations and re-send it after a restore. Work the server does
for office staff and admins has no phone behind it: spreadsheet imports and their undo, merges
and unmerges, conflict resolutions, template changes, and the sync batches of office and admin
users (reassignments, quality fixes, edits from scripts that keep no journal). Each of these
writes one journal entry in the same transaction as the change, so an entry exists exactly when
its change committed. A restore carries the journal forward (like the audit log) and re-applies
the entries newer than the restore point through the same code (`sync/office/replay.py`), unless an
admin excluded them in the preview.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import sqlite3
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

from sync import db
from sync.access import User
from sync.jsontext import dumps_utf8
from sync.times import utc_now

# Entries older than every restore point are of no use: restore points go back 30 days.
KEPT = timedelta(days=40)
KINDS = ("sync", "import", "import.undo", "merge", "unmerge", "resolve", "template", "erase", "link.answer")
# What a restore always re-applies, whatever the admin ticks: the customer's right to erasure.
NEVER_EXCLUDED = frozenset({"erase"})

_replaying: contextvars.ContextVar[bool] = contextvars.ContextVar("fieldcards_replaying", default=False)


def record(
    conn: sqlite3.Connection, user: User, kind: str, payload: dict[str, Any] | bytes | memoryview, ref: str | None = None
) -> None:
    """Journal one operation inside the caller's transaction (not while a restore replays it).
    `payload` may be its JSON already, as UTF-8 bytes (an import writes its own: `replaying_now`)."""
    if _replaying.get():
        return
    # An office user's push journals every mutation: the fast encoder.
    text = payload if isinstance(payload, (bytes, memoryview)) else dumps_utf8(payload)
    db.insert_journal(conn, utc_now(), user.name, user.role, kind, ref, text)


def replaying_now() -> bool:
    """Whether a restore is re-applying journaled work, which `record` then does not write again."""
    return _replaying.get()


@contextlib.contextmanager
def replaying() -> Iterator[None]:
    """While entries are re-applied they are already in the journal: don't write them again."""
    token = _replaying.set(True)
    try:
        yield
    finally:
        _replaying.reset(token)


def carry_forward(live: sqlite3.Connection, restored: sqlite3.Connection) -> list[dict[str, Any]]:
    """Copy the entries the restored database lacks (written after the restore point) into it;
    returns them, oldest first."""
    newer = db.journal_after(live, db.last_journal_id(restored))
    for entry in newer:
        db.insert_journal_entry(restored, entry)
    return newer


def describe(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What a person needs to choose: id, kind, who, when, and what it touched."""
    out = []
    for entry in entries:
        payload = json.loads(entry["payload"])
        item = {"id": entry["id"], "kind": entry["kind"], "user": entry["user"], "at": entry["at"], "ref": entry["ref"]}
        if entry["kind"] == "import":
            item["file"] = payload.get("filename")
            item["rows"] = len(payload.get("mutations") or payload.get("todo") or [])
        elif entry["kind"] == "sync":
            item["mutations"] = len(payload.get("mutations") or [])
        out.append(item)
    return out


def count_by_kind(entries: list[dict[str, Any]]) -> dict[str, int]:
    return dict(Counter(entry["kind"] for entry in entries))


def forget_old(conn: sqlite3.Connection) -> int:
    cutoff = (datetime.now(timezone.utc) - KEPT).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return db.forget_journal_before(conn, cutoff)
