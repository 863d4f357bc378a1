"""Card and activity rules (contract section 3): normalise phones to E.164, emails to a lowercase
domain, dates to real YYYY-MM-DD; enforce limits; report every problem with its path.

Shared by the sync engine and (later) spreadsheet import. Plain Python on purpose: this runs for
every field of every mutation, and a push of 10,000 cards a second leaves no room for building
a model per call.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from sync.errors import FieldError, InvalidInput
from sync.cards.patterns import matches
from sync.cards.phones import e164_valid, national_e164

# The contract's card fields of version 1.0 that a spreadsheet holds as one column each (the
# export's and the import's columns are made from these).
SHEET_FIELDS = (
    "name",
    "company",
    "title",
    "phones",
    "emails",
    "address",
    "region",
    "industry",
    "segment",
    "tags",
    "owner",
    "birthday",
    "follow_up",
    "notes",
)
CARD_FIELDS = (
    *SHEET_FIELDS,
    "custom",
    "location",
    "stage",
    "follow_ups",
    "consent",
)  # from location on: contract 7 (version 1.1)
SET_FIELDS = ("phones", "emails", "tags")
SCALAR_FIELDS = tuple(f for f in CARD_FIELDS if f not in SET_FIELDS and f not in ("custom", "follow_ups"))
SERVER_FIELDS = ("id", "version", "created_at", "updated_at", "deleted")
EMPTY_VALUES: dict[str, Any] = {f: None for f in SCALAR_FIELDS} | {
    "phones": [],
    "emails": [],
    "tags": [],
    "custom": {},
    "follow_ups": [],
}
STAGES = ("lead", "new", "active", "at_risk", "lost", "won_back")
FOLLOW_UP_STATUSES = ("open", "in_progress", "resolved")
FOLLOW_UP_FIELDS = ("title", "due", "status", "note")
# Consent and legal basis (issue 18). The bases are those of PIPL article 13 (1)–(7): consent, a
# contract with the person, a legal duty, a health emergency, news or public interest, information
# the person made public, other laws. PIPL has no "legitimate interests" basis.
CONSENT_CONTACT = ("granted", "refused", "unknown")
CONSENT_CHANNELS = ("phone", "email", "message", "visit")
CONSENT_BASES = ("consent", "contract", "legal_obligation", "emergency", "public_interest", "public_info", "other")
CONSENT_SOURCES = ("rep", "import", "customer")
CONSENT_KEYS = ("contact", "channels", "basis", "at", "source")
MAX_FOLLOW_UPS = 50
ITEM_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")

TEXT_LIMITS = {"name": 200, "company": 200, "title": 200, "address": 500, "region": 100, "industry": 100, "notes": 10_000}
SET_LIMITS = {"phones": 10, "emails": 10, "tags": 20}
SEGMENTS = ("A", "B", "C")
OWNER_RE = re.compile(r"^[a-z0-9._-]{1,64}$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
AMOUNT_RE = re.compile(r"^-?\d{1,15}(\.\d{1,4})?$")
ACTIVITY_KINDS = ("visit", "call", "email", "chat", "note", "purchase", "feedback")
ACTIVITY_KEYS = (
    "id",
    "card",
    "kind",
    "at",
    "text",
    "amount",
    "currency",
    "rating",
    "location",
    "survey",
    "answers",
    "needs_action",
)  # needs_action: a rep asks for a follow-up item (issue 17)
CUSTOM_TYPES = ("text", "number", "date", "choice", "choices")


def _short(value: str, limit: int = 40) -> str:
    return value if len(value) <= limit else value[:limit] + "…"


def normalize_phone(value: str, region: str) -> str:
    """`138 1234 5678` read in region CN -> `+8613812345678`; ValueError if it is not a real number."""
    text = unicodedata.normalize("NFKC", value).strip()  # full-width digits from Chinese keyboards
    fast = e164_valid(text)  # the same rules, read without a full parse (sync/cards/phones.py)
    if fast is not None:
        if not fast:
            raise ValueError(f"{_short(value)!r} is not a valid phone number for region {region}")
        return text
    national = national_e164(text, region)  # a sheet's `13812345678`, by the same rules
    if national is not None:
        if not national[1]:
            raise ValueError(f"{_short(value)!r} is not a valid phone number for region {region}")
        return national[0]
    return parsed_phone(value, region)


# Only the full parses are remembered: a number in E.164 is checked about as fast as it is looked
# up, and a push of 100,000 new cards filled both caches with numbers and addresses never seen
# again (about 32 MB held, against the server's memory target).
@lru_cache(maxsize=100_000)
def parsed_phone(value: str, region: str) -> str:
    """`normalize_phone` by phonenumbers in full (national forms, prefixes, anything not E.164)."""
    text = unicodedata.normalize("NFKC", value).strip()
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise ValueError(f"{_short(value)!r} is not a valid phone number for region {region}") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError(f"{_short(value)!r} is not a valid phone number for region {region}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# The common case, a plain ASCII address on an ordinary domain, checked in microseconds instead
# of email-validator's ~90 µs. Only addresses that email-validator certainly accepts match;
# everything else (quotes, Unicode, IP literals, special-use domains) goes through it.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_PLAIN_EMAIL = re.compile(
    rf"^(?=.{{6,254}}$)(?=[^@]{{1,64}}@){_ATOM}(?:\.{_ATOM})*@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)
_SPECIAL_USE_TLDS = {"arpa", "invalid", "local", "localhost", "onion", "test", "internal", "home", "lan", "corp"}


def normalize_email(value: str) -> str:
    """Keep the local part as typed, lowercase the domain; ValueError if it is not an address."""
    plain = value.strip()
    if (
        _PLAIN_EMAIL.match(plain) and plain.rsplit(".", 1)[1].lower() not in _SPECIAL_USE_TLDS and "xn--" not in plain.lower()
    ):  # punycode is decoded by email-validator
        local, domain = plain.rsplit("@", 1)
        return f"{local}@{domain.lower()}"
    return validated_email(value)


@lru_cache(maxsize=100_000)
def validated_email(value: str) -> str:
    """`normalize_email` by email-validator (~90 µs: remembered, like `parsed_phone`)."""
    try:
        checked = validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError:
        raise ValueError(f"{_short(value)!r} is not a valid email address") from None
    return f"{checked.local_part}@{checked.domain.lower()}"


def check_date(value: str) -> str:
    """A real calendar date written YYYY-MM-DD: `2026-02-30` is refused."""
    if not isinstance(value, str) or not DATE_RE.match(value):
        raise ValueError(f"not a date: {_short(str(value))} (write YYYY-MM-DD)")
    try:
        date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"not a date: {value}") from None
    return value


_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def canonical_uuid(value: object) -> str:
    """Ids in the canonical form only (contract section 3): `UUID(...)` alone would also accept
    uppercase, braces, `urn:uuid:` and no dashes, and fold them all into one card."""
    if not isinstance(value, str) or len(value) != 36:
        raise ValueError("not a UUID in canonical form (lowercase, with dashes)")
    if _CANONICAL_UUID.fullmatch(value):  # the form `str(uuid.UUID(value))` gives back, read faster
        return value
    try:
        canonical = str(uuid.UUID(value))
    except ValueError:
        raise ValueError("not a UUID in canonical form (lowercase, with dashes)") from None
    if canonical != value:
        raise ValueError("not a UUID in canonical form (lowercase, with dashes)")
    return canonical


# --- card fields ---------------------------------------------------------------------------


# Control characters (C0 and DEL) are invisible, break spreadsheets (XLSX cannot hold them) and
# terminals; they are refused at input with the field's path. Line breaks and tabs are kept where
# text may span lines.
_CONTROLS = re.compile(r"[\x00-\x1f\x7f]")
_CONTROLS_MULTILINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MULTILINE_FIELDS = frozenset({"notes", "address"})
MAX_NUMBER = 10**15  # a custom number stays exact in JavaScript and in spreadsheets


def _no_controls(value: str, *, multiline: bool) -> None:
    found = (_CONTROLS_MULTILINE if multiline else _CONTROLS).search(value)
    if found:
        raise ValueError(f"holds a control character (U+{ord(found.group()):04X}) at position {found.start() + 1}; remove it")


def _text(value: Any, limit: int, required: bool, *, multiline: bool = False) -> str | None:
    if value is None:
        if required:
            raise ValueError("required")
        return None
    if not isinstance(value, str):
        raise ValueError("must be text")
    _no_controls(value, multiline=multiline)
    value = value.strip()
    if not value:
        if required:
            raise ValueError("required: at least 1 character")
        return None
    if len(value) > limit:
        raise ValueError(f"at most {limit} characters (this has {len(value)})")
    return value


def _set(name: str, value: Any, errors: list[FieldError], normalize, *args: Any) -> list[Any]:  # type: ignore[no-untyped-def]
    """A set field: each text item normalised by `normalize(item, *args)`."""
    if value is None:
        return []
    if not isinstance(value, list):
        errors.append(FieldError(name, "must be a list"))
        return []
    if len(value) > SET_LIMITS[name]:
        errors.append(FieldError(name, f"at most {SET_LIMITS[name]} {name} (this has {len(value)})"))
        return []
    out: list[Any] = []
    for i, item in enumerate(value):
        if not isinstance(item, str):
            errors.append(FieldError(f"{name}[{i}]", "must be text"))
            continue
        try:
            normal = normalize(item, *args)
        except ValueError as error:
            errors.append(FieldError(f"{name}[{i}]", str(error)))
            continue
        if normal not in out:  # a set: order kept, duplicates dropped
            out.append(normal)
    return out


def _tag(value: str) -> str:
    _no_controls(value, multiline=False)
    tag = value.strip()
    if not 1 <= len(tag) <= 40:
        raise ValueError("a tag has 1 to 40 characters")
    return tag


# One rule per card field, looked up once per field: `rule(value, region, creating, errors,
# custom_fields)` returns the normalised value, puts the problems it can name itself in `errors`
# and raises ValueError for a problem of the field as a whole.
_Rule = Callable[[Any, str, bool, list[FieldError], Sequence[dict[str, Any]]], Any]


def _text_rule(limit: int, required: bool, multiline: bool) -> _Rule:
    controls = (_CONTROLS_MULTILINE if multiline else _CONTROLS).search

    def rule(value: Any, *_: Any) -> Any:
        if isinstance(value, str) and controls(value) is None:  # the common case, read once
            text = value.strip()
            if text and len(text) <= limit:
                return text
        return _text(value, limit, required, multiline=multiline)  # null, or what is wrong

    return rule


def _segment(value: Any, *_: Any) -> Any:
    if value is not None and value not in SEGMENTS:
        raise ValueError("must be A, B, C or null")
    return value


def _owner(value: Any, *_: Any) -> Any:  # null: the card goes to the shared pool (contract 7)
    if value is not None and (not isinstance(value, str) or not OWNER_RE.match(value)):
        raise ValueError("must be a user name (1–64 of a-z, 0-9, '.', '_', '-'), or null for the pool")
    return value


def _stage(value: Any, *_: Any) -> Any:
    if value is not None and value not in STAGES:
        raise ValueError(f"must be one of {', '.join(STAGES)}, or null")
    return value


_RULES: dict[str, _Rule] = {
    **{name: _text_rule(limit, name == "name", name in MULTILINE_FIELDS) for name, limit in TEXT_LIMITS.items()},
    "phones": lambda value, region, _c, errors, _f: _set("phones", value, errors, normalize_phone, region),
    "emails": lambda value, _r, _c, errors, _f: _set("emails", value, errors, normalize_email),
    "tags": lambda value, _r, _c, errors, _f: _set("tags", value, errors, _tag),
    "segment": _segment,
    "owner": _owner,
    "birthday": lambda value, *_: None if value is None else check_date(value),
    "follow_up": lambda value, *_: None if value is None else check_date(value),
    "location": lambda value, *_: location(value, accuracy=False),
    "stage": _stage,
    "follow_ups": lambda value, _r, _c, errors, _f: _follow_ups(value, errors),
    "consent": lambda value, _r, _c, errors, _f: _consent(value, errors),
    "custom": lambda value, _r, creating, errors, custom_fields: _custom(value, custom_fields, creating, errors),
}


def _field(
    name: str, value: Any, region: str, creating: bool, errors: list[FieldError], custom_fields: Sequence[dict[str, Any]]
) -> Any:
    """One field's normalised value; problems go to `errors` with their paths."""
    try:
        return _RULES[name](value, region, creating, errors, custom_fields)
    except ValueError as error:
        errors.append(FieldError(name, str(error)))
    return None


def validate_card_fields(
    fields: object, *, region: str, creating: bool, custom_fields: Sequence[dict[str, Any]] = ()
) -> dict[str, Any]:
    """The `fields` of a `card.put`, normalised; InvalidInput with every problem otherwise.

    Paths are relative to the fields object (`phones[0]`); the engine prefixes `fields.`.
    """
    if not isinstance(fields, dict):
        raise InvalidInput("fields must be an object", [FieldError("", "must be an object")])
    errors: list[FieldError] = []
    out: dict[str, Any] = {}
    for name, value in fields.items():
        rule = _RULES.get(name)
        if rule is not None:  # every card field, and no server field, has a rule
            try:
                out[name] = rule(value, region, creating, errors, custom_fields)
            except ValueError as error:
                errors.append(FieldError(name, str(error)))
                out[name] = None
        elif name in SERVER_FIELDS:
            errors.append(FieldError(name, "cannot be set by a client"))
        else:
            errors.append(FieldError(_short(str(name), 60), "unknown field"))
    if creating and "name" not in fields:
        errors.append(FieldError("name", "required"))
    if creating and "custom" not in fields:
        _missing_required(custom_fields, {}, errors)
    if errors:
        raise InvalidInput.listing(errors)
    return out


def normalize_was(was: object, *, region: str) -> dict[str, Any]:
    """What the device saw before its edit: same keys as `fields`, but values are taken leniently
    (a device may have seen a value that no longer passes today's rules)."""
    if not isinstance(was, dict):
        raise InvalidInput("was must be an object", [FieldError("", "must be an object")])
    unknown = [FieldError(_short(str(k), 60), "unknown field") for k in was if k not in EMPTY_VALUES]
    if unknown:
        raise InvalidInput("was has unknown fields", unknown)
    out: dict[str, Any] = {}
    for name, value in was.items():
        if name in SET_FIELDS:
            items = value if isinstance(value, list) else []
            normal: list[Any] = []
            for item in items:
                try:
                    normalizers: dict[str, Callable[[str], Any]] = {
                        "phones": lambda v: normalize_phone(v, region),
                        "emails": normalize_email,
                        "tags": _tag,
                    }
                    item = normalizers[name](item) if isinstance(item, str) else item
                except ValueError:
                    pass
                if item not in normal:
                    normal.append(item)
            out[name] = normal
        elif name == "custom":
            out[name] = value if isinstance(value, dict) else {}
        elif name == "follow_ups":
            out[name] = (
                [item for item in value if isinstance(item, dict) and isinstance(item.get("id"), str)]
                if isinstance(value, list)
                else []
            )
        elif isinstance(value, str) and name in TEXT_LIMITS:
            out[name] = value.strip() or None
        else:
            out[name] = value
    return out


# --- location and follow-up items (contract 7) ------------------------------------------------


def location(value: Any, *, accuracy: bool) -> dict[str, float] | None:
    """`{"lat", "lng"}` in WGS-84 degrees (and `accuracy_m` ≥ 0 for an activity), or null."""
    if value is None:
        return None
    keys = {"lat", "lng", "accuracy_m"} if accuracy else {"lat", "lng"}
    if not isinstance(value, dict) or not {"lat", "lng"} <= set(value) or set(value) - keys:
        shape = '{"lat", "lng", "accuracy_m"}' if accuracy else '{"lat", "lng"}'
        raise ValueError(f"must be an object {shape} in degrees (WGS-84), or null")
    out: dict[str, float] = {}
    for key, low, high in (("lat", -90, 90), ("lng", -180, 180), ("accuracy_m", 0, 10_000_000)):
        if key not in value:
            continue
        number = value[key]
        if isinstance(number, bool) or not isinstance(number, (int, float)) or not low <= number <= high:
            raise ValueError(f"{key} must be a number from {low} to {high}")
        out[key] = number
    return out


def _follow_ups(value: Any, errors: list[FieldError]) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list):
        errors.append(FieldError("follow_ups", "must be a list"))
        return []
    if len(value) > MAX_FOLLOW_UPS:
        errors.append(FieldError("follow_ups", f"at most {MAX_FOLLOW_UPS} items (this has {len(value)})"))
        return []
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, item in enumerate(value):
        try:
            clean = follow_up_item(item)
        except InvalidInput as error:
            errors.extend(f.under(f"follow_ups[{i}]") for f in error.fields)
            continue
        if clean["id"] in seen:
            errors.append(FieldError(f"follow_ups[{i}].id", "each item once"))
            continue
        seen.add(clean["id"])
        out.append(clean)
    return out


def _consent(value: Any, errors: list[FieldError]) -> dict[str, Any] | None:
    try:
        return consent(value)
    except InvalidInput as error:
        errors.extend(f.under("consent") for f in error.fields)
        return None


def consent(value: Any) -> dict[str, Any] | None:
    """The card's `consent`: `{"contact": granted|refused|unknown, "channels": [phone, email, message,
    visit] (granted only; empty means every channel), "basis": a PIPL art. 13 basis or null,
    "at": YYYY-MM-DD or RFC 3339, "source": rep|import|customer}`, or null."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InvalidInput(
            "consent must be an object or null",
            [FieldError("", 'must be an object {"contact", "basis", "at", "source"} or null')],
        )
    errors = [FieldError(_short(str(k), 60), "unknown field") for k in value if k not in CONSENT_KEYS]
    out: dict[str, Any] = {}
    contact = value.get("contact")
    if contact not in CONSENT_CONTACT:
        errors.append(FieldError("contact", f"must be one of {', '.join(CONSENT_CONTACT)}"))
    out["contact"] = contact
    channels = value.get("channels")
    if channels is None:
        channels = []
    if not isinstance(channels, list) or not all(c in CONSENT_CHANNELS for c in channels):
        errors.append(FieldError("channels", f"a list of {', '.join(CONSENT_CHANNELS)} (empty: every channel)"))
        channels = []
    elif channels and contact != "granted":
        errors.append(FieldError("channels", "only a granted consent names channels"))
    out["channels"] = [c for c in CONSENT_CHANNELS if c in channels]
    basis = value.get("basis")
    if basis is not None and basis not in CONSENT_BASES:
        errors.append(FieldError("basis", f"must be one of {', '.join(CONSENT_BASES)}, or null"))
    out["basis"] = basis
    at = value.get("at")
    try:
        out["at"] = check_date(at) if isinstance(at, str) and len(at) == 10 else _timestamp(at)
    except ValueError:
        errors.append(FieldError("at", "required: when it was given, as YYYY-MM-DD or an RFC 3339 time"))
    source = value.get("source")
    if source not in CONSENT_SOURCES:
        errors.append(FieldError("source", f"must be one of {', '.join(CONSENT_SOURCES)}"))
    out["source"] = source
    if errors:
        raise InvalidInput.listing(errors)
    return out


def follow_up_item(item: Any) -> dict[str, Any]:
    """One follow-up item: `{"id", "title", "due", "status", "note"}`."""
    if not isinstance(item, dict):
        raise InvalidInput("a follow-up item must be an object", [FieldError("", "must be an object")])
    checks = _Checks(item, allowed=("id", *FOLLOW_UP_FIELDS))
    check = checks.check
    check(
        "id",
        lambda v: (
            v
            if isinstance(v, str) and ITEM_ID_RE.match(v)
            else _raise("required: an id of 1–100 letters, digits, '.', '_', ':' or '-'")
        ),
    )
    check("title", lambda v: _text(v, 200, required=True))
    check("due", lambda v: check_date(v) if v is not None else _raise("required: a date as YYYY-MM-DD"))
    check(
        "status",
        lambda v: (
            "open" if v is None else v if v in FOLLOW_UP_STATUSES else _raise(f"must be one of {', '.join(FOLLOW_UP_STATUSES)}")
        ),
    )
    check("note", lambda v: _text(v, 2000, required=False, multiline=True))
    return checks.result()


class _Checks:
    """One object checked key by key: each key's rule gives its normal form or raises ValueError,
    and every problem is collected (with the unknown keys) so that a person sees them all at once."""

    def __init__(self, obj: dict[str, Any], *, allowed: Sequence[str]) -> None:
        self.obj = obj
        self.out: dict[str, Any] = {}
        self.errors = [FieldError(_short(str(k), 60), "unknown field") for k in obj if k not in allowed]

    def check(self, key: str, rule: Callable[[Any], Any]) -> None:
        try:
            self.out[key] = rule(self.obj.get(key))
        except ValueError as error:
            self.errors.append(FieldError(key, str(error)))

    def result(self) -> dict[str, Any]:
        if self.errors:
            raise InvalidInput.listing(self.errors)
        return self.out


def _raise(message: str) -> Any:
    raise ValueError(message)


# --- custom fields ---------------------------------------------------------------------------


def _custom(value: Any, custom_fields: Sequence[dict[str, Any]], creating: bool, errors: list[FieldError]) -> dict[str, Any]:
    if not isinstance(value, dict):
        errors.append(FieldError("custom", "must be an object"))
        return {}
    defined = {f["key"]: f for f in custom_fields}
    out: dict[str, Any] = {}
    for key, item in value.items():
        spec = defined.get(key)
        path = f"custom.{_short(str(key), 60)}"
        if spec is None:
            errors.append(FieldError(path, "unknown custom field"))
            continue
        try:
            out[key] = _custom_value(spec, item)
        except ValueError as error:
            errors.append(FieldError(path, str(error)))
    if creating:
        _missing_required(custom_fields, out, errors)
    return out


def _missing_required(custom_fields: Sequence[dict[str, Any]], given: dict[str, Any], errors: list[FieldError]) -> None:
    for spec in custom_fields:
        if spec.get("required") and given.get(spec["key"]) in (None, [], ""):
            errors.append(FieldError(f"custom.{spec['key']}", "required"))


def _custom_value(spec: dict[str, Any], value: Any) -> Any:
    if value is None:
        if spec.get("required"):
            raise ValueError("required")
        return None
    kind = spec.get("type")
    choices = spec.get("choices") or []
    if kind == "text":
        if not isinstance(value, str):
            raise ValueError("must be text")
        if len(value) > 1000:
            raise ValueError("at most 1000 characters")
        _no_controls(value, multiline=True)
        if spec.get("pattern") and not matches(spec["pattern"], value):
            raise ValueError(f"does not match the pattern {spec['pattern']}")
        return value
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
            raise ValueError("must be a number")
        if abs(value) > MAX_NUMBER:
            raise ValueError(f"must be between -{MAX_NUMBER:,} and {MAX_NUMBER:,}")
        return value
    if kind == "date":
        return check_date(value)
    if kind == "choice":
        if value not in choices:
            raise ValueError(f"must be one of {', '.join(map(str, choices))}")
        return value
    if kind == "choices":
        if not isinstance(value, list):
            raise ValueError("must be a list")
        out: list[Any] = []
        for item in value:
            if item not in choices:
                raise ValueError(f"{_short(str(item))!r} is not one of {', '.join(map(str, choices))}")
            if item not in out:
                out.append(item)
        return out
    raise ValueError(f"unknown custom field type {kind!r}")


# --- activities ------------------------------------------------------------------------------


def _timestamp(value: Any) -> str:
    if not isinstance(value, str) or len(value) > 40:
        raise ValueError("must be an RFC 3339 timestamp like 2026-11-24T10:00:00Z")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError("must be an RFC 3339 timestamp like 2026-11-24T10:00:00Z") from None
    if parsed.tzinfo is None or "T" not in value.upper():
        raise ValueError("must be an RFC 3339 timestamp with a time zone, like 2026-11-24T10:00:00Z")
    return value


def validate_activity(obj: object, *, card_id: str) -> dict[str, Any]:
    """An activity of a card's timeline, normalised; `by` and `created_at` are the server's to set."""
    if not isinstance(obj, dict):
        raise InvalidInput("activity must be an object", [FieldError("", "must be an object")])
    checks = _Checks(obj, allowed=(*ACTIVITY_KEYS, "by", "created_at"))
    check, out, errors = checks.check, checks.out, checks.errors
    check("id", canonical_uuid)
    check("card", lambda v: card_id if v is None else _same_card(v, card_id))
    check("kind", lambda v: _one_of(v, ACTIVITY_KINDS))
    check("at", _timestamp)
    check("text", lambda v: _activity_text(v))
    check("amount", lambda v: _amount(v))
    check("currency", lambda v: _currency(v))
    check("rating", lambda v: _rating(v))
    check("location", lambda v: location(v, accuracy=True))
    check(
        "survey",
        lambda v: None if v is None else v if isinstance(v, str) and ITEM_ID_RE.match(v) else _raise("a survey id, or null"),
    )
    check("answers", _answers)
    if (out.get("survey") is not None or out.get("answers")) and out.get("kind") != "feedback":
        errors.append(FieldError("survey", "only feedback carries a survey and its answers"))
    needs = obj.get("needs_action")
    if needs is not None and not isinstance(needs, bool):
        errors.append(FieldError("needs_action", "true or false"))
    elif needs and out.get("kind") != "feedback":
        errors.append(FieldError("needs_action", "only feedback needs action"))
    elif needs:
        out["needs_action"] = True  # kept only when set, so other activities' JSON is unchanged
    if out.get("rating") is not None and out.get("kind") != "feedback":
        errors.append(FieldError("rating", "only feedback has a rating"))
    if (out.get("amount") is not None or out.get("currency") is not None) and out.get("kind") != "purchase":
        errors.append(FieldError("amount", "only purchases have an amount and currency"))
    return checks.result()


def _same_card(value: Any, card_id: str) -> str:
    if canonical_uuid(value) != card_id:
        raise ValueError("does not match the mutation's card")
    return card_id


def _one_of(value: Any, options: Sequence[str]) -> str:
    if value not in options:
        raise ValueError(f"must be one of {', '.join(options)}")
    return value


def _answers(value: Any) -> dict[str, Any] | None:
    """A survey's answers: `{question id: text, number or a list of texts}`, at most 20."""
    if value is None:
        return None
    if not isinstance(value, dict) or len(value) > 20:
        raise ValueError("must be an object of at most 20 answers, question id → value")
    for key, answer in value.items():
        if not ITEM_ID_RE.match(str(key)):
            raise ValueError(f"{_short(str(key))!r} is not a question id")
        if isinstance(answer, str):
            _no_controls(answer, multiline=True)
            if len(answer) > 2000:
                raise ValueError("an answer has at most 2000 characters")
        elif isinstance(answer, bool) or answer is None:
            continue
        elif isinstance(answer, (int, float)):
            if abs(answer) > 1000:
                raise ValueError("a number answer is from -1000 to 1000")
        elif isinstance(answer, list):
            if len(answer) > 20 or not all(isinstance(a, str) and len(a) <= 200 for a in answer):
                raise ValueError("a choice answer is a list of at most 20 texts")
        else:
            raise ValueError("an answer is text, a number, true/false or a list of texts")
    return value


def _activity_text(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError("must be text")
    if len(value) > 5000:
        raise ValueError(f"at most 5000 characters (this has {len(value)})")
    _no_controls(value, multiline=True)
    return value


# How people write an amount: "12,500", "¥12,500", "￥12,500.00", "12 500". Only the sign and
# separators between groups of three are dropped: "12,50" stays wrong rather than becoming 1250.
AMOUNT_WRITTEN_RE = re.compile(r"^(-?)[¥￥]? ?([0-9]{1,3}(?:[,，\u00a0 ][0-9]{3})+|[0-9]+)(\.[0-9]+)?$")


def _amount(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError('must be a decimal number written as text, like "1200.50"')
    written = AMOUNT_WRITTEN_RE.match(value.strip()) if len(value) <= 40 else None
    plain = f"{written[1]}{re.sub(r'[^0-9]', '', written[2])}{written[3] or ''}" if written else value
    if not AMOUNT_RE.match(plain):
        shown = f'"{value[:40]}" is' if value[:40].isprintable() else "this is"
        raise ValueError(f"{shown} not an amount: write a number like 12500 or 12,500.50")
    try:
        return str(Decimal(plain))
    except InvalidOperation:
        raise ValueError('must be a decimal number written as text, like "1200.50"') from None


def _currency(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not CURRENCY_RE.match(value):
        raise ValueError("must be an ISO 4217 code like CNY or USD")
    return value


def _rating(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise ValueError("must be a whole number from 1 to 5")
    return value


# --- JSON Schema, for the browser ----------------------------------------------------------------


def _location_schema(**extra: dict[str, Any]) -> dict[str, Any]:
    """A WGS-84 `{"lat", "lng"}` or null; an activity's may also say how accurate it was."""
    position = {
        "lat": {"type": "number", "minimum": -90, "maximum": 90},
        "lng": {"type": "number", "minimum": -180, "maximum": 180},
        **extra,
    }
    return {
        "oneOf": [
            {"type": "null"},
            {"type": "object", "additionalProperties": False, "required": ["lat", "lng"], "properties": position},
        ]
    }


def _nullable_text(limit: int) -> dict[str, Any]:
    return {"type": ["string", "null"], "maxLength": limit}


def card_json_schema() -> dict[str, Any]:
    date_rule = {"type": ["string", "null"], "pattern": r"^\d{4}-\d{2}-\d{2}$", "format": "date"}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Card",
        "type": "object",
        "additionalProperties": False,
        "required": ["id", "name"],
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "name": {"type": "string", "minLength": 1, "maxLength": 200},
            "company": _nullable_text(200),
            "title": _nullable_text(200),
            "phones": {
                "type": "array",
                "maxItems": 10,
                "uniqueItems": True,
                "items": {"type": "string", "pattern": r"^\+[1-9]\d{6,14}$"},
            },
            "emails": {"type": "array", "maxItems": 10, "uniqueItems": True, "items": {"type": "string", "format": "email"}},
            "address": _nullable_text(500),
            "region": _nullable_text(100),
            "industry": _nullable_text(100),
            "segment": {"enum": ["A", "B", "C", None]},
            "tags": {
                "type": "array",
                "maxItems": 20,
                "uniqueItems": True,
                "items": {"type": "string", "minLength": 1, "maxLength": 40},
            },
            "owner": {"type": ["string", "null"], "pattern": OWNER_RE.pattern},
            "birthday": date_rule,
            "follow_up": date_rule,
            "notes": _nullable_text(10_000),
            "custom": {"type": "object"},
            "location": _location_schema(),
            "stage": {"enum": [*STAGES, None]},
            "follow_ups": {
                "type": "array",
                "maxItems": MAX_FOLLOW_UPS,
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["id", "title", "due"],
                    "properties": {
                        "id": {"type": "string", "pattern": ITEM_ID_RE.pattern},
                        "title": {"type": "string", "minLength": 1, "maxLength": 200},
                        "due": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$", "format": "date"},
                        "status": {"enum": list(FOLLOW_UP_STATUSES)},
                        "note": _nullable_text(2000),
                    },
                },
            },
            "consent": {
                "oneOf": [
                    {"type": "null"},
                    {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["contact", "at", "source"],
                        "properties": {
                            "contact": {"enum": list(CONSENT_CONTACT)},
                            "channels": {"type": "array", "uniqueItems": True, "items": {"enum": list(CONSENT_CHANNELS)}},
                            "basis": {"enum": [*CONSENT_BASES, None]},
                            "at": {"type": "string", "maxLength": 40},
                            "source": {"enum": list(CONSENT_SOURCES)},
                        },
                    },
                ]
            },
            "version": {"type": "integer", "minimum": 0},
            "created_at": {"type": "string", "format": "date-time"},
            "updated_at": {"type": "string", "format": "date-time"},
            "deleted": {"type": "boolean"},
        },
    }


def activity_json_schema() -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Activity",
        "type": "object",
        "additionalProperties": False,
        "required": ["id", "card", "kind", "at"],
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "card": {"type": "string", "format": "uuid"},
            "kind": {"enum": list(ACTIVITY_KINDS)},
            "at": {"type": "string", "format": "date-time"},
            "text": {"type": "string", "maxLength": 5000},
            "amount": {"type": ["string", "null"], "pattern": AMOUNT_RE.pattern},
            "currency": {"type": ["string", "null"], "pattern": CURRENCY_RE.pattern},
            "rating": {"type": ["integer", "null"], "minimum": 1, "maximum": 5},
            "location": _location_schema(accuracy_m={"type": "number", "minimum": 0}),
            "survey": {"type": ["string", "null"]},
            "answers": {"type": ["object", "null"], "maxProperties": 20},
            "needs_action": {"type": "boolean"},
            "by": {"type": "string"},
            "created_at": {"type": "string", "format": "date-time"},
        },
    }
