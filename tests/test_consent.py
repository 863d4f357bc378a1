"""Consent and legal basis on a card (issue 18): a validated scalar set by a rep, an import or the
customer's own link page, filterable in exports; and `survey.answered` for a customer's answer."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import uuid

from sync.protocol.hlc import Clock
from tests.test_hostile import Office, app, error_of, put  # noqa: F401
from tests.test_links import PAGE, link, push

CLOCK = Clock("dev")
GRANTED = {"contact": "granted", "channels": ["phone"], "basis": "consent", "at": "2026-11-02", "source": "rep"}


def test_a_rep_records_consent_and_bad_consent_is_refused_with_its_path(app: Office):  # noqa: F811
    card = str(uuid.uuid4())
    [made] = push(app, put(card, {"name": "李娜", "consent": GRANTED}))
    assert made["status"] == "applied" and made["card"]["consent"] == GRANTED
    [bad] = push(
        app,
        put(
            card,
            {
                "consent": {
                    "contact": "maybe",
                    "channels": ["fax"],
                    "basis": "legitimate",
                    "at": "2026-02-30",
                    "source": "rep",
                    "why": "x",
                }
            },
            was={"consent": GRANTED},
        ),
    )
    assert bad["status"] == "rejected"
    paths = {e["path"] for e in bad["errors"]}
    assert paths == {
        "fields.consent.contact",
        "fields.consent.channels",
        "fields.consent.basis",
        "fields.consent.at",
        "fields.consent.why",
    }
    [channels] = push(app, put(card, {"consent": {**GRANTED, "contact": "refused"}}, was={"consent": GRANTED}))
    assert channels["status"] == "rejected" and channels["errors"][0]["path"] == "fields.consent.channels"
    refused = {"contact": "refused", "channels": [], "basis": "consent", "at": "2026-11-20T09:30:00+08:00", "source": "rep"}
    [changed] = push(app, put(card, {"consent": refused}, was={"consent": GRANTED}))
    assert changed["status"] == "applied" and changed["card"]["consent"] == refused
    history = app.client.get(f"/api/v1/cards/{card}/history", headers=app.as_("rep1")).json()["history"]
    assert history[-1]["changes"]["consent"] == [GRANTED, refused]
    schema = app.client.get("/api/v1/schema", headers=app.as_("rep1")).json()["card"]
    assert "consent" in schema["properties"]


def test_the_customer_link_writes_consent_with_source_customer(app: Office):  # noqa: F811
    card, link_id = str(uuid.uuid4()), str(uuid.uuid4())
    results = push(app, put(card, {"name": "王伟", "consent": GRANTED}), link(card, link_id))
    token = results[1]["link"]["token"]
    view = app.client.get(f"/api/v1/public/links/{token}").json()
    assert "consent" not in view["card"]  # what the rep recorded is not shown to the customer
    answer = app.client.post(f"/api/v1/public/links/{token}", headers=PAGE, json={"fields": {}, "was": {}, "consent": "none"})
    assert answer.status_code == 200, answer.text
    consent = app.client.get(f"/api/v1/cards/{card}", headers=app.as_("rep1")).json()["card"]["consent"]
    assert {k: consent[k] for k in ("contact", "channels", "basis", "source")} == {
        "contact": "refused",
        "channels": [],
        "basis": "consent",
        "source": "customer",
    }
    assert consent["at"][:4].isdigit() and "T" in consent["at"]
    last = app.client.get(f"/api/v1/cards/{card}/history", headers=app.as_("rep1")).json()["history"][-1]
    assert (last["user"], last["via"]) == ("customer", link_id) and "consent" in last["changes"]
    bad = error_of(
        app.client.post(f"/api/v1/public/links/{token}", headers=PAGE, json={"fields": {}, "was": {}, "consent": "sometimes"})
    )
    assert bad["fields"] == [{"path": "consent", "message": "any, phone, email, message or none"}]


def test_exports_filter_by_consent(app: Office):  # noqa: F811
    ids = [str(uuid.uuid4()) for _ in range(4)]
    push(
        app,
        put(ids[0], {"name": "同意甲", "consent": GRANTED}),
        put(ids[1], {"name": "拒绝乙", "consent": {**GRANTED, "contact": "refused", "channels": []}}),
        put(ids[2], {"name": "未知丙", "consent": {**GRANTED, "contact": "unknown", "channels": []}}),
        put(ids[3], {"name": "没记录丁"}),
    )
    office = app.as_("office")

    def names(consent: str) -> list[str]:
        answer = app.client.get("/api/v1/export", params={"format": "csv", "consent": consent}, headers=office)
        assert answer.status_code == 200, answer.text
        rows = list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))
        return sorted(r["name"] for r in rows)

    assert names("granted") == ["同意甲"]
    assert names("refused") == ["拒绝乙"]
    assert names("unknown") == sorted(["未知丙", "没记录丁"])  # no record is not a consent
    assert names("granted:phone") == ["同意甲"] and names("granted:email") == []
    error = error_of(app.client.get("/api/v1/export", params={"consent": "yes"}, headers=office))
    assert error["fields"][0]["path"] == "consent"
    answer = app.client.get("/api/v1/export", params={"format": "csv", "consent": "granted"}, headers=office)
    row = next(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert (row["consent"], row["consent_basis"], row["consent_at"]) == ("granted:phone", "consent", "2026-11-02")


def test_an_import_column_sets_consent_with_source_import(app: Office):  # noqa: F811
    text = "姓名,手机,联系同意,处理依据,同意日期\n李雷,13900003333,同意,合同,2026-10-01\n韩梅梅,13900004444,拒绝,,\n张三,13900005555,也许,,\n"
    answer = app.client.post(
        "/api/v1/imports",
        headers=app.as_("office"),
        files={"file": ("people.csv", text.encode(), "text/csv")},
        data={"mode": "create"},
    )
    assert answer.status_code == 200, answer.text
    found = {c["name"]: c for c in app.client.get("/api/v1/cards", headers=app.as_("office")).json()["cards"]}
    assert {k: v for k, v in found["李雷"]["consent"].items()} == {
        "contact": "granted",
        "channels": [],
        "basis": "contract",
        "at": "2026-10-01",
        "source": "import",
    }
    assert found["韩梅梅"]["consent"]["contact"] == "refused" and found["韩梅梅"]["consent"]["source"] == "import"
    assert found["张三"]["consent"] is None  # a value we cannot read is a warning, never a guess
    assert any(w["row"] == 4 for w in answer.json().get("warnings", []))


def test_a_customers_survey_answer_emits_survey_answered(app: Office):  # noqa: F811
    hook = app.client.post(
        "/api/v1/webhooks", headers=app.as_("admin"), json={"url": "https://hooks.example.com/in", "events": ["survey.answered"]}
    )
    assert hook.status_code in (200, 201), hook.text
    card, link_id = str(uuid.uuid4()), str(uuid.uuid4())
    results = push(app, put(card, {"name": "赵敏"}), link(card, link_id, purpose="survey"))
    token = results[1]["link"]["token"]
    answer = app.client.post(
        f"/api/v1/public/links/{token}",
        headers=PAGE,
        json={"fields": {}, "was": {}, "rating": 4, "text": "服务很好", "answers": {"q1": "yes"}},
    )
    assert answer.status_code == 200, answer.text
    with sqlite3.connect(app.db) as db:
        bodies = [json.loads(r[0]) for r in db.execute("SELECT body FROM webhook_outbox WHERE type = 'survey.answered'")]
    [event] = bodies
    assert event["data"]["card"] == card and event["data"]["link"] == link_id and event["data"]["survey"] == "csat-1"
    assert (event["data"]["rating"], event["data"]["text"], event["data"]["answers"]) == (4, "服务很好", {"q1": "yes"})


def test_an_import_never_replaces_the_customers_own_consent(app: Office):  # noqa: F811
    card, link_id = str(uuid.uuid4()), str(uuid.uuid4())
    results = push(app, put(card, {"name": "周芳", "phones": ["13900006666"]}), link(card, link_id))
    answer = app.client.post(
        f"/api/v1/public/links/{results[1]['link']['token']}", headers=PAGE, json={"fields": {}, "was": {}, "consent": "none"}
    )
    assert answer.status_code == 200, answer.text
    text = "姓名,手机,联系同意,职位\n周芳,13900006666,同意,经理\n"
    imported = app.client.post(
        "/api/v1/imports",
        headers=app.as_("office"),
        data={"mode": "upsert", "match": "phone"},
        files={"file": ("people.csv", text.encode(), "text/csv")},
    )
    assert imported.status_code == 200, imported.text
    now = app.client.get(f"/api/v1/cards/{card}", headers=app.as_("office")).json()["card"]
    assert now["title"] == "经理" and (now["consent"]["contact"], now["consent"]["source"]) == ("refused", "customer")


def test_an_exported_file_imported_again_leaves_the_consent_as_it_was(app: Office):  # noqa: F811
    card = str(uuid.uuid4())
    push(app, put(card, {"name": "钱进", "consent": GRANTED}))
    office = app.as_("office")
    exported = app.client.get("/api/v1/export", params={"format": "csv"}, headers=office)
    assert exported.status_code == 200
    imported = app.client.post(
        "/api/v1/imports", headers=office, data={"mode": "upsert"}, files={"file": ("back.csv", exported.content, "text/csv")}
    )
    assert imported.status_code == 200, imported.text
    assert (imported.json()["update"], imported.json()["create"]) == (0, 0), imported.json()
    assert app.client.get(f"/api/v1/cards/{card}", headers=office).json()["card"]["consent"] == GRANTED
