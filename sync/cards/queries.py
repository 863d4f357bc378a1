"""Read-side questions about cards, each answered only with what the asking user may see."""

from __future__ import annotations

import re
import sqlite3
from typing import Any

from sync import db
from sync.access import OwnerScope, User, can_see, owner_filter
from sync.errors import NotFound, invalid
from sync.cards.search import query_text
from sync.db import Store
from sync.cards.validate import canonical_uuid, check_date

MAX_PAGE = 1000
MAX_PARAM = 500  # a search or filter longer than this is not a person's query


def card_id_or_not_found(value: str) -> str:
    """A card id from a URL: anything but a canonical UUID is no such card (404, not 400)."""
    try:
        return canonical_uuid(value)
    except ValueError:
        raise NotFound("no such card") from None


def visible_card(conn: Any, user: User, card_id: str) -> dict[str, Any]:
    """The card, if it exists, was not erased and `user` may see it; else NotFound (never Forbidden:
    a card one may not see is, to them, no card)."""
    card = db.card_json(conn, card_id)
    if card is None or card.get("erased") or not can_see(user, card["owner"]):
        raise NotFound("no such card")
    return card


def card_with_activities(st: Store, user: User, card_id: str) -> dict[str, Any]:
    card_id = card_id_or_not_found(card_id)
    with st.read() as conn:
        return {"card": visible_card(conn, user, card_id), "activities": db.activities_of_card(conn, card_id)}


def card_history(st: Store, user: User, card_id: str) -> dict[str, Any]:
    card_id = card_id_or_not_found(card_id)
    with st.read() as conn:
        visible_card(conn, user, card_id)
        return {"history": db.history_of_card(conn, card_id)}


def list_cards(st: Store, user: User, params: dict[str, str]) -> dict[str, Any]:
    """`GET /cards`: filters of the contract; reps are held to their own cards whatever they ask."""
    known = {"q", "segment", "tag", "owner", "region", "due_before", "limit", "after", "deleted"}
    unknown = sorted(set(params) - known)
    if unknown:
        raise invalid(unknown[0], "unknown parameter")
    raw_limit = params.get("limit") or "100"
    if not re.fullmatch(r"[0-9]{1,4}", raw_limit) or not 1 <= int(raw_limit) <= MAX_PAGE:
        raise invalid("limit", "must be a whole number from 1 to 1000")
    limit = int(raw_limit)
    for name in ("q", "tag", "owner", "region", "after"):
        if len(params.get(name) or "") > MAX_PARAM:
            raise invalid(name, f"at most {MAX_PARAM} characters")
    if params.get("segment") and params["segment"] not in ("A", "B", "C", "none"):
        raise invalid("segment", "must be A, B, C, or none for cards without one")
    due_before = params.get("due_before") or None
    if due_before:
        try:
            check_date(due_before)
        except ValueError as error:
            raise invalid("due_before", str(error)) from None
    owner = owner_filter(user)
    asked_owner = params.get("owner") or None
    if asked_owner and owner is None:
        owner = asked_owner
    elif asked_owner and asked_owner != owner:
        return {"cards": [], "next": None}
    include_deleted = params.get("deleted") in ("1", "true") and user.sees_everything
    with st.read() as conn:
        cards = matching_cards(conn, params, owner=owner, limit=limit + 1, due_before=due_before, include_deleted=include_deleted)
    more = len(cards) > limit
    cards = cards[:limit]
    return {"cards": cards, "next": cards[-1]["id"] if more else None}


def matching_cards(
    conn: sqlite3.Connection,
    params: dict[str, str],
    *,
    owner: OwnerScope,
    limit: int,
    due_before: str | None = None,
    include_deleted: bool = False,
) -> list[dict[str, Any]]:
    """The cards a list's checked filter parameters (`q`, `segment`, `tag`, `region`, `after`) match,
    for the card list and the pool's list alike."""
    return db.list_cards(
        conn,
        owner=owner,
        q=query_text(params["q"]) if params.get("q") else None,
        segment=params.get("segment") or None,
        tag=params.get("tag") or None,
        region=params.get("region") or None,
        due_before=due_before,
        include_deleted=include_deleted,
        after=params.get("after") or None,
        limit=limit,
    )


def conflicts(st: Store, user: User, params: dict[str, str]) -> dict[str, Any]:
    status = params.get("status") or None
    if status not in (None, "open", "resolved"):
        raise invalid("status", 'must be "open" or "resolved"')
    card = params.get("card") or None
    with st.read() as conn:
        return {"conflicts": db.list_conflicts(conn, status=status, owner=owner_filter(user), card=card)}
