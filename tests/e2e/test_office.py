"""The office tools (pwa/office.html) in Debian's chromium against a real server: a spreadsheet is
checked, re-mapped, imported with a progress bar and undone; two cards with the same phone are
merged with a value from the second card and unmerged; the dashboard draws its figures and its CSV
links download; a stored value that no longer validates is fixed through sync; an admin adds a
required choice field to the card template. Screenshots: docs/screenshots/office-*.png.

Waiting is done with Playwright's `expect` (selectors): our CSP forbids `wait_for_function`.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import httpx
import openpyxl
from playwright.sync_api import Page, expect

from server.auth import sessions
from server.config import Config
from sync.db import Store
from tests.conftest import Server, start_server, stop_server
from tests.e2e.conftest import allow_refused, allow_signed_out, shots_dir, watch

SHOTS = shots_dir()
DESK = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
WAIT_MS = 120_000  # a state the app reports; long, so a busy machine is late, not failed

# Controls a screen reader could not name: no <label for>, no aria-label, no text.
UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea, button')].filter((el) =>
  !el.getAttribute('aria-label') && !(el.id && document.querySelector(`label[for="${CSS.escape(el.id)}"]`)) &&
  !el.closest('label') && !(el.tagName === 'BUTTON' && el.textContent.trim())).map((el) => el.id || el.outerHTML)"""


# --- helpers ---------------------------------------------------------------------------------


def started(tmp_path: Path) -> Server:
    data = tmp_path / "data"
    proc, url = start_server(data, "--no-backup")
    return Server(url, data, proc)


def finish(server: Server) -> None:
    for device in server.devices:
        device.close()
    output = stop_server(server.proc)
    assert "Traceback" not in output, output


def office_url(server: Server, route: str) -> str:
    return server.url.replace("127.0.0.1", "localhost") + "/office.html" + route


def api(server: Server, user: str) -> httpx.Client:
    return httpx.Client(base_url=server.url + "/api/v1", headers={"authorization": f"Bearer {server.tokens[user]}"}, timeout=30)


def open_office(browser, server: Server, user: str, route: str, *, lang: str = "en-US") -> tuple[Page, list[str]]:
    """Signed in with the user's API token, the way people.html is."""
    page = browser.new_page(viewport=DESK, locale=lang)
    allow_signed_out(page)  # the token form first
    problems = watch(page)  # script errors, CSP refusals, failed requests: the screens use no inline code
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(office_url(server, route))
    page.wait_for_selector("#token")
    assert page.get_attribute("a[href^='signin.html']", "href") == "signin.html?next=office.html"
    page.fill("#token", server.tokens[user])
    page.click("button[type=submit]")
    page.wait_for_selector(".office-nav")
    return page, problems


def to_chinese(page: Page) -> None:
    page.select_option("#lang", "zh-CN")
    expect(page.locator("h1")).to_contain_text("内勤工具")


def shot(page: Page, name: str) -> None:
    assert page.evaluate(UNLABELLED) == []
    page.screenshot(path=str(SHOTS / f"office-{name}.png"), full_page=True)


def fits_a_phone(page: Page) -> None:
    """Readable on a phone: no sideways scrolling of the page (wide tables scroll in their box)."""
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.set_viewport_size(DESK)


def spreadsheet(path: Path) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["姓名", "公司", "手机", "邮箱", "客户等级", "生日"])
    sheet.append(["王伟", "上海贸易", "13812345678", "wang.wei@example.cn", "A", "1980-05-01"])
    sheet.append(["李娜", "北京科技", "13900001111", "li.na@example.cn", "B", "2026-02-30"])
    sheet.append(["张强", "广州制造", "13700002222", "zhang.qiang@example.cn", "C", ""])
    book.save(path)
    return path


def live_cards(client: httpx.Client) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in client.get("/cards", params={"limit": 500}).json()["cards"] if not c["deleted"]}


# --- import ----------------------------------------------------------------------------------


def test_import_checks_remaps_imports_with_progress_and_undoes(browser, tmp_path):
    server = started(tmp_path)
    try:
        server.user("office", "office")
        client = api(server, "office")
        path = spreadsheet(tmp_path / "客户.xlsx")
        page, problems = open_office(browser, server, "office", "#/import")
        allow_refused(page, 400, "imports", "two columns mapped to one field: the server's refusal is checked")
        expect(page.locator("#tab-import")).to_have_attribute("aria-current", "page")
        assert page.locator("#tab-template").count() == 0  # the template is for admins

        # A file where no column is recognised as the name: its columns are offered for mapping.
        unknown = tmp_path / "kunden.csv"
        unknown.write_text("Kunde,Telefon\nMüller,13812345678\n", encoding="utf-8")
        page.set_input_files("#import-file", str(unknown))
        expect(page.locator("#dry-run")).to_contain_text("no column holds the name", timeout=WAIT_MS)
        page.select_option("select[data-header='Kunde']", "name")
        page.select_option("select[data-header='Telefon']", "phones")
        expect(page.locator("#dry-counts-create")).to_have_text("1", timeout=WAIT_MS)
        assert client.get("/cards").json()["cards"] == []  # still only a preview

        # The dry run: counts, the bad date as a warning at its row, column and value (the row is
        # imported without it), and nothing written.
        page.set_input_files("#import-file", str(path))
        expect(page.locator("#dry-counts-rows")).to_have_text("3", timeout=WAIT_MS)
        assert page.text_content("#dry-counts-create") == "3"
        assert page.text_content("#dry-counts-skip") == "0"
        assert page.text_content("#dry-counts-errors") == "0"
        assert page.text_content("#dry-counts-warnings") == "1"
        [error_row] = page.locator("#import-errors tbody tr").all()
        cells = [c.text_content() for c in error_row.locator("td").all()]
        assert cells[0] == "3" and cells[2] == "生日" and cells[3] == "2026-02-30", cells
        assert cells[4] == '生日 "2026-02-30" is not a date; imported without it', cells
        assert page.input_value("select[data-header='姓名']") == "name"
        assert page.input_value("select[data-header='手机']") == "phones"
        assert page.input_value("select[data-header='生日']") == "birthday"
        assert "Birthday: 1980-05-01" in page.text_content("#import-preview tr[data-row='2']")
        assert live_cards(client) == {}
        shot(page, "import-1366-en")

        # Ignoring the birthday column checks again: every row is a new card, without birthdays.
        page.select_option("select[data-header='生日']", "")
        expect(page.locator("#dry-counts-warnings")).to_have_text("0", timeout=WAIT_MS)
        assert page.text_content("#dry-counts-create") == "3"
        expect(page.locator("#import-preview tr[data-row='3']")).to_contain_text("Create")
        assert "Birthday" not in page.text_content("#import-preview")
        assert page.input_value("select[data-header='生日']") == ""

        # Two columns on one field: the server's refusal shows at that column's select.
        page.select_option("select[data-header='公司']", "name")
        expect(page.locator("select[data-header='公司']")).to_have_attribute("aria-invalid", "true", timeout=WAIT_MS)
        assert "two columns" in page.text_content("tr[data-header='公司'] .field-error")
        assert page.text_content("#import-error") == "Check the column choices marked below."
        assert page.is_disabled("#import-run")
        page.select_option("select[data-header='公司']", "company")
        expect(page.locator("#dry-counts-create")).to_have_text("3", timeout=WAIT_MS)

        # Import, with the progress bar fed by polling; it ends full.
        polls: list[str] = []
        page.on("request", lambda r: polls.append(r.url) if "/imports/progress/" in r.url else None)
        page.evaluate("""() => { window.sawProgress = false;
          new MutationObserver(() => { if (document.querySelector('progress')) window.sawProgress = true; })
            .observe(document.body, { childList: true, subtree: true }); }""")
        expect(page.locator("#import-run")).to_have_text("Import (3 changes)")
        page.click("#import-run")
        expect(page.locator("#result-title")).to_have_text("Imported 客户.xlsx", timeout=WAIT_MS)
        assert page.evaluate("() => window.sawProgress") is True
        assert polls, "the progress was never asked for"
        assert page.get_attribute("#import-progress", "max") == "3"
        assert page.get_attribute("#import-progress", "value") == "3"
        assert page.text_content("#result-counts-create") == "3"
        cards = live_cards(client)
        assert set(cards) == {"王伟", "李娜", "张强"}
        assert cards["王伟"]["phones"] == ["+8613812345678"] and cards["王伟"]["segment"] == "A"
        assert cards["王伟"]["company"] == "上海贸易" and cards["王伟"]["birthday"] is None
        expect(page.locator("#import-history tbody tr")).to_have_count(1, timeout=WAIT_MS)
        assert "客户.xlsx" in page.text_content("#import-history")

        # Undo: the cards are gone, and the notice says what became of later changes.
        page.click("#undo-import")
        expect(page.locator("#notice")).to_contain_text("The import is undone: 3 changes were put back.", timeout=WAIT_MS)
        assert "no conflicts" in page.text_content("#notice")
        assert live_cards(client) == {}
        for card in cards.values():
            assert client.get(f"/cards/{card['id']}").json()["card"]["deleted"] is True
        expect(page.locator("#import-history tbody tr").first).to_contain_text("Undone")

        # The server's list survives a reload; the same file can be checked again, in Chinese.
        page.reload()
        page.wait_for_selector("#import-history")
        expect(page.locator("#import-history")).to_contain_text("Undone", timeout=WAIT_MS)
        page.set_input_files("#import-file", str(path))
        expect(page.locator("#dry-counts-create")).to_have_text("3", timeout=WAIT_MS)
        to_chinese(page)
        expect(page.locator("#dry-title")).to_have_text("导入前检查")
        assert "生日“2026-02-30”不是日期" in page.text_content("#import-errors")  # by its code, in Chinese
        shot(page, "import-1366-zh-CN")
        fits_a_phone(page)
        assert problems == []
    finally:
        finish(server)


def test_a_messy_chinese_workbook_imports_every_customer_with_warnings_in_chinese_and_history(browser, tmp_path):
    """Issue 15, majors 1 and 2: A类 tiers, 1991/1/4 and serial dates, +86/0086 phones, some bad
    cells and rows without a name. Every named row becomes a card, each bad cell is a warning in
    Chinese, 重要客户 is mapped to A, the problems download, and the import is listed by the server."""
    from tests.test_import_messy import BAD, messy_rows, workbook

    server = started(tmp_path)
    try:
        server.user("office", "office")
        server.user("rep1")
        client = api(server, "office")
        path = tmp_path / "客户名单.xlsx"
        path.write_bytes(workbook(messy_rows()))
        page, problems = open_office(browser, server, "office", "#/import", lang="zh-CN")
        expect(page.locator("h1")).to_contain_text("内勤工具")
        expect(page.locator("#import-history")).to_contain_text("还没有导入记录")
        page.fill("#import-owner", "rep1")
        page.set_input_files("#import-file", str(path))
        expect(page.locator("#dry-counts-rows")).to_have_text("500", timeout=WAIT_MS)
        assert page.text_content("#dry-counts-create") == "495"
        assert page.text_content("#dry-counts-errors") == "5"
        bad_cells = sum(1 for i in range(500) if i % 50 in BAD)
        tiers = sum(1 for i in range(500) if i % 8 == 7 and i % 50 != 11)  # 重要客户 (not VIP): not a tier yet
        expect(page.locator("#dry-counts-warnings")).to_have_text(str(bad_cells + tiers))
        text = page.text_content("#import-errors")
        assert "生日“1991/13/4”不是日期，已导入但未包含此项" in text
        assert "手机“12345”不是电话号码" in text and "姓名：没有姓名" in text
        assert "is not a date" not in text  # no English on the Chinese screen

        # 重要客户 is the person's word for tier A: mapped, its warnings go.
        page.select_option("#import-values select[data-value='重要客户']", "A")
        expect(page.locator("#dry-counts-warnings")).to_have_text(str(bad_cells), timeout=WAIT_MS)
        shot(page, "import-messy-1366-zh-CN")

        with page.expect_download() as got:
            page.click("#import-errors-download")
        assert got.value.suggested_filename == "导入问题.xlsx"
        sheet = openpyxl.load_workbook(io.BytesIO(Path(got.value.path()).read_bytes())).active
        assert [c.value for c in sheet[1]][-2:] == ["导入问题", "原文件行号"]
        assert sheet.max_row == 1 + 5 + bad_cells

        page.click("#import-run")
        expect(page.locator("#result-counts-create")).to_have_text("495", timeout=WAIT_MS)
        cards = live_cards(client)
        assert len(cards) == 495 and cards["客户15"]["segment"] == "A" and {c["owner"] for c in cards.values()} == {"rep1"}

        # The list comes from the server: after a reload it is still there, with its undo.
        page.reload()
        row = page.locator("#import-history tbody tr")
        expect(row).to_have_count(1, timeout=WAIT_MS)
        expect(row).to_contain_text("客户名单.xlsx")
        expect(row.locator("button.danger")).to_have_text("撤销本次导入")
        shot(page, "import-history-1366-zh-CN")
        row.locator("button.danger").click()
        expect(page.locator("#notice")).to_contain_text("导入已撤销", timeout=WAIT_MS)
        expect(row).to_contain_text("已由")
        assert live_cards(client) == {}
        assert problems == []
    finally:
        finish(server)


# --- duplicates and merge --------------------------------------------------------------------


def test_two_cards_with_one_phone_merge_with_a_value_from_the_second_and_unmerge(browser, tmp_path):
    server = started(tmp_path)
    try:
        server.user("office", "office")
        client = api(server, "office")
        phone = server.device("office", tmp_path)
        first = phone.create_card(name="王伟", phones=["13812345678"], company="上海贸易", tags=["vip"])
        second = phone.create_card(
            name="王伟", phones=["+86 138 1234 5678"], company="上海贸易集团", emails=["wang.wei@example.cn"], title="经理"
        )
        phone.add_activity(second, "visit", "第一次拜访")
        phone.sync()

        page, problems = open_office(browser, server, "office", "#/duplicates")
        group = page.locator(f"section.dup-group[data-group*='{first}']")
        expect(group).to_be_visible(timeout=WAIT_MS)
        assert second in group.get_attribute("data-group")
        expect(group.locator("h3")).to_contain_text("Same phone")
        group.locator(f"input[name^='keep-'][value='{first}']").check()
        # The name is the same on both cards: nothing to choose. The company differs: a choice,
        # set to the kept card's value until another is picked.
        assert group.locator("tr[data-field='name'] input").count() == 0
        kept_company = group.locator(f"tr[data-field='company'] input[value='{first}']")
        assert kept_company.is_checked()
        assert "united" in page.text_content("#screen-duplicates")
        shot(page, "duplicates-1366-en")

        group.get_by_label("上海贸易集团").check()
        group.locator("button[id^='merge-']").click()
        expect(page.locator("#notice")).to_contain_text("Merged: 1 cards went into 王伟.", timeout=WAIT_MS)
        kept = client.get(f"/cards/{first}").json()
        assert kept["card"]["company"] == "上海贸易集团"
        assert kept["card"]["phones"] == ["+8613812345678"]
        assert kept["card"]["emails"] == ["wang.wei@example.cn"] and kept["card"]["tags"] == ["vip"]
        assert kept["card"]["title"] == "经理"  # empty on the kept card: taken from the other
        assert [a["text"] for a in kept["activities"]] == ["第一次拜访"]
        assert client.get(f"/cards/{second}").json()["card"]["deleted"] is True
        expect(page.locator("#dup-count")).to_have_text("0 groups found.")

        page.locator("#merges button").click()
        expect(page.locator("#notice")).to_contain_text("The merge into 王伟 is undone", timeout=WAIT_MS)
        assert client.get(f"/cards/{first}").json()["card"]["company"] == "上海贸易"
        back = client.get(f"/cards/{second}").json()
        assert back["card"]["deleted"] is False and back["card"]["company"] == "上海贸易集团"
        assert [a["text"] for a in back["activities"]] == ["第一次拜访"]
        expect(page.locator("#merges li")).to_contain_text("Undone")
        expect(group).to_be_visible(timeout=WAIT_MS)  # the pair is listed again

        to_chinese(page)
        expect(group.locator("h3")).to_contain_text("电话相同")
        shot(page, "duplicates-1366-zh-CN")
        fits_a_phone(page)
        assert problems == []
    finally:
        finish(server)


def test_a_merge_keeps_the_card_with_history_and_asks_who_keeps_the_customer_when_owners_differ(browser, tmp_path):
    server = started(tmp_path)
    try:
        server.user("office", "office")
        server.user("wang.wei")
        server.user("li.na")
        client = api(server, "office")
        old_phone, new_phone = server.device("wang.wei", tmp_path), server.device("li.na", tmp_path)
        kept = old_phone.create_card(name="陈静", phones=["13812345678"], company="上海贸易")
        for text in ("第一次拜访", "报价", "签约"):
            old_phone.add_activity(kept, "visit", text)
        old_phone.sync()
        empty = new_phone.create_card(name="陈静", phones=["+86 138 1234 5678"])  # newer, no history
        new_phone.sync()

        page, problems = open_office(browser, server, "office", "#/duplicates")
        group = page.locator(f"section.dup-group[data-group*='{kept}']")
        expect(group).to_be_visible(timeout=WAIT_MS)
        # The card with three activities is kept by default, whatever order the server lists them in.
        expect(group.locator(f"input[name^='keep-'][value='{kept}']")).to_be_checked()
        expect(group.locator("th.dup-card").filter(has_text="3 activities")).to_contain_text("wang.wei")
        expect(group.locator("th.dup-card").filter(has_text="0 activities")).to_contain_text("li.na")
        # The owners differ: an explicit question, nothing ticked, the suggestion named.
        question = group.locator("fieldset.owner-choice")
        expect(question).to_contain_text("Who keeps this customer")
        assert question.locator("input:checked").count() == 0
        expect(question.locator("label", has_text="wang.wei")).to_contain_text("most history")
        group.locator("button[id^='merge-']").click()
        expect(group.locator("p[role=alert]")).to_contain_text("Choose who keeps this customer")
        assert client.get(f"/cards/{empty}").json()["card"]["deleted"] is False  # nothing merged yet
        shot(page, "duplicates-owners-1366-en")

        question.get_by_label(re.compile("wang.wei")).check()
        group.locator("button[id^='merge-']").click()
        expect(page.locator("#notice")).to_contain_text("Merged", timeout=WAIT_MS)
        card = client.get(f"/cards/{kept}").json()
        assert card["card"]["owner"] == "wang.wei"
        assert len(card["activities"]) == 3
        assert client.get(f"/cards/{empty}").json()["card"]["deleted"] is True
        assert problems == []
    finally:
        finish(server)


# --- dashboard -------------------------------------------------------------------------------


def session_cookie(server: Server, user: str) -> dict[str, Any]:
    st = Store(server.data / "fieldcards.db")
    try:
        with st.write() as conn:
            raw = sessions.start(conn, Config.load(str(server.data)), user, "pytest")
    finally:
        st.close()
    return {"name": sessions.COOKIE, "value": raw, "domain": "localhost", "path": "/", "httpOnly": True, "sameSite": "Lax"}


def test_dashboard_draws_figures_under_filters_and_downloads_csv(browser, tmp_path):
    server = started(tmp_path)
    try:
        server.user("office", "office")
        server.user("rep1")
        phone = server.device("rep1", tmp_path)
        for n, (segment, region, industry) in enumerate(
            [("A", "华东", "制造"), ("A", "华东", "零售"), ("B", "华南", "制造"), ("C", None, None), (None, "华北", "零售")]
        ):
            card = phone.create_card(
                name=f"客户{n}", segment=segment, region=region, industry=industry, tags=["vip"] if n < 2 else []
            )
            phone.add_activity(card, "visit", "拜访")
        phone.add_activity(card, "purchase", "订单", amount="1200.50", currency="CNY")
        phone.sync()

        page, problems = open_office(browser, server, "office", "#/dashboard")
        expect(page.locator("#dash-cards")).to_have_text("5", timeout=WAIT_MS)
        # Signed in with a token: the charts come inline (an <img> could not send the token).
        for figure in ("by_segment", "by_region", "new_cards_per_week", "segment_by_region"):
            expect(page.locator(f"svg#chart-{figure}")).to_be_visible(timeout=WAIT_MS)
        label = page.get_attribute("svg#chart-by_segment", "aria-label")
        assert label.startswith("Cards by segment: A 2") and "B 1" in label, label
        assert page.locator("svg#chart-by_segment script").count() == 0
        page.locator("[data-figure='by_region'] summary").click()
        rows = [r.text_content() for r in page.locator("#table-by_region tbody tr").all()]
        assert rows[0] == "华东2" and "(empty)1" in rows, rows
        assert "¥1,200.50" in page.text_content("#table-purchases_by_segment")

        # The CSV link: its address answers with the figure; clicking it downloads the file.
        href = page.get_attribute("#csv-by_region", "href")
        csv = httpx.get(server.url + href, headers={"authorization": f"Bearer {server.tokens['office']}"})
        assert csv.status_code == 200 and csv.text.lstrip("\ufeff").splitlines()[:2] == ["key,count", "华东,2"], csv.text
        with page.expect_download() as download:
            page.click("#csv-by_segment")
        assert download.value.suggested_filename == "fieldcards-by_segment.csv"
        assert "A,2" in Path(download.value.path()).read_text(encoding="utf-8-sig")

        # A filter narrows every figure, and the links follow it.
        page.select_option("#filter-segment", "A")
        expect(page.locator("#dash-cards")).to_have_text("2", timeout=WAIT_MS)
        assert "segment=A" in page.get_attribute("#csv-by_region", "href")
        expect(page.locator("svg#chart-by_region")).to_be_visible(timeout=WAIT_MS)
        page.select_option("#filter-segment", "")
        expect(page.locator("#dash-cards")).to_have_text("5", timeout=WAIT_MS)
        expect(page.locator("svg#chart-by_owner")).to_be_visible(timeout=WAIT_MS)
        shot(page, "dashboard-1366-en")
        assert problems == []
        page.close()

        # Signed in with a passkey (a session cookie): the charts are plain images, in Chinese.
        context = browser.new_context(viewport=DESK, locale="zh-CN")
        context.add_cookies([session_cookie(server, "office")])
        page = context.new_page()
        page.goto(office_url(server, "#/dashboard"))
        expect(page.locator("#dash-cards")).to_have_text("5", timeout=WAIT_MS)
        expect(page.locator("h1")).to_contain_text("内勤工具")
        image = page.locator("img#chart-by_segment")
        assert image.get_attribute("alt").startswith("按客户等级：") or image.get_attribute("alt").startswith("按客户等级:")
        page.locator("img#chart-activities_per_week").scroll_into_view_if_needed()
        for figure in ("by_segment", "activities_per_week", "segment_by_region"):
            expect(page.locator(f"img#chart-{figure}")).to_have_js_property("complete", True, timeout=WAIT_MS)
            assert page.eval_on_selector(f"img#chart-{figure}", "(img) => img.naturalWidth") > 0, figure
        shot(page, "dashboard-1366-zh-CN")
        fits_a_phone(page)
        context.close()
    finally:
        finish(server)


# --- data quality ----------------------------------------------------------------------------


def test_quality_lists_problems_and_a_bad_phone_is_fixed_through_sync(browser, tmp_path):
    server = started(tmp_path)
    try:
        server.user("office", "office")
        server.user("rep1")
        client = api(server, "office")
        phone = server.device("rep1", tmp_path)
        bad = phone.create_card(
            name="赵敏",
            phones=["13812345678", "13900001111"],
            company="杭州茶业",
            segment="B",
            region="华东",
            industry="零售",
            follow_up="2026-12-01",
        )
        phone.create_card(name="周杰")
        phone.sync()
        # A phone stored under older rules (as if written before validation was strict).
        st = Store(server.data / "fieldcards.db")
        try:
            with st.write() as conn:
                conn.execute("UPDATE cards SET data = json_set(data, '$.phones[0]', '138 1234') WHERE id = ?", (bad,))
        finally:
            st.close()

        page, problems = open_office(browser, server, "office", "#/quality")
        expect(page.locator("#stat-cards")).to_have_text("2", timeout=WAIT_MS)
        row = page.locator(f"#invalid-values tr[data-card='{bad}']")
        expect(row).to_contain_text("138 1234")
        assert "周杰" in page.text_content("#quality-incomplete")
        assert page.locator("#quality-owners tr[data-owner='rep1']").count() == 1
        page.fill("#stale-days", "0")
        page.click("#quality-refresh")
        expect(page.locator("#quality-error")).to_contain_text("1 to 3650")
        page.fill("#stale-days", "30")
        page.click("#quality-refresh")
        expect(page.locator("#stale-title")).to_contain_text("30 days")
        shot(page, "quality-1366-en")

        # A value the server refuses: its reason shows at the input, nothing changes.
        row.locator("input").fill("12")
        row.locator("button").click()
        expect(row.locator(".field-error")).not_to_be_empty(timeout=WAIT_MS)
        assert client.get(f"/cards/{bad}").json()["card"]["phones"][0] == "138 1234"

        row.locator("input").fill("13812341234")
        row.locator("button").click()
        expect(page.locator("#notice")).to_contain_text("Saved Phones of 赵敏: applied", timeout=WAIT_MS)
        assert client.get(f"/cards/{bad}").json()["card"]["phones"] == ["+8613900001111", "+8613812341234"] or sorted(
            client.get(f"/cards/{bad}").json()["card"]["phones"]
        ) == ["+8613812341234", "+8613900001111"]
        expect(page.locator("#invalid-values")).to_have_text(re.compile("passes the checks"))
        history = client.get(f"/cards/{bad}/history").json()["history"]
        assert history[-1]["device"] == "office-web-office" and history[-1]["user"] == "office"

        to_chinese(page)
        expect(page.locator("#quality-title")).to_have_text("数据质量")
        shot(page, "quality-1366-zh-CN")
        fits_a_phone(page)
        assert problems == []
    finally:
        finish(server)


# --- card template ---------------------------------------------------------------------------


def test_an_admin_adds_a_required_choice_field_that_reaches_the_schema(browser, tmp_path):
    server = started(tmp_path)
    try:
        server.user("boss", "admin")
        server.user("office", "office")
        server.user("rep1")
        client = api(server, "boss")

        # A rep is told the office tools are not for them.
        page = browser.new_page(viewport=DESK, locale="en-US")
        allow_signed_out(page)  # the token form first
        page.goto(office_url(server, "#/import"))
        page.fill("#token", server.tokens["rep1"])
        page.click("button[type=submit]")
        expect(page.locator("#error")).to_have_text("The office tools are for office staff and admins only.", timeout=WAIT_MS)
        page.close()

        # Office staff do not get the template.
        page, _ = open_office(browser, server, "office", "#/template")
        expect(page.locator("#error")).to_have_text("Only admins can change the card template.")
        assert page.locator("#tab-template").count() == 0
        page.close()

        page, problems = open_office(browser, server, "boss", "#/template")
        allow_refused(page, 400, "template", "a field key the server refuses: its reason is checked")
        expect(page.locator("#no-fields")).to_be_visible(timeout=WAIT_MS)
        assert "hides it" in page.text_content("#template-hidden-note")
        page.click("#add-field")
        assert page.evaluate("document.activeElement.id") == "cf-0-key"
        page.fill("#cf-0-key", "Level")
        page.fill("#cf-0-label", "Customer level")
        page.fill("#cf-0-label-zh", "客户级别")
        page.select_option("#cf-0-type", "choice")
        page.fill("#cf-0-choices", "金牌, 银牌，铜牌")
        page.check("#cf-0-required")
        page.fill("#list-regions", "华东\n华南\n\n")
        expect(page.locator("#template-dirty")).to_be_visible()
        page.click("#template-save")
        # The server's reason shows at the key, and the keyboard goes there.
        expect(page.locator("#cf-0-key-error")).to_contain_text("lower-case", timeout=WAIT_MS)
        assert page.get_attribute("#cf-0-key", "aria-invalid") == "true"
        assert page.evaluate("document.activeElement.id") == "cf-0-key"
        assert client.get("/schema").json()["options"]["custom_fields"] == []

        page.fill("#cf-0-key", "level")
        page.click("#template-save")
        expect(page.locator("#notice")).to_contain_text("The template is saved", timeout=WAIT_MS)
        options = client.get("/schema").json()["options"]
        assert options["custom_fields"] == [
            {
                "key": "level",
                "label": {"en": "Customer level", "zh-CN": "客户级别"},
                "type": "choice",
                "required": True,
                "choices": ["金牌", "银牌", "铜牌"],
            }
        ]
        assert options["regions"] == ["华东", "华南"]
        expect(page.locator("#cf-0-key")).to_have_attribute("readonly", "")  # a saved key cannot change
        page.click("#add-field")
        page.fill("#cf-1-key", "vip_no")
        page.fill("#cf-1-label", "VIP number")
        page.fill("#cf-1-label-zh", "会员号")
        page.fill("#cf-1-pattern", "^V\\d{4}$")
        shot(page, "template-1366-en")
        page.click("#template-save")
        expect(page.locator("#notice")).to_be_visible(timeout=WAIT_MS)
        fields = client.get("/schema").json()["options"]["custom_fields"]
        assert [f["key"] for f in fields] == ["level", "vip_no"] and fields[1]["pattern"] == "^V\\d{4}$"

        # The new field can be a column of an import.
        page.click("#tab-import")
        page.set_input_files("#import-file", str(spreadsheet(tmp_path / "cards.xlsx")))
        expect(page.locator("select[data-header='客户等级'] option[value='custom.level']")).to_have_text(
            "Customer level (custom.level)", timeout=WAIT_MS
        )
        page.click("#tab-template")
        to_chinese(page)
        expect(page.locator("#template-title")).to_have_text("客户卡片模板", timeout=WAIT_MS)
        shot(page, "template-1366-zh-CN")
        fits_a_phone(page)
        assert problems == []
    finally:
        finish(server)


def test_a_merge_over_the_phone_limit_lets_the_person_pick_the_phones_to_keep(browser, tmp_path):
    server = started(tmp_path)
    try:
        server.user("office", "office")
        client = api(server, "office")
        phone = server.device("office", tmp_path)
        first = phone.create_card(name="赵敏", emails=["zhao@example.cn"], phones=[f"1381234560{n}" for n in range(6)])
        phone.create_card(name="赵敏 (2)", emails=["zhao@example.cn"], phones=[f"1391234560{n}" for n in range(6)])
        phone.sync()
        page, problems = open_office(browser, server, "office", "#/duplicates")
        group = page.locator(f"section.dup-group[data-group*='{first}']")
        expect(group).to_be_visible(timeout=WAIT_MS)
        group.locator(f"input[name^='keep-'][value='{first}']").check()
        trim = group.locator("fieldset.trim")
        expect(trim).to_contain_text("12")
        assert trim.locator("input:checked").count() == 10
        trim.locator("input[value='+8613912345605']").check()  # the 11th: too many now
        group.locator("button[id^='merge-']").click()
        expect(group.locator("p[role=alert]")).to_contain_text("Tick at most 10")
        expect(group.locator("p[id$='-phones-count']")).to_have_text("11 of at most 10 ticked.")
        trim.locator("input[value='+8613812345600']").uncheck()
        group.locator("button[id^='merge-']").click()
        expect(page.locator("#notice")).to_contain_text("Merged", timeout=WAIT_MS)
        phones = client.get(f"/cards/{first}").json()["card"]["phones"]
        assert len(phones) == 10 and "+8613812345600" not in phones and "+8613912345605" in phones
        assert problems == []
    finally:
        finish(server)
