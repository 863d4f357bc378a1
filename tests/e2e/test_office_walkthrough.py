"""The office walk-through of issue 6, in the browser: a messy spreadsheet of 10,000 customers from
Excel (Chinese headers, phones typed every which way, a number-typed phone, lower-case segments,
mixed tag separators, impossible dates, a formula, the same customer twice) is checked, imported
with a progress bar, its duplicates are cleaned by a merge, the dashboard shows the book, and
every step is undone again."""

from __future__ import annotations

import random

import openpyxl
from playwright.sync_api import expect

from tests.e2e.test_office import WAIT_MS, api, finish, open_office, started

ROWS = 10_000
SURNAMES = "王李张刘陈杨黄赵吴周"
GIVEN = "伟芳娜敏静丽强磊军洋"


def messy_book(path) -> dict[str, int]:
    rng = random.Random(11)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["姓名", "公司", "手机/电话", "邮箱", "地区", "客户等级", "标签", "生日", "备注"])
    bad_dates = 0
    for n in range(ROWS):
        digits = f"139{n:08d}"
        phone = rng.choice([digits, f"{digits[:3]} {digits[3:7]} {digits[7:]}", f"+86-{digits}", int(digits)])
        birthday = "1985-02-30" if n % 997 == 0 else rng.choice(["", "1980-05-06", "1990/12/31"])
        bad_dates += birthday == "1985-02-30"
        sheet.append(
            [
                rng.choice(SURNAMES) + rng.choice(GIVEN) + str(n),
                f"公司{n % 50}",
                phone,
                f"Customer{n}@Example.CN" if n % 3 == 0 else None,
                rng.choice(["上海", "北京", "广州", None]),
                rng.choice(["a", "B", "c", ""]),
                rng.choice(["vip、新", "vip,老", "", "展会"]),
                birthday,
                "备注",
            ]
        )
    # The same customer twice, once with a second phone: a duplicate to clean after the import.
    sheet.append(["重复客户", "双胞胎公司", "13600000001", "twin@example.cn", "上海", "A", "vip", None, None])
    sheet.append(["重复客户", "双胞胎公司", "13600000002", None, "上海", "A", None, None, None])
    sheet.append(["公式行", "公司0", "13600000003", None, None, None, None, None, None])
    sheet.cell(row=sheet.max_row, column=9).value = "=1+1"
    book.save(path)
    return {"bad_dates": bad_dates}


def test_a_messy_sheet_of_ten_thousand_is_imported_cleaned_charted_and_undone(browser, tmp_path):
    server = started(tmp_path)
    try:
        server.user("office", "office")
        client = api(server, "office")
        path = tmp_path / "客户名单.xlsx"
        facts = messy_book(path)

        page, problems = open_office(browser, server, "office", "#/import")
        page.set_input_files("#import-file", str(path))
        expect(page.locator("#dry-counts-rows")).to_have_text(str(ROWS + 3), timeout=120_000)
        errors = page.text_content("#import-errors")
        assert '"1985-02-30" is not a date' in errors and "formula" in errors
        creates = int(page.text_content("#dry-counts-create"))
        # Every row has a name, so every row is a card: a bad date or a formula costs only its cell.
        # The twin rows differ in phone: both are created.
        assert creates == ROWS + 3
        assert int(page.text_content("#dry-counts-warnings")) == facts["bad_dates"] + 1
        assert client.get("/cards").json()["cards"] == []  # a preview only

        page.click("#import-run")
        expect(page.locator("#result-title")).to_have_text(f"Imported {path.name}", timeout=180_000)
        assert page.get_attribute("#import-progress", "value") == page.get_attribute("#import-progress", "max")
        sample = client.get("/cards", params={"q": "13900000004"}).json()["cards"]
        assert sample and sample[0]["phones"] == ["+8613900000004"]

        # Clean the duplicate: the twins share name and company.
        page.goto(page.url.split("#")[0] + "#/duplicates")
        twins = page.locator("section.dup-group", has_text="重复客户")
        expect(twins).to_be_visible(timeout=60_000)
        twins.locator("button[id^='merge-']").click()
        expect(page.locator("#notice")).to_contain_text("Merged", timeout=WAIT_MS)
        merged = client.get("/cards", params={"q": "重复客户"}).json()["cards"]
        assert len(merged) == 1 and sorted(merged[0]["phones"]) == ["+8613600000001", "+8613600000002"]

        # The dashboard shows the imported book.
        page.goto(page.url.split("#")[0] + "#/dashboard")
        expect(page.locator("#dash-cards")).to_have_text(str(creates - 1))

        # Undo every step: the merge, then the import.
        page.goto(page.url.split("#")[0] + "#/duplicates")
        page.locator("#merges button").first.click()
        expect(page.locator("#notice")).to_contain_text("undone", timeout=WAIT_MS)
        assert len(client.get("/cards", params={"q": "重复客户"}).json()["cards"]) == 2
        page.goto(page.url.split("#")[0] + "#/import")
        page.click("#undo-import")
        expect(page.locator("#notice")).to_contain_text("The import is undone", timeout=180_000)
        assert client.get("/cards").json()["cards"] == []
        assert problems == []
    finally:
        finish(server)
