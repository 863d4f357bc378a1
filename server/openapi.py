"""`GET /api/v1/openapi.json`: the OpenAPI 3.1 document of the API, built from the route table in
`app.py` (paths, methods, who may call) so that no route exists without being described here.

Why pydantic's own JSON Schema and no library such as spectree or apispec: the one request model
we validate with (`sync.protocol.model.SyncRequest`) already yields JSON Schema 2020-12, which is the
dialect of OpenAPI 3.1, so the document costs no extra dependency and no second layer of models
over handlers. The card and activity schemas are the ones `GET /schema` serves from
`sync/cards/validate.py`; bodies that handlers check by hand are described beside the table below, and
`document()` refuses a table route without a description (or a description without a route).
"""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from sync.protocol.model import SyncRequest
from sync.cards.validate import activity_json_schema, card_json_schema

from .auth import sessions

API_VERSION = "1.1"  # the contract's version (CONTRACT.md section 7), not the package's
BASE = "/api/v1"
ERRORS = {
    400: "The input breaks a rule; `fields` says which value and why.",
    401: "No credentials, or they are not valid (unknown, revoked or expired).",
    403: "The caller's role may not do this, or a cookie request lacks `X-Fieldcards: 1` and our origin.",
    404: "No such thing, or the caller may not see it.",
    408: "The request body did not arrive in time.",
    409: "The request meets the current state (the last admin, a restore already running, no replica).",
    410: "A customer link that expired, was used or was withdrawn.",
    413: "The request body is larger than 5 MiB.",
    429: "Too many failed attempts from this address, or heavy work queued full; see `Retry-After`.",
    503: "The server is being restored (code `maintenance`); see `Retry-After`.",
}
ALWAYS = (400, 401, 403, 404, 413, 429, 503)


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _obj(required: dict[str, Any], optional: dict[str, Any] | None = None, *, closed: bool = False) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "required": list(required), "properties": {**required, **(optional or {})}}
    if closed:
        schema["additionalProperties"] = False
    return schema


def _list(items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": items}


def _maybe(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


STR: dict[str, Any] = {"type": "string"}
INT: dict[str, Any] = {"type": "integer"}
BOOL: dict[str, Any] = {"type": "boolean"}
ANY_OBJECT: dict[str, Any] = {"type": "object"}
DATE: dict[str, Any] = {"type": "string", "format": "date"}
DAY_1900_2999: dict[str, Any] = {**DATE, "pattern": "^(19|2[0-9])[0-9]{2}-"}  # server/api/params.py
TEXT_PARAM: dict[str, Any] = {"type": "string", "maxLength": 500}  # sync/cards/queries.py MAX_PARAM
UUID: dict[str, Any] = {"type": "string", "format": "uuid"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Param:
    name: str
    schema: dict[str, Any]
    description: str = ""
    required: bool = False


@dataclass(frozen=True)
class Op:
    """What the route table does not say about one operation."""

    summary: str
    ok: dict[str, Any]  # the success body's schema (for `media`)
    query: tuple[Param, ...] = ()
    body: dict[str, Any] | None = None
    body_media: str = "application/json"
    encoding: dict[str, Any] | None = None  # of multipart parts
    body_required: bool = True
    status: int = 200
    media: tuple[str, ...] = ("application/json",)
    conflict: bool = False  # may answer 409
    gone: bool = False  # may answer 410


CARD_FILTERS = (
    Param("q", TEXT_PARAM, "matches name, company, phones, emails, notes and pinyin"),
    Param("segment", {"enum": ["A", "B", "C", "none"]}),
    Param("tag", TEXT_PARAM),
    Param("owner", TEXT_PARAM),
    Param("region", TEXT_PARAM),
    Param("due_before", DATE, "follow-ups before this day"),
    Param("deleted", {"enum": ["true", "false", "1", "0"]}, "office and admin: include deleted cards"),
)
PROBLEM_FILE = (
    Param("format", {"enum": ["xlsx", "csv"]}, "xlsx when absent"),
    Param("lang", {"enum": ["en", "zh-CN"]}, "the language of the problems column; en when absent"),
)


def _problems_file(summary: str, **more: Any) -> Op:
    """An operation answering an import's rows with problems as a spreadsheet (xlsx or CSV)."""
    return Op(summary, {"type": "string", "format": "binary"}, media=("text/csv", XLSX), query=PROBLEM_FILE, **more)


DAY = Param("date", DAY_1900_2999, "the person's own date (YYYY-MM-DD, 1900–2999); today in UTC when absent")
STALE = Param("stale_days", {"type": "integer", "minimum": 1, "maximum": 3650}, "days without an update")
DASHBOARD_FILTERS = (
    DAY,
    Param("owner", STR),
    Param("segment", STR),
    Param("region", STR),
    Param("industry", STR),
    Param("tag", STR),
)
FIGURE = Param(
    "figure",
    {
        "enum": [
            "by_segment",
            "by_region",
            "by_industry",
            "by_owner",
            "by_tag",
            "new_cards_per_week",
            "activities_per_week",
            "purchases_by_segment",
            "feedback",
            "segment_by_region",
            "visits_near",
            "follow_ups",
            "surveys",
            "stages",
        ]
    },
    "one figure of `GET /dashboard`",
    required=True,
)
TWO_LANGS = _obj({"en": STR, "zh-CN": STR}, closed=True)
SURVEY_QUESTION = _obj(
    {"type": {"enum": ["choice", "rating", "text"]}, "label": TWO_LANGS},
    {"id": STR, "required": BOOL, "choices": _list(_obj({"en": STR, "zh-CN": STR}, {"id": STR}))},
)
SURVEY_IN = _obj(
    {"name": TWO_LANGS, "scale": {"enum": ["csat", "nps"]}, "question": TWO_LANGS},
    {"questions": {"type": "array", "maxItems": 5, "items": SURVEY_QUESTION}, "active": BOOL},
)
SURVEY = _obj(
    {
        "id": STR,
        "name": TWO_LANGS,
        "scale": {"enum": ["csat", "nps"]},
        "question": TWO_LANGS,
        "questions": _list(SURVEY_QUESTION),
        "active": BOOL,
        "created_at": STR,
        "updated_at": STR,
    }
)
STAGE_RULES = _obj(
    {},
    {name: {"type": "integer", "minimum": 1, "maximum": 3650} for name in ("at_risk_days", "lost_days", "new_days")},
    closed=True,
)
SCORECARD_QUERY = (
    Param("from", DAY_1900_2999, "first day (default: 29 days before `to`)"),
    Param("to", DAY_1900_2999, "last day (default: today, UTC)"),
    Param("rep", STR, "one rep"),
)
FOLLOW_UP_SETTINGS = _obj(
    {},
    {
        "rating_at_most": {"type": "integer", "minimum": 0, "maximum": 5},
        "due_days": {"type": "integer", "minimum": 0, "maximum": 90},
    },
    closed=True,
)
WHOSE = Param("user", STR, "admins: another user's name, or `*` for everyone's")

SIGNED_IN = _obj({"user": STR, "role": STR, "display": STR})
WEBAUTHN_OPTIONS = _obj({"handle": STR, "publicKey": ANY_OBJECT}, {"user": STR})
CREDENTIAL = {"type": "object", "description": "the WebAuthn credential as JSON (`PublicKeyCredential.toJSON()`)"}
USER_ROW = _obj({"name": STR, "role": STR, "display": STR, "disabled": BOOL})
INVITE = _obj({"url": STR}, {"user": STR})


def _operations() -> dict[tuple[str, str], Op]:
    """(method, path) → the operation's description; `document()` checks it against the table."""
    card_page = _obj({"cards": _list(_ref("Card")), "next": _maybe(STR)})
    return {
        ("GET", "/openapi.json"): Op("This document", ANY_OBJECT),
        ("GET", "/me"): Op("Who is calling", SIGNED_IN),
        ("GET", "/schema"): Op(
            "Card and activity rules as JSON Schema, and the choice lists",
            _obj({"card": ANY_OBJECT, "activity": ANY_OBJECT, "options": ANY_OBJECT}),
        ),
        ("PUT", "/template"): Op(
            "Replace the card template (custom fields, suggestion lists)", _obj({"template": ANY_OBJECT}), body=_ref("Template")
        ),
        ("POST", "/sync"): Op(
            "Push mutations and pull changes in one round trip", _ref("SyncResponse"), body=_ref("SyncRequest")
        ),
        ("GET", "/cards"): Op(
            "Search and list cards",
            card_page,
            query=(
                *CARD_FILTERS,
                Param("limit", {"type": "integer", "minimum": 1, "maximum": 1000}),
                Param("after", TEXT_PARAM, "the `next` of the previous page"),
            ),
        ),
        ("GET", "/cards/{card_id}"): Op(
            "One card with its activities", _obj({"card": _ref("Card"), "activities": _list(_ref("Activity"))})
        ),
        ("GET", "/cards/{card_id}/history"): Op(
            "Every accepted change of a card, oldest first", _obj({"history": _list(_ref("HistoryEntry"))})
        ),
        ("POST", "/cards/{card_id}/erase"): Op(
            "Erase a customer (PIPL): purges the card and all derived data; devices get `remove` with reason "
            "`erased`; never undone by a restore",
            _obj({"card": STR, "erased": BOOL}),
        ),
        ("GET", "/teams"): Op(
            "Teams: office and admins see all, a manager the teams they manage, a rep their own",
            _obj({"teams": _list(_ref("Team"))}),
        ),
        ("POST", "/teams"): Op(
            "Make a team: reps (`members`) under managers (`managers`)",
            _obj({"team": _ref("Team")}),
            status=201,
            body=_ref("TeamBody"),
        ),
        ("PUT", "/teams/{team_id}"): Op(
            "Change a team; cards leaving a manager's view reach their devices as "
            "`remove` / `revoked`, cards entering it are streamed to them",
            _obj({"team": _ref("Team")}),
            body=_ref("TeamBody"),
        ),
        ("GET", "/pool"): Op(
            "Pool cards (owner null) with the fields an admin allows, bounded by `view_limit`: what a phone "
            "keeps and searches offline",
            _obj({"cards": _list(ANY_OBJECT), "fields": _list(STR), "next": _maybe(STR)}),
            query=(
                Param("q", TEXT_PARAM),
                Param("region", TEXT_PARAM),
                Param("segment", {"enum": ["A", "B", "C"]}),
                Param("tag", TEXT_PARAM),
                Param("after", TEXT_PARAM, "the `next` of the previous page"),
                Param("limit", {"type": "integer", "minimum": 1, "maximum": 5000}),
            ),
        ),
        ("GET", "/pool/settings"): Op(
            "The pool's rules: fields shown, limits, reclaim days per segment", _obj({"settings": _ref("PoolSettings")})
        ),
        ("PUT", "/pool/settings"): Op(
            "Change the pool's rules (any subset of them)", _obj({"settings": _ref("PoolSettings")}), body=_ref("PoolSettings")
        ),
        ("GET", "/pool/returning"): Op(
            "The caller's cards (office: everyone's) that go back to the pool within `warn_days`",
            _obj(
                {
                    "cards": _list(
                        _obj({"card": STR, "name": _maybe(STR), "owner": STR, "last_activity": DATE, "returns_on": DATE})
                    )
                }
            ),
            query=(DAY,),
        ),
        ("GET", "/dedupe/buckets"): Op(
            "The offline duplicate check: the key and the sorted 3-byte prefixes of HMAC-SHA256(key, duplicate key) "
            "of cards held by someone (`held`) and in the pool (`pool`), base64; ETag by version",
            _obj({"version": STR, "bits": INT, "key": STR, "held": STR, "pool": STR}),
        ),
        ("GET", "/links/reserve"): Op(
            "Customer-link tokens for a phone to keep, so that it can show a link's QR offline",
            _obj({"links": _list(_obj({"id": STR, "token": STR, "url": STR}))}),
            query=(Param("n", {"type": "integer", "minimum": 1, "maximum": 50}, "how many (default 10)"),),
        ),
        ("POST", "/links/{link_id}/revoke"): Op("Withdraw a customer link", _obj({"link": STR, "revoked": BOOL})),
        ("GET", "/public/links/{token}"): Op(
            "No account: what a customer link shows (the customer's own details and the link's purpose); "
            "404 while the link is not active yet, 410 when it expired, was used or withdrawn",
            _obj(
                {
                    "purpose": {"enum": ["update", "survey"]},
                    "survey": {"type": ["string", "null"]},
                    "expires": STR,
                    "card": ANY_OBJECT,
                },
                {"survey_form": {"oneOf": [{"type": "null"}, ANY_OBJECT]}},
            ),
            gone=True,
        ),
        ("POST", "/public/links/{token}"): Op(
            "No account: the customer's answer (corrected details, consent, survey rating and answers); a link is used once",
            _obj({"ok": BOOL, "statuses": _list(STR)}),
            conflict=True,
            gone=True,
            body=_obj(
                {},
                {
                    "fields": ANY_OBJECT,
                    "was": ANY_OBJECT,
                    "consent": {"enum": ["any", "phone", "email", "message", "none", None]},
                    "rating": {"type": ["integer", "null"], "minimum": 1, "maximum": 5},
                    "text": {"type": ["string", "null"], "maxLength": 5000},
                    "answers": {"type": ["object", "null"]},
                },
                closed=True,
            ),
        ),
        ("GET", "/customer-updates"): Op(
            "Changes customers made to their own details through links, on the caller's cards, newest first "
            "(each field's value before and after the answer)",
            _obj(
                {
                    "updates": _list(
                        _obj({"id": STR, "link": STR, "card": STR, "name": _maybe(STR), "at": STR, "changes": ANY_OBJECT})
                    )
                }
            ),
            query=(Param("days", {"type": "integer", "minimum": 1, "maximum": 90}, "how far back (default 30)"), DAY),
        ),
        ("GET", "/follow-ups"): Op(
            "Follow-up items not resolved on the cards the caller may see (office: everyone's), overdue first",
            _obj(
                {
                    "date": DATE,
                    "items": _list(
                        _obj({"card": STR, "name": _maybe(STR), "owner": _maybe(STR), "item": ANY_OBJECT, "overdue": BOOL})
                    ),
                }
            ),
            query=(Param("state", {"enum": ["open", "overdue"]}), DAY, Param("owner", STR)),
        ),
        ("GET", "/follow-ups/settings"): Op(
            "When feedback opens a follow-up item: a rating at or below `rating_at_most`, due after `due_days`",
            _obj({"settings": FOLLOW_UP_SETTINGS}),
        ),
        ("PUT", "/follow-ups/settings"): Op(
            "Change the follow-up rules", _obj({"settings": FOLLOW_UP_SETTINGS}), body=FOLLOW_UP_SETTINGS
        ),
        ("GET", "/surveys"): Op(
            "The surveys an admin defined (a CSAT or NPS question and up to five more)", _obj({"surveys": _list(SURVEY)})
        ),
        ("POST", "/surveys"): Op("Define a survey (admins)", _obj({"survey": SURVEY}), status=201, body=SURVEY_IN),
        ("PUT", "/surveys/{survey_id}"): Op(
            "Change a survey (admins); it keeps its id and scale", _obj({"survey": SURVEY}), body=SURVEY_IN
        ),
        ("POST", "/surveys/{survey_id}/links"): Op(
            "A link to the survey for each card given (those the caller may see), declared by the server, "
            "answered as a spreadsheet for bulk SMS or WeChat",
            {"type": "string", "format": "binary"},
            media=("text/csv", XLSX),
            body=_obj(
                {"cards": _list(STR)},
                {
                    "days": {"type": "integer", "minimum": 1, "maximum": 90},
                    "format": {"enum": ["xlsx", "csv"]},
                    "lang": {"enum": ["en", "zh-CN"]},
                },
                closed=True,
            ),
        ),
        ("GET", "/stages/rules"): Op(
            "The lifecycle stage rules (days without a visit or purchase)", _obj({"rules": STAGE_RULES})
        ),
        ("PUT", "/stages/rules"): Op(
            "Change the lifecycle stage rules (office, admins)", _obj({"rules": STAGE_RULES}), body=STAGE_RULES
        ),
        ("GET", "/stages/win-back"): Op(
            "The caller's cards (office: everyone's) at risk or lost, longest untouched first",
            _obj(
                {
                    "date": DATE,
                    "cards": _list(
                        _obj({"card": STR, "name": _maybe(STR), "owner": _maybe(STR), "stage": STR, "last_touch": _maybe(DATE)})
                    ),
                }
            ),
            query=(DAY,),
        ),
        ("GET", "/scorecards"): Op(
            "Rep scorecards for a period (office: every rep; a manager: their teams'; a rep: their own), "
            "with the admin's targets and each rep's progress",
            _obj({"from": DATE, "to": DATE, "figures": _list(STR), "targets": ANY_OBJECT, "reps": _list(ANY_OBJECT)}),
            query=SCORECARD_QUERY,
        ),
        ("GET", "/scorecards.csv"): Op(
            "One scorecard figure per rep (rep, value, target, progress), or `all`",
            STR,
            media=("text/csv",),
            query=(*SCORECARD_QUERY, Param("figure", STR, "a figure, or all")),
        ),
        ("PUT", "/scorecards/targets"): Op(
            "Set targets per figure (admins); null drops one", _obj({"targets": ANY_OBJECT}), body=ANY_OBJECT
        ),
        ("GET", "/attachments/{attachment_id}"): Op(
            "The bytes of an uploaded attachment, to whoever may see its card; images inline, other types as a download",
            {"type": "string", "format": "binary"},
            media=("image/jpeg", "image/png", "image/webp", "image/gif", "application/pdf", "application/octet-stream"),
        ),
        ("GET", "/attachments/{attachment_id}/upload"): Op(
            "How much of an attachment's bytes the server holds: resume the upload from `offset`",
            _obj({"id": STR, "offset": {"type": "integer", "minimum": 0}, "size": {"type": "integer"}, "uploaded": BOOL}),
        ),
        ("PUT", "/attachments/{attachment_id}/upload"): Op(
            "Upload the next chunk (at most 1 MiB) of an attachment's bytes, starting at `offset`; 409 names "
            "the offset the server expects",
            _obj({"id": STR, "offset": {"type": "integer", "minimum": 0}, "size": {"type": "integer"}, "uploaded": BOOL}),
            query=(
                Param("offset", {"type": "integer", "minimum": 0, "maximum": 10**12}, "where this chunk starts", required=True),
            ),
            body={"type": "string", "format": "binary"},
            body_media="application/octet-stream",
            conflict=True,
        ),
        ("GET", "/cards/{card_id}/export"): Op(
            "Everything held about one customer (the right of access), as JSON, or with `format=html` as a "
            "self-contained page (no script) in English or Chinese, as a download",
            _obj(
                {
                    "exported_at": STR,
                    "card": ANY_OBJECT,
                    "history": _list(ANY_OBJECT),
                    "activities": _list(ANY_OBJECT),
                    "survey_answers": _list(ANY_OBJECT),
                    "attachments": _list(ANY_OBJECT),
                    "links": _list(ANY_OBJECT),
                    "conflicts": _list(ANY_OBJECT),
                    "merged_cards": _list(ANY_OBJECT),
                    "imports": _list(ANY_OBJECT),
                    "audit": _list(ANY_OBJECT),
                }
            ),
            media=("application/json", "text/html"),
            query=(
                Param("format", {"enum": ["json", "html"]}, "json when absent"),
                Param("lang", {"enum": ["en", "zh-CN"]}, "html only: the page's language; Accept-Language when absent"),
            ),
        ),
        ("GET", "/public/privacy"): Op(
            "No account: the privacy notice in English and Chinese (the admin's text, else the standard one); "
            "also served as the page `/privacy`",
            _obj({"en": STR, "zh-CN": STR, "updated_at": _maybe(STR), "custom": BOOL}),
        ),
        ("PUT", "/admin/privacy"): Op(
            "Admins: edit the privacy notice (plain text; blank lines separate paragraphs; empty: the standard text)",
            _obj({"en": STR, "zh-CN": STR, "updated_at": _maybe(STR), "updated_by": _maybe(STR), "custom": BOOL}),
            body=_obj(
                {}, {"en": {"type": "string", "maxLength": 20000}, "zh-CN": {"type": "string", "maxLength": 20000}}, closed=True
            ),
        ),
        ("GET", "/settings"): Op(
            "Settings every signed-in app reads after a sync: days without a sync after which it locks its local "
            "data (null: never)",
            _obj({"lock_after_days": _maybe(INT)}),
        ),
        ("PUT", "/admin/settings"): Op(
            "Admins: set the lost-phone lock",
            _obj({"lock_after_days": _maybe(INT)}),
            body=_obj({"lock_after_days": _maybe({"type": "integer", "minimum": 1, "maximum": 365})}, closed=True),
        ),
        ("GET", "/conflicts"): Op(
            "Conflict records",
            _obj({"conflicts": _list(_ref("ConflictRecord"))}),
            query=(Param("status", {"enum": ["open", "resolved"]}), Param("card", STR)),
        ),
        ("POST", "/conflicts/{conflict_id}/resolve"): Op(
            "Resolve a conflict as a normal change",
            _obj({"card": _ref("Card")}),
            body={"oneOf": [_obj({"keep": {"enum": ["current", "other"]}}, closed=True), _obj({"value": {}}, closed=True)]},
        ),
        ("POST", "/auth/register/options"): Op(
            "Start adding a passkey: with an invite code, or signed in",
            WEBAUTHN_OPTIONS,
            body=_obj({}, {"invite": {"type": "string", "maxLength": 200}}, closed=True),
        ),
        ("POST", "/auth/register"): Op(
            "Finish adding a passkey; starts a session",
            SIGNED_IN,
            body=_obj({}, {"handle": STR, "credential": CREDENTIAL, "label": STR}, closed=True),
        ),
        ("POST", "/auth/login/options"): Op("Start a passkey sign-in", WEBAUTHN_OPTIONS),
        ("POST", "/auth/login"): Op(
            "Finish a passkey sign-in; starts a session",
            SIGNED_IN,
            body=_obj({}, {"handle": STR, "credential": CREDENTIAL}, closed=True),
        ),
        ("POST", "/auth/logout"): Op(
            "End this session, or every session of the user",
            _obj({"ended": INT}),
            body=_obj({}, {"everywhere": BOOL}, closed=True),
            body_required=False,
        ),
        ("GET", "/passkeys"): Op("Passkeys", _obj({"passkeys": _list(ANY_OBJECT)}), query=(WHOSE,)),
        ("POST", "/passkeys/{passkey_id}/remove"): Op("Remove a passkey", _obj({"removed": STR})),
        ("GET", "/tokens"): Op("API tokens (never their secret)", _obj({"tokens": _list(ANY_OBJECT)}), query=(WHOSE,)),
        ("POST", "/tokens"): Op(
            "Create an API token, shown once",
            _obj({"id": STR, "token": STR, "user": STR, "label": STR}),
            status=201,
            body=_obj({}, {"label": {"type": "string", "maxLength": 80}, "user": STR}, closed=True),
        ),
        ("POST", "/tokens/{token_id}/revoke"): Op("Revoke an API token", _obj({"token": STR, "revoked": BOOL})),
        ("GET", "/people"): Op(
            "Display names of every user (王伟 for wang.wei), for any signed-in user",
            _obj({"people": _list(_obj({"name": STR, "display": STR, "active": BOOL}))}),
        ),
        ("GET", "/users"): Op("Users", _obj({"users": _list(USER_ROW)})),
        ("POST", "/users"): Op(
            "Add a user; answers with a passkey invite",
            _obj({"user": _obj({"name": STR, "role": STR, "display": STR}), "invite": INVITE}),
            status=201,
            conflict=True,
            body=_obj(
                {
                    "name": {"type": "string", "pattern": "^[a-z0-9._-]{1,64}$"},
                    "role": {"enum": ["rep", "manager", "office", "admin"]},
                },
                {"display": {"type": "string", "maxLength": 200}},
                closed=True,
            ),
        ),
        ("PATCH", "/users/{name}"): Op(
            "Change a user's role or display name, or disable them",
            _obj({"user": USER_ROW}),
            conflict=True,
            body={
                **_obj(
                    {},
                    {
                        "role": {"enum": ["rep", "manager", "office", "admin"]},
                        "display": {"type": "string", "minLength": 1, "maxLength": 200},
                        "disabled": BOOL,
                    },
                    closed=True,
                ),
                "minProperties": 1,
            },
        ),
        ("POST", "/users/{name}/invite"): Op("A new one-time passkey link for a user", _obj({"invite": INVITE}), status=201),
        ("GET", "/devices"): Op(
            "Devices with user, last sync, pending count, app version; newest sync first",
            _obj({"devices": _list(_ref("Device")), "next": _maybe(STR)}),
            query=(
                Param("limit", {"type": "integer", "minimum": 1, "maximum": 1000}),
                Param("after", {"type": "integer", "minimum": 0, "maximum": 10**9}, "the `next` of the previous page"),
            ),
        ),
        ("PUT", "/devices/{device_id}/name"): Op(
            'Name a device so a lost one is recognised: one\'s own (an admin: any); "" clears the name',
            _obj({"device": STR, "name": _maybe(STR)}),
            body=_obj({"name": {"type": "string", "maxLength": 60}}, closed=True),
        ),
        ("POST", "/devices/{device_id}/revoke"): Op(
            "Revoke a device; it is told to wipe its data. `credential: true` also revokes the token it "
            "last synced with (or ends its browser session)",
            _obj({"device": STR, "revoked": BOOL}, {"credential": {"enum": ["token", "session", None]}}),
            body=_obj({}, {"credential": BOOL}, closed=True),
            body_required=False,
        ),
        ("GET", "/admin/backup"): Op(
            "Replication status",
            _obj({"enabled": BOOL, "running": BOOL}),
            query=(Param("fresh", {"enum": ["1", "true"]}, "check the replica now"),),
        ),
        ("GET", "/admin/restore-points"): Op(
            "Times the replica can restore to",
            _obj({"restore_points": _list(ANY_OBJECT)}),
            conflict=True,
            query=(Param("limit", {"type": "integer", "minimum": 1, "maximum": 10**6}, "only the newest"),),
        ),
        ("POST", "/admin/restore"): Op(
            "Point-in-time restore, or its preview with `dry_run`",
            {"oneOf": [_obj({"preview": ANY_OBJECT}), _obj({"restore": ANY_OBJECT})]},
            conflict=True,
            body=_obj(
                {
                    "to": {
                        "anyOf": [{"const": "latest"}, {"type": "string", "format": "date-time"}],
                        "description": 'RFC 3339 or "latest"',
                    }
                },
                {
                    "dry_run": BOOL,
                    "exclude": {
                        **_list({"type": "integer", "minimum": 1, "maximum": 2**62 - 1}),
                        "maxItems": 10_000,
                        "description": "ids of server work (preview: server_work.entries) not to re-apply",
                    },
                },
                closed=True,
            ),
        ),
        ("POST", "/admin/drill"): Op("Run a restore drill now", _obj({"drill": ANY_OBJECT}), conflict=True),
        ("GET", "/audit"): Op(
            "The audit log, 1,000 entries after `after`",
            _obj({"audit": _list(ANY_OBJECT)}),
            query=(Param("after", {"type": "integer", "minimum": 0, "maximum": 2**62}, "the last entry number seen"),),
        ),
        ("POST", "/imports"): Op(
            "Import a spreadsheet (preview with dry_run)",
            _ref("ImportSummary"),
            body=_ref("ImportForm"),
            body_media="multipart/form-data",
            encoding={
                "file": {
                    "contentType": f"text/csv, {XLSX}",
                    "headers": {
                        "Content-Disposition": {"schema": {**STR, "example": 'form-data; name="file"; filename="cards.csv"'}}
                    },
                }
            },
        ),
        ("GET", "/imports"): Op(
            "The imports, newest first: who, when, the file, counts, undone or not",
            _obj({"imports": _list(_ref("ImportRecord"))}),
        ),
        ("POST", "/imports/problems"): _problems_file(
            "Check a file as a dry run does and answer the rows with problems as a spreadsheet, a problems "
            "column appended (nothing is stored)",
            body=_ref("ImportForm"),
            body_media="multipart/form-data",
        ),
        ("GET", "/imports/{import_id}/problems"): _problems_file(
            "The rows of an import that were rejected or had warnings, as a spreadsheet with a problems column, "
            "to fix and import again"
        ),
        ("GET", "/imports/progress/{progress_id}"): Op("Progress of a running import", _obj({"done": INT, "total": INT})),
        ("POST", "/imports/{import_id}/undo"): Op("Undo an import", ANY_OBJECT, conflict=True),
        ("GET", "/export"): Op(
            "Spreadsheet export of the cards the caller may see",
            {"type": "string", "format": "binary"},
            media=("text/csv", XLSX),
            query=(
                Param("format", {"enum": ["csv", "xlsx"]}),
                Param("lang", {"enum": ["en", "zh-CN"]}),
                *CARD_FILTERS,
                Param("after", TEXT_PARAM),
                Param(
                    "consent",
                    {"type": "string", "pattern": "^(granted|refused|unknown)(:(phone|email|message|visit))?$"},
                    "by contact consent; no record counts as unknown; granted:phone also matches consent on every channel",
                ),
            ),
        ),
        ("GET", "/reminders"): Op(
            "Follow-ups due and overdue, birthdays, stale cards",
            _obj(
                {
                    "date": DATE,
                    "due": _list(ANY_OBJECT),
                    "overdue": _list(ANY_OBJECT),
                    "birthdays": _list(ANY_OBJECT),
                    "stale": _list(ANY_OBJECT),
                    "stale_days": INT,
                }
            ),
            query=(DAY, Param("owner", STR), STALE),
        ),
        ("POST", "/calendar/key"): Op("A new private calendar feed link (the old one stops)", _obj({"url": STR}), status=201),
        ("GET", "/calendar.ics"): Op(
            "Follow-ups and birthdays as an iCalendar feed",
            STR,
            media=("text/calendar",),
            query=(Param("key", STR, "the private feed key", required=True),),
        ),
        ("GET", "/dashboard"): Op(
            "The dashboard's figures", _obj({"cards": INT, "filters": ANY_OBJECT}), query=DASHBOARD_FILTERS
        ),
        ("GET", "/dashboard.csv"): Op("One figure as CSV", STR, media=("text/csv",), query=(FIGURE, *DASHBOARD_FILTERS)),
        ("GET", "/dashboard.svg"): Op(
            "One figure as an SVG chart", STR, media=("image/svg+xml",), query=(FIGURE, *DASHBOARD_FILTERS)
        ),
        ("GET", "/quality"): Op(
            "The data-quality report", _obj({"cards": INT, "average_score": _maybe(INT), "stale_days": INT}), query=(DAY, STALE)
        ),
        ("GET", "/duplicates"): Op(
            "Groups of cards that look like one customer",
            _obj({"groups": _list(_obj({"cards": _list(STR)}, {"reason": STR, "score": {"type": "number"}}))}),
        ),
        ("POST", "/cards/merge"): Op(
            "Merge cards into one",
            _obj({"merge": STR, "card": _ref("Card")}),
            conflict=True,
            body=_obj({"into": UUID, "from": {**_list(UUID), "minItems": 1}}, {"values": _ref("CardFields")}, closed=True),
        ),
        ("POST", "/merges/{merge_id}/undo"): Op(
            "Undo a merge", _obj({"merge": STR, "cards": _list(_ref("Card")), "conflicts": {"type": "array"}}), conflict=True
        ),
        ("GET", "/webhooks"): Op(
            "Webhook endpoints (admins), with `failing` when deliveries were given up; never their secrets",
            _obj({"webhooks": _list(ANY_OBJECT)}),
        ),
        ("POST", "/webhooks"): Op(
            "Register a webhook endpoint; the answer shows its signing secret, the only time it is shown",
            _obj({"webhook": ANY_OBJECT}),
            status=201,
            body=_obj({"url": STR, "events": _list(STR)}, {"secret": STR, "enabled": BOOL}, closed=True),
        ),
        ("PATCH", "/webhooks/{webhook_id}"): Op(
            "Change a webhook's URL, events or enabled flag",
            _obj({"webhook": ANY_OBJECT}),
            body=_obj({}, {"url": STR, "events": _list(STR), "enabled": BOOL}, closed=True),
        ),
        ("POST", "/webhooks/{webhook_id}/test"): Op(
            "Send a signed test event (`webhook.test`) now, once; the answer says how the receiver answered",
            _obj({"delivery": INT, "ok": BOOL}),
            body_required=False,
        ),
        ("GET", "/webhooks/{webhook_id}/deliveries"): Op(
            "The delivery log: the newest deliveries with every attempt (status code, error, duration)",
            _obj({"deliveries": _list(ANY_OBJECT)}),
        ),
        ("POST", "/webhooks/deliveries/{delivery_id}/redeliver"): Op(
            "Queue a delivery again (same event, same id)",
            _obj({"delivery": INT, "status": STR}),
            status=202,
            body_required=False,
        ),
    }


def _components() -> dict[str, Any]:
    card = _plain(card_json_schema())
    server_kept = ("id", "version", "created_at", "updated_at", "deleted")  # a mutation's `fields` may not set these
    fields = {k: v for k, v in card["properties"].items() if k not in server_kept}
    sync_request = SyncRequest.model_json_schema(ref_template="#/components/schemas/{model}")
    # The model keeps mutations as plain objects so that one bad mutation rejects only itself
    # (sync/protocol/model.py); their envelopes are checked by `parse_mutation`, described here.
    sync_request["properties"]["mutations"]["items"] = _ref("Mutation")
    envelope = {
        "id": {"type": "string", "minLength": 1, "maxLength": 100},
        "card": UUID,
        "at": {"type": "string", "pattern": r"^\d{13}-\d{4}-[A-Za-z0-9._:-]{1,100}$"},
    }
    error = _obj(
        {
            "code": {
                "type": "string",
                "description": "stable: invalid_request, unauthenticated, forbidden, "
                "not_found, conflict, too_large, rate_limited, maintenance, …",
            },
            "message": STR,
            "fields": _list(_ref("FieldError")),
        },
        closed=True,
    )
    return {
        "schemas": {
            "Error": _obj({"error": error}, closed=True),
            "FieldError": _obj({"path": STR, "message": STR}, closed=True),
            "Card": card,
            "CardFields": {"type": "object", "additionalProperties": False, "properties": fields},
            "Activity": _plain(activity_json_schema()),
            "SyncRequest": sync_request,
            "Mutation": {
                "oneOf": [
                    _obj(
                        {**envelope, "op": {"const": "card.put"}, "fields": _ref("CardFields")},
                        {"was": _ref("CardFields")},
                        closed=True,
                    ),
                    _obj({**envelope, "op": {"const": "card.delete"}, "version": {"type": "integer", "minimum": 0}}, closed=True),
                    _obj({**envelope, "op": {"const": "activity.add"}, "activity": _ref("Activity")}, closed=True),
                    _obj({**envelope, "op": {"const": "attachment.add"}, "attachment": ANY_OBJECT}, closed=True),
                    _obj({**envelope, "op": {"const": "link.create"}, "link": ANY_OBJECT}, closed=True),
                    _obj({**envelope, "op": {"const": "card.claim"}}, closed=True),
                ]
            },
            "SyncResponse": _obj(
                {
                    "epoch": STR,
                    "reset": BOOL,
                    "results": _list(
                        _obj(
                            {"id": STR, "status": {"enum": ["applied", "merged", "conflict", "rejected"]}},
                            # code: invalid, forbidden, not_found, or claimed (a pool card a
                            # colleague's earlier claim took)
                            {
                                "version": INT,
                                "card": _ref("Card"),
                                "conflicts": _list(STR),
                                "code": STR,
                                "errors": _list(_ref("FieldError")),
                            },
                        )
                    ),
                    "warnings": _list(_obj({"mutation": STR, "code": STR}, {"cards": _list(STR)})),
                    "changes": _list(
                        _obj(
                            {"type": {"enum": ["card", "activity", "remove"]}},
                            {
                                "card": {"anyOf": [_ref("Card"), STR]},
                                "activity": _ref("Activity"),
                                "reason": STR,
                                "into": _maybe(STR),
                            },
                        )
                    ),
                    "cursor": STR,
                    "more": BOOL,
                }
            ),
            "PoolSettings": _obj(
                {},
                {
                    "fields": _list(STR),
                    "view_limit": INT,
                    "max_held": _maybe(INT),
                    "claims_per_day": _maybe(INT),
                    "warn_days": INT,
                    "reclaim_days": {"type": "object", "additionalProperties": _maybe(INT)},
                },
                closed=True,
            ),
            "Team": _obj({"id": STR, "name": STR, "created_at": STR, "members": _list(STR), "managers": _list(STR)}),
            "TeamBody": _obj(
                {"name": {"type": "string", "minLength": 1, "maxLength": 100}},
                {"members": _list(STR), "managers": _list(STR)},
                closed=True,
            ),
            "HistoryEntry": _obj(
                {
                    "version": INT,
                    "at": STR,
                    "authored_at": _maybe(STR),
                    "received_at": STR,
                    "user": STR,
                    "device": _maybe(STR),
                    "mutation": _maybe(STR),
                    "changes": {"type": "object", "additionalProperties": {"type": "array"}},
                }
            ),
            "ConflictRecord": _obj(
                {
                    "id": STR,
                    "card": STR,
                    "field": STR,
                    "status": {"enum": ["open", "resolved"]},
                    "kept": {},
                    "other": {},
                    "kept_by": _maybe(STR),
                    "other_by": _maybe(STR),
                    "kept_at": _maybe(STR),
                    "other_at": _maybe(STR),
                    "created_at": STR,
                }
            ),
            "Device": _obj(
                {
                    "id": STR,
                    "user": STR,
                    "first_sync": _maybe(STR),
                    "last_sync": _maybe(STR),
                    "pending": _maybe(INT),
                    "app": _maybe(STR),
                    "user_agent": _maybe(STR),
                    "revoked_at": _maybe(STR),
                },
                {"name": _maybe(STR)},
            ),
            "Template": _obj(
                {},
                {
                    "custom_fields": {**_list(ANY_OBJECT), "maxItems": 50},
                    **{
                        name: {**_list({"type": "string", "minLength": 1, "maxLength": 100}), "maxItems": 500}
                        for name in ("industries", "regions", "tags")
                    },
                },
                closed=True,
            ),
            "ImportForm": _obj(
                {"file": {"type": "string", "format": "binary", "description": ".csv or .xlsx"}},
                {
                    "match": {"type": "string", "description": "phone,email,name+company"},
                    "mode": {"enum": ["create", "update", "upsert"]},
                    "dry_run": {"enum": ["true", "false"]},
                    "mapping": {"type": "string", "description": "JSON {column: field}"},
                    "values": {
                        "type": "string",
                        "description": "JSON {field: {value in the file: value to import or "
                        'null}}, e.g. {"segment": {"重要客户": "A"}}',
                    },
                    "owner": {"type": "string", "description": "the user new cards go to when no owner column says"},
                    "progress": {"type": "string", "maxLength": 64, "description": "an id to poll at /imports/progress/{id}"},
                },
            ),
            "ImportProblem": _obj(
                {"row": INT, "column": STR, "message": STR},
                {
                    "value": STR,
                    "code": {
                        "type": "string",
                        "description": "stable: name_missing, name_invalid, id_invalid, not_a_date, "
                        "not_a_phone, not_an_email, not_a_segment, unknown_owner, "
                        "too_long, formula, bad_value, required, same_as_row, "
                        "rejected",
                    },
                    "params": ANY_OBJECT,
                },
            ),
            "ImportSummary": _obj(
                {"import": _maybe(STR), "rows": INT, "errors": _list(_ref("ImportProblem"))},
                {
                    "create": INT,
                    "update": INT,
                    "skip": INT,
                    "warnings": {
                        **_list(_ref("ImportProblem")),
                        "description": "bad optional cells: the row was imported without them",
                    },
                },
            ),
            "ImportRecord": _obj(
                {
                    "id": STR,
                    "user": STR,
                    "display": STR,
                    "created_at": STR,
                    "filename": STR,
                    "mode": STR,
                    "rows": INT,
                    "create": INT,
                    "update": INT,
                    "skip": INT,
                    "errors": INT,
                    "warnings": INT,
                    "undone_at": _maybe(STR),
                    "undone_by": _maybe(STR),
                }
            ),
        },
        "responses": {
            str(code): {"description": text, "content": {"application/json": {"schema": _ref("Error")}}}
            for code, text in ERRORS.items()
        },
        "securitySchemes": {
            "bearerAuth": {
                "type": "http",
                "scheme": "bearer",
                "description": "An API token (`fieldcards token create`, or `POST /tokens`).",
            },
            "cookieAuth": {
                "type": "apiKey",
                "in": "cookie",
                "name": sessions.COOKIE,
                "description": "The passkey session of the PWA. A request that changes anything must "
                "also send `X-Fieldcards: 1` from our own origin (CSRF).",
            },
        },
    }


def _plain(schema: dict[str, Any]) -> dict[str, Any]:
    """A stand-alone JSON Schema as a component: the dialect is the document's own."""
    return {k: v for k, v in copy.deepcopy(schema).items() if k not in ("$schema", "title")}


def _operation(path: str, method: str, handler: Any, need: str, op: Op) -> dict[str, Any]:
    found: dict[str, Any] = {
        "operationId": f"{method.lower()}_{re.sub(r'[^a-z0-9]+', '_', path.lower()).strip('_')}",
        "summary": op.summary,
        "x-fieldcards-access": need,
    }
    if handler.__doc__:
        found["description"] = " ".join(handler.__doc__.split())
    if need == "public":
        found["security"] = []
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}
        for name in re.findall(r"{(\w+)}", path)
    ]
    parameters += [
        {
            "name": p.name,
            "in": "query",
            "required": p.required,
            "schema": p.schema,
            **({"description": p.description} if p.description else {}),
        }
        for p in op.query
    ]
    if parameters:
        found["parameters"] = parameters
    if op.body is not None:
        media = {"schema": op.body, **({"encoding": op.encoding} if op.encoding else {})}
        found["requestBody"] = {"required": op.body_required, "content": {op.body_media: media}}
    responses: dict[str, Any] = {
        str(op.status): {"description": op.summary, "content": {media: {"schema": op.ok} for media in op.media}}
    }
    codes = {*ALWAYS, *((409,) if op.conflict else ()), *((408,) if op.body is not None else ()), *((410,) if op.gone else ())}
    for code in sorted(codes):
        responses[str(code)] = {"$ref": f"#/components/responses/{code}"}
    found["responses"] = responses
    return found


def document(table: Iterable[tuple[str, Any, list[str], str]]) -> dict[str, Any]:
    """The OpenAPI 3.1 document for `table` (path, handler, methods, need), as `app.api_table()` lists it."""
    described = _operations()
    paths: dict[str, dict[str, Any]] = {}
    seen: set[tuple[str, str]] = set()
    for path, handler, methods, need in table:
        for method in methods:
            key = (method, path)
            if key not in described:
                raise LookupError(f"{method} {path} is in the route table but not described in server/openapi.py")
            seen.add(key)
            paths.setdefault(path, {})[method.lower()] = _operation(path, method, handler, need, described[key])
    stale = sorted(set(described) - seen)
    if stale:
        raise LookupError(f"described in server/openapi.py but not in the route table: {stale}")
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Fieldcards",
            "version": API_VERSION,
            "description": "The public contract is CONTRACT.md; see docs/protocol.md.",
        },
        "servers": [{"url": BASE}],
        "security": [{"bearerAuth": []}, {"cookieAuth": []}],
        "paths": paths,
        "components": _components(),
    }


@functools.lru_cache(maxsize=1)
def _served() -> dict[str, Any]:
    from .app import api_table  # here, not at the top: app.py imports this module for its table

    return document(api_table())


async def serve(request: Request) -> JSONResponse:
    return JSONResponse(_served())
