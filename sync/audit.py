"""The audit log: who did what, append-only. Each entry holds the SHA-256 of its own content and
the previous entry's hash, so an altered, removed or reordered entry breaks the chain that
`verify()` (and `fieldcards audit verify`) walks."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from typing import Any

from sync import db
from sync.times import utc_now


def _digest(entry: dict[str, Any]) -> str:
    content = {k: entry[k] for k in ("id", "at", "actor", "action", "target", "detail", "prev_hash")}
    return hashlib.sha256(json.dumps(content, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def record(
    conn: sqlite3.Connection, actor: str, action: str, target: str = "", detail: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Append one entry inside the caller's write transaction."""
    last = db.last_audit(conn)
    entry = {
        "id": (last[0] + 1) if last else 1,
        "at": utc_now(),
        "actor": actor,
        "action": action,
        "target": target,
        "detail": json.dumps(detail or {}, ensure_ascii=False, sort_keys=True),
        "prev_hash": last[1] if last else "",
    }
    entry["hash"] = _digest(entry)
    db.insert_audit(conn, entry)
    return entry


def copy_entries(source: sqlite3.Connection, target: sqlite3.Connection) -> int:
    """Entries the target lacks, copied as they are (a restore must not roll the audit log back)."""
    last = db.last_audit(target)
    copied = 0
    for entry in db.audit_entries(source, after=last[0] if last else 0, limit=1_000_000):
        db.insert_audit(target, entry)
        copied += 1
    return copied


def verify(conn: sqlite3.Connection) -> tuple[bool, str]:
    """(True, summary) when every entry's hash and link hold; else (False, the first break)."""
    previous, count = "", 0
    for entry in db.audit_entries(conn, limit=10_000_000):
        if entry["prev_hash"] != previous:
            return False, f"entry {entry['id']} does not follow entry {entry['id'] - 1}: the log was cut or reordered"
        if _digest(entry) != entry["hash"]:
            return False, f"entry {entry['id']} was altered after it was written"
        previous, count = entry["hash"], count + 1
    return True, f"{count} entries, chain intact"
