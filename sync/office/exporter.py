"""Spreadsheet export of exactly the cards a user may see under the given filters. The columns
are those the importer reads back, so exporting and importing the same file changes nothing (the
rules that make it so are in `spreadsheet`: quoted list items, the CSV formula guard, text cells)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sync import audit, db
from sync.cards import queries, template
from sync.access import User
from sync.times import utc_now
from sync.errors import invalid
from sync.cards.validate import CONSENT_CHANNELS, SHEET_FIELDS
from sync.office.cells import consent_cells
from sync.office.spreadsheet import join_list, write_csv, write_xlsx
from sync.db import Store

COLUMNS = ("id", *SHEET_FIELDS, "created_at", "updated_at")
HEADERS_ZH = {
    "id": "编号",
    "name": "姓名",
    "company": "公司",
    "title": "职位",
    "phones": "手机/电话",
    "emails": "邮箱",
    "address": "地址",
    "region": "地区",
    "industry": "行业",
    "segment": "客户等级",
    "tags": "标签",
    "owner": "负责人",
    "birthday": "生日",
    "follow_up": "下次跟进",
    "notes": "备注",
    "created_at": "创建时间",
    "updated_at": "更新时间",
}
# Consent and its basis (issue 18): three columns the importer reads back (sync/office/cells.py).
CONSENT_COLUMNS = ("consent", "consent_basis", "consent_at")
CONSENT_HEADERS_ZH = {"consent": "联系同意", "consent_basis": "处理依据", "consent_at": "同意日期"}
CONSENT_FILTERS = ("granted", "refused", "unknown")
# Where the customer is (issue 16): WGS-84 degrees, read back by the importer (经度/纬度, lat/lng).
LOCATION_COLUMNS = ("latitude", "longitude")
LOCATION_HEADERS_ZH = {"latitude": "纬度", "longitude": "经度"}
# Links to the card's photos and files, one per line; the importer ignores this column.
ATTACHMENTS_HEADER = {"en": "attachments", "zh-CN": "附件"}
FORMATS = {"csv": "text/csv; charset=utf-8", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def _cell(value: Any) -> str:
    """A value as its cell. Lists go through `join_list`, which quotes an item holding a separator,
    so that a tag `a; b` comes back as one tag. Characters no spreadsheet can hold are replaced by
    the writers (`spreadsheet.UNWRITABLE`): an export never fails on what is stored."""
    if value is None:
        return ""
    if isinstance(value, list):
        return join_list(str(v) for v in value)
    return str(value)


def consent_filter(value: str | None) -> Any:
    """`consent=granted`, `refused`, `unknown` (no record counts as unknown) or `granted:phone` (a
    granted consent that covers that channel) as a test on a card; None for no filter."""
    if not value:
        return None
    contact, _, channel = value.partition(":")
    if contact not in CONSENT_FILTERS or (channel and (contact != "granted" or channel not in CONSENT_CHANNELS)):
        raise invalid("consent", "granted, refused or unknown, or granted:phone (email, message, visit)")

    def test(card: dict[str, Any]) -> bool:
        held = card.get("consent") or {"contact": "unknown", "channels": []}
        return held["contact"] == contact and (not channel or not held["channels"] or channel in held["channels"])

    return test


def _cards(st: Store, user: User, filters: dict[str, str]) -> Iterator[dict[str, Any]]:
    filters = dict(filters)
    keep = consent_filter(filters.pop("consent", None))
    params = {**filters, "limit": str(queries.MAX_PAGE)}
    while True:
        page = queries.list_cards(st, user, params)
        yield from (card for card in page["cards"] if keep is None or keep(card))
        if not page["next"]:
            return
        params["after"] = page["next"]


def _location_cells(value: Any) -> list[str]:
    if not isinstance(value, dict):
        return ["", ""]
    return [_cell(value.get("lat")), _cell(value.get("lng"))]


def export(st: Store, user: User, params: dict[str, str], *, base_url: str = "") -> tuple[bytes, str, str, int]:
    """The file, its media type, a file name, and how many cards it holds. `base_url` (the
    server's address) makes the attachment links absolute, so that they open from a spreadsheet."""
    params = dict(params)
    fmt = params.pop("format", "csv")
    lang = params.pop("lang", "en")
    if fmt not in FORMATS:
        raise invalid("format", "must be csv or xlsx")
    if lang not in ("en", "zh-CN"):
        raise invalid("lang", "must be en or zh-CN")
    with st.read() as conn:
        custom = template.active(template.load(conn))
    headers = [HEADERS_ZH[c] if lang == "zh-CN" else c for c in COLUMNS]
    headers += [CONSENT_HEADERS_ZH[c] if lang == "zh-CN" else c for c in CONSENT_COLUMNS]
    headers += [LOCATION_HEADERS_ZH[c] if lang == "zh-CN" else c for c in LOCATION_COLUMNS]
    headers += [spec["label"]["zh-CN"] if lang == "zh-CN" else f"custom.{spec['key']}" for spec in custom]
    headers.append(ATTACHMENTS_HEADER[lang])
    rows = [
        [_cell(card.get(column)) for column in COLUMNS]
        + list(consent_cells(card.get("consent")))
        + _location_cells(card.get("location"))
        + [_cell((card.get("custom") or {}).get(spec["key"])) for spec in custom]
        for card in _cards(st, user, params)
    ]
    with st.read() as conn:
        links = [db.attachment_ids_of_card(conn, row[0]) for row in rows]
    for row, ids in zip(rows, links):
        row.append("\n".join(f"{base_url.rstrip('/')}/api/v1/attachments/{i}" for i in ids))
    data = write_csv(headers, rows) if fmt == "csv" else write_xlsx(headers, rows)
    with st.write() as conn:
        audit.record(conn, user.name, "export", fmt, {"cards": len(rows), "filters": params})
    stamp = utc_now()[:10]
    return data, FORMATS[fmt], f"fieldcards-{stamp}.{fmt}", len(rows)
