"""Duplicates, merge and unmerge over HTTP, with reference-client devices: an offline edit to the
merged-away card lands on the survivor; after unmerge both cards are as they were."""

from __future__ import annotations

from tests.conftest import App


def stable(card: dict) -> dict:
    return {k: v for k, v in card.items() if k not in ("version", "updated_at")}


def test_duplicate_groups_name_their_reason(app: App, tmp_path):
    app.user("office", "office")
    phone = app.device("office", tmp_path)
    a = phone.create_card(name="王伟", phones=["13812345678"], company="上海贸易")
    b = phone.create_card(name="Wang Wei", phones=["+86 138 1234 5678"])
    c = phone.create_card(name="李娜", emails=["na@example.cn"])
    d = phone.create_card(name="Li Na", emails=["NA@Example.CN"])
    e = phone.create_card(name="汪伟", company="上海贸易")
    f = phone.create_card(name="王伟", company="上海贸易")
    phone.create_card(name="Nobody Else")
    phone.sync()
    with app.client("office") as office:
        groups = office.get("/api/v1/duplicates").json()["groups"]
    found = {tuple(g["cards"]): (g["reason"], g["score"]) for g in groups}
    assert found[tuple(sorted([a, b]))] == ("phone", 0.95)
    assert found[tuple(sorted([c, d]))] == ("email", 0.9)
    assert found[tuple(sorted([a, f]))] == ("name+company", 0.85)
    assert found[tuple(sorted([a, e, f]))][0] == "pinyin"
    assert [g["score"] for g in groups] == sorted((g["score"] for g in groups), reverse=True)
    app.user("rep1")
    with app.client("rep1") as rep:
        assert rep.get("/api/v1/duplicates").status_code == 403


def test_an_offline_edit_to_the_merged_away_card_lands_on_the_survivor(app: App, tmp_path):
    app.user("office", "office")
    app.user("rep1")
    phone = app.device("rep1", tmp_path)
    keep = phone.create_card(name="王伟", phones=["13812345678"], tags=["vip"])
    gone = phone.create_card(name="王伟 (old)", phones=["13900001111"], emails=["w@example.cn"], company="上海贸易")
    phone.add_activity(gone, "visit", "第一次拜访")
    phone.sync()

    phone.edit_card(gone, tags=["offline"], title="经理")  # offline, while the office merges
    phone.add_activity(gone, "call", "电话")
    with app.client("office") as office:
        merged = office.post("/api/v1/cards/merge", json={"into": keep, "from": [gone], "values": {"name": "王伟"}})
        assert merged.status_code == 200, merged.text
        card = merged.json()["card"]
        assert card["phones"] == ["+8613812345678", "+8613900001111"] and card["emails"] == ["w@example.cn"]
        assert card["company"] == "上海贸易"  # empty on the kept card: taken from the merged one
        assert office.get(f"/api/v1/cards/{gone}").json()["card"]["deleted"] is True

    report = phone.sync()
    assert report.statuses.get("rejected", 0) == 0
    assert gone not in phone.cards()
    survivor = phone.cards()[keep]
    assert survivor["tags"] == ["vip", "offline"] and survivor["title"] == "经理"
    with app.client("rep1") as rep:
        texts = sorted(a["text"] for a in rep.get(f"/api/v1/cards/{keep}").json()["activities"])
        assert texts == ["电话", "第一次拜访"]


def test_unmerge_puts_both_cards_and_their_activities_back(app: App, tmp_path):
    app.user("office", "office")
    phone = app.device("office", tmp_path)
    keep = phone.create_card(name="李娜", phones=["13812345678"], segment="B")
    gone = phone.create_card(name="李娜", phones=["13900001111"], segment="A", notes="老客户")
    phone.add_activity(gone, "visit", "拜访")
    phone.sync()
    with app.client("office") as office:
        before = {c: office.get(f"/api/v1/cards/{c}").json() for c in (keep, gone)}
        merged = office.post("/api/v1/cards/merge", json={"into": keep, "from": [gone], "values": {"segment": "A"}})
        assert merged.status_code == 200
        assert office.post("/api/v1/cards/merge", json={"into": keep, "from": [keep]}).status_code == 400
        assert office.post("/api/v1/cards/merge", json={"into": keep, "from": [gone]}).status_code == 404  # gone already
        undone = office.post(f"/api/v1/merges/{merged.json()['merge']}/undo")
        assert undone.status_code == 200, undone.text
        assert office.post(f"/api/v1/merges/{merged.json()['merge']}/undo").status_code == 400
        for card_id in (keep, gone):
            now = office.get(f"/api/v1/cards/{card_id}").json()
            assert stable(now["card"]) == stable(before[card_id]["card"])
            assert [a["id"] for a in now["activities"]] == [a["id"] for a in before[card_id]["activities"]]
    app.user("admin", "admin")
    with app.client("admin") as admin:
        actions = [e["action"] for e in admin.get("/api/v1/audit").json()["audit"]]
    assert "merge" in actions and "merge.undo" in actions
    phone.sync()
    assert set(phone.cards()) == {keep, gone}
    assert [a["text"] for a in phone.activities(gone)] == ["拜访"]
