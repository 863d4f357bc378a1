"""Webhook endpoints, the outbox and its delivery log."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any


ENDPOINT_COLUMNS = (
    "id",
    "url",
    "events",
    "secret",
    "enabled",
    "failing",
    "failing_since",
    "created_by",
    "created_at",
    "updated_at",
)


def _endpoint(row: Sequence[Any]) -> dict[str, Any]:
    found = dict(zip(ENDPOINT_COLUMNS, row))
    found["events"] = json.loads(found["events"])
    found["enabled"], found["failing"] = bool(found["enabled"]), bool(found["failing"])
    return found


def webhook_endpoints(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    cols = ", ".join(ENDPOINT_COLUMNS)
    return [_endpoint(r) for r in conn.execute(f"SELECT {cols} FROM webhook_endpoints ORDER BY created_at, id")]


def webhook_endpoint(conn: sqlite3.Connection, endpoint_id: str) -> dict[str, Any] | None:
    cols = ", ".join(ENDPOINT_COLUMNS)
    row = conn.execute(f"SELECT {cols} FROM webhook_endpoints WHERE id = ?", (endpoint_id,)).fetchone()
    return _endpoint(row) if row else None


def save_webhook_endpoint(conn: sqlite3.Connection, endpoint: dict[str, Any]) -> None:
    values = {
        **endpoint,
        "events": json.dumps(endpoint["events"]),
        "enabled": int(endpoint["enabled"]),
        "failing": int(endpoint["failing"]),
    }
    cols = ", ".join(ENDPOINT_COLUMNS)
    marks = ", ".join("?" for _ in ENDPOINT_COLUMNS)
    conn.execute(f"INSERT OR REPLACE INTO webhook_endpoints({cols}) VALUES ({marks})", [values[c] for c in ENDPOINT_COLUMNS])


def endpoints_listening_to(conn: sqlite3.Connection, event_type: str) -> list[str]:
    """Enabled endpoints subscribed to this event type."""
    sql = "SELECT id FROM webhook_endpoints WHERE enabled = 1 AND EXISTS (SELECT 1 FROM json_each(events) WHERE value = ?)"
    return [r[0] for r in conn.execute(sql, (event_type,))]


def insert_outbox(conn: sqlite3.Connection, endpoint: str, event: str, event_type: str, key: str, body: str, now: str) -> None:
    """Queue one event for one endpoint; the same event (same id) is queued once."""
    conn.execute(
        "INSERT OR IGNORE INTO webhook_outbox(endpoint, event, type, key, body, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        (endpoint, event, event_type, key, body, now),
    )


def forget_outbox_of_cards(conn: sqlite3.Connection, card_ids: Sequence[str]) -> int:
    """An erasure: queued and sent event bodies of these cards hold personal data; drop them."""
    marks = ", ".join("?" for _ in card_ids)
    doomed = f"SELECT id FROM webhook_outbox WHERE key IN ({marks})"
    conn.execute(f"DELETE FROM webhook_attempts WHERE delivery IN ({doomed})", list(card_ids))
    return conn.execute(f"DELETE FROM webhook_outbox WHERE key IN ({marks})", list(card_ids)).rowcount


OUTBOX_COLUMNS = (
    "id",
    "endpoint",
    "event",
    "type",
    "key",
    "body",
    "created_at",
    "status",
    "attempts",
    "first_attempt_at",
    "next_attempt_at",
    "delivered_at",
)


def due_deliveries(conn: sqlite3.Connection, endpoint: str, now: float, limit: int) -> list[dict[str, Any]]:
    """Pending deliveries of one endpoint that are due and first in line for their card: an event
    for a card waits while an older one for the same card is still pending."""
    cols = ", ".join(f"o.{c}" for c in OUTBOX_COLUMNS)
    rows = conn.execute(
        f"SELECT {cols} FROM webhook_outbox o WHERE o.endpoint = ? AND o.status = 'pending' "
        "AND o.next_attempt_at <= ? AND NOT EXISTS (SELECT 1 FROM webhook_outbox p WHERE p.endpoint = o.endpoint "
        "AND p.status = 'pending' AND p.key = o.key AND p.id < o.id) ORDER BY o.id LIMIT ?",
        (endpoint, now, limit),
    ).fetchall()
    return [dict(zip(OUTBOX_COLUMNS, r)) for r in rows]


def delivery(conn: sqlite3.Connection, delivery_id: int) -> dict[str, Any] | None:
    cols = ", ".join(OUTBOX_COLUMNS)
    row = conn.execute(f"SELECT {cols} FROM webhook_outbox WHERE id = ?", (delivery_id,)).fetchone()
    return dict(zip(OUTBOX_COLUMNS, row)) if row else None


def deliveries_of(conn: sqlite3.Connection, endpoint: str, limit: int) -> list[dict[str, Any]]:
    """The newest deliveries of an endpoint with their attempts (the delivery log), bodies left out."""
    cols = ", ".join(c for c in OUTBOX_COLUMNS if c != "body")
    rows = conn.execute(
        f"SELECT {cols} FROM webhook_outbox WHERE endpoint = ? ORDER BY id DESC LIMIT ?", (endpoint, limit)
    ).fetchall()
    found = [dict(zip([c for c in OUTBOX_COLUMNS if c != "body"], r)) for r in rows]
    for item in found:
        item["attempts_log"] = [
            dict(zip(("at", "status_code", "error", "duration_ms"), a))
            for a in conn.execute(
                "SELECT at, status_code, error, duration_ms FROM webhook_attempts WHERE delivery = ? ORDER BY id", (item["id"],)
            )
        ]
    return found


def record_attempt(
    conn: sqlite3.Connection,
    item: dict[str, Any],
    at: str,
    status_code: int | None,
    error: str | None,
    duration_ms: int,
    outcome: str,
    next_attempt_at: float,
) -> None:
    """Log one attempt and move the delivery on: `delivered`, `failed` (given up) or still `pending`."""
    conn.execute(
        "INSERT INTO webhook_attempts(delivery, endpoint, event, at, status_code, error, duration_ms) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (item["id"], item["endpoint"], item["event"], at, status_code, error, duration_ms),
    )
    conn.execute(
        "UPDATE webhook_outbox SET status = ?, attempts = attempts + 1, "
        "first_attempt_at = COALESCE(first_attempt_at, ?), next_attempt_at = ?, "
        "delivered_at = CASE WHEN ? = 'delivered' THEN ? ELSE delivered_at END WHERE id = ?",
        (outcome, at, next_attempt_at, outcome, at, item["id"]),
    )


def requeue_delivery(conn: sqlite3.Connection, delivery_id: int) -> None:
    conn.execute(
        "UPDATE webhook_outbox SET status = 'pending', attempts = 0, first_attempt_at = NULL, next_attempt_at = 0 WHERE id = ?",
        (delivery_id,),
    )


def set_endpoint_failing(conn: sqlite3.Connection, endpoint: str, failing: bool, now: str) -> None:
    conn.execute(
        "UPDATE webhook_endpoints SET failing = ?, failing_since = ? WHERE id = ?",
        (int(failing), now if failing else None, endpoint),
    )


def start_test_delivery(conn: sqlite3.Connection, endpoint: str, event: str) -> int:
    """A test event, queued by `insert_outbox`, marked as being sent now (the worker leaves it): its id."""
    conn.execute("UPDATE webhook_outbox SET status = 'sending' WHERE endpoint = ? AND event = ?", (endpoint, event))
    return int(conn.execute("SELECT id FROM webhook_outbox WHERE endpoint = ? AND event = ?", (endpoint, event)).fetchone()[0])
