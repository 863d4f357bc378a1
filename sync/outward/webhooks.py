"""Webhooks: endpoints an admin registers, the durable outbox, and the worker that delivers it.

`emit` queues an event in the caller's write transaction, so an event exists exactly when its
change committed (one outbox row per event per subscribed endpoint). `Deliverer` posts the outbox
at least once, in order per card, signed (`X-Fieldcards-Signature`), retrying with exponential
backoff and jitter (tenacity computes the waits; `next_attempt_at` is stored, so the schedule
survives a restart). Outbound requests never reach loopback, private or link-local addresses
unless the admin setting allows them, and never follow redirects. See docs/integrations.md.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import secrets
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import tenacity

from sync import audit, db
from sync.access import User, admin_only
from sync.events import EVENTS
from sync.errors import InvalidInput, FieldError, NotFound, invalid
from sync.jsontext import dumps
from sync.times import utc_now

log = logging.getLogger("fieldcards.webhooks")

TEST_EVENT = "webhook.test"  # sent only by the test button, never queued
RESPONSE_CAP = 64 * 1024  # bytes of a receiver's answer we read (and keep none of)
MAX_WAIT_S = 3600.0  # the longest pause between two attempts


@dataclass(frozen=True)
class Settings:
    allow_private: bool = False
    backoff_s: float = 30.0  # the first retry waits about this long, then doubling, with jitter
    retry_for_s: float = 24 * 3600.0  # after this long failing, a delivery is given up
    timeout_s: float = 10.0
    poll_s: float = 1.0


class Refused(Exception):
    """The destination is not allowed (a non-global address without the admin setting)."""


# --- signing ------------------------------------------------------------------------------------


def sign(secret: str, body: bytes, at: int) -> str:
    digest = hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={at},v1={digest}"


def verify_signature(secret: str, body: bytes, header: str, *, tolerance_s: int = 300, now: float | None = None) -> bool:
    """The receiver's check (the same code is in docs/integrations.md): the HMAC matches and the
    timestamp is recent."""
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    try:
        at = int(parts["t"])
    except (KeyError, ValueError):
        return False
    expected = hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    fresh = abs((time.time() if now is None else now) - at) <= tolerance_s
    return fresh and hmac.compare_digest(expected, parts.get("v1", ""))


# --- endpoints ------------------------------------------------------------------------------------


def _admin(user: User) -> None:
    admin_only(user, "manage webhooks")


def check_url(value: object) -> str:
    """http or https, a host, no credentials in the URL."""
    import httpx  # here, not at the top: ~60 ms of every server start and CLI call otherwise

    if not isinstance(value, str) or not value.strip() or len(value) > 2000:
        raise invalid("url", "an http or https URL of at most 2000 characters")
    try:
        url = httpx.URL(value.strip())
    except httpx.InvalidURL:
        raise invalid("url", "not a valid URL") from None
    if url.scheme not in ("http", "https"):
        raise invalid("url", "only http and https URLs")
    if not url.host:
        raise invalid("url", "the URL has no host")
    if url.userinfo:
        raise invalid("url", "no user name or password in the URL; the signature authenticates us")
    return str(url)


def _events(value: object) -> list[str]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise invalid("events", f"a non-empty list of: {', '.join(EVENTS)}")
    unknown = [v for v in value if v not in EVENTS]
    if unknown:
        raise InvalidInput("unknown events", [FieldError("events", f"unknown: {', '.join(unknown)}")])
    return sorted(set(value), key=EVENTS.index)


def public(endpoint: dict[str, Any]) -> dict[str, Any]:
    """An endpoint as the API shows it: never its secret."""
    return {k: v for k, v in endpoint.items() if k != "secret"}


def list_endpoints(st: db.Store, user: User) -> list[dict[str, Any]]:
    _admin(user)
    with st.read() as conn:
        return [public(e) for e in db.webhook_endpoints(conn)]


def create_endpoint(st: db.Store, user: User, body: object) -> dict[str, Any]:
    """Register an endpoint; the answer holds the secret, the only time it is shown."""
    _admin(user)
    if not isinstance(body, dict) or set(body) - {"url", "events", "secret", "enabled"}:
        raise invalid("", 'send {"url": …, "events": [...], "secret"?: …, "enabled"?: true}')
    secret = body.get("secret")
    if secret is None:
        secret = "whsec_" + secrets.token_urlsafe(32)
    elif not isinstance(secret, str) or not 16 <= len(secret) <= 200:
        raise invalid("secret", "16 to 200 characters (or leave it out and one is made)")
    enabled = body.get("enabled", True)
    if not isinstance(enabled, bool):
        raise invalid("enabled", "true or false")
    now = utc_now()
    endpoint: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "url": check_url(body.get("url")),
        "events": _events(body.get("events")),
        "secret": secret,
        "enabled": enabled,
        "failing": False,
        "failing_since": None,
        "created_by": user.name,
        "created_at": now,
        "updated_at": now,
    }
    with st.write() as conn:
        db.save_webhook_endpoint(conn, endpoint)
        audit.record(conn, user.name, "webhook.create", endpoint["id"], {"url": endpoint["url"], "events": endpoint["events"]})
    return {**public(endpoint), "secret": secret}


def update_endpoint(st: db.Store, user: User, endpoint_id: str, body: object) -> dict[str, Any]:
    _admin(user)
    if not isinstance(body, dict) or not body or set(body) - {"url", "events", "enabled"}:
        raise invalid("", 'send any of {"url", "events", "enabled"}')
    changes: dict[str, Any] = {}
    if "url" in body:
        changes["url"] = check_url(body["url"])
    if "events" in body:
        changes["events"] = _events(body["events"])
    if "enabled" in body:
        if not isinstance(body["enabled"], bool):
            raise invalid("enabled", "true or false")
        changes["enabled"] = body["enabled"]
    with st.write() as conn:
        endpoint = db.webhook_endpoint(conn, endpoint_id)
        if endpoint is None:
            raise NotFound("no such webhook")
        endpoint.update(changes, updated_at=utc_now())
        if changes.get("enabled"):
            endpoint.update(failing=False, failing_since=None)  # re-enabled: a fresh start
        db.save_webhook_endpoint(conn, endpoint)
        audit.record(conn, user.name, "webhook.update", endpoint_id, changes)
    return public(endpoint)


def deliveries(st: db.Store, user: User, endpoint_id: str, limit: int = 100) -> list[dict[str, Any]]:
    _admin(user)
    with st.read() as conn:
        if db.webhook_endpoint(conn, endpoint_id) is None:
            raise NotFound("no such webhook")
        return db.deliveries_of(conn, endpoint_id, limit)


def redeliver(st: db.Store, user: User, delivery_id: str) -> dict[str, Any]:
    """Send a delivery again (one click in the log), whatever became of it."""
    _admin(user)
    try:
        number = int(delivery_id)
    except ValueError:
        raise NotFound("no such delivery") from None
    with st.write() as conn:
        item = db.delivery(conn, number)
        if item is None:
            raise NotFound("no such delivery")
        db.requeue_delivery(conn, number)
        audit.record(conn, user.name, "webhook.redeliver", item["endpoint"], {"delivery": number, "event": item["event"]})
    return {"delivery": number, "status": "pending"}


def send_test(st: db.Store, user: User, endpoint_id: str, settings: Settings) -> dict[str, Any]:
    """A test delivery, now, not retried; logged like any other."""
    _admin(user)
    with st.read() as conn:
        endpoint = db.webhook_endpoint(conn, endpoint_id)
    if endpoint is None:
        raise NotFound("no such webhook")
    identity = str(uuid.uuid4())
    body = dumps({"id": identity, "type": TEST_EVENT, "at": utc_now(), "data": {"webhook": endpoint_id}})
    now = utc_now()
    with st.write() as conn:
        db.insert_outbox(conn, endpoint_id, identity, TEST_EVENT, f"test:{identity}", body, now)
        item_id = db.start_test_delivery(conn, endpoint_id, identity)
        audit.record(conn, user.name, "webhook.test", endpoint_id, {})
    status, error, duration = post(endpoint["url"], endpoint["secret"], body.encode(), settings)
    ok = status is not None and 200 <= status < 300
    with st.write() as conn:
        item = db.delivery(conn, item_id)
        assert item is not None
        db.record_attempt(conn, item, utc_now(), status, error, duration, "delivered" if ok else "failed", 0)
    return {"delivery": item_id, "ok": ok, "status_code": status, "error": error, "duration_ms": duration}


# --- sending ------------------------------------------------------------------------------------


def _allowed(address: str, allow_private: bool) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return allow_private or (ip.is_global and not ip.is_multicast)


def resolve(host: str, port: int, allow_private: bool) -> str:
    """The address to connect to: every DNS answer must be allowed (a name that resolves to one
    public and one private address is refused), then we connect to the checked address."""
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise Refused(f"cannot resolve {host}: {error}") from None
    addresses = [str(info[4][0]) for info in answers]
    refused = [a for a in addresses if not _allowed(a, allow_private)]
    if refused or not addresses:
        raise Refused(
            f"{host} resolves to a non-public address ({', '.join(refused) or 'none'}); "
            "set FIELDCARDS_WEBHOOKS_ALLOW_PRIVATE=1 to allow it"
        )
    return addresses[0]


def post(url: str, secret: str, body: bytes, settings: Settings) -> tuple[int | None, str | None, int]:
    """POST one signed body: (status code or None, error or None, duration in ms). No redirects,
    no proxies from the environment, a timeout, and at most RESPONSE_CAP bytes of answer read."""
    import httpx  # see check_url

    started = time.monotonic()
    try:
        target = httpx.URL(url)
        port = target.port or (443 if target.scheme == "https" else 80)
        address = resolve(target.host, port, settings.allow_private)
        headers = {
            "content-type": "application/json",
            "user-agent": "Fieldcards-Webhooks/1",
            "host": target.netloc.decode("ascii"),
            "x-fieldcards-signature": sign(secret, body, int(time.time())),
        }
        extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
        with httpx.Client(trust_env=False, follow_redirects=False, timeout=settings.timeout_s) as client:
            request = client.build_request(
                "POST", target.copy_with(host=address), content=body, headers=headers, extensions=extensions
            )
            response = client.send(request, stream=True)
            try:
                read = 0
                for chunk in response.iter_raw():
                    read += len(chunk)
                    if read >= RESPONSE_CAP:
                        break
            finally:
                response.close()
        error = None if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"
        return response.status_code, error, int((time.monotonic() - started) * 1000)
    except Refused as refusal:
        return None, f"refused: {refusal}", int((time.monotonic() - started) * 1000)
    except (httpx.HTTPError, OSError, ValueError) as failure:
        return None, f"{type(failure).__name__}: {failure}"[:500], int((time.monotonic() - started) * 1000)


def retry_wait(attempts: int, settings: Settings) -> float:
    """Seconds before the next attempt, after `attempts` failed ones: tenacity's exponential
    backoff with jitter (initial `backoff_s`, doubling, at most an hour)."""
    state = tenacity.RetryCallState(retry_object=tenacity.Retrying(), fn=None, args=(), kwargs={})
    state.attempt_number = attempts
    wait = tenacity.wait_exponential_jitter(multiplier=settings.backoff_s, max=MAX_WAIT_S, jitter=settings.backoff_s)
    return float(wait(state))


def _since(stamp: str) -> float:
    return datetime.now(timezone.utc).timestamp() - datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


class Deliverer:
    """The worker thread's loop: every due delivery, first in line for its card, posted once per pass."""

    def __init__(self, st: db.Store, settings: Settings) -> None:
        self.store = st
        self.settings = settings
        self.wake = threading.Event()

    def run(self, stopping: threading.Event) -> None:
        while not stopping.is_set():
            try:
                sent = self.deliver_due(stopping)
            except Exception:  # e.g. the database swapped by a restore: the worker must live on; the log says why
                log.exception("webhook delivery pass failed")
                sent = 0
            if not sent:
                self.wake.wait(self.settings.poll_s)
                self.wake.clear()

    def deliver_due(self, stopping: threading.Event | None = None) -> int:
        with self.store.read() as conn:
            endpoints = [e for e in db.webhook_endpoints(conn) if e["enabled"]]
            due = {e["id"]: db.due_deliveries(conn, e["id"], time.time(), 50) for e in endpoints}
        sent = 0
        for endpoint in endpoints:
            for item in due[endpoint["id"]]:
                if stopping is not None and stopping.is_set():
                    return sent
                self._attempt(endpoint, item)
                sent += 1
        return sent

    def _attempt(self, endpoint: dict[str, Any], item: dict[str, Any]) -> None:
        status, error, duration = post(endpoint["url"], endpoint["secret"], item["body"].encode(), self.settings)
        now = utc_now()
        ok = error is None
        attempts = item["attempts"] + 1
        give_up = (
            not ok and item["first_attempt_at"] is not None and _since(item["first_attempt_at"]) >= self.settings.retry_for_s
        )
        outcome = "delivered" if ok else "failed" if give_up else "pending"
        next_at = 0.0 if ok or give_up else time.time() + retry_wait(attempts, self.settings)
        with self.store.write() as conn:
            db.record_attempt(conn, item, now, status, error, duration, outcome, next_at)
            if give_up and not endpoint["failing"]:
                db.set_endpoint_failing(conn, endpoint["id"], True, now)
                audit.record(conn, "system", "webhook.failing", endpoint["id"], {"event": item["event"], "error": error})
                endpoint["failing"] = True
            elif ok and endpoint["failing"]:
                db.set_endpoint_failing(conn, endpoint["id"], False, now)
                audit.record(conn, "system", "webhook.recovered", endpoint["id"], {})
                endpoint["failing"] = False
