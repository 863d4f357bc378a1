"""The right of access as a readable page (issue 18): `GET /cards/{id}/export?format=html` holds,
field by field, everything the JSON export holds, escaped, in English and Chinese, served as a
download under a CSP that runs nothing."""

from __future__ import annotations

import hashlib
import sqlite3
import uuid
from html import escape

from sync.outward.access_report import value_text
from sync.protocol.hlc import Clock
from tests.test_hostile import Office, app, error_of, put  # noqa: F401
from tests.test_links import PAGE, link, push

CLOCK = Clock("dev")
HOSTILE = '<script>alert("x")</script> & <img src=x onerror=alert(1)>'


def _customer_with_every_kind_of_data(app: Office) -> str:  # noqa: F811
    card, other, link_id, visit, photo = (str(uuid.uuid4()) for _ in range(5))
    data = b"a photo"
    results = push(
        app,
        put(
            card,
            {
                "name": "李娜",
                "company": "绿茶 & Co",
                "phones": ["13900001111"],
                "emails": ["li.na@example.cn"],
                "notes": HOSTILE,
                "tags": ["vip", "<b>"],
                "location": {"lat": 31.23, "lng": 121.47},
                "stage": "active",
                "follow_ups": [{"id": "f1", "title": "寄样品", "due": "2026-12-01"}],
                "consent": {
                    "contact": "granted",
                    "channels": ["email"],
                    "basis": "contract",
                    "at": "2026-11-02",
                    "source": "rep",
                },
            },
        ),
        put(other, {"name": "李娜（旧卡）", "title": "经理"}),
        {
            "id": str(uuid.uuid4()),
            "op": "activity.add",
            "card": card,
            "at": CLOCK.now(),
            "activity": {
                "id": visit,
                "kind": "purchase",
                "at": "2026-11-24T10:00:00Z",
                "text": "买了 <茶>",
                "amount": "1200.50",
                "currency": "CNY",
            },
        },
        {
            "id": str(uuid.uuid4()),
            "op": "attachment.add",
            "card": card,
            "at": CLOCK.now(),
            "attachment": {
                "id": photo,
                "activity": visit,
                "name": "收据<1>.jpg",
                "type": "image/jpeg",
                "size": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
            },
        },
        link(card, link_id, purpose="survey"),
    )
    assert all(r["status"] == "applied" for r in results), results
    token = results[-1]["link"]["token"]
    assert app.client.get(f"/api/v1/public/links/{token}").status_code == 200
    answered = app.client.post(
        f"/api/v1/public/links/{token}",
        headers=PAGE,
        json={
            "fields": {"title": "总监"},
            "was": {"title": None},
            "consent": "email",
            "rating": 5,
            "text": "很好 <谢谢>",
            "answers": {"q1": "yes", "q2": 3},
        },
    )
    assert answered.status_code == 200, answered.text
    push(app, put(card, {"company": "甲"}, was={"company": "绿茶 & Co"}))
    push(app, put(card, {"company": "乙"}, was={"company": "绿茶 & Co"}), name="rep1")  # a conflict record
    merged = app.client.post("/api/v1/cards/merge", headers=app.as_("office"), json={"into": card, "from": [other], "values": {}})
    assert merged.status_code == 200, merged.text
    return card


def test_the_html_export_holds_every_value_of_the_json_export_escaped(app: Office):  # noqa: F811
    card = _customer_with_every_kind_of_data(app)
    office = app.as_("office")
    held = app.client.get(f"/api/v1/cards/{card}/export", headers=office).json()
    assert held["survey_answers"][0]["answers"] == {"q1": "yes", "q2": 3}
    assert held["attachments"][0]["name"] == "收据<1>.jpg" and held["attachments"][0]["uploaded"] is False
    assert held["links"][0]["answer"]["consent"] == "email"
    assert {e["action"] for e in held["audit"]} >= {"merge", "link.open", "link.answer"}
    assert held["conflicts"] and held["merged_cards"] and held["history"]

    page = app.client.get(f"/api/v1/cards/{card}/export", params={"format": "html", "lang": "en"}, headers=office)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["content-disposition"] == f'attachment; filename="customer-{card}.en.html"'
    assert "default-src 'none'" in page.headers["content-security-policy"]
    html = page.text
    assert "<script" not in html and "<img" not in html and "onerror=alert" not in html.replace(escape("onerror=alert"), "")

    def shows(value: object, where: str) -> None:
        assert escape(value_text(value)) in html, (where, value)

    for name, value in held["card"].items():  # the card, field by field
        shows(value, f"card.{name}")
    for kind in ("activities", "survey_answers", "attachments", "conflicts", "imports", "audit"):
        for i, row in enumerate(held[kind]):
            for key, value in row.items():
                shows(value, f"{kind}[{i}].{key}")
    for i, link_row in enumerate(held["links"]):
        for key, value in link_row.items():
            shows(value, f"links[{i}].{key}")
    for i, entry in enumerate(held["history"]):
        for key in ("version", "at", "user", "device"):
            shows(entry.get(key), f"history[{i}].{key}")
        for field, (old, new) in entry["changes"].items():
            assert escape(f"{field}: {value_text(old)} → {value_text(new)}") in html, (i, field)
    for merged in held["merged_cards"]:
        shows(merged["name"], "merged_cards.name")
    assert escape(HOSTILE) in html

    chinese = app.client.get(
        f"/api/v1/cards/{card}/export",
        params={"format": "html"},
        headers={**office, "accept-language": "zh-CN,zh;q=0.9,en;q=0.5"},
    )
    assert chinese.status_code == 200 and '<html lang="zh-CN">' in chinese.text and "修改记录" in chinese.text
    assert chinese.headers["content-disposition"].endswith('.zh-CN.html"')
    assert escape(value_text(held["card"]["notes"])) in chinese.text


def test_the_html_export_is_for_office_and_refuses_bad_parameters(app: Office):  # noqa: F811
    card = str(uuid.uuid4())
    push(app, put(card, {"name": "王伟"}))
    assert app.client.get(f"/api/v1/cards/{card}/export", params={"format": "html"}, headers=app.as_("rep1")).status_code == 403
    bad = error_of(app.client.get(f"/api/v1/cards/{card}/export", params={"format": "pdf"}, headers=app.as_("office")))
    assert bad["fields"] == [{"path": "format", "message": "json or html"}]
    bad = error_of(
        app.client.get(f"/api/v1/cards/{card}/export", params={"format": "html", "lang": "fr"}, headers=app.as_("office"))
    )
    assert bad["fields"][0]["path"] == "lang"


def test_an_erasure_forgets_what_the_customer_answered_on_a_link_and_from_where(app: Office):  # noqa: F811
    card = _customer_with_every_kind_of_data(app)
    assert app.client.post(f"/api/v1/cards/{card}/erase", headers=app.as_("admin")).status_code == 200
    with sqlite3.connect(app.db) as db:
        links = db.execute("SELECT answer, revoked_at FROM links WHERE card = ?", (card,)).fetchall()
        journal = " ".join(r[0] for r in db.execute("SELECT payload FROM journal"))
    assert links and all(answer is None and revoked for answer, revoked in links)
    assert "testclient" not in journal and '"consent": "email"' not in journal
