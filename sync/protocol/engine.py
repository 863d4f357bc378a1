"""The sync engine: applies a device's batch of mutations, then builds its pull page.

This is where the contract's section 4 happens. `merge.py` decides each field; this module
checks rights, stamps versions and stream positions, writes history and conflict records, and
remembers every accepted result so a retried push applies nothing twice. A whole batch is one
transaction: `sync()` returns only after SQLite committed it.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sync.protocol import cursor as cursors
from sync.protocol import hlc
from sync import journal
from sync import db
from sync.cards import template
from sync.jsontext import dumps, dumps_utf8
from sync.access import User, can_see, owner_filter
from sync.errors import FieldError, InvalidInput, NotAllowed, NotFound, invalid
from sync.protocol.batch import Batch, Checked, CheckedMutation, NeedsSavepoints, check_one, checked_as_normal
from sync.protocol.model import SyncRequest, mutation_id_of
from sync.recent import RecentTable
from sync.db import Store
from sync.times import utc_now

RESULTS_KEPT = timedelta(days=120)  # the contract promises at least 90 days
# A phone polls every 30 s: refreshing its record (last sync) on each poll made every poll a write
# and an fsync, which is what saturated one server first (bench/fleet.py, docs/scaling.md).
DEVICE_RECORD_EVERY_S = 300.0
PULLS_AT_ONCE = 4
MAX_DEVICES_PER_USER = 50
PROGRESS_EVERY = 1000  # mutations between two progress reports of a long `apply`
LARGE_BATCH = 2000  # an `apply` of more mutations than a push may carry: a larger page cache while it runs


class DeviceRevoked(NotAllowed):
    code = "device_revoked"


class TooManyDevices(NotAllowed):
    """A new device id over the cap: one user registering thousands of ids (a script making a new id
    per sync) would fill the device list an admin reads (issue 11)."""

    code = "too_many_devices"


@dataclass
class SyncResponse:
    """What `/sync` answers. Pulled cards stay as the stored JSON text, so a page of 1,000
    cards is joined, not decoded and re-encoded."""

    epoch: str
    reset: bool
    results: list[dict[str, Any]]
    warnings: list[dict[str, Any]]
    changes: list[bytes]  # each change's JSON, UTF-8
    cursor: str
    more: bool

    def render(self) -> bytes:
        head = (
            f'{{"epoch":{dumps(self.epoch)},"reset":{dumps(self.reset)},'
            f'"results":{dumps(self.results)},"warnings":{dumps(self.warnings)},"changes":['
        )
        tail = f'],"cursor":{dumps(self.cursor)},"more":{dumps(self.more)}}}'
        return b"".join((head.encode(), b",".join(self.changes), tail.encode()))

    def to_json(self) -> dict[str, Any]:
        return json.loads(self.render())


class Engine:
    """Applies batches and builds pull pages over one `Store`."""

    def __init__(self, store_: Store, *, default_region: str = "CN") -> None:
        self.store = store_
        self.default_region = default_region
        self.clock = hlc.Clock("server")
        self._pulls = threading.BoundedSemaphore(PULLS_AT_ONCE)
        self._device_records = RecentTable(max_keys=50_000, ttl_s=DEVICE_RECORD_EVERY_S)

    # --- the sync round trip ---------------------------------------------------------

    def sync(
        self, user: User, request: SyncRequest, *, user_agent: str | None = None, credential: str | None = None
    ) -> SyncResponse:
        """`credential` names what the caller signed in with (`token:<id>`, `session:<hash>`): kept
        on the device record so that revoking a lost phone can revoke it too."""
        _check_mutation_ids(request.mutations)
        with self.store.read() as conn:
            if db.device_revoked(conn, request.device):
                raise DeviceRevoked("this device was revoked by an administrator; wipe its local data and sign in again")
            epoch = db.meta_value(conn, "epoch") or ""
        after, reset = self._start_position(request, epoch)
        results: list[dict[str, Any]] = []
        warnings: list[dict[str, Any]] = []
        # `pending` counts the outbox before this request; what is left once it is answered is what
        # an admin wants to see ("this phone still holds 12 unsent changes").
        left = None if request.pending is None else max(0, request.pending - len(request.mutations))
        device_seen = (request.device, user.name, left, request.app, user_agent, credential)
        if request.mutations or self._device_record_due(device_seen):
            seen = (left, user_agent, credential)
            try:
                results, warnings = self._push(user, request, seen, careful=False)
            except NeedsSavepoints:  # rolled back whole; applied again, one savepoint per mutation
                results, warnings = self._push(user, request, seen, careful=True)
        # Committed: only now may the device be told. The pull reads a fresh snapshot; the
        # semaphore bounds how many pages are built at once, and so the memory they take.
        with self._pulls, self.store.read() as conn:
            changes, last, more = self.pull_page(conn, user, after, request.limit)
        return SyncResponse(epoch, reset, results, warnings, changes, cursors.encode(epoch, last), more)

    def _push(
        self, user: User, request: SyncRequest, seen: tuple[int | None, str | None, str | None], *, careful: bool
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The write half of a sync: the device record and the batch, in one transaction."""
        left, user_agent, credential = seen
        results: list[dict[str, Any]] = []
        warnings: list[dict[str, Any]] = []
        with self.store.write() as conn:
            now = utc_now()
            if not db.device_known(conn, request.device) and db.active_devices_of_user(conn, user.name) >= MAX_DEVICES_PER_USER:
                raise TooManyDevices(
                    f"{user.name} already has {MAX_DEVICES_PER_USER} devices; an admin can revoke the ones "
                    "no longer used (People → Devices)"
                )
            db.record_device(conn, request.device, user.name, now, left, request.app, user_agent, credential)
            if request.mutations:
                batch = Batch(self, conn, user, request.device, now, careful=careful)
                batch.expect(request.mutations)
                for raw in request.mutations:
                    result, found = batch.apply(raw)
                    results.append(result)
                    warnings += found
                batch.finish()
                if user.sees_everything:
                    # Office work (reassignments, fixes, scripts) may come from clients that
                    # keep no journal: the server keeps one, so a restore re-applies it.
                    journal.record(conn, user, "sync", {"device": request.device, "mutations": request.mutations})
        return results, warnings

    def apply(
        self,
        user: User,
        device: str,
        mutations: Sequence[dict[str, Any]],
        within: Callable[[sqlite3.Connection, list[Any]], None] | None = None,
        progress: Callable[[int], None] | None = None,
        *,
        first: Callable[[sqlite3.Connection], None] | None = None,
        brief: bool = False,
        normal_under: tuple[list[dict[str, Any]], str] | None = None,
        remember: bool = True,
    ) -> list[Any]:
        """Apply mutations in one transaction without a pull (imports, undo): one result each.
        `within(conn, results)` runs in the same transaction, so what it records commits with them;
        `first(conn)` too, before the first mutation (what does not depend on their results, and
        is large: an import's journal entry, written while least else is held).
        `progress(done)` is told every PROGRESS_EVERY mutations; nothing is committed before the end.
        `mutations` may make each one as it is asked for (an import's, `importer._Mutations`): each
        is read once, in order, inside the transaction, and let go after.
        `brief=True`: a mutation applied as it was asked (`applied`) gets None instead of its
        result, and the others theirs without the card. An import of 50,000 rows reads only the
        ones that were not; holding every card it wrote until the commit cost ~1 KB a row, and
        every result ~300 bytes.
        `normal_under=(custom fields, region)`: every card's fields and `was` are already what
        validation made of them under that template and region (an import's plan): they are not
        checked a second time, unless the template or the region has changed by the transaction.
        `remember=False` keeps no idempotency record of the mutations: for the server's own batches
        (an import, its undo), whose ids it makes from the import's id and which no client sends;
        what keeps them from being applied twice is the import's own record, written in the same
        transaction. A 50,000-row import wrote 50,000 records, each repeating its card."""
        if normal_under is None:
            _check_mutation_ids(mutations)
            # An import holds the one writer while it applies (all or nothing): what can be
            # checked before the transaction is, so phones wait for the merge and the writes only.
            checked = self._check_before(mutations)
        else:  # an import's: values already normal, ids its own; each envelope is parsed as it comes
            checked = Checked(normal_under[0], normal_under[1], None)

        def attempt(careful: bool, ahead: Checked | None) -> list[Any]:
            return self._apply_all(
                user,
                device,
                mutations,
                within,
                progress,
                careful=careful,
                checked=ahead,
                first=first,
                brief=brief,
                remember=remember,
            )

        try:
            return attempt(False, checked)
        except NeedsSavepoints:  # rolled back whole; applied again, one savepoint per mutation, all checks inside
            return attempt(True, None)

    def _check_before(self, mutations: Sequence[dict[str, Any]]) -> Checked:
        """Envelopes, card values and `was` of every mutation, checked outside the write transaction
        with the template as it is now; the batch uses them only if its own template is the same."""
        with self.store.read() as conn:
            custom_fields = template.for_validation(template.load(conn))
        return Checked(
            custom_fields, self.default_region, [check_one(raw, self.default_region, custom_fields) for raw in mutations]
        )

    def _apply_all(
        self,
        user: User,
        device: str,
        mutations: Sequence[dict[str, Any]],
        within: Callable[[sqlite3.Connection, list[Any]], None] | None,
        progress: Callable[[int], None] | None,
        *,
        careful: bool,
        checked: Checked | None,
        first: Callable[[sqlite3.Connection], None] | None = None,
        brief: bool = False,
        remember: bool = True,
    ) -> list[Any]:
        with self.store.write(large=len(mutations) > LARGE_BATCH) as conn:
            if first is not None:
                first(conn)
            batch = Batch(self, conn, user, device, utc_now(), careful=careful, warnings=False, remember=remember)
            batch.expect(mutations)
            usable = checked is not None and batch.may_use(checked)
            ahead = checked.items if usable and checked is not None else None
            results: list[Any] = []
            for n in range(len(mutations)):
                raw = mutations[n]  # made now, if `mutations` makes them
                if ahead is not None:
                    early: CheckedMutation | None = ahead[n]
                    ahead[n] = None  # type: ignore[call-overload]  # its checks are spent: let them go
                elif usable:  # `normal_under`: the values stand as they are
                    early = checked_as_normal(raw)
                else:
                    early = None
                result = batch.apply(raw, early)[0]
                results.append(_brief(result) if brief else result)
                if progress is not None and len(results) % PROGRESS_EVERY == 0:
                    progress(len(results))
            batch.finish()
            if within is not None:
                within(conn, results)
        return results

    def _device_record_due(self, seen: tuple[Any, ...]) -> bool:
        """A no-op sync writes the device record only when something in it changed or every
        DEVICE_RECORD_EVERY_S: otherwise every idle poll would queue behind the one writer."""
        return self._device_records.due(seen[0], DEVICE_RECORD_EVERY_S, seen)

    def _start_position(self, request: SyncRequest, epoch: str) -> tuple[int, bool]:
        """Where the pull starts, and whether the device must reset (its epoch is from before a restore)."""
        if request.epoch is not None and request.epoch != epoch:
            return 0, True
        if request.cursor is None:
            return 0, False
        cursor_epoch, seq = cursors.decode(request.cursor)
        if cursor_epoch != epoch:
            return 0, True
        return seq, False

    def pull_page(self, conn: sqlite3.Connection, user: User, after: int, limit: int) -> tuple[list[bytes], int, bool]:
        rows = db.stream_after(conn, after, owner_filter(user), user.name, limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        changes = [_change_json(r) for r in rows]
        return changes, (rows[-1].seq if rows else after), more

    # --- conflicts -------------------------------------------------------------------

    def resolve_conflict(self, user: User, conflict_id: str, body: object) -> dict[str, Any]:
        """Apply a person's decision on a conflict record as a normal, versioned change."""
        choice = _parse_resolution(body)
        with self.store.write() as conn:
            record = db.conflict_by_id(conn, conflict_id)
            row = db.card_row(conn, record["card"]) if record else None
            if record is None or row is None or not can_see(user, row.owner):
                raise NotFound("no such conflict")
            if record["status"] == "resolved" or choice == ("keep", "current"):
                if record["status"] != "resolved":
                    journal.record(
                        conn,
                        user,
                        "resolve",
                        {"conflict": conflict_id, "card": row.id, "field": record["field"]},
                        ref=conflict_id,
                    )
                db.resolve_conflict_row(conn, conflict_id, user.name, utc_now())
                return row.card
            value = record["other"] if choice[0] == "keep" else choice[1]
            batch = Batch(self, conn, user, None, utc_now())
            batch.write_decision(row, record["field"], value, f"conflict:{conflict_id}")
            db.resolve_conflict_row(conn, conflict_id, user.name, batch.now)
            batch.finish()
            journal.record(
                conn,
                user,
                "resolve",
                {"conflict": conflict_id, "card": row.id, "field": record["field"], "value": value},
                ref=conflict_id,
            )
            return db.card_json(conn, row.id) or row.card

    def replay_decision(self, user: User, decision: dict[str, Any]) -> None:
        """A person's decision on a conflict, re-applied after a restore: the value they chose goes
        on the card as a normal change (the conflict record may not exist again yet: the mutation
        that made it may still be on its way back from a phone), and the record, if there, is closed."""
        with self.store.write() as conn:
            row = db.card_row(conn, decision["card"])
            record = db.conflict_by_id(conn, decision["conflict"])
            if row is not None and row.card.get("erased"):
                return
            if row is not None and "value" in decision:
                batch = Batch(self, conn, user, None, utc_now())
                batch.write_decision(row, decision["field"], decision["value"], f"conflict:{decision['conflict']}")
                batch.finish()
            if record is not None and record["status"] != "resolved":
                db.resolve_conflict_row(conn, decision["conflict"], user.name, utc_now())

    def forget_old_results(self) -> int:
        cutoff = (datetime.now(timezone.utc) - RESULTS_KEPT).isoformat()
        with self.store.write() as conn:
            journal.forget_old(conn)
            return db.forget_results_before(conn, cutoff)


def _brief(result: dict[str, Any]) -> dict[str, Any] | None:
    """A result as `Engine.apply(brief=True)` gives it: None when applied as asked, else without the card."""
    if result["status"] == "applied":
        return None
    return {key: value for key, value in result.items() if key != "card"}


def _check_mutation_ids(mutations: Sequence[dict[str, Any]]) -> None:
    """A mutation without a usable id cannot get a result of its own: the request is malformed."""
    errors = [
        FieldError(f"mutations[{i}].id", "required: a string of 1–100 characters")
        for i, raw in enumerate(mutations)
        if mutation_id_of(raw) is None
    ]
    if errors:
        raise InvalidInput("every mutation needs an id", errors)


# A stream entry around its stored JSON, which stays UTF-8 bytes from SQLite to the socket.
_ENTRY_START = {
    "card": b'{"type":"card","card":',
    "activity": b'{"type":"activity","activity":',
    "attachment": b'{"type":"attachment","attachment":',
}


def _change_json(row: db.StreamRow) -> bytes:
    start = _ENTRY_START.get(row.kind)
    if start is None or (row.kind == "card" and row.deleted):  # an exit, a deleted card
        return dumps_utf8({"type": "remove", "card": row.ref, "reason": row.reason, "into": row.into})
    assert row.data is not None  # stored cards, activities and attachments always have their JSON
    return start + row.data + b"}"


def _parse_resolution(body: object) -> tuple[str, Any]:
    if not isinstance(body, dict) or len(body) != 1 or not ({"keep", "value"} & body.keys()):
        raise invalid("", 'send {"keep": "current"}, {"keep": "other"} or {"value": …}')
    if "keep" in body:
        if body["keep"] not in ("current", "other"):
            raise invalid("keep", 'must be "current" or "other"')
        return ("keep", body["keep"])
    return ("value", body["value"])
