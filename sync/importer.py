"""Spreadsheet import: map columns to card fields, plan every row (create, update or skip, with
each error at its row and column), and apply the plan as one recorded batch of ordinary
mutations, so history, merge rules and conflicts work as for any device. An import can be undone:
created cards are deleted, updated fields go back to what they were, and a field someone changed
after the import becomes a conflict record instead of being overwritten.
"""
from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import audit, journal, store, template
from .access import User, owner_filter
from .engine import Engine
from .times import utc_now
from .errors import InvalidInput, NotAllowed, NotFound, invalid
from .spreadsheet import Table, split_list
from .merge import values_equal
from .validate import CARD_FIELDS, EMPTY_VALUES, canonical_uuid, validate_card_fields

SET_FIELDS = ("phones", "emails", "tags")
IMPORTABLE = ("id", "name", "company", "title", "phones", "emails", "address", "region", "industry",
              "segment", "tags", "owner", "birthday", "follow_up", "notes")
MATCH_KEYS = ("phone", "email", "name+company")
MODES = ("create", "update", "upsert")
PREVIEW_ROWS = 200

# Headers people write, in English and Chinese, for each field (compared without case and spaces).
ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("id", "cardid", "卡片id", "编号"),
    "name": ("name", "fullname", "contact", "customer", "姓名", "客户名称", "客户姓名", "联系人", "名字", "客户"),
    "company": ("company", "organization", "organisation", "公司", "公司名称", "单位", "企业"),
    "title": ("title", "jobtitle", "position", "职位", "职务", "头衔"),
    "phones": ("phone", "phones", "mobile", "tel", "telephone", "cell", "手机", "电话", "手机号", "手机号码",
               "联系电话", "手机/电话", "电话/手机"),
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


@dataclass
class RowPlan:
    row: int  # as the person sees it in Excel: the header is row 1
    action: str  # create | update | skip
    card: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    was: dict[str, Any] = field(default_factory=dict)
    reason: str = ""

    def public(self) -> dict[str, Any]:
        out: dict[str, Any] = {"row": self.row, "action": self.action}
        if self.card:
            out["card"] = self.card
        if self.fields:
            out["fields"] = self.fields
        if self.reason:
            out["reason"] = self.reason
        return out


@dataclass
class Plan:
    rows: list[RowPlan]
    errors: list[dict[str, Any]]
    mapping: dict[str, str]

    def counts(self) -> dict[str, int]:
        return {action: sum(1 for r in self.rows if r.action == action) for action in ("create", "update", "skip")}


class _Known:
    """The live cards the user may see, indexed by the match keys."""

    def __init__(self, conn: Any, user: User) -> None:
        self.cards: dict[str, dict[str, Any]] = {}
        self.by_key: dict[str, str] = {}
        for card in store.live_cards(conn, owner_filter(user)):
            self.add(card)

    def add(self, card: dict[str, Any]) -> None:
        self.cards[card["id"]] = card
        for key in self.keys_of(card):
            self.by_key.setdefault(key, card["id"])

    @staticmethod
    def keys_of(card: dict[str, Any]) -> list[str]:
        keys = [f"phone:{p}" for p in card.get("phones") or []] + [f"email:{e}" for e in card.get("emails") or []]
        if card.get("name") and card.get("company"):
            keys.append(f"name+company:{card['name'].strip().lower()}\x00{card['company'].strip().lower()}")
        return keys

    def match(self, fields: dict[str, Any], match: Sequence[str]) -> str | None:
        for key in self.keys_of(fields):
            if key.split(":", 1)[0] in match and key in self.by_key:
                return self.by_key[key]
        return None


def _custom_cell(spec: dict[str, Any], text: str) -> Any:
    """A custom field's cell as the value its type wants; a bad value is left for validation to name."""
    kind = spec["type"]
    if kind == "number":
        try:
            number = float(text.replace(",", ""))
            return int(number) if number.is_integer() else number
        except ValueError:
            return text
    if kind == "choices":
        return split_list(text)
    if kind == "date":
        return text.strip().replace("/", "-").replace(".", "-")[:10]
    return text


def _cells_to_fields(cells: dict[str, str], specs: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for name, text in cells.items():
        if not text:
            continue
        if name.startswith("custom."):
            key = name.removeprefix("custom.")
            fields.setdefault("custom", {})[key] = _custom_cell((specs or {})[key], text)
        elif name in SET_FIELDS:
            fields[name] = split_list(text)  # `a; b` split, `"a; b"` kept whole
        elif name == "segment":
            fields[name] = text.strip().upper()
        elif name in ("birthday", "follow_up"):
            fields[name] = text.strip().replace("/", "-").replace(".", "-")[:10]
        else:
            fields[name] = text
    return fields


def _changes(current: dict[str, Any], new: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """What an update changes: non-empty cells that differ; sets gain the new elements."""
    fields, was = {}, {}
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
        elif value != before:
            fields[name], was[name] = value, before
    return fields, was


def plan_import(engine: Engine, user: User, table: Table, *, mapping: dict[str, Any] | None,
                match: Sequence[str], mode: str) -> Plan:
    if not user.sees_everything:
        raise NotAllowed("only office staff and admins may import")
    if mode not in MODES:
        raise invalid("mode", "must be create, update or upsert")
    for key in match:
        if key not in MATCH_KEYS:
            raise invalid("match", f"unknown match key {key!r}: use phone, email or name+company")
    with engine.store.read() as conn:
        specs = {f["key"]: f for f in template.for_validation(template.load(conn))}
    columns = check_mapping(table.headers, mapping if mapping is not None else suggest_mapping(table.headers, list(specs.values())),
                            list(specs))
    index = {header: n for n, header in enumerate(table.headers)}
    column_of = {name: header for header, name in columns.items()}
    errors = [{"row": r, "column": table.headers[c - 1] if c - 1 < len(table.headers) else str(c),
               "message": f"a formula ({text}); paste values instead"} for r, c, text in table.formulas if r > 1]
    formula_rows = {r for r, _, _ in table.formulas}
    with engine.store.read() as conn:
        known = _Known(conn, user)
        users = {r[0] for r in conn.execute("SELECT name FROM users WHERE disabled = 0")}
    plans: list[RowPlan] = []
    seen_in_file: dict[str, int] = {}
    for offset, cells in enumerate(table.rows):
        number = offset + 2
        raw = _cells_to_fields({name: cells[index[header]] for header, name in columns.items()}, specs)
        card_id = raw.pop("id", None)
        row_errors: list[dict[str, Any]] = []
        try:
            fields = validate_card_fields(raw, region=engine.default_region, creating=False,
                                          custom_fields=list(specs.values()))
        except InvalidInput as error:
            fields = {}
            for problem in error.fields:
                name = re.split(r"[\[.]", problem.path, maxsplit=1)[0]
                if name == "custom":
                    name = "custom." + re.split(r"[\[.]", problem.path)[1]
                row_errors.append({"row": number, "column": column_of.get(name, name), "message": problem.message})
        if "owner" in fields and fields["owner"] not in users:
            row_errors.append({"row": number, "column": column_of["owner"], "message": f"no user named {fields['owner']!r}"})
        if number in formula_rows:
            row_errors.append({"row": number, "column": "", "message": "the row holds a formula"})
        if row_errors:
            errors.extend(e for e in row_errors if e["column"])
            plans.append(RowPlan(number, "skip", reason="; ".join(e["message"] for e in row_errors)))
            continue
        plan = _plan_row(number, fields, card_id, known, match, mode, seen_in_file, column_of, errors)
        missing = [k for k, spec in specs.items() if spec.get("required") and not (fields.get("custom") or {}).get(k)]
        if plan.action == "create" and missing:
            for key in missing:
                errors.append({"row": number, "column": column_of.get(f"custom.{key}", f"custom.{key}"), "message": "required"})
            plan = RowPlan(number, "skip", reason="required fields missing: " + ", ".join(missing))
        plans.append(plan)
    return Plan(plans, errors, columns)


def _plan_row(number: int, fields: dict[str, Any], card_id: str | None, known: _Known, match: Sequence[str],
              mode: str, seen_in_file: dict[str, int], column_of: dict[str, str], errors: list[dict[str, Any]]) -> RowPlan:
    target = None
    if card_id:
        try:
            target = canonical_uuid(card_id)
        except ValueError:
            errors.append({"row": number, "column": column_of["id"], "message": "not a card id"})
            return RowPlan(number, "skip", reason="not a card id")
        target = target if target in known.cards else None
    target = target or known.match(fields, match)
    for key in known.keys_of(fields):
        if key.split(":", 1)[0] in match and key in seen_in_file:
            return RowPlan(number, "skip", reason=f"the same customer as row {seen_in_file[key]} of this file")
    for key in known.keys_of(fields):
        seen_in_file.setdefault(key, number)
    if target is None:
        if mode == "update":
            return RowPlan(number, "skip", reason="no matching card")
        if "name" not in fields:
            errors.append({"row": number, "column": column_of.get("name", "name"), "message": "required for a new card"})
            return RowPlan(number, "skip", reason="no name")
        return RowPlan(number, "create", card=str(uuid.uuid4()), fields=fields)
    if mode == "create":
        return RowPlan(number, "skip", card=target, reason="matches an existing card")
    changed, was = _changes(known.cards[target], fields)
    if not changed:
        return RowPlan(number, "skip", card=target, reason="unchanged")
    return RowPlan(number, "update", card=target, fields=changed, was=was)


def run_import(engine: Engine, user: User, plan: Plan, *, filename: str, mode: str, match: Sequence[str],
               progress: Callable[[int, int], None] = lambda done, total: None) -> dict[str, Any]:
    """Apply a plan as one recorded batch; returns the contract's summary with the import id.

    All or nothing: every row, the import record and its audit entry commit in one transaction,
    so a server killed midway leaves no trace of the import rather than half of it under a
    record that claims all of it. The price is that other writers wait while it commits (about
    5 s per 20,000 rows on a small machine)."""
    import_id = str(uuid.uuid4())
    todo = [r for r in plan.rows if r.action in ("create", "update")]
    namespace = uuid.UUID(import_id)
    mutations = []
    for r in todo:
        body = {"id": str(uuid.uuid5(namespace, f"row-{r.row}")), "op": "card.put", "card": r.card,
                "at": engine.clock.now(), "fields": r.fields}
        if r.action == "update":
            body["was"] = r.was
        mutations.append(body)
    # Everything needed to do this import again, word for word: it is journaled with the import,
    # so that a restore to a point before it can re-apply it (sync/journal.py).
    job = {"import": import_id, "filename": filename[:200], "mode": mode, "match": list(match),
           "rows": len(plan.rows), "counts": plan.counts(), "plan_errors": len(plan.errors),
           "todo": [[r.row, r.card, r.action, r.fields, r.was] for r in todo], "mutations": mutations}
    rejected = _apply_import(engine, user, job, progress)
    return {"import": import_id, "rows": len(plan.rows), **plan.counts(), "errors": plan.errors + rejected}


def replay_import(engine: Engine, user: User, job: dict[str, Any]) -> None:
    """A journaled import, applied again after a restore (nothing happens if it is there already)."""
    with engine.store.read() as conn:
        if conn.execute("SELECT 1 FROM imports WHERE id = ?", (job["import"],)).fetchone():
            return
    _apply_import(engine, user, job, lambda done, total: None)


def _apply_import(engine: Engine, user: User, job: dict[str, Any],
                  progress: Callable[[int, int], None]) -> list[dict[str, Any]]:
    import_id, todo = job["import"], job["todo"]
    device = f"import:{import_id[:8]}"
    rejected: list[dict[str, Any]] = []

    def record(conn: Any, results: list[dict[str, Any]]) -> None:
        for (row, card, action, fields, was), result in zip(todo, results):
            if result["status"] == "rejected":
                rejected.append({"row": row, "column": "", "message": "; ".join(e["message"] for e in result["errors"])})
                continue
            conn.execute('INSERT INTO import_rows("import", row, card, action, before, after) VALUES (?, ?, ?, ?, ?, ?)',
                         (import_id, row, card, action, json.dumps(was, ensure_ascii=False),
                          json.dumps(fields, ensure_ascii=False)))
        summary = {"rows": job["rows"], **job["counts"], "errors": job["plan_errors"] + len(rejected)}
        conn.execute("INSERT INTO imports(id, user, created_at, filename, mode, match, summary) VALUES (?, ?, ?, ?, ?, ?, ?)",
                     (import_id, user.name, utc_now(), job["filename"], job["mode"], ",".join(job["match"]),
                      json.dumps(summary)))
        audit.record(conn, user.name, "import", import_id, {"file": job["filename"], **summary})
        journal.record(conn, user, "import", job, ref=import_id)

    engine.apply(user, device, job["mutations"], within=record, progress=lambda done: progress(done, len(todo)))
    progress(len(todo), len(todo))
    return rejected


def undone_at(conn: Any, import_id: str) -> str | None:
    row = conn.execute("SELECT undone_at FROM imports WHERE id = ?", (import_id,)).fetchone()
    return row[0] if row else None


def undo_import(engine: Engine, user: User, import_id: str) -> dict[str, Any]:
    """Put back what an import did; fields changed since become conflict records."""
    if not user.sees_everything:
        raise NotAllowed("only office staff and admins may undo an import")
    with engine.store.read() as conn:
        found = conn.execute("SELECT undone_at FROM imports WHERE id = ?", (import_id,)).fetchone()
        if found is None:
            raise NotFound("no such import")
        if found[0]:
            raise invalid("import", "this import was undone already")
        rows = conn.execute('SELECT row, card, action, before, after FROM import_rows WHERE "import" = ? ORDER BY row',
                            (import_id,)).fetchall()
        current = {card: store.card_json(conn, card) for _, card, _, _, _ in rows}
        # The version each card had when the import left it: one query, not one per row.
        left_at = dict(conn.execute("SELECT card, max(version) FROM history WHERE device = ? GROUP BY card",
                                    (f"import:{import_id[:8]}",)).fetchall())
    namespace = uuid.UUID(import_id)
    mutations: list[dict[str, Any]] = []
    conflicts: list[dict[str, Any]] = []
    for number, card, action, before_json, after_json in rows:
        now_card = current.get(card)
        if now_card is None or now_card.get("deleted"):
            continue
        mutation_id = str(uuid.uuid5(namespace, f"undo-{number}"))
        before, after = json.loads(before_json), json.loads(after_json)
        if action == "create":
            # Deleting at the version the import left: if someone edited since, the delete-vs-edit
            # rule keeps the card and records a conflict for a person to decide. A card that is
            # again exactly as imported (a merge undone, say) holds nobody's work: it goes.
            untouched = all(values_equal(now_card.get(name), after.get(name, EMPTY_VALUES[name]))
                            for name in CARD_FIELDS if name != "owner")
            version = now_card["version"] if untouched else int(left_at.get(card) or 1)
            mutations.append({"id": mutation_id, "op": "card.delete", "card": card, "at": engine.clock.now(),
                              "version": version})
            continue
        fields, was = {}, {}
        for name, written in after.items():
            value = now_card.get(name)
            if name in SET_FIELDS:
                added = [v for v in written if v not in (before.get(name) or [])]
                if any(v in (value or []) for v in added):
                    fields[name], was[name] = [v for v in value or [] if v not in added], value
            elif value == written:
                fields[name], was[name] = before.get(name), written
            else:
                conflicts.append({"id": str(uuid.uuid4()), "card": card, "field": name, "status": "open",
                                  "kept": value, "other": before.get(name), "kept_by": None,
                                  "other_by": f"undo of import {import_id[:8]} by {user.name}",
                                  "kept_at": now_card.get("updated_at"), "other_at": utc_now(), "created_at": utc_now()})
        if fields:
            mutations.append({"id": mutation_id, "op": "card.put", "card": card, "at": engine.clock.now(),
                              "fields": fields, "was": was})

    def finish(conn: Any, results: list[dict[str, Any]]) -> None:
        for record in conflicts:
            store.insert_conflict(conn, record, None)
        conn.execute("UPDATE imports SET undone_at = ?, undone_by = ? WHERE id = ?", (utc_now(), user.name, import_id))
        audit.record(conn, user.name, "import.undo", import_id, {"changes": len(mutations), "conflicts": len(conflicts)})
        journal.record(conn, user, "import.undo", {}, ref=import_id)

    results = engine.apply(user, f"undo:{import_id[:8]}", mutations, within=finish)
    statuses: dict[str, int] = {}
    for result in results:
        statuses[result["status"]] = statuses.get(result["status"], 0) + 1
    return {"import": import_id, "undone": len(mutations), "statuses": statuses, "conflicts": len(conflicts)}
