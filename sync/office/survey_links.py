"""Survey links for many cards at once (issue 17): the rows the desktop table shows, each given a
link by a `link.create` of the caller's (audited and in history like one made on a phone), answered
as a spreadsheet for bulk SMS or WeChat. Fieldcards sends no messages itself."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

from sync import audit
from sync.access import User
from sync.errors import NotFound, invalid
from sync.office.spreadsheet import XLSX_TYPE, write_csv, write_xlsx
from sync.outward.surveys import LANGS, find
from sync.times import utc_now

BULK_LIMIT = 5000

SHEET_HEADERS = {
    "en": ["id", "name", "company", "phones", "owner", "link", "expires"],
    "zh-CN": ["编号", "姓名", "公司", "电话", "负责人", "链接", "有效期至"],
}


def bulk_links(engine: Any, user: User, survey_id: str, body: object, origin: str) -> tuple[bytes, str, str, int]:
    """Links to one survey for many cards at once (the rows the desktop table shows): `{"cards":
    [ids], "days": 1–90, "format": "xlsx"|"csv", "lang": "en"|"zh-CN"}`. The server declares each
    link (`link.create` by the caller, so each is in the audit log and history like one made on a
    phone) and answers a spreadsheet for bulk SMS or WeChat."""
    if not isinstance(body, dict) or set(body) - {"cards", "days", "format", "lang"}:
        raise invalid("", 'send {"cards": [card ids], "days": 14, "format": "xlsx", "lang": "zh-CN"}')
    ids = body.get("cards")
    if not isinstance(ids, list) or not 1 <= len(ids) <= BULK_LIMIT or not all(isinstance(i, str) for i in ids):
        raise invalid("cards", f"a list of 1–{BULK_LIMIT:,} card ids")
    days = body.get("days", 14)
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 90:
        raise invalid("days", "a whole number of days from 1 to 90")
    fmt, lang = body.get("format", "xlsx"), body.get("lang", "en")
    if fmt not in ("xlsx", "csv"):
        raise invalid("format", "xlsx or csv")
    if lang not in LANGS:
        raise invalid("lang", "en or zh-CN")
    with engine.store.read() as conn:
        survey = find(conn, survey_id)
    if survey is None:
        raise NotFound("no such survey")
    if not survey["active"]:
        raise invalid("survey", "this survey is switched off")
    expires = (datetime.now(timezone.utc) + timedelta(days=days)).isoformat(timespec="seconds").replace("+00:00", "Z")
    mutations = [
        {
            "id": str(uuid.uuid4()),
            "op": "link.create",
            "card": card,
            "at": engine.clock.now(),
            "link": {"id": str(uuid.uuid4()), "purpose": "survey", "survey": survey_id, "expires": expires},
        }
        for card in dict.fromkeys(ids)
    ]
    results = engine.apply(user, f"bulk:{survey_id}", mutations)
    rows = []
    for result in results:
        if result["status"] != "applied":
            continue  # a card the caller may not see, deleted or unknown: no link, no row
        card = result["card"]
        rows.append(
            [
                card["id"],
                card.get("name") or "",
                card.get("company") or "",
                "\n".join(card.get("phones") or []),
                card.get("owner") or "",
                f"{origin}/c/{result['link']['token']}",
                result["link"]["expires"],
            ]
        )
    with engine.store.write() as conn:
        audit.record(conn, user.name, "survey.links", survey_id, {"links": len(rows), "asked": len(mutations)})
    data = write_csv(SHEET_HEADERS[lang], rows) if fmt == "csv" else write_xlsx(SHEET_HEADERS[lang], rows)
    media = "text/csv; charset=utf-8" if fmt == "csv" else XLSX_TYPE
    return data, media, f"fieldcards-survey-{survey_id}-{utc_now()[:10]}.{fmt}", len(rows)
