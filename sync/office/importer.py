"""Spreadsheet import: map columns to card fields, plan every row (create, update or skip, with
each error at its row and column), and apply the plan as one recorded batch of ordinary
mutations, so history, merge rules and conflicts work as for any device. An import can be undone:
created cards are deleted, updated fields go back to what they were, and a field someone changed
after the import becomes a conflict record instead of being overwritten.
"""

from __future__ import annotations

import io
import json
import re
import unicodedata
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, overload

from sync import audit, db
from sync import journal
from sync.cards import template
from sync import events
from sync.access import User, office_only, owner_filter
from sync.protocol.engine import Engine
from sync.jsontext import dumps_kept, dumps_utf8, loads_card_text
from sync.times import utc_now
from sync.ids import name_based_uuid, time_ordered_uuid
from sync.errors import InvalidInput, NotFound, invalid, still_undoable
from sync.office.cells import clean_phone, message, plain, problem, read_basis, read_consent, read_date, read_segment
from sync.office.spreadsheet import XLSX_TYPE, Table, split_list, write_csv, write_xlsx
from sync.protocol.merge import values_equal
from sync.cards.validate import CARD_FIELDS, EMPTY_VALUES, SHEET_FIELDS, TEXT_LIMITS, canonical_uuid, validate_card_fields

SET_FIELDS = ("phones", "emails", "tags")
IMPORTABLE = (
    "id",
    *SHEET_FIELDS,
    "consent",
    "consent_basis",
    "consent_at",  # these three make one field, `consent` (issue 18)
    "lat",
    "lng",
)  # and these two `location` (issue 16)
MATCH_KEYS = ("phone", "email", "name+company")
MODES = ("create", "update", "upsert")
PREVIEW_ROWS = 200

# Headers people write, in English and Chinese, for each field (compared without case and spaces).
ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("id", "cardid", "卡片id", "编号"),
    "name": ("name", "fullname", "contact", "customer", "姓名", "客户名称", "客户姓名", "联系人", "名字", "客户"),
    "company": ("company", "organization", "organisation", "公司", "公司名称", "单位", "企业"),
    "title": ("title", "jobtitle", "position", "职位", "职务", "头衔"),
    "phones": (
        "phone",
        "phones",
        "mobile",
        "tel",
        "telephone",
        "cell",
        "手机",
        "电话",
        "手机号",
        "手机号码",
        "联系电话",
        "手机/电话",
        "电话/手机",
    ),
    "emails": ("email", "emails", "e-mail", "mail", "邮箱", "电子邮件", "电子邮箱", "邮件"),
    "address": ("address", "地址", "联系地址", "详细地址"),
    "region": ("region", "area", "province", "city", "地区", "区域", "省份", "城市"),
    "industry": ("industry", "sector", "行业", "所属行业"),
    "segment": ("segment", "tier", "grade", "class", "客户等级", "等级", "客户分级", "分级", "级别"),
    "tags": ("tags", "tag", "labels", "标签"),
    "owner": ("owner", "rep", "salesrep", "负责人", "销售", "业务员", "归属"),
    "birthday": ("birthday", "birthdate", "dateofbirth", "dob", "生日", "出生日期"),
    "follow_up": ("followup", "follow_up", "nextfollowup", "next", "下次跟进", "跟进日期", "下次联系"),
    "notes": ("notes", "note", "remarks", "comment", "comments", "备注", "说明"),
    "consent": ("consent", "contactconsent", "联系同意", "同意联系", "是否同意", "营销同意"),
    "consent_basis": ("consent_basis", "consentbasis", "legalbasis", "basis", "处理依据", "法律依据", "合法性基础"),
    "consent_at": ("consent_at", "consentat", "consentdate", "同意日期", "同意时间"),
    "lat": ("lat", "latitude", "纬度", "wgs84纬度"),
    "lng": ("lng", "lon", "long", "longitude", "经度", "wgs84经度"),
}


def _key(header: str) -> str:
    return re.sub(r"[\s_\-:：()（）]", "", header.strip().lower())


def suggest_mapping(headers: Sequence[str], custom_fields: Sequence[dict[str, Any]] = ()) -> dict[str, str]:
    """Header → field for every header we recognise; each field taken once, first column wins.
    Custom fields are found by their key (`custom.key`) or either label."""
    lookup = {_key(alias).replace("_", ""): name for name, aliases in ALIASES.items() for alias in aliases}
    for spec in custom_fields:
        for alias in (f"custom.{spec['key']}", spec["key"], *spec["label"].values()):
            lookup.setdefault(_key(alias).replace("_", ""), f"custom.{spec['key']}")
    mapping: dict[str, str] = {}
    for header in headers:
        name = lookup.get(_key(header))
        if name and name not in mapping.values() and header not in mapping:
            mapping[header] = name
    return mapping


def check_mapping(headers: Sequence[str], mapping: dict[str, Any], custom_keys: Sequence[str] = ()) -> dict[str, str]:
    clean: dict[str, str] = {}
    for header, name in mapping.items():
        if header not in headers:
            raise invalid(f"mapping.{header}", "no such column in the file")
        if name in ("", None):
            continue
        if name not in IMPORTABLE and not (isinstance(name, str) and name.removeprefix("custom.") in custom_keys):
            raise invalid(f"mapping.{header}", f"not a card field: {name}")
        if name in clean.values():
            raise invalid(f"mapping.{header}", f"two columns go to {name}")
        clean[header] = name
    if "name" not in clean.values() and "id" not in clean.values():
        raise invalid("mapping", "no column holds the name (姓名): map one to name")
    return clean


class RowPlan:
    """What the import does with one row. The values it writes are kept as their JSON text (UTF-8,
    as the journal and the undo records store them): 50,000 rows of dicts, lists and strings held
    ~50 MB until the import committed, their text ~12 MB. `fields` and `was` read it back."""

    __slots__ = ("row", "action", "card", "reason", "fields_json", "was_json")

    def __init__(
        self,
        row: int,  # as the person sees it in Excel: the header is row 1
        action: str,  # create | update | skip
        card: str | None = None,
        fields: dict[str, Any] | None = None,
        was: dict[str, Any] | None = None,
        reason: str = "",
    ) -> None:
        self.row, self.action, self.card, self.reason = row, action, card, reason
        self.fields_json = dumps_kept(fields) if fields else b"{}"
        self.was_json = dumps_kept(was) if was else b"{}"

    @property
    def fields(self) -> dict[str, Any]:
        return loads_card_text(self.fields_json)  # type: ignore[no-any-return]

    @property
    def was(self) -> dict[str, Any]:
        return loads_card_text(self.was_json)  # type: ignore[no-any-return]

    def public(self) -> dict[str, Any]:
        out: dict[str, Any] = {"row": self.row, "action": self.action}
        if self.card:
            out["card"] = self.card
        if self.fields_json != b"{}":
            out["fields"] = self.fields
        if self.reason:
            out["reason"] = self.reason
        return out


@dataclass(frozen=True)
class PlanBasis:
    """What a plan was made from besides the file and the choices (see `Plan.basis`)."""

    epoch: str
    seq: int
    people: list[tuple[str, str | None]]
    match: tuple[str, ...]
    key_hashes: frozenset[int]


@dataclass
class Plan:
    rows: list[RowPlan]
    errors: list[dict[str, Any]]  # problems that cost a row: no name, a bad id, the same customer twice
    mapping: dict[str, str]
    warnings: list[dict[str, Any]] = field(default_factory=list)  # bad optional cells, left out of their rows
    # What the rows' values were validated under (the template's custom fields, the region): the
    # import does not validate them again unless either has changed by then.
    validated_under: tuple[list[dict[str, Any]], str] | None = None
    # What else the plan was made from, for a preview's plan kept until its import (previews.py):
    # the store's epoch and stream position when the cards were read, the people an owner column
    # could name, and the hash of every match key a row holds.
    basis: PlanBasis | None = None
    # The cells of each row with a problem, by row number, when the table's rows were let go as
    # they were planned (`plan_import(release_rows=True)`).
    problem_cells: dict[int, list[str]] | None = None

    def counts(self) -> dict[str, int]:
        counted = {"create": 0, "update": 0, "skip": 0}
        for r in self.rows:
            counted[r.action] += 1
        return counted


def match_keys(card: dict[str, Any], kinds: Sequence[str] | None = None) -> list[str]:
    """What a row is matched to a card by: `phone:…`, `email:…` and `name+company:…`; only the
    `kinds` of key (`MATCH_KEYS`) an import matches on, when given."""
    keys = [f"phone:{p}" for p in card.get("phones") or []] + [f"email:{e}" for e in card.get("emails") or []]
    if card.get("name") and card.get("company"):
        keys.append(f"name+company:{card['name'].strip().lower()}\x00{card['company'].strip().lower()}")
    return keys if kinds is None else [key for key in keys if key.split(":", 1)[0] in kinds]


class _Known:
    """The live cards the user may see, indexed by the match keys."""

    def __init__(self, conn: Any, user: User) -> None:
        self.cards: dict[str, dict[str, Any]] = {}
        self.by_key: dict[str, str] = {}
        for card in db.live_cards(conn, owner_filter(user)):
            self.add(card)

    def add(self, card: dict[str, Any]) -> None:
        self.cards[card["id"]] = card
        for key in match_keys(card):
            self.by_key.setdefault(key, card["id"])

    def match(self, keys: Sequence[str]) -> str | None:
        """The card the first of these keys that a card holds names."""
        for key in keys:
            if key in self.by_key:
                return self.by_key[key]
        return None


def _custom_cell(spec: dict[str, Any], text: str) -> Any:
    """A custom field's cell as the value its type wants; a bad value is left for validation to name."""
    kind = spec["type"]
    if kind == "number":
        try:
            number = float(plain(text).replace(",", ""))
            return int(number) if number.is_integer() else number
        except ValueError:
            return text
    if kind == "choices":
        return split_list(text)
    if kind == "date":
        return read_date(text) or text
    return text


def _mapped(values: dict[str, dict[str, str | None]], name: str, text: str) -> str | None:
    """The person's own reading of a value (`values`, e.g. {"segment": {"重要客户": "A"}}); a value
    mapped to null or "" is left out without a warning."""
    table = values.get(name)
    if not table or text.strip() not in table:
        return text
    return table[text.strip()] or None


def check_values(values: Any, fields: Sequence[str]) -> dict[str, dict[str, str | None]]:
    """The `values` form field: {field: {value in the file: value to import, or null to leave out}}."""
    if values is None:
        return {}
    if not isinstance(values, dict):
        raise invalid("values", 'must be a JSON object like {"segment": {"重要客户": "A"}}')
    for name, table in values.items():
        if name not in fields:
            raise invalid(f"values.{name}", "no column of the file goes to this field")
        if not isinstance(table, dict) or not all(isinstance(v, (str, type(None))) for v in table.values()):
            raise invalid(f"values.{name}", "must be an object of value in the file → value to import (or null)")
    return {name: {str(k).strip(): v for k, v in table.items()} for name, table in values.items()}


_CODES = {
    "phones": "not_a_phone",
    "emails": "not_an_email",
    "birthday": "not_a_date",
    "follow_up": "not_a_date",
    "segment": "not_a_segment",
}


class _Reader:
    """One row's cells as card fields. A bad optional cell is a warning and the row goes on without
    it; only the name (and the id) can cost a row."""

    def __init__(
        self, region: str, specs: dict[str, dict[str, Any]], values: dict[str, dict[str, str | None]], users: dict[str, str]
    ) -> None:
        self.region, self.specs, self.values, self.users = region, specs, values, users

    def read(
        self, number: int, cells: Sequence[tuple[str, str, str]]
    ) -> tuple[dict[str, Any], str | None, list[dict[str, Any]], list[dict[str, Any]]]:
        """(fields, card id, warnings, errors) of the row's mapped, filled cells (field, header, text)."""
        fields: dict[str, Any] = {}
        card_id: str | None = None
        warnings: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        source: dict[str, tuple[str, str]] = {}
        for name, header, text in cells:
            value = _mapped(self.values, name, text)
            if value is None:
                continue
            source[name] = (header, text)
            if name == "id":
                card_id = value.strip()
            elif name.startswith("consent"):
                self._consent_cell(fields, number, name, header, text, value, warnings)
            elif name in ("lat", "lng"):
                self._place_cell(fields, number, name, header, text, value, warnings)
            elif name.startswith("custom."):
                key = name.removeprefix("custom.")
                fields.setdefault("custom", {})[key] = _custom_cell(self.specs[key], value)
            elif name in SET_FIELDS:
                items = [_mapped(self.values, name, item) for item in split_list(value)]
                clean = clean_phone if name == "phones" else plain if name == "emails" else str
                fields[name] = [clean(item) for item in items if item]
            elif name == "segment":
                segment = read_segment(value)
                if segment is None:
                    warnings.append(problem(number, header, text, "not_a_segment"))
                else:
                    fields[name] = segment
            elif name in ("birthday", "follow_up"):
                day = read_date(value)
                if day is None:
                    warnings.append(problem(number, header, text, "not_a_date"))
                else:
                    fields[name] = day
            elif name == "owner":
                owner = self.users.get(value.strip()) or self.users.get(value.strip().lower())
                if owner is None:
                    warnings.append(problem(number, header, text, "unknown_owner"))
                else:
                    fields[name] = owner
            else:
                fields[name] = value
        if "consent" in fields:
            consent = fields["consent"]
            if "contact" not in consent:  # a basis or a date alone: the consent itself is not known
                consent["contact"] = "unknown"
            consent.setdefault("at", utc_now()[:10])
            source.setdefault("consent", source.get("consent_basis") or source.get("consent_at") or ("consent", ""))
        place = fields.pop("location", None)
        if place is not None and "bad" not in place:
            if len(place) == 2:
                fields["location"] = place
            else:  # one of the two columns filled: no location
                header, text = source.get("lat") or source.get("lng") or ("lat", "")
                warnings.append(
                    problem(
                        number, header, text, "bad_value", detail="a location needs both 经度 and 纬度 (longitude and latitude)"
                    )
                )
        try:
            checked = self._check(fields)
        except InvalidInput:  # rare: find the cells at fault one by one, keep the rest
            checked = self._one_by_one(number, fields, source, warnings, errors)
        return checked, card_id, warnings, errors

    @staticmethod
    def _consent_cell(
        fields: dict[str, Any], number: int, name: str, header: str, text: str, value: str, warnings: list[dict[str, Any]]
    ) -> None:
        """One of the consent columns into the card's `consent`, with source `import`."""
        if name == "consent":
            read = read_consent(value)
            if read is None:
                warnings.append(problem(number, header, text, "bad_value", detail="granted, refused or unknown"))
                return
            part: dict[str, Any] = {"contact": read[0], "channels": read[1]}
        elif name == "consent_basis":
            basis = read_basis(value)
            if basis is None:
                warnings.append(problem(number, header, text, "bad_value", detail="not a legal basis"))
                return
            part = {"basis": basis}
        else:
            day = read_date(value)
            if day is None:
                warnings.append(problem(number, header, text, "not_a_date"))
                return
            part = {"at": day}
        fields.setdefault("consent", {"basis": None, "source": "import"}).update(part)

    @staticmethod
    def _place_cell(
        fields: dict[str, Any], number: int, name: str, header: str, text: str, value: str, warnings: list[dict[str, Any]]
    ) -> None:
        """经度 (lng) or 纬度 (lat) in WGS-84 degrees into the card's `location`; full-width digits and a
        trailing ° are read."""
        cleaned = unicodedata.normalize("NFKC", value).strip().rstrip("°").strip()
        limit = 90 if name == "lat" else 180
        try:
            degrees = float(cleaned)
        except ValueError:
            degrees = float("nan")
        if not -limit <= degrees <= limit:  # NaN fails too
            warnings.append(
                problem(
                    number,
                    header,
                    text,
                    "bad_value",
                    detail=f"not a {'latitude' if name == 'lat' else 'longitude'} from -{limit} to {limit}",
                )
            )
            fields.setdefault("location", {})["bad"] = True  # the other column alone makes no location either
            return
        fields.setdefault("location", {})[name] = degrees

    def _check(self, fields: dict[str, Any]) -> dict[str, Any]:
        return validate_card_fields(fields, region=self.region, creating=False, custom_fields=list(self.specs.values()))

    def _one_by_one(
        self,
        number: int,
        fields: dict[str, Any],
        source: dict[str, tuple[str, str]],
        warnings: list[dict[str, Any]],
        errors: list[dict[str, Any]],
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}

        def attempt(name: str, value: Any, key: str, text: str) -> Any:
            try:
                return self._check({name: value})[name]
            except InvalidInput as error:
                header = source.get(key, (key, ""))[0]
                detail = error.fields[0].message
                if name == "name":
                    errors.append(problem(number, header, text, "name_invalid", detail=detail))
                elif name == "custom" and self.specs[key.removeprefix("custom.")]["type"] == "date":
                    warnings.append(problem(number, header, text, "not_a_date"))
                elif name in TEXT_LIMITS and detail.startswith("at most"):
                    warnings.append(problem(number, header, text, "too_long", limit=TEXT_LIMITS[name]))
                elif name in _CODES and not detail.startswith("at most"):  # 11 phones: each fine, too many
                    warnings.append(problem(number, header, text, _CODES[name]))
                else:
                    warnings.append(problem(number, header, text, "bad_value", detail=detail))
                return None

        for name, value in fields.items():
            if name == "custom":
                for key, item in value.items():
                    got = attempt("custom", {key: item}, f"custom.{key}", source.get(f"custom.{key}", ("", ""))[1])
                    if got is not None:
                        out.setdefault("custom", {}).update(got)
            elif name in SET_FIELDS:
                good = [item for item in value if attempt(name, [item], name, item) is not None]
                kept = attempt(name, good, name, source[name][1]) if good else None
                if kept:
                    out[name] = kept
            else:
                got = attempt(name, value, name, source.get(name, ("", str(value)))[1])
                if got is not None:
                    out[name] = got
        return out


def _changes(current: dict[str, Any], new: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """What an update changes: non-empty cells that differ; sets gain the new elements."""
    fields: dict[str, Any] = {}
    was: dict[str, Any] = {}
    for name, value in new.items():
        before = current.get(name)
        if name == "custom":  # per key: the columns present change their keys, others stay
            merged = {**(before or {}), **value}
            if merged != (before or {}):
                fields[name], was[name] = merged, dict(before or {})
        elif name in SET_FIELDS:
            added = [v for v in value if v not in (before or [])]
            if added:
                fields[name], was[name] = list(before or []) + added, list(before or [])
        elif (
            name == "consent"
            and before
            and (
                before.get("source") == "customer" or all(before.get(k) == value.get(k) for k in ("contact", "channels", "basis"))
            )
        ):
            continue  # the customer's own word is never replaced by a file; the same consent read back keeps its date
        elif value != before:
            fields[name], was[name] = value, before
    return fields, was


def plan_import(
    engine: Engine,
    user: User,
    table: Table,
    *,
    mapping: dict[str, Any] | None,
    match: Sequence[str],
    mode: str,
    values: Any = None,
    owner: str | None = None,
    release_rows: bool = False,
    with_basis: bool = False,
) -> Plan:
    """What importing `table` would do, row by row. `values` maps values of the file to card values
    per field; `owner` is the user new cards go to when no owner column says otherwise.
    `release_rows`: each row of `table` is emptied once planned, and the plan keeps the rows with
    a problem for the problems file (`plan_problems`): the parsed rows of a 50,000-row file, ~16 MB,
    are not held beside the whole plan. For a caller that needs no more of the table.
    `with_basis`: the plan notes what else it was made from (`Plan.basis`), for a preview's plan
    kept for its import (sync/office/previews.py); ~7 MB at 50,000 rows, so only when asked."""
    office_only(user, "may import")
    if mode not in MODES:
        raise invalid("mode", "must be create, update or upsert")
    for key in match:
        if key not in MATCH_KEYS:
            raise invalid("match", f"unknown match key {key!r}: use phone, email or name+company")
    with engine.store.read() as conn:
        specs = {f["key"]: f for f in template.for_validation(template.load(conn))}
        known = _Known(conn, user)
        people = db.people_for_import(conn)
        epoch, seq = db.meta_value(conn, "epoch") or "", db.last_seq(conn)
    users = {name: name for name, _ in people} | {
        display.strip(): name for name, display in people if display and display.strip()
    }
    if owner is not None and owner not in {name for name, _ in people}:
        raise invalid("owner", f"no user named {owner!r}: new cards need an owner who exists")
    columns = check_mapping(
        table.headers, mapping if mapping is not None else suggest_mapping(table.headers, list(specs.values())), list(specs)
    )
    reader = _Reader(engine.default_region, specs, check_values(values, list(columns.values())), users)
    index = {header: n for n, header in enumerate(table.headers)}
    column_of = {name: header for header, name in columns.items()}
    formulas: dict[int, list[dict[str, Any]]] = {}
    for r, c, text in table.formulas:
        if r > 1:
            header = table.headers[c - 1] if c - 1 < len(table.headers) else str(c)
            formulas.setdefault(r, []).append(problem(r, header, text, "formula"))
    errors: list[dict[str, Any]] = []
    warnings: list[dict[str, Any]] = []
    plans: list[RowPlan] = []
    seen_in_file: dict[str, int] = {}
    named: set[str] = set()  # card ids the id column names

    def plan_row(number: int, cells: list[str]) -> RowPlan:
        filled = [(name, header, cells[index[header]]) for header, name in columns.items() if cells[index[header]]]
        fields, card_id, row_warnings, row_errors = reader.read(number, filled)
        if card_id:
            named.add(card_id)
        warnings.extend(formulas.get(number, ()))
        warnings.extend(row_warnings)
        if row_errors:
            errors.extend(row_errors)
            return RowPlan(number, "skip", reason="; ".join(e["message"] for e in row_errors))
        plan = _plan_row(number, fields, card_id, known, match, mode, seen_in_file, column_of, errors)
        missing = [k for k, spec in specs.items() if spec.get("required") and not (fields.get("custom") or {}).get(k)]
        if plan.action == "create" and missing:
            for key in missing:
                errors.append(problem(number, column_of.get(f"custom.{key}", f"custom.{key}"), "", "required"))
            return RowPlan(number, "skip", reason="required fields missing: " + ", ".join(missing))
        if plan.action == "create" and owner and "owner" not in fields:
            return RowPlan(number, "create", card=plan.card, fields={**fields, "owner": owner})
        return plan

    kept: dict[int, list[str]] | None = {} if release_rows else None
    for offset in range(len(table.rows)):
        number, cells = offset + 2, table.rows[offset]
        counted = len(errors) + len(warnings)
        plans.append(plan_row(number, cells))
        if kept is not None:
            table.rows[offset] = []
            if len(errors) + len(warnings) > counted:
                kept[number] = cells
    basis = None
    if with_basis:
        keys = [*seen_in_file, *(f"id:{_canonical_or_none(card_id)}" for card_id in named)]
        basis = PlanBasis(epoch, seq, people, tuple(match), frozenset(hash(key) for key in keys))
    return Plan(
        plans,
        errors,
        columns,
        warnings,
        validated_under=(list(specs.values()), engine.default_region),
        basis=basis,
        problem_cells=kept,
    )


def _canonical_or_none(card_id: str) -> str | None:
    try:
        return canonical_uuid(card_id)
    except ValueError:
        return None


def _plan_row(
    number: int,
    fields: dict[str, Any],
    card_id: str | None,
    known: _Known,
    match: Sequence[str],
    mode: str,
    seen_in_file: dict[str, int],
    column_of: dict[str, str],
    errors: list[dict[str, Any]],
) -> RowPlan:
    target = None
    if card_id:
        try:
            target = canonical_uuid(card_id)
        except ValueError:
            errors.append(problem(number, column_of["id"], card_id, "id_invalid"))
            return RowPlan(number, "skip", reason="not a card id")
        target = target if target in known.cards else None
    keys = match_keys(fields, match)  # only these are looked for
    target = target or known.match(keys)
    for key in keys:
        if key in seen_in_file:
            kind, value = key.split(":", 1)
            column = column_of.get({"phone": "phones", "email": "emails"}.get(kind, "name"), "")
            errors.append(problem(number, column, value.replace("\x00", " "), "same_as_row", other=seen_in_file[key]))
            return RowPlan(number, "skip", reason=f"the same customer as row {seen_in_file[key]} of this file")
    for key in keys:
        seen_in_file.setdefault(key, number)
    if target is None:
        if mode == "update":
            return RowPlan(number, "skip", reason="no matching card")
        if "name" not in fields:
            errors.append(problem(number, column_of.get("name", "name"), "", "name_missing"))
            return RowPlan(number, "skip", reason="no name")
        return RowPlan(number, "create", card=time_ordered_uuid(), fields=fields)
    if mode == "create":
        return RowPlan(number, "skip", card=target, reason="matches an existing card")
    changed, was = _changes(known.cards[target], fields)
    if not changed:
        return RowPlan(number, "skip", card=target, reason="unchanged")
    return RowPlan(number, "update", card=target, fields=changed, was=was)


# What an import applies, row by row: (row, card, action, fields JSON, was JSON, clock).
TodoRow = tuple[int, str, str, bytes, bytes, str]


def run_import(
    engine: Engine,
    user: User,
    plan: Plan,
    *,
    filename: str,
    mode: str,
    match: Sequence[str],
    progress: Callable[[int, int], None] = lambda done, total: None,
    problems: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Apply a plan as one recorded batch; returns the contract's summary with the import id.
    `problems`: the file's rows with an error or a warning (`plan_problems`), kept with the import
    for its problems file; made before, so that the caller can let the parsed file go.

    All or nothing: every row, the import record and its audit entry commit in one transaction,
    so a server killed midway leaves no trace of the import rather than half of it under a
    record that claims all of it. The price is that other writers wait while it commits (about
    3 s per 50,000 rows on a small machine)."""
    import_id = str(uuid.uuid4())
    # Everything needed to do this import again, word for word, is journaled with it, so that a
    # restore to a point before it can re-apply it (sync/journal.py): the job below and a todo
    # entry per row, whose last item is the clock its mutation carries.
    todo: list[TodoRow] = [
        (r.row, r.card or "", r.action, r.fields_json, r.was_json, engine.clock.now())
        for r in plan.rows
        if r.action in ("create", "update")
    ]
    counts = plan.counts()
    job = {
        "import": import_id,
        "filename": filename[:200],
        "mode": mode,
        "match": list(match),
        "rows": len(plan.rows),
        "counts": counts,
        "plan_errors": len(plan.errors),
        "warnings": len(plan.warnings),
        "problems": problems,
    }
    rejected = _apply_import(engine, user, job, todo, _Mutations(import_id, todo), progress, normal_under=plan.validated_under)
    return {
        "import": import_id,
        "rows": len(plan.rows),
        **counts,
        "errors": plan.errors + rejected,
        "warnings": plan.warnings,
    }


def replay_import(engine: Engine, user: User, job: dict[str, Any]) -> None:
    """A journaled import, applied again after a restore (nothing happens if it is there already)."""
    with engine.store.read() as conn:
        if db.import_exists(conn, job["import"]):
            return
    todo: list[TodoRow]
    if "mutations" in job:  # journaled before todo entries held their clock: the mutations were beside them
        mutations: Sequence[dict[str, Any]] = job["mutations"]
        todo = [
            (row, card, action, dumps_utf8(fields), dumps_utf8(was), m["at"])
            for (row, card, action, fields, was, *_), m in zip(job["todo"], mutations)
        ]
    else:
        todo = [
            (row, card, action, dumps_utf8(fields), dumps_utf8(was), at) for row, card, action, fields, was, at in job["todo"]
        ]
        mutations = _Mutations(job["import"], todo)
    _apply_import(
        engine, user, {k: v for k, v in job.items() if k not in ("todo", "mutations")}, todo, mutations, lambda d, t: None
    )


class _Mutations(Sequence[dict[str, Any]]):
    """An import's mutations, each made when the engine reaches it: made all at once, 50,000 of
    them held ~20 MB until the commit. A row's mutation id comes from the import's id and the
    row, so a replay after a restore writes the same ids (and its webhook events the same ids)."""

    def __init__(self, import_id: str, todo: Sequence[TodoRow]) -> None:
        self.namespace = uuid.UUID(import_id)
        self.todo = todo

    def __len__(self) -> int:
        return len(self.todo)

    @overload
    def __getitem__(self, n: int) -> dict[str, Any]: ...

    @overload
    def __getitem__(self, n: slice) -> list[dict[str, Any]]: ...

    def __getitem__(self, n: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(n, slice):
            return [self[i] for i in range(*n.indices(len(self)))]
        row, card, action, fields, was, at = self.todo[n]
        body = {
            "id": name_based_uuid(self.namespace, f"row-{row}"),
            "op": "card.put",
            "card": card,
            "at": at,
            "fields": loads_card_text(fields),
        }
        if action == "update":
            body["was"] = loads_card_text(was)
        return body


def _journal_text(job: dict[str, Any], todo: Sequence[TodoRow]) -> memoryview:
    """The journal entry of an import: its job with a todo entry per row, [row, card, action,
    fields, was, clock]. Written from each row's JSON as it is kept, into one buffer: the entry
    as Python objects held twice its size (~40 MB for 50,000 rows) beside the text. The buffer
    itself goes to SQLite, not a copy of it (13 MB for 50,000 rows)."""
    out = io.BytesIO()
    out.write(dumps_utf8(job)[:-1])
    out.write(b',"todo":[' if job else b'"todo":[')
    for n, (row, card, action, fields, was, at) in enumerate(todo):
        out.write(
            b"%s[%d,%s,%s,%s,%s,%s]"
            % (b"," if n else b"", row, dumps_utf8(card), dumps_utf8(action), fields, was, dumps_utf8(at))
        )
    out.write(b"]}")
    return out.getbuffer()


def _apply_import(
    engine: Engine,
    user: User,
    job: dict[str, Any],
    todo: Sequence[TodoRow],
    mutations: Sequence[dict[str, Any]],
    progress: Callable[[int, int], None],
    *,
    normal_under: tuple[list[dict[str, Any]], str] | None = None,
) -> list[dict[str, Any]]:
    import_id = job["import"]
    device = f"import:{import_id[:8]}"
    rejected: list[dict[str, Any]] = []

    def undo_rows(results: list[dict[str, Any] | None]) -> Iterator[tuple[str, int, str, str, bytes, bytes]]:
        """Each applied row as it was and as the import wrote it, made as SQLite takes them."""
        for (row, card, action, fields, was, _at), result in zip(todo, results):
            if result is not None and result["status"] == "rejected":
                rejected.append(problem(row, "", "", "rejected", detail="; ".join(e["message"] for e in result["errors"])))
                continue
            yield import_id, row, card, action, was, fields

    def record(conn: Any, results: list[dict[str, Any] | None]) -> None:
        db.insert_import_rows(conn, undo_rows(results))
        summary = {
            "rows": job["rows"],
            **job["counts"],
            "errors": job["plan_errors"] + len(rejected),
            "warnings": job.get("warnings", 0),
        }
        problems = job.get("problems")
        if problems is not None and rejected:
            problems = {**problems, "problems": problems["problems"] + rejected}
        db.insert_import(
            conn, import_id, user.name, utc_now(), job["filename"], job["mode"], ",".join(job["match"]), summary, problems
        )
        audit.record(conn, user.name, "import", import_id, {"file": job["filename"], **summary})
        events.emit(
            conn,
            "import.finished",
            f"import:{import_id}",
            {"id": import_id, "file": job["filename"], "mode": job["mode"], **summary},
            ref=import_id,
        )

    def journaled(conn: Any) -> None:
        """The journal entry: what the rows will do does not change it, and written first, its
        text (13 MB for 50,000 rows) and SQLite's copy of it are not held on top of the rest."""
        if not journal.replaying_now():
            journal.record(conn, user, "import", _journal_text(job, todo), ref=import_id)

    engine.apply(
        user,
        device,
        mutations,
        first=journaled,
        within=record,
        progress=lambda done: progress(done, len(todo)),
        brief=True,
        normal_under=normal_under,
        remember=False,  # the import record keeps it from being applied twice
    )
    progress(len(todo), len(todo))
    return rejected


# --- the problems of an import, as a spreadsheet to fix and import again --------------------------


def plan_problems(table: Table, plan: Plan) -> dict[str, Any]:
    """The rows of `table` with an error or a warning of the plan, with the card each row went to."""
    cards = {r.row: r.card for r in plan.rows if r.action in ("create", "update")}
    return problem_rows(table, plan.errors + plan.warnings, cards, plan.problem_cells)


def problem_rows(
    table: Table,
    problems: Sequence[dict[str, Any]],
    cards: dict[int, str | None] | None = None,
    cells: dict[int, list[str]] | None = None,
) -> dict[str, Any]:
    """What a problems file needs: the file's headers, and each row with a problem, cells as read
    (from `cells` when the table's rows were let go), with the card it went to (so that erasing
    that customer erases the row here too)."""
    numbers = sorted({p["row"] for p in problems if 2 <= p["row"] < len(table.rows) + 2})
    row_of = (lambda n: cells.get(n, [])) if cells is not None else (lambda n: table.rows[n - 2])
    return {
        "headers": table.headers,
        "rows": [[n, row_of(n), (cards or {}).get(n)] for n in numbers],
        "problems": list(problems),
    }


PROBLEM_COLUMNS = {"en": ("Import problems", "Row in the file"), "zh-CN": ("导入问题", "原文件行号")}


def problems_file(record: dict[str, Any], *, format: str, lang: str) -> tuple[bytes, str, str]:
    """(bytes, media type, file name) of the rows with problems, the file's own columns first and the
    problems, in the person's language, in a column after them: fix the cells and import it again
    (the extra columns are ignored)."""
    if format not in ("csv", "xlsx"):
        raise invalid("format", "must be csv or xlsx")
    if lang not in PROBLEM_COLUMNS:
        raise invalid("lang", "must be en or zh-CN")
    by_row: dict[int, list[str]] = {}
    for p in record["problems"]:
        by_row.setdefault(p["row"], []).append(
            message(p["code"], lang, p["column"], p["value"], p.get("params") or {}) if p.get("code") else p["message"]
        )
    headers = [*record["headers"], *PROBLEM_COLUMNS[lang]]
    rows = [[*cells, "; ".join(by_row.get(number, [])), str(number)] for number, cells, *_ in record["rows"]]
    if format == "xlsx":
        return write_xlsx(headers, rows, title="Problems"), XLSX_TYPE, "import-problems.xlsx"
    return write_csv(headers, rows), "text/csv; charset=utf-8", "import-problems.csv"


def stored_problems(engine: Engine, user: User, import_id: str) -> dict[str, Any]:
    """The problems record kept with an import."""
    office_only(user, "see imports")
    with engine.store.read() as conn:
        found = db.import_problems(conn, import_id)
    if found is None:
        raise NotFound("no such import")
    if not found[0]:
        return {"headers": [], "rows": [], "problems": []}
    return json.loads(found[0])


def list_imports(engine: Engine, user: User, limit: int = 500) -> list[dict[str, Any]]:
    """The imports, newest first: who, when, the file, its counts, and whether it was undone."""
    office_only(user, "see imports")
    with engine.store.read() as conn:
        rows = db.imports_newest_first(conn, limit)
    out = []
    for import_id, who, display, at, filename, mode, summary, undone, undone_by in rows:
        counts = json.loads(summary or "{}")
        out.append(
            {
                "id": import_id,
                "user": who,
                "display": display or who,
                "created_at": at,
                "filename": filename,
                "mode": mode,
                "rows": counts.get("rows", 0),
                "create": counts.get("create", 0),
                "update": counts.get("update", 0),
                "skip": counts.get("skip", 0),
                "errors": counts.get("errors", 0),
                "warnings": counts.get("warnings", 0),
                "undone_at": undone,
                "undone_by": undone_by,
            }
        )
    return out


def undone_at(conn: Any, import_id: str) -> str | None:
    row = db.import_undone_at(conn, import_id)
    return row[0] if row else None


def undo_import(engine: Engine, user: User, import_id: str) -> dict[str, Any]:
    """Put back what an import did; fields changed since become conflict records."""
    office_only(user, "may undo an import")
    mutations: list[dict[str, Any]] = []
    conflicts: list[dict[str, Any]] = []
    with engine.store.read() as conn:
        still_undoable(db.import_undone_at(conn, import_id), 0, "import")  # an unknown id ends here
        namespace = uuid.UUID(import_id)
        # The version each card had when the import left it: one query, not one per row.
        left_at = db.versions_left_by(conn, f"import:{import_id[:8]}")
        # A page of rows and their cards at a time, in one read transaction: an undo of 50,000
        # rows held every row and every card at once (~300 MB).
        for page in db.import_rows_pages(conn, import_id):
            current = db.cards_json(conn, [card for _, card, *_ in page])
            for number, card, action, before_json, after_json in page:
                now_card = current.get(card)
                if now_card is None or now_card.get("deleted"):
                    continue
                mutation_id = name_based_uuid(namespace, f"undo-{number}")
                before, after = loads_card_text(before_json), loads_card_text(after_json)
                if action == "create":
                    mutations.append(_undo_create(engine, mutation_id, card, now_card, after, left_at))
                    continue
                mutation = _undo_update(engine, user, import_id, mutation_id, card, now_card, before, after, conflicts)
                if mutation is not None:
                    mutations.append(mutation)

    def finish(conn: Any, results: list[dict[str, Any]]) -> None:
        for record in conflicts:
            db.insert_conflict(conn, record, None)
        db.mark_import_undone(conn, import_id, utc_now(), user.name)
        audit.record(conn, user.name, "import.undo", import_id, {"changes": len(mutations), "conflicts": len(conflicts)})
        journal.record(conn, user, "import.undo", {}, ref=import_id)

    results = engine.apply(user, f"undo:{import_id[:8]}", mutations, within=finish, brief=True, remember=False)
    statuses: dict[str, int] = {}
    for result in results:
        status = "applied" if result is None else result["status"]
        statuses[status] = statuses.get(status, 0) + 1
    return {"import": import_id, "undone": len(mutations), "statuses": statuses, "conflicts": len(conflicts)}


def _undo_create(
    engine: Engine, mutation_id: str, card: str, now_card: dict[str, Any], after: dict[str, Any], left_at: dict[str, int]
) -> dict[str, Any]:
    """Deleting at the version the import left: if someone edited since, the delete-vs-edit rule
    keeps the card and records a conflict for a person to decide. A card that is again exactly
    as imported (a merge undone, say) holds nobody's work: it goes."""
    left = int(left_at.get(card) or 1)
    untouched = now_card["version"] == left or all(  # still the version the import left: nothing to compare
        values_equal(now_card.get(name), after.get(name, EMPTY_VALUES[name])) for name in CARD_FIELDS if name != "owner"
    )
    version = now_card["version"] if untouched else left
    return {"id": mutation_id, "op": "card.delete", "card": card, "at": engine.clock.now(), "version": version}


def _undo_update(
    engine: Engine,
    user: User,
    import_id: str,
    mutation_id: str,
    card: str,
    now_card: dict[str, Any],
    before: dict[str, Any],
    after: dict[str, Any],
    conflicts: list[dict[str, Any]],
) -> dict[str, Any] | None:
    """The fields an import updated, put back where nobody changed them since; a field changed
    since becomes a conflict record (added to `conflicts`) instead."""
    fields: dict[str, Any] = {}
    was: dict[str, Any] = {}
    for name, written in after.items():
        value = now_card.get(name)
        if name in SET_FIELDS:
            added = [v for v in written if v not in (before.get(name) or [])]
            if any(v in (value or []) for v in added):
                fields[name], was[name] = [v for v in value or [] if v not in added], value
        elif value == written:
            fields[name], was[name] = before.get(name), written
        else:
            conflicts.append(
                {
                    "id": str(uuid.uuid4()),
                    "card": card,
                    "field": name,
                    "status": "open",
                    "kept": value,
                    "other": before.get(name),
                    "kept_by": None,
                    "other_by": f"undo of import {import_id[:8]} by {user.name}",
                    "kept_at": now_card.get("updated_at"),
                    "other_at": utc_now(),
                    "created_at": utc_now(),
                }
            )
    if not fields:
        return None
    return {"id": mutation_id, "op": "card.put", "card": card, "at": engine.clock.now(), "fields": fields, "was": was}
