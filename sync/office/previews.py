"""The plan of an import's preview, kept for the import that follows it.

The office screen previews a file (a dry run) and then imports the same file with the same
choices. Planning 50,000 rows takes about 1.4 s, a quarter of the import. So the last preview's
plan is kept, for one user, the same file and the same choices, and the import uses it only if
nothing it was made from has changed since: the store (its epoch: no restore), the template and
the default region, the people an owner column could name, and every card that changed since
the preview was read (none may be a card the plan updates or skips, and none may now hold a
phone, email or name + company that a row of the file holds). Anything else, and the import plans
again, as it always did. At most one plan is kept, for at most `KEEP_FOR_S` seconds: it holds
about 25 MB at 50,000 rows.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass
from typing import Any

from sync import db
from sync.access import User
from sync.cards import template
from sync.jsontext import loads_card_text
from sync.office.importer import Plan, match_keys
from sync.protocol.engine import Engine

KEEP_FOR_S = 600.0


@dataclass(frozen=True)
class Kept:
    """A preview's plan, with what the import's answer needs besides it."""

    plan: Plan
    problems: dict[str, Any]  # `importer.plan_problems` of the file
    headers: list[str]


def request_key(user: User, raw: bytes, filename: str, choices: dict[str, Any]) -> str:
    """Who, which file (its bytes and its kind) and which choices (mapping, match, mode, values, owner)."""
    digest = hashlib.sha256(raw)
    digest.update(json.dumps([user.name, user.role, filename.rsplit(".", 1)[-1].lower(), choices], sort_keys=True).encode())
    return digest.hexdigest()


class Previews:
    """The last preview's plan (thread-safe: the heavy lane may run two jobs at once)."""

    def __init__(self, keep_for_s: float = KEEP_FOR_S) -> None:
        self.keep_for_s = keep_for_s
        self._kept: tuple[str, float, Kept] | None = None
        self._lock = threading.Lock()

    def keep(self, key: str, kept: Kept) -> None:
        with self._lock:
            self._kept = (key, time.monotonic(), kept)

    def take(self, key: str, engine: Engine) -> Kept | None:
        """The plan kept for `key` (which names the user), if it still holds. A plan is taken once
        (an import uses its preview once); another key leaves it for the import it waits for."""
        with self._lock:
            found = self._kept
            if found is None or found[0] != key:
                return None
            self._kept = None
        if time.monotonic() - found[1] > self.keep_for_s:
            return None
        kept = found[2]
        if not still_holds(engine, kept.plan):
            return None
        kept.plan.basis = None  # spent: its key hashes (~7 MB at 50,000 rows) go before the import begins
        return kept


def still_holds(engine: Engine, plan: Plan) -> bool:
    """Whether planning again now would give the same plan (see the module's doc)."""
    basis = plan.basis
    if basis is None or plan.validated_under is None:
        return False
    targets = {r.card for r in plan.rows if r.card and r.action != "create"}
    with engine.store.read() as conn:
        if (db.meta_value(conn, "epoch") or "") != basis.epoch or _by_name(db.people_for_import(conn)) != _by_name(basis.people):
            return False
        if template.for_validation(template.load(conn)) != plan.validated_under[0]:
            return False
        if engine.default_region != plan.validated_under[1]:
            return False
        for card_id, data in db.cards_changed_after(conn, basis.seq):
            if card_id in targets or hash(f"id:{card_id}") in basis.key_hashes:
                return False
            if any(hash(key) in basis.key_hashes for key in match_keys(loads_card_text(data), basis.match)):
                return False
    return True


def _by_name(people: list[tuple[str, str | None]]) -> list[tuple[str, str | None]]:
    return sorted(people, key=lambda person: person[0])
