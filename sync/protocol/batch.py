"""One transaction's worth of mutations from one device, applied card by card: the public batch
API. The engine runs a device's push through it; the server's own writers that are not a list of
mutations (merges and unmerges in sync/office/dedupe.py, reclaim, stages) build a `CardWrite` and
`save` it, so versions, stream positions, history and conflicts are kept one way."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any
from sync.cards import attachments, links
from sync import audit
from sync.cards import followups
from sync.cards import pool
from sync import db
from sync.cards import template
from sync import events
from sync.access import User, can_reassign, can_see, owner_filter
from sync.errors import FieldcardsError, FieldError, InvalidInput, NotAllowed, NotFound, invalid
from sync.protocol.merge import FieldOutcome, merge_notes, merge_scalar, merge_set, values_equal
from sync.protocol.model import (
    ActivityAdd,
    AttachmentAdd,
    CardClaim,
    CardDelete,
    CardPut,
    LinkCreate,
    mutation_id_of,
    parse_mutation,
)
from sync.cards.search import search_text
from sync.db import CardRow
from sync.cards.validate import (
    CARD_FIELDS,
    EMPTY_VALUES,
    FOLLOW_UP_FIELDS,
    SET_FIELDS,
    normalize_was,
    validate_activity,
    validate_card_fields,
)

if TYPE_CHECKING:  # the engine makes batches; a batch only calls back into it
    from sync.protocol.engine import Engine


class Erased(NotFound):
    """A mutation for a customer whose data was erased: refused as `not_found` (contract 7)."""

    def __init__(self) -> None:
        super().__init__(
            "this customer's data was erased at their request; the change cannot be applied",
            [FieldError("card", "this customer's data was erased; the change cannot be applied")],
        )


# Limits that a merge of concurrent set edits could push past (contract section 3).
SET_LIMITS = {"phones": 10, "emails": 10, "tags": 20}
# Each card field with the value a new card has without it (lists and objects are copied per card).
_EMPTY_FIELDS = tuple((name, EMPTY_VALUES[name]) for name in CARD_FIELDS)


@dataclass
class CardWrite:
    """What one mutation does to one card before it is saved."""

    row: CardRow
    before: dict[str, Any]
    changes: dict[str, list[Any]] = field(default_factory=dict)
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    merged: bool = False
    new: bool = False  # the card is being created: it has no stored keys to replace


@dataclass(frozen=True)
class CheckedMutation:
    """What the pure checks made of one mutation before the transaction: its envelope, and for a
    `card.put` its values as for a new card and as for an existing one (which it is, only the
    transaction knows) and its `was`. Each is the value or the error it raised, raised again."""

    mutation: Any  # the parsed envelope, or the FieldcardsError parsing raised
    creating: Any = None
    editing: Any = None
    was: Any = None

    def envelope(self) -> Any:
        return value_or_raise(self.mutation)

    def fields(self, *, creating: bool) -> dict[str, Any]:
        return value_or_raise(self.creating if creating else self.editing)

    def was_value(self) -> dict[str, Any]:
        return value_or_raise(self.was)


@dataclass(frozen=True)
class Checked:
    custom_fields: list[dict[str, Any]]
    region: str
    items: list[CheckedMutation] | None  # None: values already normal (`Engine.apply(normal_under=…)`)


def value_or_raise(value: Any) -> Any:
    if isinstance(value, FieldcardsError):
        raise value
    return value


def checked_as_normal(raw: dict[str, Any]) -> CheckedMutation:
    """A mutation whose card values are already in their normal form under the template and region
    its caller names (`Engine.apply(normal_under=…)`): its envelope is parsed, its values kept as
    they are, the caller's own objects (the batch never changes a value it is given in place)."""
    try:
        mutation = parse_mutation(raw)
    except FieldcardsError as error:
        return CheckedMutation(error)
    if not isinstance(mutation, CardPut):
        return CheckedMutation(mutation)
    return CheckedMutation(mutation, creating=mutation.fields, editing=mutation.fields, was=mutation.was or {})


def check_one(raw: dict[str, Any], region: str, custom_fields: list[dict[str, Any]]) -> CheckedMutation:
    """The same calls `Batch.apply` and `Batch._put` make, in the same order, made early."""

    def attempt(call: Callable[[], Any]) -> Any:
        try:
            return call()
        except FieldcardsError as error:
            return error

    mutation = attempt(lambda: parse_mutation(raw))
    if not isinstance(mutation, CardPut):
        return CheckedMutation(mutation)
    creating = attempt(lambda: validate_card_fields(mutation.fields, region=region, creating=True, custom_fields=custom_fields))
    # `creating` only adds errors (a name, required custom fields): values it accepts read the
    # same for an existing card (tests/test_batch.py holds validate.py to that).
    editing = (
        creating
        if not isinstance(creating, FieldcardsError)
        else attempt(lambda: validate_card_fields(mutation.fields, region=region, creating=False, custom_fields=custom_fields))
    )
    return CheckedMutation(
        mutation,
        creating=creating,
        editing=editing,
        was=attempt(lambda: normalize_was(mutation.was, region=region) if mutation.was is not None else {}),
    )


class NeedsSavepoints(Exception):
    """A mutation was rejected after it had written: the batch must run again with savepoints."""


class Batch:
    """One transaction's worth of mutations from one device. Public for the server's own writers
    that are not a list of mutations (merges, unmerges: sync/office/dedupe.py): they build a `CardWrite`
    and `save` it, so versions, stream positions, history and conflicts are kept one way."""

    def __init__(
        self,
        engine: Engine,
        conn: sqlite3.Connection,
        user: User,
        device: str | None,
        now: str,
        *,
        careful: bool = True,
        warnings: bool = True,
        remember: bool = True,
    ) -> None:
        self.engine = engine
        self.conn = conn
        self.careful = careful
        self.warnings = warnings  # look for possible duplicates: only a sync answer carries them
        self.remember = remember  # keep each mutation's result for a retry (see `Engine.apply`)
        self.user = user
        self.device = device
        self.now = now
        self.seq = db.last_seq(conn)
        self.custom_fields = template.for_validation(template.load(conn))
        self._checked: CheckedMutation | None = None
        # Idempotency records looked up once for a whole push (`expect`), and the ids this batch
        # stored since; webhook endpoints per event type, read once (only this transaction writes).
        self._expected: dict[str, tuple[str, dict[str, Any]]] | None = None
        self._stored_here: set[str] = set()
        self._listeners: dict[str, list[str]] = {}
        # How a change of owner came about, for the audit log: "hand", "claim" or "reclaim".
        self.owner_via = "hand"

    def expect(self, raws: Sequence[Any]) -> None:
        """The mutations about to be applied: their idempotency records in one look-up, not one
        per mutation (a push of 1,000 new mutations asked 1,000 times, ~6 µs each)."""
        ids = [i for i in (mutation_id_of(raw) for raw in raws) if i] if self.remember else []
        self._expected = db.stored_results(self.conn, ids)

    def _stored_result(self, mutation_id: str) -> tuple[str, dict[str, Any]] | None:
        if self._expected is None or mutation_id in self._stored_here:  # the same id twice in one push
            return db.stored_result(self.conn, mutation_id)
        return self._expected.get(mutation_id)

    def emit(self, event_type: str, key: str, data: dict[str, Any], *, ref: str) -> None:
        """`events.emit`, with the endpoints of each event type read once per batch."""
        endpoints = self._listeners.get(event_type)
        if endpoints is None:
            endpoints = self._listeners[event_type] = db.endpoints_listening_to(self.conn, event_type)
        events.emit(self.conn, event_type, key, data, ref=ref, endpoints=endpoints)

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def finish(self) -> None:
        db.set_meta(self.conn, "seq", str(self.seq))

    # --- one mutation ----------------------------------------------------------------

    def may_use(self, checked: Checked) -> bool:
        """Checks made before this transaction hold in it: the same template and region."""
        return checked.custom_fields == self.custom_fields and checked.region == self.engine.default_region

    def apply(self, raw: dict[str, Any], checked: CheckedMutation | None = None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """One mutation, all of it or (rejected) none of it. `checked`: its checks, made before the
        transaction by `Engine.apply` (see `may_use`); the merge rules and rights run here as always.

        A rejection must leave nothing behind. With `careful`, each mutation runs in its own
        savepoint. Without, none is taken (a savepoint per mutation copies every page the
        mutation touches and cost about a fifth of a push): every check that can reject comes
        before the first write, so a rejected mutation has written nothing. Should one ever be
        rejected after writing, `NeedsSavepoints` rolls the whole transaction back and the
        caller applies the batch again carefully."""
        mutation_id = mutation_id_of(raw) or ""
        seen = self._stored_result(mutation_id) if self.remember else None
        if seen is not None:
            seen_user, result = seen
            if seen_user != self.user.name:
                return rejected(
                    mutation_id, "invalid", [FieldError("id", "this mutation id was already used by another user")]
                ), []
            return result, []
        if self.careful:
            db.savepoint(self.conn, "mutation")
        written = self.conn.total_changes
        self._checked = checked
        try:
            mutation = checked.envelope() if checked is not None else parse_mutation(raw)
            result, warnings = self._apply(mutation)
            if self.remember:
                db.store_result(self.conn, mutation_id, self.user.name, self.device or "", self.now, result)
                self._stored_here.add(mutation_id)
        except FieldcardsError as error:
            if self.careful:
                db.rollback_to(self.conn, "mutation")
            elif self.conn.total_changes != written:
                raise NeedsSavepoints() from error
            code = {"forbidden": "forbidden", "device_revoked": "forbidden", "not_found": "not_found", "claimed": "claimed"}.get(
                error.code, "invalid"
            )
            errors = error.fields or [FieldError("", error.message)]
            return rejected(mutation_id, code, errors), []
        if self.careful:
            db.release(self.conn, "mutation")
        return result, warnings

    def _apply(
        self, m: CardPut | CardDelete | ActivityAdd | AttachmentAdd | LinkCreate | CardClaim
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        at = self.engine.clock.receive(m.at)
        if isinstance(m, CardPut):
            return self._put(m, at)
        if isinstance(m, CardDelete):
            return self._delete(m, at), []
        if isinstance(m, AttachmentAdd):
            return self._attachment(m), []
        if isinstance(m, LinkCreate):
            return self._link(m), []
        if isinstance(m, CardClaim):
            return self._claim(m, at), []
        return self._activity(m, at), []

    def _survivor(self, row: CardRow | None) -> CardRow | None:
        """A card merged into another stands for the card it was merged into (chains followed).
        An erased card stops everything: nothing may be written to it again."""
        for _ in range(20):
            if row is not None and row.card.get("erased"):
                raise Erased()
            if row is None or not row.merged_into:
                return row
            row = db.card_row(self.conn, row.merged_into)
        return row

    def _put(self, m: CardPut, at: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        # An edit made offline to a card that was merged meanwhile lands on the surviving card.
        row = self._survivor(db.card_row(self.conn, m.card))
        if row is None and m.was is not None:
            raise NotFound("no such card: it may have been deleted for good or never synced")
        checked = self._checked
        try:
            if checked is not None:
                fields = checked.fields(creating=row is None)
            else:
                fields = validate_card_fields(
                    m.fields, region=self.engine.default_region, creating=row is None, custom_fields=self.custom_fields
                )
        except InvalidInput as error:
            raise error.under("fields") from None
        if row is None:
            return self._create(m, fields, at)
        if not can_see(self.user, row.owner):
            return self._edit_of_card_taken_away(m, row, fields, at), []
        try:
            if checked is not None:
                was = checked.was_value()
            else:
                was = normalize_was(m.was, region=self.engine.default_region) if m.was is not None else {}
        except InvalidInput as error:
            raise error.under("was") from None
        self._check_owner_change(fields, row.owner)
        write = CardWrite(row, dict(row.card))
        for name, new in fields.items():
            self._merge_field(write, name, was.get(name, EMPTY_VALUES[name]), new, at, m.id)
        self._check_set_limits(write.row.card)
        if row.deleted:
            self._resurrect(write, at, m.id)
        self.save(write, at, m)
        return self._result(m.id, write, warn_keys=bool({"phones", "emails", "name", "company"} & write.changes.keys()))

    def _create(self, m: CardPut, fields: dict[str, Any], at: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        write = self._new_card(m, fields, at)
        self.save(write, at, m)
        return self._result(m.id, write, warn_keys=True)

    def _new_card(self, m: CardPut, fields: dict[str, Any], at: str) -> CardWrite:
        """The write that creates card `m.card` with `fields` (validated), not yet saved."""
        owner = fields["owner"] if "owner" in fields else self.user.name  # null: into the pool (office)
        if owner != self.user.name:
            self._check_owner_change({"owner": owner}, self.user.name)
        card: dict[str, Any] = {"id": m.card}
        before: dict[str, Any] = {"id": m.card}
        given: list[str] = []
        for name, empty in _EMPTY_FIELDS:  # one pass: this runs for every new card of a push
            if name in fields:
                value = card[name] = fields[name]
                # What `values_equal(value, empty)` says, without the call for the usual values.
                if name == "owner" or (value is not None if empty is None else not values_equal(value, empty)):
                    given.append(name)
            else:
                card[name] = empty if empty is None else empty.copy()
                if name == "owner":
                    given.append(name)
            before[name] = empty if empty is None else empty.copy()
        card.update(owner=owner, version=0, created_at=self.now, updated_at=self.now, deleted=False)
        row = CardRow(card, {}, 0, None)
        write = CardWrite(row, before, new=True)
        stamp = [at, self.user.name, self.device or ""]
        for name in given:
            write.changes[name] = [before[name], card[name]]
            row.clocks[name] = list(stamp)
        return write

    def _merge_field(self, write: CardWrite, name: str, was: Any, new: Any, at: str, mutation: str) -> None:
        card, clocks = write.row.card, write.row.clocks
        if name == "custom":
            self._merge_custom(write, was if isinstance(was, dict) else {}, new, at, mutation)
            return
        if name == "follow_ups":
            self._merge_follow_ups(write, was if isinstance(was, list) else [], new, at, mutation)
            return
        current_at = (clocks.get(name) or [""])[0]
        if name in SET_FIELDS:
            out = merge_set(card[name], was if isinstance(was, list) else [], new)
        elif name == "notes":
            out = merge_notes(card[name], was, new, current_at=current_at, new_at=at)
        else:
            out = merge_scalar(card[name], was, new, current_at=current_at, new_at=at)
        self._take(write, name, name, out, at, mutation, new)

    def _merge_custom(self, write: CardWrite, was: dict[str, Any], new: dict[str, Any], at: str, mutation: str) -> None:
        """Each custom key merges on its own, like a scalar; a list value (a `choices` field) like a set."""
        custom = dict(write.row.card.get("custom") or {})
        for key, value in new.items():
            current = custom.get(key)
            clock = (write.row.clocks.get(f"custom.{key}") or [""])[0]
            if isinstance(value, list):
                out = merge_set(current if isinstance(current, list) else [], was.get(key) or [], value)
            else:
                out = merge_scalar(current, was.get(key), value, current_at=clock, new_at=at)
            if not values_equal(out.value, current):
                if out.value is None or out.value == []:
                    custom.pop(key, None)
                else:
                    custom[key] = out.value
            self._note_outcome(write, f"custom.{key}", out, at, mutation, current, value)
        if not values_equal(custom, write.row.card.get("custom") or {}):
            write.changes["custom"] = [write.before.get("custom"), custom]
            write.row.card["custom"] = custom

    def _merge_follow_ups(
        self, write: CardWrite, was: list[dict[str, Any]], new: list[dict[str, Any]], at: str, mutation: str
    ) -> None:
        """Follow-up items merge per item by `id` (contract 7): an item the device removed goes, one it
        added comes, and within an item each field merges like a scalar (`follow_ups.<id>.<field>`)."""
        current = [dict(item) for item in write.row.card.get("follow_ups") or []]
        before = {item["id"]: item for item in was}
        wanted = {item["id"]: item for item in new}
        result = [item for item in current if not (item["id"] in before and item["id"] not in wanted)]
        by_id = {item["id"]: item for item in result}
        for item_id, item in wanted.items():
            now = by_id.get(item_id)
            if now is None:
                if item_id in before and values_equal(item, before[item_id]):
                    continue  # removed elsewhere, untouched here: it stays removed
                result.append(dict(item))  # added here, or edited here while removed elsewhere: kept
                continue
            seen = before.get(item_id, now)
            for field_name in FOLLOW_UP_FIELDS:
                clock_key = f"follow_ups.{item_id}.{field_name}"
                clock = (write.row.clocks.get(clock_key) or [""])[0]
                out = merge_scalar(now.get(field_name), seen.get(field_name), item.get(field_name), current_at=clock, new_at=at)
                current_value = now.get(field_name)
                now[field_name] = out.value
                self._note_outcome(write, clock_key, out, at, mutation, current_value, item.get(field_name))
        if not values_equal(result, write.row.card.get("follow_ups") or []):
            write.changes["follow_ups"] = [write.before.get("follow_ups"), result]
            write.row.card["follow_ups"] = result

    def _take(self, write: CardWrite, name: str, clock_key: str, out: FieldOutcome, at: str, mutation: str, new: Any) -> None:
        current = write.row.card[name]
        if not values_equal(out.value, current):
            write.changes[name] = [write.before[name], out.value]
            write.row.card[name] = out.value
        self._note_outcome(write, clock_key, out, at, mutation, current, new)

    def _note_outcome(
        self, write: CardWrite, clock_key: str, out: FieldOutcome, at: str, mutation: str, current: Any, new: Any
    ) -> None:
        clocks = write.row.clocks
        if out.status == "merged":
            write.merged = True
        if out.status == "conflict":
            previous = clocks.get(clock_key) or ["", "", ""]
            mine = [at, self.user.name]
            kept_by, kept_at, other_by, other_at = (
                (mine[1], mine[0], previous[1], previous[0]) if out.incoming_won else (previous[1], previous[0], mine[1], mine[0])
            )
            write.conflicts.append(
                self.conflict(write.row.id, clock_key, out.value, out.loser, kept_by, kept_at, other_by, other_at)
            )
        if out.status in ("applied", "merged") or (out.status == "conflict" and out.incoming_won):
            clocks[clock_key] = [at, self.user.name, self.device or ""]

    def _resurrect(self, write: CardWrite, at: str, mutation: str) -> None:
        """An edit that arrives for a deleted card brings it back; the delete waits for a person."""
        deleted_by = write.row.clocks.get("deleted") or ["", "", ""]
        write.row.card["deleted"] = False
        write.row.merged_into = None
        write.changes["deleted"] = [True, False]
        write.conflicts.append(
            self.conflict(write.row.id, "deleted", False, True, self.user.name, at, deleted_by[1], deleted_by[0])
        )
        write.row.clocks["deleted"] = [at, self.user.name, self.device or ""]

    def conflict(
        self, card: str, field_name: str, kept: Any, other: Any, kept_by: str, kept_at: str, other_by: str, other_at: str
    ) -> dict[str, Any]:
        return {
            "id": str(uuid.uuid4()),
            "card": card,
            "field": field_name,
            "status": "open",
            "kept": kept,
            "other": other,
            "kept_by": kept_by or None,
            "other_by": other_by or None,
            "kept_at": kept_at or None,
            "other_at": other_at or None,
            "created_at": self.now,
        }

    def _check_owner_change(self, fields: dict[str, Any], current_owner: str | None) -> None:
        if "owner" not in fields or fields["owner"] == current_owner:
            return
        owner = fields["owner"]
        if owner is None:
            if not self.user.sees_everything:
                raise NotAllowed(
                    "only office staff and admins may return a card to the pool",
                    [
                        FieldError(
                            "fields.owner",
                            "only office staff and admins may return a card to the pool; a rep claims pool cards with card.claim",
                        )
                    ],
                )
            return
        if not can_reassign(self.user, owner):
            raise NotAllowed(
                "only office staff, admins and (within their team) managers may change a card's owner",
                [
                    FieldError(
                        "fields.owner", "only office staff and admins may change the owner; a manager, to someone in their team"
                    )
                ],
            )
        if not db.user_exists(self.conn, owner):
            raise invalid("fields.owner", f"there is no user named {owner!r}")

    def _check_set_limits(self, card: dict[str, Any]) -> None:
        errors = [
            FieldError(
                f"fields.{name}", f"merged with concurrent edits this card would hold {len(card[name])} {name}; at most {limit}"
            )
            for name, limit in SET_LIMITS.items()
            if len(card[name]) > limit
        ]
        if errors:
            raise InvalidInput("too many values after merging", errors)

    # --- the pool (sync/cards/pool.py) ----------------------------------------------------------

    def _claim(self, m: CardClaim, at: str) -> dict[str, Any]:
        """A rep takes a pool card. Within one round of the pool (since the card last entered it) the
        earliest bounded `at` wins, whichever arrives first: a later-arriving earlier claim takes the
        card from the claim that held it, whose owner's edits since are kept as conflicts for the
        winner. The losing claim is `rejected` with code `claimed`, and recorded, so that the loser's
        offline edits and activities on the card are kept for the winner too (contract 7)."""
        row = self._survivor(db.card_row(self.conn, m.card))
        if row is None or row.deleted:
            raise NotFound("no such card in the pool")
        if row.owner == self.user.name:
            return {"id": m.id, "status": "applied", "version": row.version, "card": row.card}
        since = db.pool_since(self.conn, row.id)
        if since is None:  # handed to someone by a person (or never in the pool): no claim takes it
            if row.owner is None:
                raise NotFound("no such card in the pool")
            return self._claim_lost(m, row, at, "")
        bounded = max(at, since)  # a claim cannot be older than the round it belongs to
        holder = db.winning_claim(self.conn, row.id, since) if row.owner is not None else None
        if row.owner is not None and (holder is None or (holder["at"], holder["user"]) <= (bounded, self.user.name)):
            return self._claim_lost(m, row, bounded, since)
        self._check_claim_limits()
        write = CardWrite(row, dict(row.card))
        if holder is not None:
            self._back_out_edits_of(write, holder)
            db.set_claim_status(self.conn, holder["mutation"], "displaced")
            db.replace_result(self.conn, holder["mutation"], claimed(holder["mutation"]))
        write.changes["owner"] = [row.owner, self.user.name]
        row.card["owner"] = self.user.name
        row.clocks["owner"] = [bounded, self.user.name, self.device or ""]
        self.owner_via = "claim"
        try:
            self.save(write, at, m)  # type: ignore[arg-type]
        finally:
            self.owner_via = "hand"
        self._record_claim(m, row, bounded, since, "won")
        return {
            "id": m.id,
            "status": "conflict" if write.conflicts else "applied",
            "version": row.version,
            "card": row.card,
            **({"conflicts": [c["id"] for c in write.conflicts]} if write.conflicts else {}),
        }

    def _claim_lost(self, m: CardClaim, row: CardRow, bounded: str, since: str) -> dict[str, Any]:
        self._record_claim(m, row, bounded, since, "lost")
        audit.record(self.conn, self.user.name, "card.claim.lost", row.id, {"mutation": m.id})
        return claimed(m.id)

    def _record_claim(self, m: CardClaim, row: CardRow, bounded: str, since: str, status: str) -> None:
        """A claim as decided (`won` or `lost`), so a later-arriving earlier claim can be weighed."""
        db.insert_claim(
            self.conn,
            {
                "mutation": m.id,
                "card": row.id,
                "user": self.user.name,
                "device": self.device or "",
                "at": bounded,
                "since": since,
                "received_at": self.now,
                "status": status,
                "version": row.version,
            },
        )

    def _check_claim_limits(self) -> None:
        rules = pool.settings(self.conn)
        held, per_day = rules["max_held"], rules["claims_per_day"]
        if held is not None and db.cards_held(self.conn, self.user.name) >= held:
            raise NotAllowed(
                f"you hold {held:,} cards, the most an administrator allows",
                [FieldError("card", f"you already hold {held:,} cards, the most allowed; hand one back or ask an administrator")],
            )
        if per_day is not None and db.claims_won_since(self.conn, self.user.name, self.now[:10]) >= per_day:
            raise NotAllowed(
                f"you have claimed {per_day:,} cards today, the most an administrator allows",
                [FieldError("card", f"at most {per_day:,} claims a day; try again tomorrow")],
            )

    def _back_out_edits_of(self, write: CardWrite, holder: dict[str, Any]) -> None:
        """The displaced claimer's edits since their claim leave the card and wait, as conflict
        records, for the new owner to take or leave: nothing of theirs is lost."""
        first: dict[str, Any] = {}
        last_by: dict[str, str] = {}
        for _version, user, changes in db.card_history_after(self.conn, write.row.id, holder["version"]):
            for name, (old, _new) in changes.items():
                if name not in ("owner", "deleted") and name in CARD_FIELDS:
                    last_by[name] = user
                    if user == holder["user"]:
                        first.setdefault(name, old)
        card = write.row.card
        for name, old in first.items():
            if last_by.get(name) != holder["user"] or values_equal(old, card[name]):
                continue
            clock = write.row.clocks.get(name) or ["", "", ""]
            write.conflicts.append(
                self.conflict(write.row.id, name, old, card[name], self.user.name, self.now, holder["user"], clock[0])
            )
            write.changes[name] = [card[name], old]
            card[name] = old

    def _owner_moved(self, write: CardWrite, old_owner: str | None, at: str) -> None:
        """Pool rounds and the audit log follow every move of a card between people and the pool."""
        card_id, new_owner = write.row.id, write.row.card["owner"]
        if new_owner is None:
            db.set_pool_since(self.conn, card_id, at)  # a new round: claims are compared from here
        elif self.owner_via != "claim":
            db.end_pool_round(self.conn, card_id)  # handed out by a person: no claim takes it back
        if not write.new:
            audit.record(self.conn, self.user.name, f"card.{self.owner_via}", card_id, {"from": old_owner, "to": new_owner})

    def _was_theirs(self, card_id: str) -> bool:
        """The card left this user (reassigned, or a colleague's earlier claim won it): their
        offline work on it is kept for whoever holds it now."""
        return db.card_left_user(self.conn, card_id, self.user.name) or db.lost_claim(self.conn, card_id, self.user.name)

    # --- saving ----------------------------------------------------------------------

    def save(
        self, write: CardWrite, at: str, m: CardPut | CardDelete | ActivityAdd | None, *, mutation_ref: str | None = None
    ) -> None:
        """Stamp a new version and stream position if anything changed; record history and conflicts."""
        row, card = write.row, write.row.card
        mutation_id = m.id if m else mutation_ref
        for record in write.conflicts:
            db.insert_conflict(self.conn, record, mutation_id)
        if not write.changes:
            return
        old_owner = write.before.get("owner")
        card["version"] = row.version + 1
        card["updated_at"] = self.now
        if old_owner and old_owner != card["owner"] and not card["deleted"]:
            # The old owner's devices must drop it; a rep who cannot see it any more gets `remove`,
            # and so does a manager whose team held the old owner but not the new one.
            db.mark_exit(self.conn, self.next_seq(), row.id, old_owner, "revoked", None)
            for manager in db.managers_of(self.conn, old_owner) - db.managers_of(self.conn, card["owner"]):
                if manager != card["owner"]:
                    db.mark_exit(self.conn, self.next_seq(), row.id, manager, "revoked", None)
        row.seq = self.next_seq()
        db.save_card(self.conn, row, search_text(card))
        if write.new:
            db.add_card_keys(self.conn, row.id, [] if card["deleted"] else stored_keys(card))
        else:
            db.replace_card_keys(self.conn, row.id, [] if card["deleted"] else stored_keys(card))
        moved = not write.new and "owner" in write.changes
        if moved or (write.new and card["owner"] is None):
            self._owner_moved(write, old_owner, at)
        if (moved and card["owner"]) or write.changes.get("deleted") == [True, False]:
            # The card enters someone's view: its activities must follow it, after the card.
            for activity_id in db.activity_ids_of_card(self.conn, row.id):
                db.move_activity_to_seq(self.conn, activity_id, self.next_seq())
            for attachment_id in db.attachment_ids_of_card(self.conn, row.id):
                db.move_attachment(self.conn, attachment_id, row.id, self.next_seq())
        db.insert_history(
            self.conn,
            card=row.id,
            version=card["version"],
            at=at,
            authored_at=m.at if m else at,
            received_at=self.now,
            user=self.user.name,
            device=self.device,
            mutation=mutation_id,
            changes=write.changes,
        )
        # The webhook outbox, in this transaction: the event exists exactly when the change does.
        kind = (
            "card.deleted" if write.changes.get("deleted") == [False, True] else "card.created" if write.new else "card.updated"
        )
        self.emit(kind, row.id, card, ref=mutation_id or f"{row.id}@{card['version']}")

    def _result(self, mutation_id: str, write: CardWrite, *, warn_keys: bool) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        card = write.row.card
        status = "conflict" if write.conflicts else "merged" if write.merged else "applied"
        result: dict[str, Any] = {"id": mutation_id, "status": status, "version": card["version"], "card": card}
        if write.conflicts:
            result["conflicts"] = [c["id"] for c in write.conflicts]
        warnings: list[dict[str, Any]] = []
        keys = stored_keys(card) if warn_keys and self.warnings and not card["deleted"] else []
        if db.shares_a_key(self.conn, card["id"], keys):  # one look at the index for both warnings
            others = db.cards_sharing_keys(self.conn, card["id"], contact_keys(card), owner_filter(self.user))
            if others:
                warnings.append({"mutation": mutation_id, "code": "possible_duplicate", "cards": others})
            warnings += pool.colleague_warnings(self.conn, self.user, mutation_id, card["id"], keys)
        return result, warnings

    # --- rights lost while offline -------------------------------------------------------

    def _edit_of_card_taken_away(self, m: CardPut, row: CardRow, fields: dict[str, Any], at: str) -> dict[str, Any]:
        """A rep's offline edit of a card reassigned away from them: kept as conflicts for the new owner."""
        if not self._was_theirs(row.id):
            raise NotFound("no such card")
        records = []
        for name, value in fields.items():
            if name == "owner" or values_equal(value, row.card[name]):
                continue
            clock = row.clocks.get(name) or ["", "", ""]
            records.append(self.conflict(row.id, name, row.card[name], value, clock[1], clock[0], self.user.name, at))
        for record in records:
            db.insert_conflict(self.conn, record, m.id)
        return {"id": m.id, "status": "conflict", "version": row.version, "conflicts": [r["id"] for r in records]}

    # --- delete ----------------------------------------------------------------------

    def _delete(self, m: CardDelete, at: str) -> dict[str, Any]:
        row = db.card_row(self.conn, m.card)
        if row is None:
            raise NotFound("no such card")
        if row.card.get("erased"):
            raise Erased()
        if not can_see(self.user, row.owner):
            if not self._was_theirs(row.id):
                raise NotFound("no such card")
            clock = row.clocks.get("deleted") or ["", "", ""]
            record = self.conflict(row.id, "deleted", row.deleted, True, clock[1], clock[0], self.user.name, at)
            db.insert_conflict(self.conn, record, m.id)
            return {"id": m.id, "status": "conflict", "version": row.version, "conflicts": [record["id"]]}
        write = CardWrite(row, dict(row.card))
        if row.deleted:
            return self._result(m.id, write, warn_keys=False)[0]
        if m.version < row.version and db.edited_by_other_device_since(self.conn, row.id, m.version, self.device or ""):
            # Someone else edited after this device last saw the card: a person confirms the delete.
            clock = row.clocks.get("deleted") or ["", "", ""]
            write.conflicts.append(self.conflict(row.id, "deleted", False, True, clock[1], clock[0], self.user.name, at))
        else:
            self.set_deleted(write, True, at)
        self.save(write, at, m)
        return self._result(m.id, write, warn_keys=False)[0]

    def set_deleted(self, write: CardWrite, deleted: bool, at: str) -> None:
        write.row.card["deleted"] = deleted
        write.changes["deleted"] = [not deleted, deleted]
        write.row.clocks["deleted"] = [at, self.user.name, self.device or ""]

    # --- customer links --------------------------------------------------------------------

    def _link(self, m: LinkCreate) -> dict[str, Any]:
        """Declare a customer link for a card; the result carries its signed token (sync/cards/links.py)."""
        try:
            declared = links.validate_declaration(m.link, now=datetime.now(timezone.utc))
        except InvalidInput as error:
            raise error.under("link") from None
        row = self._survivor(db.card_row(self.conn, m.card))
        if row is None or row.card.get("deleted") or not can_see(self.user, row.owner):
            raise NotFound("no such card")
        existing = db.link_row(self.conn, declared["id"])
        if existing is not None and (existing["card"] != row.id or existing["purpose"] != declared["purpose"]):
            raise invalid("link.id", "this link id is already used")
        if existing is None:
            db.insert_link(self.conn, {**declared, "card": row.id, "created_by": self.user.name, "created_at": self.now})
        token = links.token_for(links.signing_key(self.conn), declared["id"])
        return {
            "id": m.id,
            "status": "applied",
            "version": row.version,
            "card": row.card,
            "link": {
                "id": declared["id"],
                "purpose": declared["purpose"],
                "survey": declared["survey"],
                "expires": (existing or declared)["expires"],
                "token": token,
            },
        }

    # --- attachments ---------------------------------------------------------------------

    def _attachment(self, m: AttachmentAdd) -> dict[str, Any]:
        """Declare a photo or file on a card (its bytes follow, see sync/cards/attachments.py). Idempotent
        by the attachment's id; content the server already holds makes it uploaded at once."""
        try:
            declared = attachments.validate_declaration(m.attachment, card_id=m.card)
        except InvalidInput as error:
            raise error.under("attachment") from None
        row = self._survivor(db.card_row(self.conn, m.card))
        if row is None or row.card.get("deleted") or not can_see(self.user, row.owner):
            raise NotFound("no such card")
        declared["card"] = row.id
        existing = db.attachment_row(self.conn, declared["id"])
        if existing is not None:
            if not attachments.same_declaration(existing, declared):
                raise invalid("attachment.id", "this attachment id is already used for another file")
            return {
                "id": m.id,
                "status": "applied",
                "version": row.version,
                "card": row.card,
                "attachment": attachments.public(existing),
            }
        if db.bytes_declared_by(self.conn, self.user.name) + declared["size"] > attachments.QUOTA_PER_USER:
            raise invalid("attachment.size", f"over the quota of {attachments.QUOTA_PER_USER // 2**20:,} MiB per user")
        declared.update(
            by=self.user.name, created_at=self.now, uploaded=1 if db.blob_complete(self.conn, declared["sha256"]) else 0
        )
        db.insert_attachment(self.conn, declared, self.next_seq())
        return {
            "id": m.id,
            "status": "applied",
            "version": row.version,
            "card": row.card,
            "attachment": attachments.public(declared),
        }

    # --- activities ------------------------------------------------------------------

    def _activity(self, m: ActivityAdd, at: str) -> dict[str, Any]:
        try:
            activity = validate_activity(m.activity, card_id=m.card)
        except InvalidInput as error:
            raise error.under("activity") from None
        row = self._survivor(db.card_row(self.conn, m.card))
        if row is None:
            raise NotFound("no such card")
        activity["card"] = row.id  # logged offline on a card merged meanwhile: it joins the survivor
        visible = can_see(self.user, row.owner)
        if not visible and not self._was_theirs(row.id):
            raise NotFound("no such card")
        write = CardWrite(row, dict(row.card))
        author = db.activity_author(self.conn, activity["id"])
        if author is not None and author != self.user.name:
            # Someone else's activity id: answering `applied` would tell this device its entry was
            # kept when nothing was stored (issue 11).
            raise InvalidInput(
                "this activity id is already used",
                [FieldError("activity.id", "an activity with this id already exists; give the new one a new id")],
            )
        if author is None:
            if visible and row.deleted:
                self._resurrect(write, at, m.id)
            # Negative feedback opens a follow-up item for the owner, in this same change (issue 17).
            opened = followups.item_for_feedback(self.conn, activity, row.card) if visible else None
            if opened is not None:
                self._merge_follow_ups(write, [], [opened], at, m.id)
            if write.changes:
                self.save(write, at, m)
            activity.update(by=self.user.name, created_at=self.now)
            db.insert_activity(self.conn, activity, self.next_seq())
            self.emit("activity.added", row.id, activity, ref=m.id)
        if not visible:
            # Logged offline before the card was reassigned: the record is kept, the card stays hidden.
            return {"id": m.id, "status": "applied", "version": row.version}
        return self._result(m.id, write, warn_keys=False)[0]

    # --- a person's decision on a conflict -----------------------------------------------

    def write_decision(self, row: CardRow, field_name: str, value: Any, mutation: str) -> None:
        at = self.engine.clock.now()
        write = CardWrite(row, dict(row.card))
        if field_name == "deleted":
            if not isinstance(value, bool):
                raise invalid("value", "must be true or false")
            if value != row.deleted:
                self.set_deleted(write, value, at)
        else:
            top, _, key = field_name.partition(".")
            if top == "follow_ups":  # one field of one item: the whole list, with that field decided
                item_id, _, item_field = key.partition(".")
                value = [
                    {**item, item_field: value} if item.get("id") == item_id else item
                    for item in row.card.get("follow_ups") or []
                ]
                key = ""
            try:
                checked = validate_card_fields(
                    {top: {key: value} if key else value},
                    region=self.engine.default_region,
                    creating=False,
                    custom_fields=self.custom_fields,
                )
            except InvalidInput as error:
                raise error.under("value") from None
            if top == "owner":
                self._check_owner_change(checked, row.owner)
            new_value = checked[top]
            if key:
                new_value = {**(row.card.get("custom") or {}), **new_value}
                new_value = {k: v for k, v in new_value.items() if v is not None}
            if not values_equal(new_value, row.card[top]):
                write.changes[top] = [row.card[top], new_value]
                row.card[top] = new_value
                row.clocks[field_name] = [at, self.user.name, ""]
        self.save(write, at, None, mutation_ref=mutation)


def contact_keys(card: dict[str, Any]) -> list[str]:
    """The phone and email keys: what `possible_duplicate` looks for among the user's own cards."""
    return [f"p:{p}" for p in card.get("phones") or ()] + [f"e:{e.lower()}" for e in card.get("emails") or ()]


def stored_keys(card: dict[str, Any]) -> list[str]:
    """With name + company: the keys stored, and those the company-wide check compares."""
    named = db.name_company_key(card.get("name"), card.get("company"))
    return contact_keys(card) + ([named] if named else [])


def claimed(mutation_id: str) -> dict[str, Any]:
    return rejected(mutation_id, "claimed", [FieldError("card", "already claimed by a colleague")])


def rejected(mutation_id: str, code: str, errors: list[FieldError]) -> dict[str, Any]:
    return {"id": mutation_id, "status": "rejected", "code": code, "errors": [e.to_json() for e in errors]}
