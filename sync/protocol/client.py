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
import sqlite3
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from sync.protocol.hlc import Clock

JOURNAL_DAYS = 90
BATCH = 1000
SET_FIELDS = ("phones", "emails", "tags")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS cards (id TEXT PRIMARY KEY, server TEXT, view TEXT);
CREATE TABLE IF NOT EXISTS activities (id TEXT PRIMARY KEY, card TEXT, data TEXT);
CREATE INDEX IF NOT EXISTS activities_card ON activities(card);
-- state: pending (in the outbox), acked (answered), rejected (kept to fix), discarded
CREATE TABLE IF NOT EXISTS journal (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE, card TEXT, body TEXT, state TEXT,
  result TEXT, created_ms INTEGER
);
CREATE INDEX IF NOT EXISTS journal_state ON journal(state, seq);
-- the bytes of attachments this device added, kept until the server holds them (and after: a
-- restore may need them again)
CREATE TABLE IF NOT EXISTS files (id TEXT PRIMARY KEY, card TEXT, sha256 TEXT, data BLOB, uploaded INTEGER DEFAULT 0);
-- the pool view (cards nobody owns, with the fields an admin allows), replaced by `refresh_pool`
CREATE TABLE IF NOT EXISTS pool (id TEXT PRIMARY KEY, data TEXT);
"""


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

    def __init__(self, base_url: str, token: str, path: Path | str, *, device_id: str | None = None,
                 transport: httpx.BaseTransport | None = None, app_version: str = "ref-0.1",
                 timeout: float = 60.0) -> None:
        self.db = sqlite3.connect(str(path), isolation_level=None)
        self.db.executescript(_SCHEMA)
        self.device_id = self._meta("device") or device_id or str(uuid.uuid4())
        self._set_meta("device", self.device_id)
        self.clock = Clock(self.device_id)
        if self._meta("last_at"):
            self.clock.receive(self._meta("last_at"))  # never stamp behind what we stamped before
        self.http = httpx.Client(base_url=base_url, transport=transport, timeout=timeout,
                                 headers={"authorization": f"Bearer {token}"})
        self.app_version = app_version

    def close(self) -> None:
        self.http.close()
        self.db.close()

    # --- local edits ---------------------------------------------------------------------

    def create_card(self, **fields: Any) -> str:
        card_id = str(uuid.uuid4())
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
        activity_id = str(uuid.uuid4())
        at = extra.pop("at", None) or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        activity = {"id": activity_id, "card": card_id, "kind": kind, "at": at, "text": text, **extra}
        self._record({"op": "activity.add", "card": card_id, "activity": activity})
        return activity_id

    def add_attachment(self, card_id: str, data: bytes, name: str, kind: str, *, activity: str | None = None) -> str:
        """A photo or file on a card: declared in the outbox now, its bytes uploaded after the sync
        that declares it (resumably, see `upload_files`). Returns the attachment id."""
        attachment_id = str(uuid.uuid4())
        digest = hashlib.sha256(data).hexdigest()
        self.db.execute("INSERT INTO files(id, card, sha256, data) VALUES (?, ?, ?, ?)",
                        (attachment_id, card_id, digest, data))
        self._record({"op": "attachment.add", "card": card_id, "attachment": {
            "id": attachment_id, "activity": activity, "name": name, "type": kind, "size": len(data), "sha256": digest}})
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
        self.db.execute("DELETE FROM pool")
        self.db.executemany("INSERT INTO pool(id, data) VALUES (?, ?)",
                            [(c["id"], json.dumps(c, ensure_ascii=False)) for c in found])
        return len(found)

    def pool_cards(self) -> dict[str, dict[str, Any]]:
        return {r[0]: json.loads(r[1]) for r in self.db.execute("SELECT id, data FROM pool")}

    def _pool_card(self, card_id: str) -> dict[str, Any] | None:
        row = self.db.execute("SELECT data FROM pool WHERE id = ?", (card_id,)).fetchone()
        return json.loads(row[0]) if row else None

    def refresh_buckets(self) -> None:
        """Fetch the offline duplicate check's lists (sync/cards/pool.py `buckets`)."""
        response = self.http.get("/api/v1/dedupe/buckets")
        if response.status_code != 200:
            raise SyncFailed(response.status_code, _body_of(response))
        self._set_meta("buckets", response.text)

    def colleague_check(self, *, phones: list[str] = (), emails: list[str] = (),  # type: ignore[assignment]
                        name: str | None = None, company: str | None = None) -> str | None:
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
        rows = self.db.execute("SELECT f.id, f.data FROM files f JOIN journal j ON j.card = f.card "
                               "WHERE f.uploaded = 0 AND j.state = 'acked' AND j.body LIKE '%' || f.id || '%'").fetchall()
        for attachment_id, data in rows:
            state = self.http.get(f"/api/v1/attachments/{attachment_id}/upload")
            if state.status_code != 200:
                continue
            offset = state.json()["offset"]
            while offset < len(data):
                if stop_after is not None and sent >= stop_after:
                    return sent
                piece = bytes(data[offset:offset + chunk])
                answer = self.http.put(f"/api/v1/attachments/{attachment_id}/upload", params={"offset": offset},
                                       content=piece, headers={"content-type": "application/octet-stream"})
                if answer.status_code == 409:  # the server holds a different amount: continue from there
                    offset = self.http.get(f"/api/v1/attachments/{attachment_id}/upload").json()["offset"]
                    continue
                if answer.status_code != 200:
                    raise SyncFailed(answer.status_code, _body_of(answer))
                sent += len(piece)
                offset = answer.json()["offset"]
            self.db.execute("UPDATE files SET uploaded = 1 WHERE id = ?", (attachment_id,))
        return sent

    def _record(self, body: dict[str, Any]) -> str:
        body = {"id": str(uuid.uuid4()), **body, "at": self.clock.now()}
        self._set_meta("last_at", body["at"])
        self.db.execute(
            "INSERT INTO journal(id, card, body, state, created_ms) VALUES (?, ?, ?, 'pending', ?)",
            (body["id"], body["card"], json.dumps(body, ensure_ascii=False), int(time.time() * 1000)),
        )
        self._refresh_view(body["card"])
        if body["op"] == "activity.add":
            self.db.execute("INSERT OR REPLACE INTO activities(id, card, data) VALUES (?, ?, ?)",
                            (body["activity"]["id"], body["card"], json.dumps(body["activity"], ensure_ascii=False)))
        return body["id"]

    # --- what the device shows -----------------------------------------------------------

    def card(self, card_id: str) -> dict[str, Any] | None:
        row = self.db.execute("SELECT view FROM cards WHERE id = ?", (card_id,)).fetchone()
        return json.loads(row[0]) if row and row[0] else None

    def cards(self) -> dict[str, dict[str, Any]]:
        return {r[0]: json.loads(r[1]) for r in self.db.execute("SELECT id, view FROM cards WHERE view IS NOT NULL")}

    def server_cards(self) -> dict[str, dict[str, Any]]:
        """The last server copy of every card this device holds (what it will equal once synced)."""
        return {r[0]: json.loads(r[1]) for r in self.db.execute("SELECT id, server FROM cards WHERE server IS NOT NULL")}

    def activities(self, card_id: str | None = None) -> list[dict[str, Any]]:
        sql, params = "SELECT data FROM activities", ()
        if card_id:
            sql, params = sql + " WHERE card = ?", (card_id,)
        return [json.loads(r[0]) for r in self.db.execute(sql + " ORDER BY id", params)]

    def pending(self) -> list[dict[str, Any]]:
        return self._journal("pending")

    def rejected(self) -> list[dict[str, Any]]:
        """Rejected mutations with the server's errors: shown to the person to fix or discard."""
        rows = self.db.execute("SELECT body, result FROM journal WHERE state = 'rejected' ORDER BY seq")
        return [{**json.loads(b), "result": json.loads(r)} for b, r in rows]

    def acknowledged(self) -> list[dict[str, Any]]:
        rows = self.db.execute("SELECT body, result FROM journal WHERE state = 'acked' ORDER BY seq")
        return [{**json.loads(b), "result": json.loads(r)} for b, r in rows]

    def fix(self, mutation_id: str, fields: dict[str, Any]) -> None:
        """Correct a rejected edit; it goes back to the outbox with the same id."""
        row = self.db.execute("SELECT body FROM journal WHERE id = ? AND state = 'rejected'", (mutation_id,)).fetchone()
        if row is None:
            raise KeyError(mutation_id)
        body = json.loads(row[0])
        body["fields"] = {**body.get("fields", {}), **fields}
        self.db.execute("UPDATE journal SET body = ?, state = 'pending', result = NULL WHERE id = ?",
                        (json.dumps(body, ensure_ascii=False), mutation_id))
        self._refresh_view(body["card"])

    def discard(self, mutation_id: str) -> None:
        card = self.db.execute("SELECT card FROM journal WHERE id = ?", (mutation_id,)).fetchone()
        self.db.execute("UPDATE journal SET state = 'discarded' WHERE id = ?", (mutation_id,))
        if card:
            self._refresh_view(card[0])

    @property
    def epoch(self) -> str | None:
        return self._meta("epoch")

    # --- sync ----------------------------------------------------------------------------

    def sync(self, *, limit: int = 1000, max_rounds: int = 10_000) -> SyncReport:
        """Push the outbox and pull until the server has nothing more; handles reset after a restore."""
        report = SyncReport()
        for _ in range(max_rounds):
            outbox = self._journal("pending")
            batch = outbox[:BATCH]
            body = {
                "device": self.device_id, "epoch": self._meta("epoch"), "cursor": self._meta("cursor"),
                "limit": limit, "pending": len(outbox), "app": self.app_version,
                "mutations": batch,
            }
            response = self.http.post("/api/v1/sync", json=body)
            if response.status_code != 200:
                body = _body_of(response)
                if response.status_code == 403 and isinstance(body, dict) and \
                        body.get("error", {}).get("code") == "device_revoked":
                    self.wipe()
                    raise DeviceRevoked(response.status_code, body)
                raise SyncFailed(response.status_code, body)
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
            if not answer["more"] and not self._journal("pending"):
                return report
        return report

    def wipe(self) -> None:
        """Forget every card, activity and journal entry: a lost phone must not keep customer data."""
        for table in ("cards", "activities", "journal", "meta"):
            self.db.execute(f"DELETE FROM {table}")
        self.db.execute("VACUUM")  # deleted rows must not linger in free pages of the file

    def _start_over(self) -> None:
        """The server was restored: re-send the 90-day journal, replace the local copy with a full pull."""
        cutoff = int(time.time() * 1000) - JOURNAL_DAYS * 86_400_000
        self.db.execute("UPDATE journal SET state = 'pending' WHERE state = 'acked' AND created_ms >= ?", (cutoff,))
        self.db.execute("DELETE FROM cards")
        self.db.execute("DELETE FROM activities")
        self._set_meta("cursor", None)

    def _apply_results(self, results: list[dict[str, Any]], report: SyncReport) -> None:
        for result in results:
            status = result["status"]
            report.statuses[status] = report.statuses.get(status, 0) + 1
            state = "rejected" if status == "rejected" else "acked"
            self.db.execute("UPDATE journal SET state = ?, result = ? WHERE id = ?",
                            (state, json.dumps(result, ensure_ascii=False), result["id"]))
            attachment = result.get("attachment")
            if attachment is not None:
                # After a restore the server may hold the declaration again but not the bytes.
                self.db.execute("UPDATE files SET uploaded = ? WHERE id = ?", (int(attachment["uploaded"]), attachment["id"]))
            if "card" in result:
                self._store_server_card(result["card"])
            else:
                card = self.db.execute("SELECT card FROM journal WHERE id = ?", (result["id"],)).fetchone()
                if card:
                    self._refresh_view(card[0])

    def _apply_changes(self, changes: list[dict[str, Any]]) -> None:
        for change in changes:
            kind = change["type"]
            if kind == "card":
                self._store_server_card(change["card"])
            elif kind == "activity":
                activity = change["activity"]
                self.db.execute("INSERT OR REPLACE INTO activities(id, card, data) VALUES (?, ?, ?)",
                                (activity["id"], activity["card"], json.dumps(activity, ensure_ascii=False)))
            elif kind == "remove":
                self.db.execute("DELETE FROM cards WHERE id = ?", (change["card"],))
                self.db.execute("DELETE FROM activities WHERE card = ?", (change["card"],))
                if change.get("reason") == "erased":
                    # The customer's data was erased: nothing of it stays here, queued or sent.
                    self.db.execute("DELETE FROM journal WHERE card = ?", (change["card"],))
                    self.db.execute("DELETE FROM files WHERE card = ?", (change["card"],))

    def _store_server_card(self, card: dict[str, Any]) -> None:
        current = self.db.execute("SELECT server FROM cards WHERE id = ?", (card["id"],)).fetchone()
        if current and current[0] and json.loads(current[0])["version"] > card["version"]:
            return  # an older copy (a stored result replayed) must not hide a newer one
        self.db.execute("INSERT INTO cards(id, server) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET server = excluded.server",
                        (card["id"], json.dumps(card, ensure_ascii=False)))
        self._refresh_view(card["id"])

    def _refresh_view(self, card_id: str) -> None:
        """The view is the server copy with this device's pending edits applied on top. A pool card
        this device claimed and the server has not answered for yet starts from its pool view."""
        row = self.db.execute("SELECT server FROM cards WHERE id = ?", (card_id,)).fetchone()
        view = json.loads(row[0]) if row and row[0] else None
        pending = self._journal("pending", card_id)
        if view is None and any(body["op"] == "card.claim" for body in pending):
            view = self._pool_card(card_id)
        for body in pending:
            view = _apply_locally(view, body)
        if view is None or view.get("deleted"):
            if row is None or not row[0]:
                self.db.execute("DELETE FROM cards WHERE id = ?", (card_id,))
            else:
                self.db.execute("UPDATE cards SET view = NULL WHERE id = ?", (card_id,))
            return
        self.db.execute("INSERT INTO cards(id, view) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET view = excluded.view",
                        (card_id, json.dumps(view, ensure_ascii=False)))

    # --- small helpers -------------------------------------------------------------------

    def _journal(self, state: str, card_id: str | None = None) -> list[dict[str, Any]]:
        sql, params = "SELECT body FROM journal WHERE state = ?", [state]
        if card_id:
            sql += " AND card = ?"
            params.append(card_id)
        return [json.loads(r[0]) for r in self.db.execute(sql + " ORDER BY seq", params)]

    def _meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def _set_meta(self, key: str, value: str | None) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))


def _apply_locally(view: dict[str, Any] | None, body: dict[str, Any]) -> dict[str, Any] | None:
    """An optimistic local copy of what the server will do; the server's answer replaces it."""
    op = body["op"]
    if op == "card.delete":
        return None
    if op != "card.put":
        return view
    if view is None and body.get("was") is not None:
        return None  # an edit of a card this device no longer holds creates nothing
    card = dict(view) if view else {"id": body["card"], "phones": [], "emails": [], "tags": [], "custom": {},
                                    "version": 0, "deleted": False}
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
        found = sorted_prefixes[middle * width:(middle + 1) * width]
        if found < prefix:
            low = middle + 1
        else:
            high = middle
    return sorted_prefixes[low * width:(low + 1) * width] == prefix


def _body_of(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text[:500]
