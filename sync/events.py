"""Events for other systems, written into the outbox in the transaction of the change they report,
so an event exists exactly when its change committed: a crash can't lose one, nor send one for a
change that was rolled back. `sync/outward/webhooks.py` delivers the outbox."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Sequence
from typing import Any

from sync import db
from sync.jsontext import dumps
from sync.times import utc_now

EVENTS = (
    "card.created",
    "card.updated",
    "card.deleted",
    "card.merged",
    "card.erased",
    "activity.added",
    "survey.answered",
    "import.finished",
)
# Event ids are derived from what caused them, so a change re-applied after a restore (a device
# re-sending its journal, a replayed import) is emitted again with the same id.
NAMESPACE = uuid.UUID("6f1c1d4e-2b0a-4d53-9a51-1f1e0c5b7a10")


def event_id(ref: str, key: str, event_type: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{ref}\x1f{key}\x1f{event_type}"))


def emit(
    conn: sqlite3.Connection,
    event_type: str,
    key: str,
    data: dict[str, Any],
    *,
    ref: str,
    endpoints: Sequence[str] | None = None,
) -> None:
    """Queue one event for every enabled endpoint subscribed to it, inside the caller's transaction.
    `key` orders delivery (the card id); `ref` is what caused it (the mutation id). `endpoints`:
    those subscribed, when the caller already knows them (a batch reads them once per type)."""
    if endpoints is None:
        endpoints = db.endpoints_listening_to(conn, event_type)
    if not endpoints:
        return
    identity = event_id(ref, key, event_type)
    now = utc_now()
    body = dumps({"id": identity, "type": event_type, "at": now, "data": data})  # written now: no copy needed
    for endpoint in endpoints:
        db.insert_outbox(conn, endpoint, identity, event_type, key, body, now)


def forget_card(conn: sqlite3.Connection, card_id: str) -> None:
    """An erasure: queued or sent bodies holding the customer's data go (card.erased follows)."""
    db.forget_outbox_of_cards(conn, [card_id])
