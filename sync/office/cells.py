"""How an import reads what people type into spreadsheet cells: tiers written A类, 甲 or B级, dates
written 2024/1/4, 2024年1月4日 or as Excel serial numbers, full-width digits, phones with +86, 0086,
spaces and dashes. Lenient on purpose, and only here: the sync API keeps the card rules of
validate.py. Each problem an import reports has a stable code, with its text in English and
Chinese (the screen has the same texts in its i18n files, keyed `office.import.problem.CODE`).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, timedelta
from typing import Any

SEGMENT_WORDS = {"甲": "A", "乙": "B", "丙": "C"}
_SEGMENT = re.compile(r"^([ABC甲乙丙])\s*(类|级|等|档|类客户|级客户)?$")
_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_SERIAL = re.compile(r"^\d{1,6}(?:\.\d+)?$")
_EXCEL_EPOCH = date(1899, 12, 30)  # day 0 of Excel's 1900 date system, its 1900 leap-year bug included
_PHONE_NOISE = re.compile(r"[\s\-()（）.·—_]")

# code → (English, Chinese); {column} and {value} are always given, other names by the problem.
PROBLEMS: dict[str, tuple[str, str]] = {
    "name_missing": ("{column}: no name; a row needs the customer's name", "{column}：没有姓名，每行必须有客户姓名"),
    "name_invalid": ('{column} "{value}" cannot be a name ({detail})', "{column}“{value}”不能作为姓名（{detail}）"),
    "id_invalid": ('{column} "{value}" is not a card id', "{column}“{value}”不是客户卡片编号"),
    "not_a_date": ('{column} "{value}" is not a date; imported without it', "{column}“{value}”不是日期，已导入但未包含此项"),
    "not_a_phone": (
        '{column} "{value}" is not a phone number; imported without it',
        "{column}“{value}”不是电话号码，已导入但未包含此项",
    ),
    "not_an_email": (
        '{column} "{value}" is not an email address; imported without it',
        "{column}“{value}”不是邮箱地址，已导入但未包含此项",
    ),
    "not_a_segment": (
        '{column} "{value}" is not a customer tier (A, B or C); imported without it',
        "{column}“{value}”不是客户等级（A、B 或 C），已导入但未包含此项",
    ),
    "unknown_owner": (
        '{column} "{value}" is not a user; imported without it',
        "{column}“{value}”不是系统用户，已导入但未包含此项",
    ),
    "too_long": (
        '{column} "{value}" is longer than {limit} characters; imported without it',
        "{column}“{value}”超过 {limit} 个字符，已导入但未包含此项",
    ),
    "formula": (
        "{column} holds a formula ({value}); imported without it: paste values instead",
        "{column}是公式（{value}），已导入但未包含此项：请粘贴为数值",
    ),
    "bad_value": ('{column} "{value}": {detail}; imported without it', "{column}“{value}”：{detail}，已导入但未包含此项"),
    "required": ("{column}: required for a new card", "{column}：新建客户卡片时必须填写"),
    "same_as_row": ("the same customer as row {other}; skipped", "与第 {other} 行是同一客户，已跳过"),
    "rejected": ("not saved: {detail}", "未保存：{detail}"),
}


def problem(row: int, column: str, value: str, code: str, **params: Any) -> dict[str, Any]:
    """One problem of an import as the API reports it; `message` stays English for API users."""
    out: dict[str, Any] = {
        "row": row,
        "column": column,
        "value": value,
        "code": code,
        "message": message(code, "en", column, value, params),
    }
    if params:
        out["params"] = params
    return out


def message(code: str, lang: str, column: str, value: str, params: dict[str, Any]) -> str:
    english, chinese = PROBLEMS[code]
    short = value if len(value) <= 60 else value[:60] + "…"
    return (chinese if lang == "zh-CN" else english).format(column=column or "", value=short, **params)


def plain(text: str) -> str:
    """Full-width digits, letters and punctuation as their ASCII forms (１３８ → 138, ／ → /)."""
    return unicodedata.normalize("NFKC", text).strip()


def read_segment(text: str) -> str | None:
    """`A`, `a`, `A类`, `A级`, `甲`, `甲类` → "A"; None when it is no tier."""
    found = _SEGMENT.match(plain(text).upper())
    return SEGMENT_WORDS.get(found.group(1), found.group(1)) if found else None


def read_date(text: str) -> str | None:
    """A date as YYYY-MM-DD from what people type (2024/1/4, 2024年1月4日, 2024.1.4, 20240104) or an
    Excel serial number; None when it is no real date."""
    cell = plain(text)
    found = _DATE.match(cell) or _COMPACT_DATE.match(cell)
    try:
        if found:
            return date(int(found.group(1)), int(found.group(2)), int(found.group(3))).isoformat()
        if _SERIAL.match(cell) and 1 <= float(cell) < 2958466:  # up to 9999-12-31
            return (_EXCEL_EPOCH + timedelta(days=int(float(cell)))).isoformat()
    except ValueError:
        return None
    return None


def clean_phone(text: str) -> str:
    """A phone as the number rules can read it: `0086 138-1234 5678` → `+8613812345678`."""
    cell = _PHONE_NOISE.sub("", plain(text))
    if cell.startswith("00"):
        cell = "+" + cell[2:]
    elif cell.startswith("86") and len(cell) == 13 and cell[2] == "1":  # 86 and a mobile, without the +
        cell = "+" + cell
    return cell


# Consent cells (issue 18): the `consent` column is `granted`, `refused` or `unknown`, in English or
# Chinese, optionally with channels after a colon (`granted:phone,email`, `同意：电话`); the basis
# column a PIPL article 13 basis, by its code or in Chinese.
CONSENT_WORDS = {
    "granted": "granted",
    "yes": "granted",
    "y": "granted",
    "true": "granted",
    "1": "granted",
    "同意": "granted",
    "是": "granted",
    "已同意": "granted",
    "允许": "granted",
    "refused": "refused",
    "no": "refused",
    "n": "refused",
    "false": "refused",
    "0": "refused",
    "拒绝": "refused",
    "否": "refused",
    "不同意": "refused",
    "已拒绝": "refused",
    "unknown": "unknown",
    "未知": "unknown",
    "不详": "unknown",
}
CHANNEL_WORDS = {
    "phone": "phone",
    "电话": "phone",
    "email": "email",
    "邮件": "email",
    "邮箱": "email",
    "message": "message",
    "短信": "message",
    "消息": "message",
    "visit": "visit",
    "拜访": "visit",
}
BASIS_WORDS = {
    "consent": "consent",
    "同意": "consent",
    "个人同意": "consent",
    "contract": "contract",
    "合同": "contract",
    "订立或履行合同": "contract",
    "legal_obligation": "legal_obligation",
    "法定义务": "legal_obligation",
    "法定职责": "legal_obligation",
    "emergency": "emergency",
    "突发公共卫生事件": "emergency",
    "紧急情况": "emergency",
    "public_interest": "public_interest",
    "公共利益": "public_interest",
    "新闻报道": "public_interest",
    "public_info": "public_info",
    "已公开": "public_info",
    "已公开信息": "public_info",
    "other": "other",
    "其他": "other",
    "法律规定的其他情形": "other",
}


def read_consent(text: str) -> tuple[str, list[str]] | None:
    """`同意：电话, 邮件` → ("granted", ["phone", "email"]); None when it says no consent state."""
    cell = plain(text)
    word, _, rest = cell.partition(":")
    contact = CONSENT_WORDS.get(word.strip().lower())
    channels = [CHANNEL_WORDS.get(c.strip().lower()) for c in re.split(r"[,;、/+]", rest) if c.strip()]
    if contact is None or None in channels or (channels and contact != "granted"):
        return None
    return contact, [c for c in ("phone", "email", "message", "visit") if c in channels]


def read_basis(text: str) -> str | None:
    return BASIS_WORDS.get(plain(text).lower())


def consent_cells(consent: dict[str, Any] | None) -> tuple[str, str, str]:
    """The card's consent as the export's three cells, read back by `read_consent` and `read_basis`."""
    if not consent:
        return "", "", ""
    contact = consent.get("contact") or ""
    channels = consent.get("channels") or []
    return (f"{contact}:{','.join(channels)}" if channels else contact), consent.get("basis") or "", consent.get("at") or ""
