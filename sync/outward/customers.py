"""The customer's side of a link (issue 17): what the public page shows, and the customer's answer
applied as a change authored by `customer` (see sync/cards/links.py for the link itself)."""

from __future__ import annotations

import json
import sqlite3
import uuid
from typing import Any

from sync import audit, db
from sync import journal
from sync.cards import links
from sync import events
from sync.outward import surveys
from sync.access import User, can_see
from sync.protocol.engine import Engine
from sync.errors import Conflict, FieldError, Gone, InvalidInput, NotFound
from sync.times import utc_now

# The customer writes through the engine as an author of its own. The engine's rights checks are
# those of office staff (any card), which is safe because only CUSTOMER_FIELDS of the one card the
# link names ever reach it: owner, notes, tags, segment and other cards are out of reach.
CUSTOMER = User("customer", "office", "customer")
# The page's consent choice, as the card's `consent` (source "customer", basis "consent").
CONSENT_CHOICES = {
    "any": ("granted", []),
    "phone": ("granted", ["phone"]),
    "email": ("granted", ["email"]),
    "message": ("granted", ["message"]),
    "none": ("refused", []),
}
STATE_MESSAGES = {
    "pending": "this link is not active yet: it works once your contact's phone has connected to the internet",
    "expired": "this link has expired; ask your contact for a new one",
    "used": "this link was already used; thank you",
    "revoked": "this link was withdrawn",
}


def _open_link(conn: sqlite3.Connection, token: str) -> dict[str, Any]:
    link_id = links.link_of_token(links.signing_key(conn), token)
    link = db.link_row(conn, link_id)
    state = links.state_of(link, utc_now())
    if state == "pending":
        raise NotFound(STATE_MESSAGES["pending"], [FieldError("token", "pending")])
    if state != "open":
        raise Gone(STATE_MESSAGES[state], [FieldError("token", state)])
    assert link is not None
    return link


def public_view(engine: Engine, token: str, address: str) -> dict[str, Any]:
    """What the customer sees: their own details as the card holds them, and the link's purpose."""
    with engine.store.write() as conn:  # the signing key may be made on first use; the opening is audited
        link = _open_link(conn, token)
        card = db.card_json(conn, link["card"]) or {}
        if card.get("deleted"):
            raise Gone(STATE_MESSAGES["revoked"], [FieldError("token", "revoked")])
        audit.record(conn, "customer", "link.open", link["id"], {"address": address})
        form = surveys.public(surveys.find(conn, link["survey"])) if link["purpose"] == "survey" else None
    return {
        "purpose": link["purpose"],
        "survey": link["survey"],
        "expires": link["expires"],
        "survey_form": form,
        "card": {name: card.get(name, [] if name in ("phones", "emails") else None) for name in links.CUSTOMER_FIELDS},
    }


def answer(engine: Engine, token: str, body: object, address: str) -> dict[str, Any]:
    """Apply the customer's answer once: corrections to their details (merged against what the page
    showed, so a rep's concurrent edit becomes a conflict) and, for a survey, their feedback."""
    if not isinstance(body, dict) or set(body) - {"fields", "was", "consent", "rating", "text", "answers"}:
        raise InvalidInput("send fields and was (and rating, text, answers for a survey)", [FieldError("", "unknown keys")])
    fields, was = body.get("fields") or {}, body.get("was") or {}
    if not isinstance(fields, dict) or not isinstance(was, dict):
        raise InvalidInput("fields and was are objects", [FieldError("fields", "must be an object")])
    outside = sorted((set(fields) | set(was)) - set(links.CUSTOMER_FIELDS))
    if outside:
        raise InvalidInput(
            "only your own contact details can be changed here",
            [FieldError(f"fields.{name}", "cannot be changed here") for name in outside],
        )
    consent = body.get("consent")
    if consent is not None and consent not in CONSENT_CHOICES:
        raise InvalidInput("consent: how we may contact you", [FieldError("consent", "any, phone, email, message or none")])
    with engine.store.read() as conn:
        link = _open_link(conn, token)
        held = (db.card_json(conn, link["card"]) or {}).get("consent")
        survey = surveys.find(conn, link["survey"])
    # The rating and answers against the survey the link names (CSAT 1–5, or NPS 0–10 in answers.nps).
    rating, answers = surveys.check_answer(survey, body.get("rating"), body.get("answers"))
    namespace = uuid.UUID(link["id"])
    mutations: list[dict[str, Any]] = []
    if fields:
        mutations.append(
            {
                "id": str(uuid.uuid5(namespace, "details")),
                "op": "card.put",
                "card": link["card"],
                "at": engine.clock.now(),
                "fields": fields,
                "was": {k: was.get(k) for k in fields},
            }
        )
    if consent is not None:  # the customer's own word: against what the card held, so it is taken
        contact, channels = CONSENT_CHOICES[consent]
        given = {
            "contact": contact,
            "channels": channels,
            "basis": "consent",
            "at": utc_now().replace(".000Z", "Z"),
            "source": "customer",
        }
        mutations.append(
            {
                "id": str(uuid.uuid5(namespace, "consent")),
                "op": "card.put",
                "card": link["card"],
                "at": engine.clock.now(),
                "fields": {"consent": given},
                "was": {"consent": held},
            }
        )
    if link["purpose"] == "survey" or rating is not None or answers:
        activity = {
            "id": str(uuid.uuid5(namespace, "feedback")),
            "kind": "feedback",
            "at": utc_now().replace(".000Z", "Z"),
            "text": body.get("text") or "",
            "rating": rating,
            "survey": link["survey"],
            "answers": answers,
        }
        mutations.append(
            {
                "id": str(uuid.uuid5(namespace, "survey")),
                "op": "activity.add",
                "card": link["card"],
                "at": engine.clock.now(),
                "activity": {k: v for k, v in activity.items() if v is not None},
            }
        )
    record = {"consent": consent, "address": address}

    def within(conn: sqlite3.Connection, results: list[dict[str, Any]]) -> None:
        rejected = [r for r in results if r["status"] == "rejected"]
        if rejected:
            raise _Rejected(rejected)
        if db.link_row(conn, link["id"])["used_at"]:  # type: ignore[index]
            raise Conflict(STATE_MESSAGES["used"], [FieldError("token", "used")])
        db.use_link(conn, link["id"], utc_now(), json.dumps(record, ensure_ascii=False))
        audit.record(
            conn, "customer", "link.answer", link["id"], {"card": link["card"], "fields": sorted(fields), "consent": consent}
        )
        _emit_survey(conn, link, mutations)
        journal.record(
            conn,
            CUSTOMER,
            "link.answer",
            {"link": link["id"], "device": f"link:{link['id']}", "mutations": mutations, "record": record},
            ref=link["id"],
        )

    try:
        results = engine.apply(CUSTOMER, f"link:{link['id']}", mutations, within=within)
    except _Rejected as failed:
        errors = [FieldError(e["path"], e["message"]) for r in failed.results for e in r["errors"]]
        raise InvalidInput("; ".join(e.message for e in errors[:3]) or "not accepted", errors) from None
    statuses = [r["status"] for r in results]
    return {"ok": True, "statuses": statuses}


def _emit_survey(conn: sqlite3.Connection, link: dict[str, Any], mutations: list[dict[str, Any]]) -> None:
    """`survey.answered`, in the answer's own transaction, once per link (its id is the event's ref)."""
    for mutation in mutations:
        if mutation["op"] == "activity.add":
            activity = mutation["activity"]
            events.emit(
                conn,
                "survey.answered",
                link["card"],
                {
                    "card": link["card"],
                    "link": link["id"],
                    "survey": link["survey"],
                    "activity": activity["id"],
                    "at": activity["at"],
                    "rating": activity.get("rating"),
                    "text": activity.get("text") or "",
                    "answers": activity.get("answers") or {},
                },
                ref=link["id"],
            )


class _Rejected(Exception):
    """Raised inside the transaction so that nothing of a partly refused answer is kept."""

    def __init__(self, results: list[dict[str, Any]]) -> None:
        super().__init__("rejected")
        self.results = results


def replay_answer(engine: Engine, payload: dict[str, Any]) -> None:
    """A journaled answer, applied again after a restore (idempotent by its mutation ids)."""

    def within(conn: sqlite3.Connection, results: list[dict[str, Any]]) -> None:
        db.use_link(conn, payload["link"], utc_now(), json.dumps(payload["record"], ensure_ascii=False))
        link = db.link_row(conn, payload["link"])
        if link is not None:
            _emit_survey(conn, link, payload["mutations"])  # the same event id as the first time

    engine.apply(CUSTOMER, payload["device"], payload["mutations"], within=within)


def reserve(engine: Engine, count: int) -> list[dict[str, str]]:
    """Link ids with their tokens for a phone to use offline; nothing is stored until one is declared."""
    with engine.store.write() as conn:
        key = links.signing_key(conn)
    ids = [str(uuid.uuid4()) for _ in range(count)]
    return [{"id": i, "token": links.token_for(key, i)} for i in ids]


def revoke(engine: Engine, user: User, link_id: str) -> dict[str, Any]:
    with engine.store.write() as conn:
        link = db.link_row(conn, link_id)
        card = db.card_json(conn, link["card"]) if link else None
        if link is None or card is None or not can_see(user, card.get("owner") or ""):
            raise NotFound("no such link")
        db.revoke_link(conn, link_id, utc_now())
        audit.record(conn, user.name, "link.revoke", link_id, {"card": link["card"]})
    return {"link": link_id, "revoked": True}
