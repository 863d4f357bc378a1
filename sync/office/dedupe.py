"""Duplicates and merges (contract section 5).

A merge keeps one card (`into`) and folds the others into it in one transaction: the person's
chosen values, the union of phones, emails and tags, every activity. The merged-away cards stay
as tombstones pointing at the survivor, so devices get `remove` with reason `merged` and `into`,
and an edit a phone made offline to a merged-away card is applied to the survivor (engine.py
follows the pointer). A merge can be undone: the cards and their activities come back, and a
survivor field changed since the merge becomes a conflict record instead of being overwritten.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from typing import Any

from sync import audit, db
from sync import journal
from sync import events
from sync.db import CardRow
from sync.access import User, can_see, office_only
from sync.protocol.batch import Batch, CardWrite
from sync.times import utc_now
from sync.errors import InvalidInput, NotFound, invalid, still_undoable
from sync.protocol.merge import values_equal
from sync.cards.search import pinyin_keys
from sync.cards.validate import CARD_FIELDS, canonical_uuid, validate_card_fields

SET_FIELDS = ("phones", "emails", "tags")
SET_LIMITS = {"phones": 10, "emails": 10, "tags": 20}
MAX_FROM = 20
SCORES = {"phone": 0.95, "email": 0.9, "name+company": 0.85, "pinyin": 0.6}


# --- finding duplicates ------------------------------------------------------------------------


def duplicate_groups(engine: Any, user: User, limit: int = 500) -> list[dict[str, Any]]:
    """Groups of live cards that are likely one customer, with the reason and a score."""
    office_only(user, "may look for duplicates")
    found: dict[tuple[str, ...], dict[str, Any]] = {}

    def add(cards: list[str], reason: str, key: str) -> None:
        group = tuple(sorted(set(cards)))
        if len(group) < 2:
            return
        known = found.get(group)
        if known is None or SCORES[reason] > known["score"]:
            found[group] = {
                "cards": list(group),
                "reason": reason,
                "score": SCORES[reason],
                "key": key,
                "reasons": sorted(set((known or {}).get("reasons", [])) | {reason}),
            }
        else:
            known["reasons"] = sorted(set(known["reasons"]) | {reason})

    with engine.store.read() as conn:
        for key, joined in db.shared_card_keys(conn):
            if not key.startswith("n:"):  # name + company keys: grouped below, with the pinyin ones
                add(joined.split(" "), "phone" if key.startswith("p:") else "email", key[2:])
        by_name: dict[str, list[str]] = defaultdict(list)
        by_pinyin: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for card_id, name, company in db.live_names_and_companies(conn):
            if company:
                by_name[f"{name.strip().lower()}\x00{company.strip().lower()}"].append(card_id)
            full = pinyin_keys(name).split(" ")[0] if name else ""
            if full and full != name.lower():
                by_pinyin[f"{full}\x00{(company or '').strip().lower()}"].append((card_id, name))
    for key, cards in by_name.items():
        add(cards, "name+company", key.replace("\x00", " / "))
    for key, members in by_pinyin.items():
        if len({name for _, name in members}) > 1:  # 王伟 and 汪伟: same sound, different characters
            add([c for c, _ in members], "pinyin", key.replace("\x00", " / ").strip(" /"))
    groups = sorted(found.values(), key=lambda g: (-g["score"], g["cards"]))[:limit]
    # Both owners, and whether a rep was told at sync that a colleague holds (or the pool has) this
    # customer (issue 19): never merged by itself, shown here for office to decide.
    with engine.store.read() as conn:
        owners = db.owners_of(conn, sorted({c for g in groups for c in g["cards"]}))
        flagged = db.colleague_hit_cards(conn)
    for group in groups:
        group["owners"] = [owners.get(c) for c in group["cards"]]
        codes = sorted({flagged[c] for c in group["cards"] if c in flagged})
        if codes:
            group["candidate"] = codes
    return groups


# --- merging -----------------------------------------------------------------------------------


def _ids(body: dict[str, Any]) -> tuple[str, list[str]]:
    try:
        into = canonical_uuid(body.get("into"))
    except ValueError:
        raise invalid("into", "the id of the card to keep") from None
    raw_from = body.get("from")
    if not isinstance(raw_from, list) or not 1 <= len(raw_from) <= MAX_FROM:
        raise invalid("from", f"a list of 1–{MAX_FROM} card ids to merge into the kept one")
    ids = []
    for n, value in enumerate(raw_from):
        try:
            ids.append(canonical_uuid(value))
        except ValueError:
            raise invalid(f"from[{n}]", "not a card id") from None
    if into in ids or len(set(ids)) != len(ids):
        raise invalid("from", "each card once, and not the kept one")
    return into, ids


def merge_cards(engine: Any, user: User, body: object, *, merge_id: str | None = None) -> dict[str, Any]:
    """Merge cards into one; `merge_id` is given only when a restore re-applies a journaled merge
    (so that a later unmerge of it still finds it)."""
    office_only(user, "may merge cards")
    if not isinstance(body, dict) or set(body) - {"into", "from", "values"}:
        raise invalid("", 'send {"into": id, "from": [id, …], "values": {field: value}}')
    into, from_ids = _ids(body)
    values = body.get("values") or {}
    try:
        chosen = validate_card_fields(values, region=engine.default_region, creating=False)
    except InvalidInput as error:
        raise error.under("values") from None
    merge_id = merge_id or str(uuid.uuid4())
    with engine.store.write() as conn:
        rows: dict[str, CardRow] = {}
        for card_id in [into, *from_ids]:
            row = db.card_row(conn, card_id)
            if row is None or row.card["deleted"] or row.merged_into or not can_see(user, row.owner):
                raise NotFound(f"no live card {card_id}")
            rows[card_id] = row
        snapshot = {
            card_id: {"card": row.card, "activities": db.activity_ids_of_card(conn, card_id)} for card_id, row in rows.items()
        }
        snapshot = json.loads(json.dumps(snapshot))  # a deep copy: the rows are changed below
        batch = Batch(engine, conn, user, f"merge:{merge_id[:8]}", utc_now())
        at = engine.clock.now()
        survivor = rows[into]
        result = dict(survivor.card)
        for name in SET_FIELDS:
            union: list[Any] = []
            for card_id in [into, *from_ids]:
                union += [v for v in rows[card_id].card.get(name) or [] if v not in union]
            result[name] = union
        for name in CARD_FIELDS:  # empty on the survivor: take the first merged card that has it
            if name not in SET_FIELDS and values_equal(result.get(name), None):
                result[name] = next((rows[c].card[name] for c in from_ids if rows[c].card.get(name)), result.get(name))
        result.update(chosen)
        for name, limit in SET_LIMITS.items():
            if len(result[name]) > limit:
                raise invalid(f"values.{name}", f"together the cards hold {len(result[name])}; choose at most {limit}")
        write = CardWrite(survivor, dict(survivor.card))
        for name in CARD_FIELDS:
            if not values_equal(result.get(name), survivor.card.get(name)):
                write.changes[name] = [survivor.card.get(name), result[name]]
                survivor.card[name] = result[name]
                survivor.clocks[name] = [at, user.name, batch.device]
        batch.save(write, at, None, mutation_ref=f"merge:{merge_id}")
        for card_id in from_ids:
            row = rows[card_id]
            gone = CardWrite(row, dict(row.card))
            batch.set_deleted(gone, True, at)
            row.merged_into = into
            batch.save(gone, at, None, mutation_ref=f"merge:{merge_id}")
            for activity_id in snapshot[card_id]["activities"]:
                db.move_activity_to_card(conn, activity_id, into, batch.next_seq())
            for attachment_id in db.attachment_ids_of_card(conn, card_id):  # photos follow the customer
                db.move_attachment(conn, attachment_id, into, batch.next_seq())
        batch.finish()
        db.insert_merge(conn, merge_id, into, from_ids, snapshot, survivor.card, user.name, batch.now)
        audit.record(conn, user.name, "merge", into, {"merge": merge_id, "from": from_ids})
        events.emit(conn, "card.merged", into, {"id": into, "merged": from_ids, "merge": merge_id}, ref=f"merge:{merge_id}")
        journal.record(conn, user, "merge", {"body": body}, ref=merge_id)
        return {"merge": merge_id, "card": db.card_json(conn, into)}


def unmerge(engine: Any, user: User, merge_id: str) -> dict[str, Any]:
    office_only(user, "may undo a merge")
    with engine.store.write() as conn:
        found = still_undoable(db.merge_record(conn, merge_id), 4, "merge")
        into, from_ids, snapshot, merged = found[0], json.loads(found[1]), json.loads(found[2]), json.loads(found[3])
        batch = Batch(engine, conn, user, f"unmerge:{merge_id[:8]}", utc_now())
        at = engine.clock.now()
        conflicts = 0
        for card_id in from_ids:
            row = db.card_row(conn, card_id)
            if row is None:
                continue
            before = snapshot[card_id]["card"]
            for activity_id in snapshot[card_id]["activities"]:
                db.move_activity_to_card(conn, activity_id, card_id, batch.next_seq())
            back = CardWrite(row, dict(row.card))
            for name in CARD_FIELDS:
                if not values_equal(row.card.get(name), before.get(name)):
                    back.changes[name] = [row.card.get(name), before.get(name)]
                    row.card[name] = before.get(name)
            batch.set_deleted(back, False, at)
            row.merged_into = None
            batch.save(back, at, None, mutation_ref=f"unmerge:{merge_id}")
        survivor = db.card_row(conn, into)
        if survivor is not None:
            original = snapshot[into]["card"]
            write = CardWrite(survivor, dict(survivor.card))
            for name in CARD_FIELDS:
                now, was_merged, before = survivor.card.get(name), merged.get(name), original.get(name)
                if values_equal(was_merged, before):
                    continue
                if values_equal(now, was_merged):
                    write.changes[name] = [now, before]
                    survivor.card[name] = before
                    survivor.clocks[name] = [at, user.name, batch.device]
                else:  # changed since the merge: a person decides
                    write.conflicts.append(
                        batch.conflict(
                            into, name, now, before, "", survivor.card.get("updated_at", ""), f"undo of merge by {user.name}", at
                        )
                    )
                    conflicts += 1
            batch.save(write, at, None, mutation_ref=f"unmerge:{merge_id}")
        batch.finish()
        db.mark_merge_undone(conn, merge_id, batch.now, user.name)
        audit.record(conn, user.name, "merge.undo", into, {"merge": merge_id, "from": from_ids, "conflicts": conflicts})
        journal.record(conn, user, "unmerge", {}, ref=merge_id)
        return {"merge": merge_id, "cards": [db.card_json(conn, c) for c in [into, *from_ids]], "conflicts": conflicts}
