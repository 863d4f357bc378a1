"""Admin settings kept in the database's meta table that a restore never rolls back (they are copied
across it like access state, `db.ACCESS_KEYS`): the privacy notice customers and reps read, and
the lost-phone lock (days without a sync after which the app locks its local data).

The notice is plain text in English and Chinese, shown escaped, paragraphs split at blank lines:
no markup from an admin ever reaches a page (issue 18).
"""

from __future__ import annotations

import json
from typing import Any

from sync import audit, db
from sync.access import User, admin_only
from sync.errors import FieldError, InvalidInput, invalid
from sync.times import utc_now

NOTICE_KEY = "privacy_notice"
LOCK_KEY = "lock_after_days"
LANGUAGES = ("en", "zh-CN")
NOTICE_LIMIT = 20_000
LOCK_DAYS = (1, 365)

# Shown until an admin writes the company's own notice.
DEFAULT_NOTICE = {
    "en": "How we handle your personal information\n\n"
    "Our sales and service staff keep a customer card with your contact details (name, company, "
    "job title, phone numbers, email addresses, address), the visits, calls and purchases they "
    "recorded, and any feedback you gave. We use it to serve you and to keep in touch in the ways "
    "you agreed to.\n\n"
    "You may ask to see everything we hold about you, to correct it, or to have it erased. You may "
    "also withdraw your consent to be contacted at any time. Ask your contact person, or use the "
    "link they sent you.\n\n"
    "The company has not yet published its own notice; this is the standard text of the system.",
    "zh-CN": "我们如何处理您的个人信息\n\n"
    "我们的销售和服务人员为您建立客户卡片，记录您的联系信息（姓名、公司、职位、电话、邮箱、地址），"
    "以及拜访、通话、购买记录和您提供的反馈。我们使用这些信息为您提供服务，并按您同意的方式与您联系。\n\n"
    "您有权查阅我们持有的关于您的全部信息，要求更正或删除。您也可以随时撤回联系同意。"
    "请联系您的对接人员，或使用对方发给您的链接。\n\n"
    "本公司尚未发布自己的隐私声明；以上为系统的标准文本。",
}


def notice(conn: Any) -> dict[str, Any]:
    """`{"en", "zh-CN", "updated_at", "updated_by", "custom"}`: the admin's text, else the default."""
    raw = db.meta_value(conn, NOTICE_KEY)
    if raw:
        saved = json.loads(raw)
        return {
            **{lang: saved.get(lang) or DEFAULT_NOTICE[lang] for lang in LANGUAGES},
            "updated_at": saved.get("updated_at"),
            "updated_by": saved.get("updated_by"),
            "custom": True,
        }
    return {**DEFAULT_NOTICE, "updated_at": None, "updated_by": None, "custom": False}


def read_notice(st: db.Store) -> dict[str, Any]:
    with st.read() as conn:
        found = notice(conn)
    found.pop("updated_by")  # public: who wrote it is the audit log's business
    return found


def save_notice(st: db.Store, user: User, body: object) -> dict[str, Any]:
    """Admins: `{"en": text, "zh-CN": text}`; an empty text puts that language back to the default."""
    admin_only(user, "edit the privacy notice")
    if not isinstance(body, dict) or set(body) - set(LANGUAGES) or not body:
        raise invalid("", 'send {"en": "…", "zh-CN": "…"}')
    errors = []
    clean: dict[str, str] = {}
    for lang in body:
        text = body[lang]
        if not isinstance(text, str):
            errors.append(FieldError(lang, "must be text"))
        elif len(text) > NOTICE_LIMIT:
            errors.append(FieldError(lang, f"at most {NOTICE_LIMIT} characters (this has {len(text)})"))
        elif "\x00" in text:
            errors.append(FieldError(lang, "holds a NUL character"))
        else:
            clean[lang] = text.strip()
    if errors:
        raise InvalidInput("; ".join(f"{e.path}: {e.message}" for e in errors), errors)
    with st.write() as conn:
        previous = json.loads(db.meta_value(conn, NOTICE_KEY) or "{}")
        saved = {lang: clean[lang] if lang in clean else previous.get(lang, "") for lang in LANGUAGES}
        saved.update(updated_at=utc_now(), updated_by=user.name)
        db.set_meta(conn, NOTICE_KEY, json.dumps(saved, ensure_ascii=False))
        audit.record(conn, user.name, "privacy.notice", "privacy", {"languages": sorted(body)})
        return notice(conn)


def paragraphs(text: str) -> list[str]:
    """The notice's paragraphs: split at blank lines, single line breaks kept inside."""
    return [part.strip() for part in text.replace("\r\n", "\n").split("\n\n") if part.strip()]


def lock_after_days(conn: Any) -> int | None:
    raw = db.meta_value(conn, LOCK_KEY)  # "" once an admin turned the lock off
    return int(raw) if raw else None


def device_settings(st: db.Store) -> dict[str, Any]:
    """What every signed-in app reads after a sync: the lock rule (null: never locks)."""
    with st.read() as conn:
        return {"lock_after_days": lock_after_days(conn)}


def save_device_settings(st: db.Store, user: User, body: object) -> dict[str, Any]:
    """Admins: `{"lock_after_days": 1–365 or null}`."""
    admin_only(user, "change device settings")
    if not isinstance(body, dict) or set(body) != {"lock_after_days"}:
        raise invalid("", 'send {"lock_after_days": days (1–365) or null}')
    days = body["lock_after_days"]
    low, high = LOCK_DAYS
    if days is not None and (isinstance(days, bool) or not isinstance(days, int) or not low <= days <= high):
        raise invalid("lock_after_days", f"a whole number of days from {low} to {high}, or null for never")
    with st.write() as conn:
        # Off is "" rather than no row, so that a restore copies "off" over an older value too.
        db.set_meta(conn, LOCK_KEY, "" if days is None else str(days))
        audit.record(conn, user.name, "settings.lock", "devices", {"lock_after_days": days})
    return {"lock_after_days": days}
