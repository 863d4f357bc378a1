"""Admin-defined surveys (issue 17): CSAT or NPS plus up to five questions in two languages; the
customer's page gets the survey, the answer is checked against it and becomes feedback; an NPS
detractor opens a follow-up item; many links at once as a spreadsheet; the dashboard's figures."""

from __future__ import annotations

import csv
import io
import uuid

from sync.protocol.hlc import Clock
from tests.test_hostile import Office, app, put  # noqa: F401
from tests.test_links import PAGE, push

CLOCK = Clock("dev3")
CSAT = {
    "name": {"en": "After the visit", "zh-CN": "拜访后回访"},
    "scale": "csat",
    "question": {"en": "How satisfied are you?", "zh-CN": "您对我们的服务满意吗？"},
    "questions": [
        {
            "type": "choice",
            "label": {"en": "What mattered most?", "zh-CN": "您最看重什么？"},
            "required": True,
            "choices": [{"en": "Price", "zh-CN": "价格"}, {"en": "Delivery", "zh-CN": "送货"}],
        },
        {"type": "rating", "label": {"en": "Our rep", "zh-CN": "销售代表"}},
        {"type": "text", "label": {"en": "Anything else?", "zh-CN": "其他意见？"}},
    ],
}


def survey_link(card: str, survey: str) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "op": "link.create",
        "card": card,
        "at": CLOCK.now(),
        "link": {"id": str(uuid.uuid4()), "purpose": "survey", "survey": survey},
    }


def make(app: Office, body: dict) -> dict:  # noqa: F811
    made = app.client.post("/api/v1/surveys", json=body, headers=app.as_("admin"))
    assert made.status_code == 201, made.text
    return made.json()["survey"]


def test_an_admin_defines_a_survey_and_bad_ones_are_refused_with_paths(app: Office):  # noqa: F811
    survey = make(app, CSAT)
    assert survey["id"].startswith("s-") and [q["id"] for q in survey["questions"]] == ["q1", "q2", "q3"]
    assert survey["questions"][0]["choices"] == [
        {"id": "c1", "en": "Price", "zh-CN": "价格"},
        {"id": "c2", "en": "Delivery", "zh-CN": "送货"},
    ]
    assert app.client.get("/api/v1/surveys", headers=app.as_("rep1")).json()["surveys"] == [survey]
    assert app.client.post("/api/v1/surveys", json=CSAT, headers=app.as_("office")).status_code == 403
    bad = {**CSAT, "scale": "stars", "questions": [*CSAT["questions"]] * 2, "name": {"en": "x"}}
    errors = app.client.post("/api/v1/surveys", json=bad, headers=app.as_("admin")).json()["error"]["fields"]
    assert {e["path"] for e in errors} >= {"scale", "questions", "name.zh-CN"}
    choice = {
        **CSAT,
        "questions": [{"type": "choice", "label": {"en": "a", "zh-CN": "甲"}, "choices": [{"en": "one", "zh-CN": "一"}]}],
    }
    errors = app.client.post("/api/v1/surveys", json=choice, headers=app.as_("admin")).json()["error"]["fields"]
    assert errors[0]["path"] == "questions[0].choices"
    changed = app.client.put(f"/api/v1/surveys/{survey['id']}", json={**CSAT, "active": False}, headers=app.as_("admin"))
    assert changed.status_code == 200 and changed.json()["survey"]["active"] is False
    scale = app.client.put(f"/api/v1/surveys/{survey['id']}", json={**CSAT, "scale": "nps"}, headers=app.as_("admin"))
    assert scale.status_code == 400 and scale.json()["error"]["fields"][0]["path"] == "scale"
    assert app.client.put("/api/v1/surveys/s-nope", json=CSAT, headers=app.as_("admin")).status_code == 404


def test_the_customer_answers_the_survey_and_the_answers_are_checked(app: Office):  # noqa: F811
    survey = make(app, CSAT)
    card = str(uuid.uuid4())
    [_, made] = push(app, put(card, {"name": "李娜"}), survey_link(card, survey["id"]))
    token = made["link"]["token"]
    view = app.client.get(f"/api/v1/public/links/{token}").json()
    assert view["survey_form"]["scale"] == "csat" and len(view["survey_form"]["questions"]) == 3
    assert "created_at" not in view["survey_form"]
    for answers, path in (
        ({"q1": "c9"}, "answers.q1"),
        ({"q2": 7, "q1": "c1"}, "answers.q2"),
        ({}, "answers.q1"),
        ({"q1": "c1", "zz": 1}, "answers.zz"),
        ({"q1": "c1", "nps": 3}, "answers.nps"),
    ):
        refused = app.client.post(
            f"/api/v1/public/links/{token}", headers=PAGE, json={"fields": {}, "was": {}, "rating": 4, "answers": answers}
        )
        assert refused.status_code == 400 and path in {f["path"] for f in refused.json()["error"]["fields"]}, answers
    answer = app.client.post(
        f"/api/v1/public/links/{token}",
        headers=PAGE,
        json={"fields": {}, "was": {}, "rating": 4, "text": "", "answers": {"q1": "c2", "q2": 5, "q3": " 很好 "}},
    )
    assert answer.status_code == 200, answer.text
    [feedback] = app.client.get(f"/api/v1/cards/{card}", headers=app.as_("rep1")).json()["activities"]
    assert (feedback["rating"], feedback["survey"], feedback["answers"]) == (4, survey["id"], {"q1": "c2", "q2": 5, "q3": "很好"})


def test_an_nps_detractor_opens_a_follow_up_item_and_the_dashboard_counts_it(app: Office):  # noqa: F811
    nps = make(app, {**CSAT, "scale": "nps", "questions": []})
    csat = make(app, CSAT)
    cards = [str(uuid.uuid4()) for _ in range(3)]
    results = push(
        app,
        put(cards[0], {"name": "甲", "segment": "A"}),
        put(cards[1], {"name": "乙", "segment": "B"}),
        put(cards[2], {"name": "丙", "segment": "B"}),
        survey_link(cards[0], nps["id"]),
        survey_link(cards[1], nps["id"]),
        survey_link(cards[2], csat["id"]),
    )
    tokens = [r["link"]["token"] for r in results[3:]]
    assert (
        app.client.post(f"/api/v1/public/links/{tokens[0]}", headers=PAGE, json={"rating": 4, "answers": {"nps": 9}}).status_code
        == 400
    )  # NPS asks no 1–5 rating
    assert app.client.post(f"/api/v1/public/links/{tokens[0]}", headers=PAGE, json={"answers": {"nps": 11}}).status_code == 400
    assert (
        app.client.post(
            f"/api/v1/public/links/{tokens[0]}", headers=PAGE, json={"answers": {"nps": 3}, "text": "不会推荐"}
        ).status_code
        == 200
    )
    assert (
        app.client.post(
            f"/api/v1/public/links/{tokens[2]}", headers=PAGE, json={"rating": 5, "answers": {"q1": "c1"}}
        ).status_code
        == 200
    )
    [item] = app.client.get(f"/api/v1/cards/{cards[0]}", headers=app.as_("rep1")).json()["card"]["follow_ups"]
    assert item["title"] == "NPS 3 不会推荐"
    figures = app.client.get("/api/v1/dashboard", headers=app.as_("office")).json()["surveys"]
    assert (figures["sent"], figures["answered"], figures["response_rate"]) == (3, 2, 0.667)
    assert figures["nps"] == {"score": -100, "count": 1} and figures["csat"]["average"] == 5.0
    assert [(r["key"], r["count"]) for r in figures["csat_by"]["segment"]] == [("B", 1)]
    assert [r["key"] for r in figures["nps_by"]["rep"]] == ["rep1"]
    sheet = app.client.get("/api/v1/dashboard.csv", params={"figure": "surveys"}, headers=app.as_("office"))
    rows = list(csv.reader(io.StringIO(sheet.content.decode("utf-8-sig"))))
    assert rows[0][:5] == ["group", "key", "sent", "answered", "response_rate"] and rows[1][:5] == ["all", "", "3", "2", "0.667"]
    assert ["segment", "A", "", "", "", "", "0", "", "-100", "1"] in rows


def test_many_survey_links_at_once_as_a_spreadsheet_only_for_cards_the_caller_may_see(app: Office):  # noqa: F811
    survey = make(app, CSAT)
    mine, theirs = str(uuid.uuid4()), str(uuid.uuid4())
    push(app, put(mine, {"name": "李娜", "phones": ["13900001111"]}))
    push(app, put(theirs, {"name": "王伟"}), name="rep2")
    sheet = app.client.post(
        f"/api/v1/surveys/{survey['id']}/links",
        headers=app.as_("rep1"),
        json={"cards": [mine, theirs, "nonsense"], "format": "csv", "lang": "zh-CN", "days": 7},
    )
    assert sheet.status_code == 200 and sheet.headers["x-fieldcards-count"] == "1"
    rows = list(csv.reader(io.StringIO(sheet.content.decode("utf-8-sig"))))
    assert rows[0] == ["编号", "姓名", "公司", "电话", "负责人", "链接", "有效期至"]
    [row] = rows[1:]
    assert row[1] == "李娜" and row[3] == "+8613900001111" and "/c/" in row[5]
    token = row[5].rsplit("/c/", 1)[1]
    view = app.client.get(f"/api/v1/public/links/{token}").json()
    assert view["survey"] == survey["id"] and view["card"]["name"] == "李娜"
    xlsx = app.client.post(f"/api/v1/surveys/{survey['id']}/links", headers=app.as_("office"), json={"cards": [mine, theirs]})
    assert xlsx.status_code == 200 and xlsx.headers["x-fieldcards-count"] == "2" and xlsx.content[:2] == b"PK"
    bad = app.client.post(f"/api/v1/surveys/{survey['id']}/links", headers=app.as_("office"), json={"cards": [], "days": 0})
    assert bad.status_code == 400 and bad.json()["error"]["fields"][0]["path"] == "cards"
    assert app.client.post("/api/v1/surveys/s-none/links", headers=app.as_("office"), json={"cards": [mine]}).status_code == 404
    actions = [e["action"] for e in app.client.get("/api/v1/audit", headers=app.as_("admin")).json()["audit"]]
    assert "survey.links" in actions and "survey.create" in actions
