"""Reclaim rules (issue 19): a card whose owner has done nothing with it for the days an admin set
for its segment goes back to the pool, where colleagues may claim it. Runs daily in the server
(server/app.py) and as `fieldcards reclaim`; `today` is given so that tests choose the day.

"Nothing" means no activity logged on the card since the owner got it (created it, claimed it or
was given it). Owners see the date coming on Today (`pool.returning`, `warn_days` before). Each
return is a normal change: in the card's history (by `system`), in the audit log
(`card.reclaim`), and on the devices as `remove` / `revoked` for the old owner.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sync.cards import pool
from sync import db
from sync.access import User
from sync.protocol.batch import Batch, CardWrite
from sync.protocol.engine import Engine
from sync.times import utc_now

SYSTEM = User("system", "admin", "Fieldcards")


def due(conn: Any, today: date) -> list[str]:
    """Ids of the owned cards whose reclaim day is today or past."""
    rules = pool.settings(conn)
    found = []
    if all(days is None for days in rules["reclaim_days"].values()):
        return []
    for card, _owner, segment, created, owner_set, last_activity, _name in db.cards_to_reclaim(conn):
        when = pool.reclaim_on(rules, segment, pool.last_touch(created, owner_set, last_activity))
        if when is not None and when <= today:
            found.append(card)
    return found


def reclaim(engine: Engine, today: date) -> list[str]:
    """Return every due card to the pool, in one transaction; the ids returned."""
    with engine.store.write() as conn:
        cards = due(conn, today)
        if not cards:
            return []
        batch = Batch(engine, conn, SYSTEM, None, utc_now())
        batch.owner_via = "reclaim"
        at = engine.clock.now()
        for card_id in cards:
            row = db.card_row(conn, card_id)
            if row is None:
                continue
            write = CardWrite(row, dict(row.card))
            write.changes["owner"] = [row.owner, None]
            row.card["owner"] = None
            row.clocks["owner"] = [at, SYSTEM.name, ""]
            batch.save(write, at, None, mutation_ref=f"reclaim:{today.isoformat()}:{card_id}")
        batch.finish()
    return cards
