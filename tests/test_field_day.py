"""The office's side of the rep's day (issue 16): per rep, the share of visits
logged within 500 m of the customer (dashboard figure `visits_near`, JSON and CSV); customers'
locations in and out of spreadsheets (经度/纬度, latitude/longitude, a bad cell a warning); and the
export's column of links to each card's photos and files. In-process over the real app (the `app`
fixture), the reference client's phones included."""

from __future__ import annotations

import csv
import io

from sync.places import distance_m
from tests.conftest import App
from tests.test_import import upload

SHOP = {"lat": 31.2304, "lng": 121.4737}
AT_THE_SHOP = {"lat": 31.2331, "lng": 121.4737, "accuracy_m": 20}  # 300 m north
DOWN_THE_ROAD = {"lat": 31.2484, "lng": 121.4737, "accuracy_m": 15}  # 2 km north


def test_distances_are_haversine():
    assert round(distance_m(SHOP, AT_THE_SHOP)) == 300
    assert round(distance_m({"lat": 39.9042, "lng": 116.4074}, SHOP) / 1000) == 1067  # Beijing to Shanghai


def test_the_dashboard_shows_per_rep_the_share_of_visits_logged_at_the_customer(app: App, tmp_path):
    app.user("office", "office")
    app.user("rep1")
    app.user("rep2")
    one, two = app.device("rep1", tmp_path), app.device("rep2", tmp_path)
    shop = one.create_card(name="黄浦茶庄", location=SHOP)
    unplaced = one.create_card(name="没有位置")
    other = two.create_card(name="陆家嘴贸易", location={"lat": 31.2397, "lng": 121.4998})
    one.add_activity(shop, "visit", "门口", location=AT_THE_SHOP)
    one.add_activity(shop, "visit", "路上记的", location=DOWN_THE_ROAD)
    one.add_activity(shop, "visit", "没开定位")
    one.add_activity(unplaced, "visit", "客户没有位置", location=AT_THE_SHOP)
    one.add_activity(shop, "call", "电话不算拜访", location=AT_THE_SHOP)
    two.add_activity(other, "visit", "到店", location={"lat": 31.2398, "lng": 121.4999, "accuracy_m": 8})
    one.sync()
    two.sync()
    with app.client("office") as office:
        day = office.get(f"/api/v1/cards/{shop}").json()["card"]["created_at"][:10]
        found = office.get("/api/v1/dashboard", params={"date": day}).json()
        assert found["visits_near"] == [
            {"key": "rep1", "visits": 4, "with_position": 3, "near": 1, "share": 0.25},
            {"key": "rep2", "visits": 1, "with_position": 1, "near": 1, "share": 1.0},
        ]
        rows = list(
            csv.reader(
                io.StringIO(
                    office.get("/api/v1/dashboard.csv", params={"figure": "visits_near", "date": day}).content.decode("utf-8-sig")
                )
            )
        )
        assert rows == [
            ["rep", "visits", "with_position", "near", "share"],
            ["rep1", "4", "3", "1", "0.25"],
            ["rep2", "1", "1", "1", "1.0"],
        ]
    with app.client("rep2") as rep:  # a rep sees only their own
        assert [r["key"] for r in rep.get("/api/v1/dashboard", params={"date": day}).json()["visits_near"]] == ["rep2"]


def test_locations_come_in_from_jingdu_weidu_columns_and_go_out_again(app: App):
    app.user("office", "office")
    data = (
        "姓名,公司,经度,纬度\n"
        "黄浦茶庄,茶庄,121.4737,31.2304\n"
        "全角数字,茶庄,１２１．４９９８,３１．２３９７°\n"
        "纬度错了,茶庄,121.4737,95\n"
        "只有经度,茶庄,121.4737,\n"
    ).encode("utf-8")
    with app.client("office") as office:
        done = upload(office, "客户.csv", data, mode="create")
        assert done.status_code == 200, done.text
        plan = done.json()
        assert plan["create"] == 4  # a bad location costs the row nothing
        assert sorted((w["row"], w["code"]) for w in plan["warnings"]) == [(4, "bad_value"), (5, "bad_value")]
        cards = {c["name"]: c for c in office.get("/api/v1/cards", params={"limit": 100}).json()["cards"]}
        assert cards["黄浦茶庄"]["location"] == {"lat": 31.2304, "lng": 121.4737}
        assert cards["全角数字"]["location"] == {"lat": 31.2397, "lng": 121.4998}
        assert cards["纬度错了"]["location"] is None and cards["只有经度"]["location"] is None

        # English headers work too, and an export reads back as the same locations.
        english = upload(office, "en.csv", b"Name,Longitude,Latitude\nLujiazui,121.4998,31.2397\n", mode="create")
        assert english.status_code == 200 and english.json()["create"] == 1
        for lang, lat, lng in (("zh-CN", "纬度", "经度"), ("en", "latitude", "longitude")):
            exported = office.get("/api/v1/export", params={"format": "csv", "lang": lang}).content.decode("utf-8-sig")
            table = list(csv.DictReader(io.StringIO(exported)))
            by_name = {row["姓名" if lang == "zh-CN" else "name"]: row for row in table}
            assert (by_name["黄浦茶庄"][lat], by_name["黄浦茶庄"][lng]) == ("31.2304", "121.4737")
            assert by_name["纬度错了"][lat] == ""
            again = upload(office, "export.csv", exported.encode("utf-8"), mode="upsert", match="name+company")
            assert again.status_code == 200 and again.json()["update"] == 0, again.json()


def test_the_export_links_each_cards_photos_and_files(app: App, tmp_path):
    app.user("office", "office")
    app.user("rep1")
    phone = app.device("rep1", tmp_path)
    card = phone.create_card(name="黄浦茶庄")
    photo = phone.add_attachment(card, b"\xff\xd8photo bytes\xff\xd9", "门头.jpg", "image/jpeg")
    phone.sync()
    phone.upload_files()
    with app.client("office") as office:
        exported = office.get("/api/v1/export", params={"format": "csv", "lang": "zh-CN"}).content.decode("utf-8-sig")
        [row] = list(csv.DictReader(io.StringIO(exported)))
        link = row["附件"]
        assert link == f"{app.url}/api/v1/attachments/{photo}"
        assert office.get(link).content == b"\xff\xd8photo bytes\xff\xd9"
