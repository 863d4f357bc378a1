"""The reference device: how a Fieldcards client must behave, in plain Python over httpx.

A device keeps a local SQLite store (cards, activities, a journal of its mutations, sync
metadata). Every edit is applied locally at once, stamped with the device's HLC, written to the
journal as `pending`, and sent by `sync()`. Acknowledged mutations stay in the journal for 90
days: after a server restore (a new epoch) the device re-sends them with the same ids and `at`,
so work the restore rolled back comes back. Rejected mutations stay, visible and fixable.
Tests, benchmarks and scripts use this class; the PWA's `sync.js` mirrors it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Sequence
from typing import Any

import httpx

from sync.db import device as local
from sync.protocol.hlc import Clock
from sync.ids import time_ordered_uuid

JOURNAL_DAYS = 90
BATCH = 1000
SET_FIELDS = ("phones", "emails", "tags")


class SyncFailed(Exception):
    """The server answered with an error for the request as a whole (4xx/5xx)."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"sync failed with HTTP {status}: {body}")
        self.status = status
        self.body = body


class DeviceRevoked(SyncFailed):
    """An administrator revoked this device; its local data has been wiped."""


@dataclass
class SyncReport:
    rounds: int = 0
    sent: int = 0
    pulled: int = 0
    reset: bool = False
    statuses: dict[str, int] = field(default_factory=dict)
    warnings: list[dict[str, Any]] = field(default_factory=list)


class Device:
    """One install of Fieldcards: a local store at `path`, talking to `base_url` with `token`."""

    def __init__(
        self,
        base_url: str,
        token: str,
        path: Path | str,
        *,
        device_id: str | None = None,
        transport: httpx.BaseTransport | None = None,
        app_version: str = "ref-0.1",
        timeout: float = 60.0,
    ) -> None:
        self.db = local.open_store(path)
        self.device_id = self._meta("device") or device_id or str(uuid.uuid4())
        self._set_meta("device", self.device_id)
        self.clock = Clock(self.device_id)
        last_at = self._meta("last_at")
        if last_at:
            self.clock.receive(last_at)  # never stamp behind what we stamped before
        self.http = httpx.Client(
            base_url=base_url, transport=transport, timeout=timeout, headers={"authorization": f"Bearer {token}"}
        )
        self.app_version = app_version

    def close(self) -> None:
        self.http.close()
        self.db.close()

    # --- local edits ---------------------------------------------------------------------

    def create_card(self, **fields: Any) -> str:
        card_id = time_ordered_uuid()
        self._record({"op": "card.put", "card": card_id, "fields": fields})
        return card_id

    def edit_card(self, card_id: str, **fields: Any) -> str:
        """Change some fields; `was` is what this device shows now, so the server can merge."""
        view = self.card(card_id)
        if view is None:
            raise KeyError(card_id)
        was = {name: view.get(name) for name in fields}
        return self._record({"op": "card.put", "card": card_id, "fields": fields, "was": was})

    def delete_card(self, card_id: str) -> str:
        view = self.card(card_id)
        if view is None:
            raise KeyError(card_id)
        return self._record({"op": "card.delete", "card": card_id, "version": view.get("version", 0)})

    def add_activity(self, card_id: str, kind: str, text: str = "", **extra: Any) -> str:
        activity_id = time_ordered_uuid()
        at = extra.pop("at", None) or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        activity = {"id": activity_id, "card": card_id, "kind": kind, "at": at, "text": text, **extra}
        self._record({"op": "activity.add", "card": card_id, "activity": activity})
        return activity_id

    def add_attachment(self, card_id: str, data: bytes, name: str, kind: str, *, activity: str | None = None) -> str:
        """A photo or file on a card: declared in the outbox now, its bytes uploaded after the sync
        that declares it (resumably, see `upload_files`). Returns the attachment id."""
        attachment_id = time_ordered_uuid()
        digest = hashlib.sha256(data).hexdigest()
        local.save_file(self.db, attachment_id, card_id, digest, data)
        self._record(
            {
                "op": "attachment.add",
                "card": card_id,
                "attachment": {
                    "id": attachment_id,
                    "activity": activity,
                    "name": name,
                    "type": kind,
                    "size": len(data),
                    "sha256": digest,
                },
            }
        )
        return attachment_id

    def claim(self, card_id: str) -> str:
        """Take a pool card, offline too: it shows as this device's at once; if a colleague's earlier
        claim wins, the claim comes back `rejected` with code `claimed` and the card leaves."""
        if self._pool_card(card_id) is None and self.card(card_id) is None:
            raise KeyError(card_id)
        return self._record({"op": "card.claim", "card": card_id})

    # --- the pool and the company-wide duplicate check ---------------------------------------

    def refresh_pool(self, **filters: str) -> int:
        """Replace the local pool view with the server's (bounded by the admin's `view_limit`)."""
        found: list[dict[str, Any]] = []
        params: dict[str, str] = dict(filters)
        while True:
            response = self.http.get("/api/v1/pool", params=params)
            if response.status_code != 200:
                raise SyncFailed(response.status_code, _body_of(response))
            page = response.json()
            found += page["cards"]
            if not page["next"]:
                break
            params["after"] = page["next"]
        local.replace_pool(self.db, found)
        return len(found)

    def pool_cards(self) -> dict[str, dict[str, Any]]:
        return local.pool_cards(self.db)

    def _pool_card(self, card_id: str) -> dict[str, Any] | None:
        return local.pool_card(self.db, card_id)

    def refresh_buckets(self) -> None:
        """Fetch the offline duplicate check's lists (sync/cards/pool.py `buckets`)."""
        response = self.http.get("/api/v1/dedupe/buckets")
        if response.status_code != 200:
            raise SyncFailed(response.status_code, _body_of(response))
        self._set_meta("buckets", response.text)

    def colleague_check(
        self,
        *,
        phones: Sequence[str] = (),
        emails: Sequence[str] = (),
        name: str | None = None,
        company: str | None = None,
    ) -> str | None:
        """Offline: "held_by_colleague", "in_pool" or None for a customer being typed in (phones in
        E.164). A bucket hit means *maybe*: the server confirms at sync. The device's own cards
        are set aside first: they are duplicates of its own, not a colleague's."""
        raw = self._meta("buckets")
        if not raw:
            return None
        lists = json.loads(raw)
        key, width = base64.b64decode(lists["key"]), lists["bits"] // 8
        keys = [f"p:{p}" for p in phones] + [f"e:{e.lower()}" for e in emails]
        if name and company and company.strip():
            keys.append("n:" + "".join(name.casefold().split()) + "|" + "".join(company.casefold().split()))
        own = {k for card in self.cards().values() for k in _card_keys(card)}
        codes = None
        for text in keys:
            if text in own:
                continue
            prefix = hmac.new(key, text.encode(), hashlib.sha256).digest()[:width]
            if _holds(base64.b64decode(lists["held"]), prefix):
                return "held_by_colleague"
            if _holds(base64.b64decode(lists["pool"]), prefix):
                codes = "in_pool"
        return codes

    def upload_files(self, *, chunk: int = 256 * 1024, stop_after: int | None = None) -> int:
        """Upload the bytes of every declared attachment the server does not hold yet, each from
        where the server's copy ends. `stop_after` (bytes) cuts the upload short, as a lost
        connection would. Returns the bytes sent."""
        sent = 0
        for attachment_id, data in local.files_to_upload(self.db):
            state = self.http.get(f"/api/v1/attachments/{attachment_id}/upload")
            if state.status_code != 200:
                continue
            offset = state.json()["offset"]
            while offset < len(data):
                if stop_after is not None and sent >= stop_after:
                    return sent
                piece = bytes(data[offset : offset + chunk])
                answer = self.http.put(
                    f"/api/v1/attachments/{attachment_id}/upload",
                    params={"offset": offset},
                    content=piece,
                    headers={"content-type": "application/octet-stream"},
                )
                if answer.status_code == 409:  # the server holds a different amount: continue from there
                    offset = self.http.get(f"/api/v1/attachments/{attachment_id}/upload").json()["offset"]
                    continue
                if answer.status_code != 200:
                    raise SyncFailed(answer.status_code, _body_of(answer))
                sent += len(piece)
                offset = answer.json()["offset"]
            local.set_uploaded(self.db, attachment_id)
        return sent

    def _record(self, body: dict[str, Any]) -> str:
        body = {"id": time_ordered_uuid(), **body, "at": self.clock.now()}
        self._set_meta("last_at", body["at"])
        local.queue_mutation(self.db, body, int(time.time() * 1000))
        self._refresh_view(body["card"])
        if body["op"] == "activity.add":
            local.save_activity(self.db, body["card"], body["activity"])
        return body["id"]

    # --- what the device shows -----------------------------------------------------------

    def card(self, card_id: str) -> dict[str, Any] | None:
        return local.card_view(self.db, card_id)

    def cards(self) -> dict[str, dict[str, Any]]:
        return local.card_views(self.db)

    def server_cards(self) -> dict[str, dict[str, Any]]:
        """The last server copy of every card this device holds (what it will equal once synced)."""
        return local.server_cards(self.db)

    def activities(self, card_id: str | None = None) -> list[dict[str, Any]]:
        return local.activities(self.db, card_id)

    def pending(self) -> list[dict[str, Any]]:
        return local.mutations(self.db, "pending")

    def rejected(self) -> list[dict[str, Any]]:
        """Rejected mutations with the server's errors: shown to the person to fix or discard."""
        return local.answered_mutations(self.db, "rejected")

    def acknowledged(self) -> list[dict[str, Any]]:
        return local.answered_mutations(self.db, "acked")

    def fix(self, mutation_id: str, fields: dict[str, Any]) -> None:
        """Correct a rejected edit; it goes back to the outbox with the same id."""
        body = local.rejected_mutation(self.db, mutation_id)
        if body is None:
            raise KeyError(mutation_id)
        body["fields"] = {**body.get("fields", {}), **fields}
        local.requeue_mutation(self.db, mutation_id, body)
        self._refresh_view(body["card"])

    def discard(self, mutation_id: str) -> None:
        card_id = local.card_of_mutation(self.db, mutation_id)
        local.discard_mutation(self.db, mutation_id)
        if card_id:
            self._refresh_view(card_id)

    @property
    def epoch(self) -> str | None:
        return self._meta("epoch")

    # --- sync ----------------------------------------------------------------------------

    def sync(self, *, limit: int = 1000, max_rounds: int = 10_000) -> SyncReport:
        """Push the outbox and pull until the server has nothing more; handles reset after a restore."""
        report = SyncReport()
        for _ in range(max_rounds):
            outbox = local.mutations(self.db, "pending")
            batch = outbox[:BATCH]
            body = {
                "device": self.device_id,
                "epoch": self._meta("epoch"),
                "cursor": self._meta("cursor"),
                "limit": limit,
                "pending": len(outbox),
                "app": self.app_version,
                "mutations": batch,
            }
            response = self.http.post("/api/v1/sync", json=body)
            if response.status_code != 200:
                refusal = _body_of(response)
                if (
                    response.status_code == 403
                    and isinstance(refusal, dict)
                    and refusal.get("error", {}).get("code") == "device_revoked"
                ):
                    self.wipe()
                    raise DeviceRevoked(response.status_code, refusal)
                raise SyncFailed(response.status_code, refusal)
            answer = response.json()
            report.rounds += 1
            report.sent += len(batch)
            if answer["reset"]:
                self._start_over()
                report.reset = True
            self._apply_results(answer["results"], report)
            report.warnings.extend(answer.get("warnings", []))
            self._apply_changes(answer["changes"])
            report.pulled += len(answer["changes"])
            self._set_meta("epoch", answer["epoch"])
            self._set_meta("cursor", answer["cursor"])
            if not answer["more"] and not local.mutations(self.db, "pending"):
                return report
        return report

    def wipe(self) -> None:
        """Forget every card, activity and journal entry: a lost phone must not keep customer data."""
        local.wipe(self.db)

    def _start_over(self) -> None:
        """The server was restored: re-send the 90-day journal, replace the local copy with a full pull."""
        cutoff = int(time.time() * 1000) - JOURNAL_DAYS * 86_400_000
        local.start_over(self.db, cutoff)

    def _apply_results(self, results: list[dict[str, Any]], report: SyncReport) -> None:
        for result in results:
            status = result["status"]
            report.statuses[status] = report.statuses.get(status, 0) + 1
            state = "rejected" if status == "rejected" else "acked"
            local.record_answer(self.db, result, state)
            attachment = result.get("attachment")
            if attachment is not None:
                # After a restore the server may hold the declaration again but not the bytes.
                local.set_uploaded(self.db, attachment["id"], attachment["uploaded"])
            if "card" in result:
                self._store_server_card(result["card"])
            else:
                card_id = local.card_of_mutation(self.db, result["id"])
                if card_id:
                    self._refresh_view(card_id)

    def _apply_changes(self, changes: list[dict[str, Any]]) -> None:
        for change in changes:
            kind = change["type"]
            if kind == "card":
                self._store_server_card(change["card"])
            elif kind == "activity":
                activity = change["activity"]
                local.save_activity(self.db, activity["card"], activity)
            elif kind == "remove":
                # If the customer's data was erased, nothing of it stays here, queued or sent.
                local.forget_card(self.db, change["card"], erased=change.get("reason") == "erased")

    def _store_server_card(self, card: dict[str, Any]) -> None:
        current = local.server_card(self.db, card["id"])
        if current is not None and current["version"] > card["version"]:
            return  # an older copy (a stored result replayed) must not hide a newer one
        local.save_server_card(self.db, card)
        self._refresh_view(card["id"])

    def _refresh_view(self, card_id: str) -> None:
        """The view is the server copy with this device's pending edits applied on top. A pool card
        this device claimed and the server has not answered for yet starts from its pool view."""
        server = local.server_card(self.db, card_id)
        view = server
        pending = local.mutations(self.db, "pending", card_id)
        if view is None and any(body["op"] == "card.claim" for body in pending):
            view = self._pool_card(card_id)
        for body in pending:
            view = _apply_locally(view, body)
        if view is None or view.get("deleted"):
            if server is None:
                local.drop_card(self.db, card_id)
            else:
                local.clear_view(self.db, card_id)
            return
        local.save_view(self.db, card_id, view)

    # --- small helpers -------------------------------------------------------------------

    def _meta(self, key: str) -> str | None:
        return local.meta_value(self.db, key)

    def _set_meta(self, key: str, value: str | None) -> None:
        local.set_meta(self.db, key, value)


def _apply_locally(view: dict[str, Any] | None, body: dict[str, Any]) -> dict[str, Any] | None:
    """An optimistic local copy of what the server will do; the server's answer replaces it."""
    op = body["op"]
    if op == "card.delete":
        return None
    if op != "card.put":
        return view
    if view is None and body.get("was") is not None:
        return None  # an edit of a card this device no longer holds creates nothing
    card = (
        dict(view)
        if view
        else {"id": body["card"], "phones": [], "emails": [], "tags": [], "custom": {}, "version": 0, "deleted": False}
    )
    was = body.get("was") or {}
    for name, value in body["fields"].items():
        if name in SET_FIELDS and isinstance(value, list):
            removed = [x for x in was.get(name) or [] if x not in value]
            added = [x for x in value if x not in (was.get(name) or [])]
            current = [x for x in card.get(name) or [] if x not in removed]
            card[name] = current + [x for x in added if x not in current]
        else:
            card[name] = value
    return card


def _card_keys(card: dict[str, Any]) -> list[str]:
    keys = [f"p:{p}" for p in card.get("phones") or ()] + [f"e:{e.lower()}" for e in card.get("emails") or ()]
    if card.get("name") and (card.get("company") or "").strip():
        keys.append("n:" + "".join(card["name"].casefold().split()) + "|" + "".join(card["company"].casefold().split()))
    return keys


def _holds(sorted_prefixes: bytes, prefix: bytes) -> bool:
    """Binary search in the concatenated, sorted fixed-width prefixes."""
    width = len(prefix)
    low, high = 0, len(sorted_prefixes) // width
    while low < high:
        middle = (low + high) // 2
        found = sorted_prefixes[middle * width : (middle + 1) * width]
        if found < prefix:
            low = middle + 1
        else:
            high = middle
    return sorted_prefixes[low * width : (low + 1) * width] == prefix


def _body_of(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text[:500]
