"""An import keeps every customer (issue 15, major 1 and 2): a 500-row workbook as Chinese offices
keep them (A类 and 甲 tiers, 1991/1/4 and serial dates, full-width digits, +86 and 0086 phones)
imports every row that has a name; each bad optional cell comes back as a warning naming its
column and value, and in the problems file to fix and import again; imports are listed
server-side with their undo."""

from __future__ import annotations

import io
import json
from datetime import datetime

from openpyxl import Workbook, load_workbook

from sync.office.cells import read_date, read_segment
from tests.test_hostile import Office, app  # noqa: F401 - the in-process app fixture

HEADERS = ["姓名", "公司", "手机", "邮箱", "客户等级", "生日", "下次跟进", "备注"]
FULL_WIDTH = str.maketrans("0123456789/", "０１２３４５６７８９／")
BAD = {3: ("手机", "12345"), 11: ("客户等级", "VIP"), 23: ("生日", "1991/13/4"), 31: ("邮箱", "not-an-email")}


def phone(i: int) -> str:
    digits = f"138{i:08d}"
    spaced = f"{digits[:3]} {digits[3:7]} {digits[7:]}"
    return [f"+86 {spaced}", f"0086-{digits[:3]}-{digits[3:7]}-{digits[7:]}", spaced, digits.translate(FULL_WIDTH)][i % 4]


def birthday(i: int) -> object:
    y, m, d = 1970 + i % 30, 1 + i % 12, 1 + i % 28
    return [f"{y}/{m}/{d}", f"{y}年{m}月{d}日", f"{y}.{m}.{d}", 25000 + i, f"{y}/{m}/{d}".translate(FULL_WIDTH)][i % 5]


def messy_rows(count: int = 500) -> list[list[object]]:
    rows = []
    for i in range(count):
        row: dict[str, object] = {
            "姓名": None if i % 100 == 7 else f"客户{i}",
            "公司": f"公司{i % 37}",
            "手机": phone(i),
            "邮箱": f"c{i}@example.cn" if i % 3 == 0 else None,
            "客户等级": ["A类", "B类", "C级", "甲", "乙", "丙", "a", "重要客户"][i % 8],
            "生日": birthday(i),
            "下次跟进": datetime(2027, 1 + i % 12, 1 + i % 28) if i % 2 else None,
            "备注": "老客户" if i % 10 == 0 else None,
        }
        if i % 50 in BAD:
            column, value = BAD[i % 50]
            row[column] = value
        rows.append([row[h] for h in HEADERS])
    return rows


def workbook(rows: list[list[object]], headers: list[str] = HEADERS) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def post(app: Office, data: bytes, who: str = "office", **form: str):  # noqa: F811
    return app.client.post("/api/v1/imports", headers=app.as_(who), files={"file": ("客户.xlsx", data)}, data=form)


def test_chinese_tiers_and_dates_are_read_as_people_write_them():
    assert [read_segment(t) for t in ("A类", "b级", "甲", "乙类", "丙", "Ｃ", "VIP")] == ["A", "B", "A", "B", "C", "C", None]
    assert {read_date(t) for t in ("2024/1/4", "2024年1月4日", "2024.1.4", "2024-1-4", "45295", "２０２４／１／４")} == {
        "2024-01-04"
    }
    assert read_date("1991/13/4") is None and read_date("2026-02-30") is None


def test_a_messy_500_row_workbook_imports_every_named_customer(app: Office):  # noqa: F811
    data = workbook(messy_rows())
    values = json.dumps({"segment": {"重要客户": "A"}})
    dry = post(app, data, dry_run="true", values=values)
    assert dry.status_code == 200, dry.text
    plan = dry.json()
    named = 500 - 5
    assert (plan["rows"], plan["create"], plan["skip"]) == (500, named, 5)
    assert sorted(e["row"] for e in plan["errors"]) == [i + 2 for i in range(500) if i % 100 == 7]
    assert {e["code"] for e in plan["errors"]} == {"name_missing"}
    # Every bad optional cell, and nothing else, is a warning naming its row, column and value.
    expected = {(i + 2, *BAD[i % 50]) for i in range(500) if i % 50 in BAD}
    assert {(w["row"], w["column"], w["value"]) for w in plan["warnings"]} == expected
    date_warning = next(w for w in plan["warnings"] if w["column"] == "生日")
    assert date_warning["code"] == "not_a_date"
    assert date_warning["message"] == '生日 "1991/13/4" is not a date; imported without it'

    done = post(app, data, values=values, owner="rep1")
    assert done.status_code == 200, done.text
    result = done.json()
    assert result["create"] == named and len(result["warnings"]) == len(expected) and len(result["errors"]) == 5
    cards = {
        c["name"]: c for c in app.client.get("/api/v1/cards", params={"limit": 1000}, headers=app.as_("office")).json()["cards"]
    }
    assert len(cards) == named
    assert cards["客户0"]["phones"] == ["+8613800000000"] and cards["客户0"]["segment"] == "A"
    assert cards["客户1"]["phones"] == ["+8613800000001"]  # 0086-138-…
    assert cards["客户3"]["phones"] == []  # the bad phone is left out, the customer is not
    assert cards["客户3"]["segment"] == "A"  # 甲
    assert cards["客户15"]["phones"] == ["+8613800000015"]  # full-width digits
    assert cards["客户15"]["segment"] == "A"  # 重要客户, mapped by the person
    assert cards["客户0"]["birthday"] == "1970-01-01"
    assert cards["客户1"]["birthday"] == "1971-02-02"  # 1971年2月2日
    assert cards["客户3"]["birthday"] == "1968-06-14"  # the Excel serial number 25003
    assert cards["客户4"]["birthday"] == "1974-05-05"  # full-width 1974／5／5
    assert cards["客户23"]["birthday"] is None and cards["客户23"]["name"] == "客户23"
    assert cards["客户1"]["follow_up"] == "2027-02-02"
    assert {c["owner"] for c in cards.values()} == {"rep1"}

    # The problems file: the rejected rows and the rows with warnings, as they were, with the problems.
    sheet = app.client.get(
        f"/api/v1/imports/{result['import']}/problems", params={"format": "xlsx", "lang": "zh-CN"}, headers=app.as_("office")
    )
    assert sheet.status_code == 200, sheet.text
    rows = list(load_workbook(io.BytesIO(sheet.content)).active.iter_rows(values_only=True))
    assert list(rows[0]) == [*HEADERS, "导入问题", "原文件行号"]
    by_row = {int(r[-1]): r for r in rows[1:]}
    assert set(by_row) == {row for row, _, _ in expected} | {i + 2 for i in range(500) if i % 100 == 7}
    for row, column, value in expected:
        assert by_row[row][HEADERS.index(column)] == value  # the cell to fix, as it was
        assert value in by_row[row][-2] and column in by_row[row][-2]
    assert "不是日期" in by_row[25][-2] and "没有姓名" in by_row[9][-2]
    csv = app.client.get(f"/api/v1/imports/{result['import']}/problems", params={"format": "csv"}, headers=app.as_("office"))
    assert csv.status_code == 200 and "is not a date; imported without it" in csv.content.decode("utf-8-sig")


def test_a_dry_run_gives_its_problems_file_without_storing_anything(app: Office):  # noqa: F811
    data = workbook([["王伟", "", "138 1234 5678", "", "VIP", "1991/13/4", "", ""], [None, "某公司", "", "", "", "", "", ""]])
    answer = app.client.post(
        "/api/v1/imports/problems",
        params={"format": "csv", "lang": "zh-CN"},
        headers=app.as_("office"),
        files={"file": ("a.xlsx", data)},
        data={"dry_run": "true"},
    )
    assert answer.status_code == 200, answer.text
    text = answer.content.decode("utf-8-sig")
    assert "客户等级“VIP”不是客户等级" in text and "生日“1991/13/4”不是日期" in text and "没有姓名" in text
    assert app.client.get("/api/v1/imports", headers=app.as_("office")).json()["imports"] == []


def test_owner_column_takes_user_or_display_names_and_owners_must_exist(app: Office):  # noqa: F811
    headers = ["姓名", "负责人"]
    data = workbook([["甲", "rep2"], ["乙", "nobody"]], headers)
    done = post(app, data)
    assert done.status_code == 200, done.text
    assert [(w["row"], w["code"]) for w in done.json()["warnings"]] == [(3, "unknown_owner")]
    owners = {c["name"]: c["owner"] for c in app.client.get("/api/v1/cards", headers=app.as_("office")).json()["cards"]}
    assert owners == {"甲": "rep2", "乙": "office"}
    refused = post(app, workbook([["丙", ""]], headers), owner="nobody")
    assert refused.status_code == 400 and refused.json()["error"]["fields"][0]["path"] == "owner"
    bad_values = post(app, data, values=json.dumps({"segment": {"x": "A"}}))
    assert bad_values.status_code == 400 and bad_values.json()["error"]["fields"][0]["path"] == "values.segment"


def test_imports_are_listed_server_side_newest_first_with_their_undo(app: Office):  # noqa: F811
    first = post(app, workbook([["王伟", "", "13812345678", "", "", "", "", ""]])).json()
    second = post(app, workbook([["李娜", "", "13912345678", "", "B类", "1991/1/4", "", ""]])).json()
    listed = app.client.get("/api/v1/imports", headers=app.as_("office"))
    assert listed.status_code == 200
    imports = listed.json()["imports"]
    assert [i["id"] for i in imports] == [second["import"], first["import"]]
    assert imports[0]["filename"] == "客户.xlsx" and imports[0]["user"] == "office" and imports[0]["create"] == 1
    assert imports[0]["undone_at"] is None and imports[0]["created_at"]
    assert app.client.post(f"/api/v1/imports/{second['import']}/undo", headers=app.as_("admin")).status_code == 200
    after = {i["id"]: i for i in app.client.get("/api/v1/imports", headers=app.as_("admin")).json()["imports"]}
    assert after[second["import"]]["undone_at"] and after[second["import"]]["undone_by"] == "admin"
    assert after[first["import"]]["undone_at"] is None
    names = [c["name"] for c in app.client.get("/api/v1/cards", headers=app.as_("office")).json()["cards"]]
    assert names == ["王伟"]
    assert app.client.get("/api/v1/imports", headers=app.as_("rep1")).status_code == 403
    assert app.client.get(f"/api/v1/imports/{first['import']}/problems", headers=app.as_("rep1")).status_code == 403
    assert app.client.get("/api/v1/imports/nope/problems", headers=app.as_("office")).status_code == 404


def test_erasing_a_customer_removes_their_row_from_the_problems_kept(app: Office):  # noqa: F811
    done = post(app, workbook([["王伟", "", "12345", "", "", "", "", ""], ["李娜", "", "", "", "VIP", "", "", ""]])).json()
    assert [w["row"] for w in done["warnings"]] == [2, 3]
    wang = next(c for c in app.client.get("/api/v1/cards", headers=app.as_("office")).json()["cards"] if c["name"] == "王伟")
    assert app.client.post(f"/api/v1/cards/{wang['id']}/erase", headers=app.as_("admin")).status_code == 200
    kept = app.client.get(
        f"/api/v1/imports/{done['import']}/problems", params={"format": "csv"}, headers=app.as_("office")
    ).content.decode("utf-8-sig")
    assert "王伟" not in kept and "12345" not in kept and "李娜" in kept


def test_a_cell_too_long_or_too_full_is_named_for_what_it_is(app: Office):  # noqa: F811
    phones = "; ".join(f"1381234{n:04d}" for n in range(11))
    done = post(app, workbook([["王伟", "公" * 201, phones, "", "", "", "", ""]])).json()
    assert done["create"] == 1
    codes = {w["column"]: w["code"] for w in done["warnings"]}
    assert codes == {"公司": "too_long", "手机": "bad_value"}
    assert done["warnings"][0]["params"] == {"limit": 200}
