"""What travels: the sync request (a pydantic model, strict) and the three mutation envelopes.

The envelope of each mutation is checked here; the card values inside `fields` are checked by the
engine with `validate.py`, so that one bad value rejects one mutation, not the whole request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, ValidationError
from pydantic_core import ErrorDetails

from sync.protocol import hlc
from sync.errors import FieldError, InvalidInput
from sync.cards.validate import canonical_uuid


# Whole numbers a device may send; SQLite stores at most 2^63 - 1, and no outbox or card gets near these.
MAX_PENDING = 1_000_000_000
MAX_VERSION = 2**53


class SyncRequest(BaseModel):
    """The body of `POST /api/v1/sync` (contract section 4). Unknown keys and loose types are refused."""

    model_config = ConfigDict(extra="forbid", strict=True)

    device: Annotated[StrictStr, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._:-]+$")]
    epoch: Annotated[StrictStr, Field(max_length=100)] | None = None
    cursor: Annotated[StrictStr, Field(max_length=200)] | None = None
    limit: Annotated[StrictInt, Field(ge=1, le=5000)] = 1000
    pending: Annotated[StrictInt, Field(ge=0, le=MAX_PENDING)] | None = None
    app: Annotated[StrictStr, Field(max_length=50)] | None = None
    mutations: Annotated[list[dict[str, Any]], Field(max_length=1000)] = []


def _path(loc: tuple[Any, ...]) -> str:
    """pydantic's ('mutations', 3, 'id') as the contract's `mutations[3].id`."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def parse_sync_request(data: object) -> SyncRequest:
    if not isinstance(data, dict):
        raise InvalidInput("the body must be a JSON object", [FieldError("", "the body must be a JSON object")])
    try:
        return SyncRequest.model_validate(data)
    except ValidationError as error:
        fields = [FieldError(_path(e["loc"]), _message(e)) for e in error.errors()]
        raise InvalidInput("the sync request is not valid", fields) from None


def _message(error: ErrorDetails) -> str:
    if error["type"] == "extra_forbidden":
        return "unknown field"
    return str(error["msg"])


@dataclass(frozen=True)
class Envelope:
    """What every mutation carries: its id, its card, and when its device made it (an HLC)."""

    id: str
    card: str
    at: str


@dataclass(frozen=True)
class CardPut(Envelope):
    fields: dict[str, Any]
    was: dict[str, Any] | None


@dataclass(frozen=True)
class CardDelete(Envelope):
    version: int


@dataclass(frozen=True)
class ActivityAdd(Envelope):
    activity: dict[str, Any]


@dataclass(frozen=True)
class AttachmentAdd(Envelope):
    attachment: dict[str, Any]


@dataclass(frozen=True)
class LinkCreate(Envelope):
    link: dict[str, Any]


@dataclass(frozen=True)
class CardClaim(Envelope):
    """A rep takes a pool card (contract 7); the earliest bounded `at` of a round wins."""


Mutation = CardPut | CardDelete | ActivityAdd | AttachmentAdd | LinkCreate | CardClaim
ENVELOPE_KEYS = {
    "card.put": {"id", "op", "card", "at", "fields", "was"},
    "card.delete": {"id", "op", "card", "at", "version"},
    "activity.add": {"id", "op", "card", "at", "activity"},
    "attachment.add": {"id", "op", "card", "at", "attachment"},
    "link.create": {"id", "op", "card", "at", "link"},
    "card.claim": {"id", "op", "card", "at"},
}
OBJECT_PAYLOADS: dict[str, tuple[str, type[ActivityAdd] | type[AttachmentAdd] | type[LinkCreate]]] = {
    "activity.add": ("activity", ActivityAdd),
    "attachment.add": ("attachment", AttachmentAdd),
    "link.create": ("link", LinkCreate),
}


def mutation_id_of(raw: object) -> str | None:
    if isinstance(raw, dict):
        value = raw.get("id")
        if isinstance(value, str) and 1 <= len(value) <= 100:
            return value
    return None


def parse_mutation(raw: dict[str, Any]) -> Mutation:
    """The envelope of one mutation; InvalidInput with paths relative to the mutation."""
    errors: list[FieldError] = []
    op = raw.get("op")
    if not isinstance(op, str) or op not in ENVELOPE_KEYS:  # a list or an object as `op` is no key
        raise InvalidInput(
            "unknown op",
            [FieldError("op", "must be card.put, card.delete, activity.add, attachment.add, link.create or card.claim")],
        )
    allowed = ENVELOPE_KEYS[op]
    if not raw.keys() <= allowed:
        errors += [FieldError(str(k)[:60], "unknown field") for k in raw if k not in allowed]
    try:
        card = canonical_uuid(raw.get("card"))
    except ValueError:
        card = ""
        errors.append(FieldError("card", "must be the card's UUID in canonical form (lowercase, with dashes)"))
    at = raw.get("at")
    if not isinstance(at, str) or hlc.HLC_RE.match(at) is None:  # what `hlc.parse` accepts, read without a Stamp
        try:
            hlc.parse(at)
        except ValueError as error:
            errors.append(FieldError("at", str(error)))
    mutation: Mutation | None = None
    mutation_id = mutation_id_of(raw) or ""
    if op == "card.put":
        fields, was = raw.get("fields"), raw.get("was")
        if not isinstance(fields, dict):
            errors.append(FieldError("fields", "required: an object of the changed fields"))
        if was is not None and not isinstance(was, dict):
            errors.append(FieldError("was", "must be an object or absent"))
        mutation = CardPut(mutation_id, card, raw.get("at"), fields, was) if not errors else None  # type: ignore[arg-type]
    elif op == "card.delete":
        version = raw.get("version")
        if isinstance(version, bool) or not isinstance(version, int) or not 0 <= version <= MAX_VERSION:
            errors.append(FieldError("version", "required: the card version this device saw, a whole number"))
        mutation = CardDelete(mutation_id, card, raw.get("at"), version) if not errors else None  # type: ignore[arg-type]
    elif op == "card.claim":
        mutation = CardClaim(mutation_id, card, raw.get("at")) if not errors else None  # type: ignore[arg-type]
    else:  # the ops that carry one object: an activity, an attachment, a link
        key, kind = OBJECT_PAYLOADS[op]
        payload = raw.get(key)
        if not isinstance(payload, dict):
            errors.append(FieldError(key, "required: an object"))
        mutation = kind(mutation_id, card, raw.get("at"), payload) if not errors else None  # type: ignore[arg-type]
    if errors or mutation is None:
        raise InvalidInput.listing(errors)
    return mutation
