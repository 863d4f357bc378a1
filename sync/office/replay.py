"""After a restore: re-apply the server's journaled work newer than the restore point, oldest
first, through the same functions that did it the first time (see `sync/journal.py`).

Each kind is safe to apply again: sync mutations and imports are idempotent by their ids, an
import or merge that exists already is skipped, an undo that was done is skipped. An entry that
no longer applies (its card was erased, say) is reported, never fatal: the others still run.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sync.outward import customers, privacy
from sync.office import importer, dedupe
from sync import journal
from sync.cards import template
from sync.access import User
from sync.protocol.engine import Engine
from sync.errors import FieldcardsError


def _sync(engine: Engine, user: User, payload: dict[str, Any], ref: str | None) -> None:
    engine.apply(user, payload["device"], payload["mutations"])


def _import(engine: Engine, user: User, payload: dict[str, Any], ref: str | None) -> None:
    importer.replay_import(engine, user, payload)


def _import_undo(engine: Engine, user: User, payload: dict[str, Any], ref: str | None) -> None:
    with engine.store.read() as conn:
        if importer.undone_at(conn, ref or ""):
            return  # undone before the restore point already
    importer.undo_import(engine, user, ref or "")


def _merge(engine: Engine, user: User, payload: dict[str, Any], ref: str | None) -> None:
    dedupe.merge_cards(engine, user, payload["body"], merge_id=ref)


def _unmerge(engine: Engine, user: User, payload: dict[str, Any], ref: str | None) -> None:
    dedupe.unmerge(engine, user, ref or "")


def _resolve(engine: Engine, user: User, payload: dict[str, Any], ref: str | None) -> None:
    engine.replay_decision(user, payload)


def _template(engine: Engine, user: User, payload: dict[str, Any], ref: str | None) -> None:
    template.save(engine.store, user, payload["body"])


def _link_answer(engine: Engine, user: User, payload: dict[str, Any], ref: str | None) -> None:
    customers.replay_answer(engine, payload)


def _erase(engine: Engine, user: User, payload: dict[str, Any], ref: str | None) -> None:
    privacy.erase(engine, user, payload["card"])


HANDLERS: dict[str, Callable[[Engine, User, dict[str, Any], str | None], None]] = {
    "sync": _sync,
    "import": _import,
    "import.undo": _import_undo,
    "merge": _merge,
    "unmerge": _unmerge,
    "resolve": _resolve,
    "template": _template,
    "erase": _erase,
    "link.answer": _link_answer,
}


def replay(engine: Engine, entries: list[dict[str, Any]], excluded: set[int]) -> dict[str, Any]:
    """Apply `entries` (oldest first) but the excluded ones; returns counts and what failed."""
    applied: dict[str, int] = {}
    skipped: dict[str, int] = {}
    failed: list[dict[str, Any]] = []
    with journal.replaying():
        for entry in entries:
            kind = entry["kind"]
            if entry["id"] in excluded or entry.get("excluded_at"):
                skipped[kind] = skipped.get(kind, 0) + 1
                continue
            handler = HANDLERS.get(kind)
            user = User(entry["user"], entry["role"])
            try:
                if handler is None:
                    raise FieldcardsError(f"unknown journal entry kind {kind!r}")
                handler(engine, user, json.loads(entry["payload"]), entry["ref"])
            except FieldcardsError as error:
                failed.append({"id": entry["id"], "kind": kind, "message": error.message})
                continue
            applied[kind] = applied.get(kind, 0) + 1
    return {"applied": applied, "excluded": skipped, "failed": failed}
