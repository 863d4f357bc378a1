"""Dashboard figures and the data-quality report against a known data set."""

from __future__ import annotations

import csv
import io
import sqlite3
from datetime import date, timedelta

from sync.db import Store
from sync.people.users import add_user, create_token
from tests.conftest import App


def known_book(app: App, tmp_path) -> dict[str, str]:
    app.user("office", "office")
    app.user("rep1")
    app.user("rep2")
    one, two = app.device("rep1", tmp_path), app.device("rep2", tmp_path)
    ids = {
        "a1": one.create_card(
            name="甲",
            segment="A",
            region="华东",
            industry="制造",
            tags=["vip"],
            phones=["13812345678"],
            company="甲公司",
            follow_up="2030-12-01",
        ),
        "a2": one.create_card(name="乙", segment="A", region="华南", tags=["vip", "new"]),
        "b1": two.create_card(name="丙", segment="B", region="华东", emails=["c@example.cn"]),
        "x1": two.create_card(name="丁"),
    }
    one.add_activity(ids["a1"], "purchase", "订单", amount="1200.50", currency="CNY")
    one.add_activity(ids["a2"], "purchase", "订单", amount="99.50", currency="CNY")
    one.add_activity(ids["a1"], "feedback", "满意", rating=5)
    two.add_activity(ids["b1"], "feedback", "一般", rating=3)
    two.add_activity(ids["b1"], "chat", "微信聊天")
    one.sync()
    two.sync()
    return ids


def test_dashboard_figures_for_a_known_book(app: App, tmp_path):
    ids = known_book(app, tmp_path)
    with app.client("office") as office:
        # The cards carry the server's real clock: the dashboard is asked for the day they were made,
        # so that this passes on any date the suite runs (issue 11).
        today = office.get(f"/api/v1/cards/{ids['a1']}").json()["card"]["created_at"][:10]
        found = office.get("/api/v1/dashboard", params={"date": today}).json()
        assert found["cards"] == 4
        assert found["by_segment"] == [{"key": "A", "count": 2}, {"key": "B", "count": 1}, {"key": "—", "count": 1}]
        assert found["by_region"][0] == {"key": "华东", "count": 2}
        assert found["by_owner"] == [{"key": "rep1", "count": 2}, {"key": "rep2", "count": 2}]
        assert found["by_tag"] == [{"key": "vip", "count": 2}, {"key": "new", "count": 1}]
        assert found["purchases_by_segment"] == [{"segment": "A", "currency": "CNY", "total": "1300.00", "count": 2}]
        assert found["feedback"] == {"average": 4.0, "count": 2}
        assert sum(w["count"] for w in found["new_cards_per_week"]) == 4
        assert sum(w["count"] for w in found["activities_per_week"]) == 5
        pivot = found["segment_by_region"]
        assert pivot["cells"][pivot["rows"].index("A")][pivot["columns"].index("华东")] == 1
        only_vip = office.get("/api/v1/dashboard", params={"tag": "vip", "date": today}).json()
        assert only_vip["cards"] == 2 and only_vip["feedback"]["count"] == 1
        sheet = office.get("/api/v1/dashboard.csv", params={"figure": "by_segment"})
        rows = list(csv.reader(io.StringIO(sheet.content.decode("utf-8-sig"))))
        assert rows == [["key", "count"], ["A", "2"], ["B", "1"], ["—", "1"]]
        assert office.get("/api/v1/dashboard.csv", params={"figure": "nonsense"}).status_code == 400
        for figure in ("by_region", "new_cards_per_week", "segment_by_region"):
            svg = office.get("/api/v1/dashboard.svg", params={"figure": figure})
            assert svg.status_code == 200 and svg.headers["content-type"] == "image/svg+xml"
            assert svg.text.startswith("<svg") and "<script" not in svg.text
        assert "华东" in office.get("/api/v1/dashboard.svg", params={"figure": "by_region"}).text
        assert office.get("/api/v1/dashboard.svg", params={"figure": "feedback"}).status_code == 400
        assert office.get("/api/v1/dashboard", params={"colour": "red"}).status_code == 400
    with app.client("rep1") as rep:
        mine = rep.get("/api/v1/dashboard").json()
        assert mine["cards"] == 2 and mine["by_owner"] == [{"key": "rep1", "count": 2}]  # reps see their own
        assert rep.get("/api/v1/dashboard", params={"owner": "rep2"}).json()["cards"] == 0


def test_quality_scores_stale_cards_and_values_that_no_longer_pass(app: App, tmp_path):
    ids = known_book(app, tmp_path)
    with sqlite3.connect(app.data / "fieldcards.db") as db:  # values written under older, looser rules
        db.execute("UPDATE cards SET data = json_set(data, '$.phones', json_array('12345')) WHERE id = ?", (ids["a2"],))
        db.execute("UPDATE cards SET data = json_set(data, '$.emails', json_array('not-an-email')) WHERE id = ?", (ids["x1"],))
    with app.client("office") as office:
        made = date.fromisoformat(office.get(f"/api/v1/cards/{ids['a1']}").json()["card"]["created_at"][:10])
        found = office.get("/api/v1/quality", params={"date": made.isoformat()}).json()
        scores = {c["id"]: (c["score"], c["missing"]) for c in found["incomplete"]}
        assert ids["a1"] not in scores  # complete: 100
        assert scores[ids["x1"]] == (29, ["company", "segment", "region", "industry", "follow_up"])
        assert found["owners"]["rep2"]["incomplete"] == 2
        assert {(p["card"], p["field"]) for p in found["invalid_values"]} == {(ids["a2"], "phones[0]"), (ids["x1"], "emails[0]")}
        later = office.get(
            "/api/v1/quality", params={"date": (made + timedelta(days=200)).isoformat(), "stale_days": "30"}
        ).json()
        assert len(later["stale"]) == 4


def test_the_owner_chart_names_reps_by_their_display_names(app: App, tmp_path):
    st = Store(app.data / "fieldcards.db")
    try:
        add_user(st, "wang.wei", "rep", "王伟")
        app.tokens["wang.wei"] = create_token(st, "wang.wei")
    finally:
        st.close()
    app.user("office", "office")
    phone = app.device("wang.wei", tmp_path)
    phone.create_card(name="客户一")
    phone.sync()
    with app.client("office") as client:
        found = client.get("/api/v1/dashboard").json()
        assert found["by_owner"] == [{"key": "wang.wei", "count": 1}]  # the API keeps the login
        assert found["owner_names"] == {"wang.wei": "王伟"}
        svg = client.get("/api/v1/dashboard.svg", params={"figure": "by_owner"}).text
        assert "王伟" in svg and "wang.wei" not in svg
