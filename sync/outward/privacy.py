"""The customer's rights over their personal information (PIPL): access to everything held about
them, and erasure that survives a restore (issue 18).

Erasure purges the card and everything derived from it (`db.erase_card`), keeps a tombstone
with no personal data so that devices are told (`remove`, reason `erased`) and later mutations are
refused, scrubs the card from the server's journal, and writes one journal entry of its own: the
erasure ledger. A restore to a point before the erasure carries that entry forward and applies
it again before the server answers (`sync/office/replay.py`), so a restored replica or a phone
re-sending its journal cannot bring the customer back. The audit log keeps only who erased which
card id, when.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sync.cards import attachments
from sync import audit, db
from sync import journal
from sync import events
from sync.access import User, admin_only, can_see, office_only
from sync.protocol.engine import Engine
from sync.errors import FieldError, InvalidInput, NotFound
from sync.times import utc_now
from sync.cards.queries import card_id_or_not_found


def erase(engine: Engine, user: User, card_id: str) -> dict[str, Any]:
    """Erase a customer (admins). Cards merged into it are the same person and go with it.
    Erasing an erased card again changes nothing and answers the same."""
    admin_only(user, "may erase a customer")
    card_id = card_id_or_not_found(card_id)
    with engine.store.write() as conn:
        row = db.card_row(conn, card_id)
        if row is None:
            raise NotFound("no such card")
        if row.card.get("erased"):
            return {"card": card_id, "erased": True}
        now = utc_now()
        seq = db.last_seq(conn)
        erased = []
        pending = [card_id]
        while pending:  # the card and every card merged into it, chains followed
            current = pending.pop()
            pending += db.cards_merged_into(conn, current)
            found = db.card_row(conn, current)
            if found is None or found.card.get("erased"):
                continue
            seq += 1
            db.erase_card(conn, current, found.card.get("owner") or "", found.version + 1, seq, now)
            _scrub_journal(conn, current)
            db.forget_link_answers(conn, current, now)  # what they answered on a link, and from where
            events.forget_card(conn, current)  # queued bodies hold the customer's data
            events.emit(conn, "card.erased", current, {"id": current}, ref="erase")  # the id, nothing else
            erased.append(current)
        db.set_meta(conn, "seq", str(seq))
        audit.record(conn, user.name, "card.erase", card_id, {"cards": len(erased)})
        journal.record(conn, user, "erase", {"card": card_id}, ref=card_id)
    return {"card": card_id, "erased": True}


DEFAULT_RETENTION_DAYS = 180


def purge_deleted(st: db.Store, *, days: int, now: datetime, dry_run: bool = False) -> dict[str, Any]:
    """Retention: cards deleted more than `days` ago, and their history, activities, attachments and
    conflicts, are purged like an erasure (their devices were told `remove` when they were
    deleted). `now` is passed in, so a test or a drill can ask about any day."""
    if not 1 <= days <= 36500:
        raise InvalidInput("days: from 1 to 36500", [FieldError("days", "from 1 to 36500")])
    cutoff = (now - timedelta(days=days)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    with st.write() as conn:
        due = db.deleted_cards_before(conn, cutoff)
        if dry_run or not due:
            return {"days": days, "before": cutoff, "cards": len(due), "purged": 0 if dry_run else len(due)}
        seq = db.last_seq(conn)
        stamp = now.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        for card_id, owner, version in due:
            seq += 1
            db.erase_card(conn, card_id, owner, version + 1, seq, stamp)
            _scrub_journal(conn, card_id)
            events.forget_card(conn, card_id)  # sent event bodies hold its data too
        db.set_meta(conn, "seq", str(seq))
        audit.record(conn, "retention", "retention.purge", f"{len(due)} cards", {"days": days, "before": cutoff})
    return {"days": days, "before": cutoff, "cards": len(due), "purged": len(due)}


def _scrub_journal(conn: Any, card_id: str) -> None:
    """Journaled server work that carries this customer's values loses them; an erasure must not
    be undone by re-applying an import or an office edit after a restore."""
    for entry_id, text in db.journal_mentioning(conn, card_id):
        payload = json.loads(text)
        if isinstance(payload.get("mutations"), list):
            payload["mutations"] = [m for m in payload["mutations"] if not (isinstance(m, dict) and m.get("card") == card_id)]
        if isinstance(payload.get("todo"), list):
            payload["todo"] = [r for r in payload["todo"] if not (isinstance(r, list) and len(r) > 1 and r[1] == card_id)]
        if isinstance(payload.get("body"), dict) and card_id in json.dumps(payload["body"]):
            payload["body"] = {}  # a merge or resolution of this customer: nothing left to re-apply
        if isinstance(payload.get("record"), dict):
            payload["record"] = {}  # a customer's link answer: their consent choice and address
        db.replace_journal_payload(conn, entry_id, json.dumps(payload, ensure_ascii=False))


def customer_export(st: db.Store, user: User, card_id: str) -> dict[str, Any]:
    """Everything held about one customer (office and admins): the card, its history, activities,
    the survey answers among them, attachments (listed, not their bytes), customer links and what
    was answered on them, conflicts, import rows, merges and the audit entries about it."""
    office_only(user, "may export a customer's data")
    card_id = card_id_or_not_found(card_id)
    with st.read() as conn:
        card = db.card_json(conn, card_id)
        if card is None or card.get("erased") or not can_see(user, card.get("owner") or ""):
            raise NotFound("no such card")
        merged_in = db.cards_merged_into(conn, card_id)
        activities = db.activities_of_card(conn, card_id)
        return {
            "exported_at": utc_now(),
            "card": card,
            "history": db.history_of_card(conn, card_id),
            "activities": activities,
            "survey_answers": [
                {
                    "activity": a["id"],
                    "survey": a.get("survey"),
                    "at": a["at"],
                    "rating": a.get("rating"),
                    "text": a.get("text") or "",
                    "answers": a.get("answers") or {},
                }
                for a in activities
                if a.get("survey") or a.get("answers")
            ],
            "attachments": [attachments.public(a) for a in db.attachments_of_card(conn, card_id)],
            "links": [
                {
                    **{
                        k: link[k]
                        for k in ("id", "purpose", "survey", "expires", "created_by", "created_at", "used_at", "revoked_at")
                    },
                    "answer": json.loads(link["answer"]) if link["answer"] else None,
                }
                for link in db.links_of_card(conn, card_id)
            ],
            "conflicts": db.list_conflicts(conn, status=None, owner=None, card=card_id),
            "merged_cards": [db.card_json(conn, other) for other in merged_in],
            "imports": db.import_rows_of_card(conn, card_id),
            # about the card, and about its links (when the customer opened and answered them, from where)
            "audit": sorted(
                [
                    entry
                    for target in [card_id, *(link["id"] for link in db.links_of_card(conn, card_id))]
                    for entry in db.audit_about(conn, target)
                ],
                key=lambda entry: entry["id"],
            ),
        }
