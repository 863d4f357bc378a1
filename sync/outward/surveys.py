"""Satisfaction surveys an admin defines (issue 17): a CSAT (1–5) or NPS (0–10) question and up to
five more (choice, rating 1–5, text), each in English and Chinese. A survey goes out as a customer
link (`purpose: "survey"`, `survey: id`), one from a card or many at once for a filtered set of
cards (a spreadsheet of links for bulk SMS or WeChat: Fieldcards sends no messages). The answer
becomes a `feedback` activity: `rating` is the CSAT score (null for NPS), `answers` holds the NPS
score under `nps` and each question's answer under its id (a choice by its id). Surveys are kept in
the database's meta table; answers always name the survey and question ids they answered.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from sync import audit, db
from sync.access import User, admin_only
from sync.errors import FieldError, InvalidInput, NotFound, invalid
from sync.times import utc_now
from sync.cards.validate import ITEM_ID_RE

KEY = "surveys"
LANGS = ("en", "zh-CN")
SCALES = ("csat", "nps")
TYPES = ("choice", "rating", "text")
MAX_QUESTIONS = 5
MAX_CHOICES = 10
MAX_SURVEYS = 50
DETRACTOR = 6  # an NPS score at or below this opens a follow-up item (sync/cards/followups.py)


def _all(conn: Any) -> list[dict[str, Any]]:
    raw = db.meta_value(conn, KEY)
    return json.loads(raw) if raw else []


def find(conn: Any, survey_id: str | None) -> dict[str, Any] | None:
    return next((s for s in _all(conn) if s["id"] == survey_id), None) if survey_id else None


def list_surveys(st: db.Store) -> dict[str, Any]:
    with st.read() as conn:
        return {"surveys": _all(conn)}


def _text(value: Any, path: str, limit: int, errors: list[FieldError]) -> dict[str, str]:
    """`{"en": …, "zh-CN": …}`, both 1–limit characters."""
    if not isinstance(value, dict) or set(value) - set(LANGS):
        errors.append(FieldError(path, 'send {"en": "…", "zh-CN": "…"}'))
        return {}
    out = {}
    for lang in LANGS:
        text = value.get(lang)
        if not isinstance(text, str) or not 1 <= len(text.strip()) <= limit:
            errors.append(FieldError(f"{path}.{lang}", f"required: 1–{limit} characters"))
        else:
            out[lang] = text.strip()
    return out


def _id(value: Any, fallback: str, path: str, errors: list[FieldError]) -> str:
    if value is None:
        return fallback
    if not isinstance(value, str) or not ITEM_ID_RE.match(value) or value == "nps":
        errors.append(FieldError(path, "an id of 1–100 letters, digits, '.', '_', ':' or '-' (not nps)"))
    return value if isinstance(value, str) else fallback


def check(body: object) -> dict[str, Any]:
    """A survey as an admin sends it, normalised; every problem with its path."""
    if not isinstance(body, dict):
        raise invalid("", "send a survey object")
    errors = [
        FieldError(str(k)[:60], "unknown field")
        for k in body
        if k not in ("name", "scale", "question", "questions", "active", "id", "created_at", "updated_at")
    ]
    out: dict[str, Any] = {"name": _text(body.get("name"), "name", 100, errors)}
    if body.get("scale") not in SCALES:
        errors.append(FieldError("scale", "csat (1–5) or nps (0–10)"))
    out["scale"] = body.get("scale")
    out["question"] = _text(body.get("question"), "question", 300, errors)
    active = body.get("active", True)
    if not isinstance(active, bool):
        errors.append(FieldError("active", "true or false"))
    out["active"] = active is not False
    questions = body.get("questions") or []
    if not isinstance(questions, list) or len(questions) > MAX_QUESTIONS:
        errors.append(FieldError("questions", f"a list of at most {MAX_QUESTIONS} questions"))
        questions = []
    out["questions"] = []
    seen: set[str] = set()
    for n, q in enumerate(questions):
        path = f"questions[{n}]"
        if not isinstance(q, dict):
            errors.append(FieldError(path, "must be an object"))
            continue
        errors += [
            FieldError(f"{path}.{str(k)[:40]}", "unknown field")
            for k in q
            if k not in ("id", "type", "label", "choices", "required")
        ]
        qid = _id(q.get("id"), f"q{n + 1}", f"{path}.id", errors)
        while qid in seen:
            qid = f"q{secrets.token_hex(3)}" if q.get("id") is None else qid
            if q.get("id") is not None:
                errors.append(FieldError(f"{path}.id", "each question id once"))
                break
        seen.add(qid)
        kind = q.get("type")
        if kind not in TYPES:
            errors.append(FieldError(f"{path}.type", "choice, rating or text"))
        item: dict[str, Any] = {
            "id": qid,
            "type": kind,
            "label": _text(q.get("label"), f"{path}.label", 300, errors),
            "required": q.get("required") is True,
        }
        if kind == "choice":
            choices = q.get("choices")
            if not isinstance(choices, list) or not 2 <= len(choices) <= MAX_CHOICES:
                errors.append(FieldError(f"{path}.choices", f"2–{MAX_CHOICES} choices"))
                choices = []
            item["choices"] = []
            for c, choice in enumerate(choices):
                cpath = f"{path}.choices[{c}]"
                if not isinstance(choice, dict):
                    errors.append(FieldError(cpath, "must be an object"))
                    continue
                cid = _id(choice.get("id"), f"c{c + 1}", f"{cpath}.id", errors)
                item["choices"].append({"id": cid, **_text({k: v for k, v in choice.items() if k != "id"}, cpath, 100, errors)})
            if len({c["id"] for c in item["choices"]}) != len(item["choices"]):
                errors.append(FieldError(f"{path}.choices", "each choice id once"))
        elif q.get("choices") is not None:
            errors.append(FieldError(f"{path}.choices", "only a choice question has choices"))
        out["questions"].append(item)
    if errors:
        raise InvalidInput.listing(errors)
    return out


def create(st: db.Store, user: User, body: object) -> dict[str, Any]:
    admin_only(user, "define surveys")
    survey = check(body)
    with st.write() as conn:
        found = _all(conn)
        if len(found) >= MAX_SURVEYS:
            raise invalid("", f"at most {MAX_SURVEYS} surveys; switch an old one off and change it instead")
        now = utc_now()
        survey = {"id": f"s-{secrets.token_hex(4)}", **survey, "created_at": now, "updated_at": now}
        db.set_meta(conn, KEY, json.dumps([*found, survey], ensure_ascii=False))
        audit.record(conn, user.name, "survey.create", survey["id"], {"scale": survey["scale"]})
    return {"survey": survey}


def update(st: db.Store, user: User, survey_id: str, body: object) -> dict[str, Any]:
    """A change keeps the survey's id (answers already given keep naming it) and its scale."""
    admin_only(user, "change surveys")
    survey = check(body)
    with st.write() as conn:
        found = _all(conn)
        old = next((s for s in found if s["id"] == survey_id), None)
        if old is None:
            raise NotFound("no such survey")
        if survey["scale"] != old["scale"]:
            raise invalid("scale", "a survey keeps its scale; make a new survey for another")
        new = {**old, **survey, "updated_at": utc_now()}
        db.set_meta(conn, KEY, json.dumps([new if s["id"] == survey_id else s for s in found], ensure_ascii=False))
        audit.record(conn, user.name, "survey.update", survey_id, {"active": new["active"]})
    return {"survey": new}


def public(survey: dict[str, Any] | None) -> dict[str, Any] | None:
    """What the customer's page needs to draw the survey."""
    if survey is None:
        return None
    return {k: survey[k] for k in ("id", "scale", "question", "questions")}


def check_answer(survey: dict[str, Any] | None, rating: Any, answers: Any) -> tuple[int | None, dict[str, Any] | None]:
    """The customer's rating and answers checked against the survey: (rating, answers). Without a
    survey defined here (a link made for another system's survey id) the page asks the plain 1–5
    rating, and the activity's own rules check what arrives."""
    if survey is None:
        return rating, answers
    if survey["scale"] == "csat":
        if rating is not None and (isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5):
            raise invalid("rating", "a whole number from 1 to 5")
    errors: list[FieldError] = []
    if answers is not None and not isinstance(answers, dict):
        raise invalid("answers", "an object: question id → answer")
    answers = dict(answers or {})
    if survey["scale"] == "nps":
        if rating is not None:
            errors.append(FieldError("rating", "this survey asks a score from 0 to 10 (answers.nps)"))
        score = answers.get("nps")
        if score is not None and (isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 10):
            errors.append(FieldError("answers.nps", "a whole number from 0 to 10"))
    elif "nps" in answers:
        errors.append(FieldError("answers.nps", "this survey asks a rating from 1 to 5"))
    questions = {q["id"]: q for q in survey["questions"]}
    for key, value in answers.items():
        q = questions.get(key)
        if key == "nps":
            continue
        if q is None:
            errors.append(FieldError(f"answers.{str(key)[:40]}", "not a question of this survey"))
        elif q["type"] == "choice" and value not in {c["id"] for c in q["choices"]}:
            errors.append(FieldError(f"answers.{key}", "one of the choices"))
        elif q["type"] == "rating" and (isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5):
            errors.append(FieldError(f"answers.{key}", "a whole number from 1 to 5"))
        elif q["type"] == "text" and (not isinstance(value, str) or len(value) > 2000):
            errors.append(FieldError(f"answers.{key}", "text of at most 2,000 characters"))
    for q in survey["questions"]:
        if q["required"] and answers.get(q["id"]) in (None, ""):
            errors.append(FieldError(f"answers.{q['id']}", "required"))
    if errors:
        raise InvalidInput.listing(errors)
    answers = {k: v.strip() if isinstance(v, str) else v for k, v in answers.items() if v not in (None, "")}
    return rating, answers or None


# --- many links at once ------------------------------------------------------------------------

# --- the dashboard -----------------------------------------------------------------------------


def figures(conn: Any, cards: list[dict[str, Any]], activities: list[dict[str, Any]], week_of: Any) -> dict[str, Any]:
    """Survey links sent and answered (response rate), and CSAT and NPS by segment, region, rep and week."""
    ids = {c["id"]: c for c in cards}
    sent = answered = 0
    for card_id, used_at in db.survey_links(conn):
        if card_id in ids:
            sent += 1
            answered += used_at is not None
    groups: dict[str, dict[str, list[int]]] = {g: {} for g in ("segment", "region", "rep", "week")}
    nps_groups: dict[str, dict[str, list[int]]] = {g: {} for g in ("segment", "region", "rep", "week")}
    csat_all: list[int] = []
    nps_all: list[int] = []
    for a in activities:
        if a["kind"] != "feedback" or a["card"] not in ids or not a.get("survey"):
            continue
        card = ids[a["card"]]
        keys = {
            "segment": card.get("segment") or "—",
            "region": card.get("region") or "—",
            "rep": card.get("owner") or "—",
            "week": week_of(a["at"]),
        }
        answers = a.get("answers") or {}
        score = answers.get("nps")
        if isinstance(score, int) and not isinstance(score, bool):
            nps_all.append(score)
            for g, k in keys.items():
                nps_groups[g].setdefault(k, []).append(score)
        elif a.get("rating"):
            csat_all.append(a["rating"])
            for g, k in keys.items():
                groups[g].setdefault(k, []).append(a["rating"])

    def csat(values: list[int]) -> dict[str, Any]:
        return {
            "average": round(sum(values) / len(values), 2),
            "count": len(values),
            "satisfied": round(sum(v >= 4 for v in values) / len(values), 3),
        }

    def nps(values: list[int]) -> dict[str, Any]:
        promoters, detractors = sum(v >= 9 for v in values), sum(v <= DETRACTOR for v in values)
        return {"score": round(100 * (promoters - detractors) / len(values)), "count": len(values)}

    return {
        "sent": sent,
        "answered": answered,
        "response_rate": round(answered / sent, 3) if sent else None,
        "csat": csat(csat_all) if csat_all else None,
        "nps": nps(nps_all) if nps_all else None,
        "csat_by": {g: [{"key": k, **csat(v)} for k, v in sorted(d.items())] for g, d in groups.items()},
        "nps_by": {g: [{"key": k, **nps(v)} for k, v in sorted(d.items())] for g, d in nps_groups.items()},
    }
