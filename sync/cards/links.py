"""Customer links (contract 7; issue 17): a signed, single-purpose, expiring URL that a customer
opens without an account to confirm or correct their own details, or to answer a survey.

- A link is declared by a `link.create` mutation from a device (offline too) with an id the
  device chose. Its token is `<link id, base64url>.<HMAC-SHA256(server key, link id), 16 bytes,
  base64url>`: the server signs, devices never hold the key. The result of `link.create` carries
  the token.
- Offline, a phone cannot ask for a token, so while online it keeps a few in reserve
  (`GET /api/v1/links/reserve`: ids and their tokens, nothing stored on the server). It declares
  a link with a reserved id and shows the QR of its token at once; a customer who opens it before
  the phone has synced sees "this link is not active yet".
- The customer's answer is a change authored by `customer`, through the same validation and merge
  rules as any edit (the page sends what it showed as `was`, so a field the rep changed meanwhile
  becomes a conflict), recorded in history with the link as `via`. A link is used once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import sqlite3
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

from sync import db
from sync.errors import FieldError, InvalidInput, NotFound
from sync.cards.validate import canonical_uuid

PURPOSES = ("update", "survey")
LONGEST = timedelta(days=90)
DEFAULT_DAYS = 14
# What the customer sees and may correct about themselves: never notes, tags, segment or owner.
CUSTOMER_FIELDS = ("name", "company", "title", "phones", "emails", "address", "birthday")
KEY_META = "link_key"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def signing_key(conn: sqlite3.Connection) -> bytes:
    """The server's key for link tokens, made on first use; never rolled back by a restore."""
    found = db.meta_value(conn, KEY_META)
    if found:
        return bytes.fromhex(found)
    key = secrets.token_bytes(32)
    db.set_meta(conn, KEY_META, key.hex())
    return key


def token_for(key: bytes, link_id: str) -> str:
    raw = uuid.UUID(link_id).bytes
    return f"{_b64(raw)}.{_b64(hmac.new(key, raw, hashlib.sha256).digest()[:16])}"


def link_of_token(key: bytes, token: str) -> str:
    """The link id a token names; NotFound for anything forged or malformed."""
    try:
        head, _, mac = token.partition(".")
        raw = _unb64(head)
        expected = hmac.new(key, raw, hashlib.sha256).digest()[:16]
        if len(raw) != 16 or len(token) > 100 or not hmac.compare_digest(_unb64(mac), expected):
            raise ValueError
    except (ValueError, TypeError):
        raise NotFound("this link is not valid") from None
    return str(uuid.UUID(bytes=raw))


def validate_declaration(value: Any, *, now: datetime) -> dict[str, Any]:
    """The `link` of a `link.create` mutation."""
    if not isinstance(value, dict):
        raise InvalidInput("link must be an object", [FieldError("", "must be an object")])
    errors = [FieldError(str(k)[:60], "unknown field") for k in value if k not in ("id", "purpose", "survey", "expires")]
    out: dict[str, Any] = {}
    try:
        out["id"] = canonical_uuid(value.get("id"))
    except ValueError as error:
        errors.append(FieldError("id", str(error)))
    if value.get("purpose") not in PURPOSES:
        errors.append(FieldError("purpose", "must be update or survey"))
    out["purpose"] = value.get("purpose")
    survey = value.get("survey")
    if survey is not None and (not isinstance(survey, str) or not 1 <= len(survey) <= 100):
        errors.append(FieldError("survey", "a survey id, or null"))
    out["survey"] = survey
    expires = value.get("expires")
    if expires is None:
        out["expires"] = (now + timedelta(days=DEFAULT_DAYS)).isoformat(timespec="seconds").replace("+00:00", "Z")
    else:
        try:
            moment = datetime.fromisoformat(str(expires).replace("Z", "+00:00"))
            if moment.tzinfo is None or not now < moment <= now + LONGEST:
                raise ValueError
            out["expires"] = moment.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
        except ValueError:
            errors.append(FieldError("expires", "an RFC 3339 time with a zone, in the next 90 days"))
    if errors:
        raise InvalidInput.listing(errors)
    return out


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def state_of(link: dict[str, Any] | None, now: str) -> str:
    """open, pending (not declared yet), expired, used or revoked."""
    if link is None:
        return "pending"
    if link["revoked_at"]:
        return "revoked"
    if link["used_at"]:
        return "used"
    if _moment(link["expires"]) <= _moment(now):
        return "expired"
    return "open"
