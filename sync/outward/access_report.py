"""The right of access as a document a person reads: the JSON export of one customer
(`privacy.customer_export`) rendered as one self-contained HTML page, in English or Chinese.

Every value goes through `html.escape`; the page has no script, no link to anything outside it and
no image, so it opens the same from a download folder years later. Nothing is left out: each key
of the JSON export has its section, and a value of a shape we did not foresee is written as JSON.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

from sync.cards.validate import CARD_FIELDS

LANGS = ("en", "zh-CN")
CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

TEXT: dict[str, dict[str, str]] = {
    "title": {"en": "Personal information held about {name}", "zh-CN": "关于{name}的个人信息"},
    "intro": {
        "en": "Everything this system holds about one customer, exported on {at} (UTC) for the right of "
        "access (PIPL art. 45). The same data comes as JSON from the same address without format=html.",
        "zh-CN": "本系统持有的关于该客户的全部信息，于 {at}（UTC）导出，供行使查阅权（《个人信息保护法》第四十五条）。"
        "去掉 format=html 即可从同一地址取得 JSON 格式的相同数据。",
    },
    "card": {"en": "Card", "zh-CN": "客户卡片"},
    "history": {"en": "History of changes", "zh-CN": "修改记录"},
    "activities": {"en": "Activities", "zh-CN": "活动记录"},
    "survey_answers": {"en": "Survey answers", "zh-CN": "问卷回答"},
    "attachments": {"en": "Attachments (listed; files not included)", "zh-CN": "附件（仅列出，不含文件本身）"},
    "links": {"en": "Customer links", "zh-CN": "客户链接"},
    "conflicts": {"en": "Conflict records", "zh-CN": "冲突记录"},
    "merged_cards": {"en": "Cards merged into this one", "zh-CN": "已合并到此卡片的卡片"},
    "imports": {"en": "Spreadsheet imports", "zh-CN": "表格导入"},
    "audit": {"en": "Audit log entries", "zh-CN": "审计日志"},
    "other": {"en": "Other", "zh-CN": "其他"},
    "none": {"en": "None.", "zh-CN": "无。"},
    "field": {"en": "Field", "zh-CN": "字段"},
    "value": {"en": "Value", "zh-CN": "值"},
}
FIELD_NAMES = {
    "id": ("Card ID", "卡片编号"),
    "name": ("Name", "姓名"),
    "company": ("Company", "公司"),
    "title": ("Job title", "职位"),
    "phones": ("Phones", "电话"),
    "emails": ("Emails", "邮箱"),
    "address": ("Address", "地址"),
    "region": ("Region", "地区"),
    "industry": ("Industry", "行业"),
    "segment": ("Segment", "客户等级"),
    "tags": ("Tags", "标签"),
    "owner": ("Owner", "负责人"),
    "birthday": ("Birthday", "生日"),
    "follow_up": ("Follow-up", "下次跟进"),
    "notes": ("Notes", "备注"),
    "custom": ("Custom fields", "自定义字段"),
    "location": ("Location", "位置"),
    "stage": ("Stage", "阶段"),
    "follow_ups": ("Follow-up items", "跟进事项"),
    "consent": ("Contact consent", "联系同意"),
    "version": ("Version", "版本"),
    "created_at": ("Created", "创建时间"),
    "updated_at": ("Updated", "更新时间"),
    "deleted": ("Deleted", "已删除"),
}
# Column headings: the key in the JSON export, then its words.
COLUMNS = {
    "version": ("Version", "版本"),
    "at": ("When", "时间"),
    "user": ("By", "操作人"),
    "device": ("Device", "设备"),
    "via": ("Via", "途径"),
    "changes": ("Changes", "修改内容"),
    "id": ("ID", "编号"),
    "kind": ("Kind", "类型"),
    "text": ("Text", "内容"),
    "amount": ("Amount", "金额"),
    "currency": ("Currency", "币种"),
    "rating": ("Rating", "评分"),
    "by": ("By", "记录人"),
    "survey": ("Survey", "问卷"),
    "answers": ("Answers", "回答"),
    "activity": ("Activity", "活动"),
    "name": ("Name", "名称"),
    "type": ("Type", "类型"),
    "size": ("Bytes", "字节"),
    "sha256": ("SHA-256", "SHA-256"),
    "uploaded": ("Uploaded", "已上传"),
    "created_at": ("Created", "创建时间"),
    "purpose": ("Purpose", "用途"),
    "expires": ("Expires", "过期时间"),
    "created_by": ("Created by", "创建人"),
    "used_at": ("Used", "使用时间"),
    "revoked_at": ("Withdrawn", "撤回时间"),
    "answer": ("Answer", "回答"),
    "field": ("Field", "字段"),
    "status": ("Status", "状态"),
    "kept": ("Kept", "保留值"),
    "other": ("Other", "另一值"),
    "import": ("Import", "导入"),
    "file": ("File", "文件"),
    "row": ("Row", "行"),
    "action": ("Action", "操作"),
    "values": ("Values", "值"),
    "actor": ("Who", "操作人"),
    "target": ("Target", "对象"),
    "detail": ("Detail", "详情"),
    "authored_at": ("Written on the device", "设备上的时间"),
    "received_at": ("Received", "服务器收到时间"),
    "mutation": ("Change ID", "修改编号"),
    "card": ("Card", "卡片"),
    "kept_by": ("Kept from", "保留值来自"),
    "other_by": ("Other from", "另一值来自"),
    "kept_at": ("Kept written", "保留值时间"),
    "other_at": ("Other written", "另一值时间"),
    "prev_hash": ("Previous hash", "前一条哈希"),
    "hash": ("Hash", "哈希"),
    "location": ("Position", "位置"),
}


def _words(key: str, lang: str, table: dict[str, tuple[str, str]]) -> str:
    pair = table.get(key)
    return key if pair is None else pair[0] if lang == "en" else pair[1]


def value_text(value: Any) -> str:
    """A stored value as text (before escaping): lists joined, objects as `key: value`, null as —."""
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(value_text(v) if not isinstance(v, dict) else "{" + value_text(v) + "}" for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {value_text(v)}" for k, v in value.items())
    return str(value)


def _cell(value: Any) -> str:
    return f"<td>{escape(value_text(value))}</td>"


def _table(rows: list[dict[str, Any]], lang: str, none: str) -> str:
    if not rows:
        return f"<p>{none}</p>"
    keys: list[str] = []
    for row in rows:
        keys += [k for k in row if k not in keys]
    head = "".join(f'<th scope="col">{escape(_words(k, lang, COLUMNS))}</th>' for k in keys)
    body = "".join("<tr>" + "".join(_cell(row.get(k)) for k in keys) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _history_rows(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Changes as `field: old → new`, one line per field."""
    out = []
    for entry in history:
        row = dict(entry)
        changes = entry.get("changes") or {}
        row["changes"] = "\n".join(
            f"{name}: {value_text(pair[0])} → {value_text(pair[1])}"
            if isinstance(pair, list) and len(pair) == 2
            else f"{name}: {value_text(pair)}"
            for name, pair in changes.items()
        )
        out.append(row)
    return out


def render(export: dict[str, Any], lang: str) -> str:
    """The page. `lang` is en or zh-CN."""
    say = {key: words[lang] for key, words in TEXT.items()}
    card = export.get("card") or {}
    none = escape(say["none"])
    sections = []
    names = [*dict.fromkeys(["id", *CARD_FIELDS, *card])]
    card_rows = "".join(
        f'<tr><th scope="row">{escape(_words(name, lang, FIELD_NAMES))}</th>{_cell(card.get(name))}</tr>'
        for name in names
        if name in card
    )
    sections.append(
        f'<section id="card"><h2>{escape(say["card"])}</h2><table><thead><tr><th scope="col">'
        f'{escape(say["field"])}</th><th scope="col">{escape(say["value"])}</th></tr></thead>'
        f"<tbody>{card_rows}</tbody></table></section>"
    )
    shown = {"exported_at", "card"}
    for key in (
        "history",
        "activities",
        "survey_answers",
        "attachments",
        "links",
        "conflicts",
        "merged_cards",
        "imports",
        "audit",
    ):
        if key not in export:
            continue
        shown.add(key)
        rows = export[key] or []
        if key == "history":
            rows = _history_rows(rows)
        if key == "merged_cards":
            rows = [{"id": c.get("id"), "name": c.get("name"), "values": c} for c in rows if c]
        sections.append(f'<section id="{key}"><h2>{escape(say[key])}</h2>{_table(rows, lang, none)}</section>')
    rest = {k: v for k, v in export.items() if k not in shown}
    if rest:  # a key added to the JSON export later still reaches the reader
        sections.append(
            f'<section id="other"><h2>{escape(say["other"])}</h2><pre>'
            f"{escape(json.dumps(rest, ensure_ascii=False, indent=2))}</pre></section>"
        )
    title = say["title"].format(name=card.get("name") or card.get("id") or "")
    intro = say["intro"].format(at=export.get("exported_at") or "")
    return (
        f'<!doctype html>\n<html lang="{lang}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="robots" content="noindex"><title>{escape(title)}</title><style>{STYLE}</style></head>'
        f"<body><main><h1>{escape(title)}</h1><p>{escape(intro)}</p>{''.join(sections)}</main></body></html>\n"
    )


STYLE = (
    "body{font:15px/1.5 system-ui,-apple-system,'PingFang SC','Microsoft YaHei',sans-serif;margin:2em;color:#111}"
    "table{border-collapse:collapse;margin:.5em 0 1.5em;width:100%}th,td{border:1px solid #bbb;padding:.3em .5em;"
    "text-align:left;vertical-align:top;white-space:pre-wrap;word-break:break-word}thead th{background:#eee}"
    "tbody th{width:12em;background:#f6f6f6}pre{white-space:pre-wrap}"
    "@media print{body{margin:0}h2{break-after:avoid}tr{break-inside:avoid}}"
)


def pick_language(asked: str | None, accept_language: str | None) -> str:
    """`lang=` when given; else the first of Accept-Language we have (zh, zh-CN, zh-Hans → zh-CN); else en."""
    if asked:
        return asked
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return "zh-CN"
        if tag.startswith("en"):
            return "en"
    return "en"
