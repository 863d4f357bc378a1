"""The card template admins define: custom fields (text, number, date, choice, choices; required;
pattern; labels in English and Chinese) and the suggestion lists for industry, region and tags.
It is part of `GET /api/v1/schema`, so the app validates offline with the same rules, and the
engine validates every write against it. Removing a field hides it: stored values are kept and
still accepted from devices that have not seen the change yet.
"""

from __future__ import annotations

import json
import re
import sqlite3
from typing import Any

from sync import audit, db
from sync import journal
from sync.access import User, admin_only
from sync.errors import FieldError, InvalidInput
from sync.cards.patterns import MAX_PATTERN, compile_pattern
from sync.db import Store

KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
TYPES = ("text", "number", "date", "choice", "choices")
LISTS = ("industries", "regions", "tags")
EMPTY: dict[str, Any] = {"custom_fields": [], "industries": [], "regions": [], "tags": []}


def load(conn: sqlite3.Connection) -> dict[str, Any]:
    raw = db.meta_value(conn, "template")
    return {**EMPTY, **json.loads(raw)} if raw else json.loads(json.dumps(EMPTY))


def active(template: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for f in template["custom_fields"] if not f.get("hidden")]


def for_validation(template: dict[str, Any]) -> list[dict[str, Any]]:
    """Every field, hidden ones too (never required): a device may still send them."""
    return [f if not f.get("hidden") else {**f, "required": False} for f in template["custom_fields"]]


def _check_field(n: int, spec: Any, errors: list[FieldError]) -> dict[str, Any] | None:
    path = f"custom_fields[{n}]"
    if not isinstance(spec, dict):
        errors.append(FieldError(path, "must be an object"))
        return None
    unknown = set(spec) - {"key", "label", "type", "required", "choices", "pattern"}
    for name in sorted(unknown):
        errors.append(FieldError(f"{path}.{name}", "unknown setting"))
    key, label, kind = spec.get("key"), spec.get("label"), spec.get("type")
    if not isinstance(key, str) or not KEY_RE.match(key):
        errors.append(FieldError(f"{path}.key", "lower-case letters, digits and _, starting with a letter, at most 40"))
    if not isinstance(label, dict) or not all(
        isinstance(label.get(lang), str) and 0 < len(label[lang].strip()) <= 80 for lang in ("en", "zh-CN")
    ):
        errors.append(FieldError(f"{path}.label", 'labels in both languages: {"en": "…", "zh-CN": "…"}'))
    if kind not in TYPES:
        errors.append(FieldError(f"{path}.type", f"one of {', '.join(TYPES)}"))
    choices = spec.get("choices") or []
    if kind in ("choice", "choices") and (
        not isinstance(choices, list) or not choices or not all(isinstance(c, str) and 0 < len(c) <= 80 for c in choices)
    ):
        errors.append(FieldError(f"{path}.choices", "a list of 1–100 texts for a choice field"))
    pattern = spec.get("pattern")
    if pattern is not None:
        try:
            compile_pattern(pattern) if isinstance(pattern, str) and len(pattern) <= MAX_PATTERN else None
        except ValueError as error:
            errors.append(FieldError(f"{path}.pattern", str(error)))
        if not isinstance(pattern, str) or len(pattern) > 200 or kind != "text":
            errors.append(FieldError(f"{path}.pattern", "a regular expression (text fields only)"))
    if not isinstance(spec.get("required", False), bool):
        errors.append(FieldError(f"{path}.required", "true or false"))
    clean = {"key": key, "label": label, "type": kind, "required": bool(spec.get("required", False))}
    if kind in ("choice", "choices"):
        clean["choices"] = choices[:100]
    if pattern:
        clean["pattern"] = pattern
    return clean


def save(st: Store, user: User, body: object) -> dict[str, Any]:
    """Replace the template; fields left out are kept hidden, so their stored values survive."""
    admin_only(user, "may change the card template")
    if not isinstance(body, dict) or set(body) - {"custom_fields", *LISTS}:
        raise InvalidInput("send custom_fields, industries, regions and tags", [FieldError("", "unknown keys")])
    errors: list[FieldError] = []
    fields = body.get("custom_fields", [])
    if not isinstance(fields, list) or len(fields) > 50:
        errors.append(FieldError("custom_fields", "a list of at most 50 fields"))
        fields = []
    clean = [c for n, spec in enumerate(fields) if (c := _check_field(n, spec, errors))]
    keys = [f["key"] for f in clean]
    if len(set(keys)) != len(keys):
        errors.append(FieldError("custom_fields", "each key once"))
    lists: dict[str, list[str]] = {}
    for name in LISTS:
        value = body.get(name, [])
        if not isinstance(value, list) or len(value) > 500 or not all(isinstance(v, str) and 0 < len(v) <= 100 for v in value):
            errors.append(FieldError(name, "a list of at most 500 texts of 1–100 characters"))
            value = []
        lists[name] = list(dict.fromkeys(v.strip() for v in value))
    if errors:
        raise InvalidInput("; ".join(f"{e.path}: {e.message}" for e in errors[:5]), errors)
    with st.write() as conn:
        before = load(conn)
        hidden = [{**f, "hidden": True, "required": False} for f in before["custom_fields"] if f["key"] not in keys]
        template = {"custom_fields": clean + hidden, **lists}
        db.set_meta(conn, "template", json.dumps(template, ensure_ascii=False))
        audit.record(conn, user.name, "template.update", "card", {"fields": keys, "hidden": [f["key"] for f in hidden]})
        journal.record(conn, user, "template", {"body": body})
    return template
