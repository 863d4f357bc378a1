"""The shared pool (公海, issue 19; contract 7): cards nobody owns, which reps claim.

- A card whose `owner` is null is in the pool. Reps and managers see pool cards through a view of
  their own (`view`), holding only the fields an admin allows (name and company, say, but not
  phones), bounded and filterable, so that a phone never holds the company's whole file.
- Claims are mutations (`card.claim`) and work offline; the engine decides them (sync/protocol/batch.py,
  `Batch._claim`): the earliest bounded `at` of a round wins.
- Reclaim rules return cards with no activity for N days (per segment) to the pool
  (sync/office/reclaim.py), and owners see it coming on Today (`returning`).
- The company-wide duplicate check tells a rep that a colleague holds a customer, or that it sits in
  the pool, without showing the other card: offline through k-anonymous buckets of a keyed hash
  (`buckets`), and exactly at sync (`colleague_warnings`). docs/security.md has the threat model.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from datetime import date, datetime, timedelta, timezone
from typing import Any

from sync import audit, db
from sync.access import User, admin_only, can_see, owner_filter
from sync.errors import FieldError, InvalidInput, invalid
from sync.cards.queries import matching_cards
from sync.times import utc_now

SETTINGS_KEY = "pool_settings"
DEDUPE_KEY = "dedupe_key"
SEGMENT_KEYS = ("A", "B", "C", "none")
# What a pool card always shows: without its name nobody could tell which customer it is.
ALWAYS = ("id", "name", "owner", "version", "updated_at")
ALLOWED_FIELDS = ("company", "title", "address", "region", "industry", "segment", "tags", "stage", "location")
DEFAULT_SETTINGS: dict[str, Any] = {
    "fields": ["company", "region", "industry", "segment", "tags"],
    "view_limit": 2000,  # pool cards one phone holds at most
    "max_held": None,  # cards a rep may own, claims included; None: no limit
    "claims_per_day": None,
    "reclaim_days": {"A": None, "B": None, "C": None, "none": None},  # None: never returned
    "warn_days": 3,  # the owner is told on Today this many days before
}
VIEW_MAX = 5000
MAX_PARAM = 500
# The offline check: a prefix this long of each key's HMAC. 24 bits is 16.7 million buckets: with
# 300,000 keys in a company a typed number falls in an occupied bucket about 2% of the time by
# chance (the server confirms at sync), and each bucket stands for ~90 of China's ~1.5 billion
# mobile numbers, so the list alone never names one (docs/security.md).
BUCKET_BITS = 24
# Warnings of a colleague's customer a rep gets per day: beyond, a rep probing numbers learns nothing more.
COLLEAGUE_WARNINGS_PER_DAY = 100


# --- settings -----------------------------------------------------------------------------------


def settings(conn: Any) -> dict[str, Any]:
    raw = db.meta_value(conn, SETTINGS_KEY)
    found = json.loads(raw) if raw else {}
    merged = {**DEFAULT_SETTINGS, **found}
    merged["reclaim_days"] = {**DEFAULT_SETTINGS["reclaim_days"], **(found.get("reclaim_days") or {})}
    return merged


def save_settings(st: db.Store, admin: User, body: object) -> dict[str, Any]:
    admin_only(admin, "may change the pool's rules")
    checked = _check_settings(body)
    with st.write() as conn:
        new = {**settings(conn), **checked}
        db.set_meta(conn, SETTINGS_KEY, json.dumps(new, sort_keys=True))
        audit.record(conn, admin.name, "pool.settings", "", new)
    return new


def _check_settings(body: object) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise invalid("", "send an object with fields, view_limit, max_held, claims_per_day and reclaim_days")
    errors: list[FieldError] = [FieldError(str(k)[:60], "unknown setting") for k in body if k not in DEFAULT_SETTINGS]
    out: dict[str, Any] = {}
    if "fields" in body:
        fields = body["fields"]
        if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
            errors.append(FieldError("fields", "a list of card field names"))
        else:
            errors += [
                FieldError(f"fields[{i}]", f"must be one of {', '.join(ALLOWED_FIELDS)}")
                for i, f in enumerate(fields)
                if f not in ALLOWED_FIELDS
            ]
            out["fields"] = list(dict.fromkeys(fields))
    for key, low, high, nullable in (
        ("view_limit", 1, VIEW_MAX, False),
        ("max_held", 0, 1_000_000, True),
        ("claims_per_day", 0, 100_000, True),
        ("warn_days", 0, 60, False),
    ):
        if key in body:
            value = body[key]
            if value is None and nullable:
                out[key] = None
            elif isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                errors.append(FieldError(key, f"a whole number from {low} to {high:,}" + (", or null" if nullable else "")))
            else:
                out[key] = value
    if "reclaim_days" in body:
        days = body["reclaim_days"]
        if not isinstance(days, dict):
            errors.append(FieldError("reclaim_days", 'an object such as {"A": 90, "B": 60, "C": 30, "none": 30}'))
        else:
            for segment, value in days.items():
                if segment not in SEGMENT_KEYS:
                    errors.append(FieldError(f"reclaim_days.{str(segment)[:20]}", "must be A, B, C or none"))
                elif value is not None and (isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 3650):
                    errors.append(FieldError(f"reclaim_days.{segment}", "days from 1 to 3650, or null for never"))
            out["reclaim_days"] = {k: v for k, v in days.items() if k in SEGMENT_KEYS}
    if errors:
        raise InvalidInput.listing(errors)
    return out


# --- the pool view ------------------------------------------------------------------------------


def view(st: db.Store, user: User, params: dict[str, str]) -> dict[str, Any]:
    """`GET /pool`: pool cards with the fields an admin allows, what a rep's phone stores and
    searches offline; filtered (`q`, `region`, `segment`, `tag`) and bounded by `view_limit`,
    paged by `after` (the last id)."""
    known = {"q", "region", "segment", "tag", "after", "limit"}
    unknown = sorted(set(params) - known)
    if unknown:
        raise invalid(unknown[0], "unknown parameter")
    for name in known - {"limit"}:
        if len(params.get(name) or "") > MAX_PARAM:
            raise invalid(name, f"at most {MAX_PARAM} characters")
    raw_limit = params.get("limit") or ""
    if raw_limit and (not raw_limit.isascii() or not raw_limit.isdigit() or not 1 <= int(raw_limit) <= VIEW_MAX):
        raise invalid("limit", f"a whole number from 1 to {VIEW_MAX:,}")
    if params.get("segment") and params["segment"] not in ("A", "B", "C"):
        raise invalid("segment", "must be A, B or C")
    with st.read() as conn:
        rules = settings(conn)
        bound = min(int(raw_limit or rules["view_limit"]), rules["view_limit"])
        # Owner '' is the pool (sync/db/cards.py keeps a pool card's owner column empty).
        cards = matching_cards(conn, params, owner="", limit=bound + 1)
    shown = ALWAYS + tuple(rules["fields"])
    more = len(cards) > bound
    cards = cards[:bound]
    return {
        "cards": [{k: c.get(k) for k in shown} | {"pool": True} for c in cards],
        "fields": list(shown),
        "next": cards[-1]["id"] if more else None,
    }


# --- reclaim dates ------------------------------------------------------------------------------


def reclaim_on(rules: dict[str, Any], segment: str | None, last: str) -> date | None:
    """The day a card last active on `last` (RFC 3339 or a date) returns to the pool, if ever."""
    days = rules["reclaim_days"].get(segment or "none")
    if days is None:
        return None
    return date.fromisoformat(last[:10]) + timedelta(days=days)


def last_touch(created_at: str, owner_set_at: str | None, last_activity: str | None) -> str:
    """When the owner last did something with the card: an activity, or getting the card."""
    stamps = [created_at[:10]]
    if owner_set_at:
        stamps.append(_stamp_day(owner_set_at))
    if last_activity:
        stamps.append(last_activity[:10])
    return max(stamps)


def _stamp_day(stamp: str) -> str:
    """The day of an HLC stamp (`<unix ms>-<counter>-<node>`), as YYYY-MM-DD in UTC."""
    try:
        return datetime.fromtimestamp(int(stamp[:13]) / 1000, timezone.utc).date().isoformat()
    except ValueError:
        return "0001-01-01"


def returning(st: db.Store, user: User, today: date) -> list[dict[str, Any]]:
    """The user's cards that go back to the pool within `warn_days` (office: everybody's)."""
    out = []
    with st.read() as conn:
        rules = settings(conn)
        if all(days is None for days in rules["reclaim_days"].values()):
            return []  # no reclaim rule: nothing ever goes back (and nothing to read)
        rows = db.cards_to_reclaim(conn, owner_filter(user))
    for card, owner, segment, created, owner_set, last_activity, name in rows:
        touched = last_touch(created, owner_set, last_activity)
        when = reclaim_on(rules, segment, touched)
        if when is not None and when - today <= timedelta(days=rules["warn_days"]):
            out.append(
                {"card": card, "name": name, "owner": owner, "last_activity": touched, "returns_on": max(when, today).isoformat()}
            )
    return sorted(out, key=lambda r: (r["returns_on"], r["card"]))


# --- the company-wide duplicate check -------------------------------------------------------------


def dedupe_key(conn: Any) -> bytes:
    """The key of the offline check's hashes (created on first use; rotating it voids old lists)."""
    found = db.meta_value(conn, DEDUPE_KEY)
    return base64.b64decode(found) if found else b""


def _ensure_key(st: db.Store) -> bytes:
    with st.read() as conn:
        found = dedupe_key(conn)
    if found:
        return found
    with st.write() as conn:
        found = dedupe_key(conn)
        if not found:
            found = secrets.token_bytes(32)
            db.set_meta(conn, DEDUPE_KEY, base64.b64encode(found).decode())
    return found


def bucket_of(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()[: BUCKET_BITS // 8]


# The lists are a hint (the sync's answer is exact): computed at most every BUCKETS_TTL_S, not on
# every write, so that phones refreshing them cost one HMAC per card every few minutes at most.
BUCKETS_TTL_S = 600.0
_buckets_cache: dict[str, tuple[float, dict[str, Any]]] = {}
_buckets_lock = threading.Lock()


def buckets(st: db.Store, *, now: float | None = None) -> dict[str, Any]:
    """The offline check's lists: the sorted 3-byte prefixes of HMAC(key, duplicate key) for cards
    held by someone and for pool cards. A phone takes out its own cards' exact keys first."""
    moment = time.monotonic() if now is None else now
    with _buckets_lock:
        cached = _buckets_cache.get(str(st.path))
        if cached is not None and moment - cached[0] < BUCKETS_TTL_S:
            return cached[1]
    key = _ensure_key(st)
    with st.read() as conn:
        version = f"{db.last_seq(conn)}"
        rows = db.keys_for_buckets(conn)
    held: set[bytes] = set()
    pool: set[bytes] = set()
    for text, in_pool in rows:
        (pool if in_pool else held).add(bucket_of(key, text))
    found = {
        "version": version,
        "bits": BUCKET_BITS,
        "key": base64.b64encode(key).decode(),
        "held": base64.b64encode(b"".join(sorted(held))).decode(),
        "pool": base64.b64encode(b"".join(sorted(pool))).decode(),
    }
    with _buckets_lock:
        _buckets_cache[str(st.path)] = (moment, found)
    return found


def colleague_warnings(conn: Any, user: User, mutation_id: str, card_id: str, keys: list[str]) -> list[dict[str, Any]]:
    """At sync: `held_by_colleague` / `in_pool` for a card sharing a key with a card this user may
    not see. The other card's id, contents and owner are never given (contract 7); the new card is
    kept and shown to office as a duplicate candidate. Capped per user and day."""
    if user.sees_everything or not keys:
        return []
    others = [(c, owner) for c, owner in db.owners_sharing_keys(conn, card_id, keys) if not can_see(user, owner)]
    if not others:
        return []
    now = utc_now()
    if db.colleague_hits_since(conn, user.name, now[:10]) >= COLLEAGUE_WARNINGS_PER_DAY:
        return []
    codes = (["in_pool"] if any(o == "" for _, o in others) else []) + (
        ["held_by_colleague"] if any(o != "" for _, o in others) else []
    )
    for code in codes:
        db.record_colleague_hit(conn, card_id, code, user.name, now)
    audit.record(conn, user.name, "dedupe.colleague", card_id, {"codes": codes})
    return [{"mutation": mutation_id, "code": code, "cards": []} for code in codes]
