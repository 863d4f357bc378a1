"""The cards table on a desk (1366×768) in Debian's chromium against a real server (issue 15): one
line a row and no side panel until a card is chosen, so a screen shows many rows; the keyboard
moves between rows (arrows), opens a card (Enter) and closes it (Escape); the select-all box says
whether all, some or none of the shown rows are selected; a filter that hides selected cards
unselects them and says so.
"""

from __future__ import annotations

from playwright.sync_api import Page, expect

from sync.db import Store
from sync.people.users import add_user, create_token
from tests.e2e.test_field_app import eventually, open_app, server_card, signed_in, up_to_date

DESK = {"width": 1366, "height": 768}
WAIT_MS = 120_000

ROWS_IN_VIEW = """() => [...document.querySelectorAll('#cards-table tbody tr')].filter((r) => {
  const b = r.getBoundingClientRect(); return b.top >= 0 && b.bottom <= window.innerHeight; }).length"""
ROW_HEIGHTS = "() => [...document.querySelectorAll('#cards-table tbody tr')].map((r) => r.getBoundingClientRect().height)"


def focused_card(page: Page) -> str | None:
    return page.evaluate("document.activeElement.closest('tr[data-card-id]')?.dataset.cardId || null")


def test_the_desk_table_is_dense_works_from_the_keyboard_and_keeps_the_selection_honest(browser, server, tmp_path):
    server.user("office", "office")
    seed = server.device("office", tmp_path)
    for n in range(40):
        seed.create_card(
            name=f"客户{n:02d}",
            company=f"上海浦东新区国际贸易有限责任公司第{n}分公司",
            tags=["重点客户", "展会", "2024年新客户", "华东区"],
            segment="A" if n % 2 else "B",
        )
    seed.sync()
    context = signed_in(browser, server, "office", DESK)
    try:
        page = open_app(context, server, "#/cards")
        up_to_date(page)
        rows = page.locator("#cards-table tbody tr")
        expect(rows).to_have_count(40, timeout=WAIT_MS)
        # No card chosen: no side panel, the table has the width, every row is one line.
        expect(page.locator("#side-panel")).to_be_hidden()
        heights = page.evaluate(ROW_HEIGHTS)
        assert max(heights) <= 36 and max(heights) - min(heights) < 1, heights
        assert page.evaluate(ROWS_IN_VIEW) >= 15

        # The keyboard: arrows between rows, Enter opens, Escape closes and returns to the row.
        first, third = rows.nth(0).get_attribute("data-card-id"), rows.nth(2).get_attribute("data-card-id")
        rows.nth(0).focus()
        page.keyboard.press("ArrowDown")
        page.keyboard.press("ArrowDown")
        assert focused_card(page) == third
        page.keyboard.press("ArrowUp")
        page.keyboard.press("ArrowDown")
        page.keyboard.press("Enter")
        expect(page.locator("#side-panel")).to_be_visible()
        expect(page.locator("#side-panel #card-title")).to_have_text("客户02")
        assert page.evaluate("location.hash") == f"#/card/{third}"
        assert page.evaluate(ROWS_IN_VIEW) >= 15  # still dense with the panel open
        page.keyboard.press("Escape")
        expect(page.locator("#side-panel")).to_be_hidden()
        assert page.evaluate("location.hash") == "#/cards"
        assert focused_card(page) == third

        # A sync that lands while someone is on a row re-draws the table: the row keeps the focus,
        # and the next key press still acts on it (it used to fall to the page, now and then).
        fifth = rows.nth(4).get_attribute("data-card-id")
        seed.edit_card(fifth, company="刚刚同步的公司")
        seed.sync()
        page.evaluate("window.dispatchEvent(new Event('online'))")  # the app syncs now
        expect(page.locator(f'tr[data-card-id="{fifth}"]')).to_contain_text("刚刚同步的公司", timeout=WAIT_MS)
        assert focused_card(page) == third
        page.keyboard.press("ArrowDown")
        assert focused_card(page) == rows.nth(3).get_attribute("data-card-id")
        page.keyboard.press("ArrowUp")

        # Select-all tells the truth: some → indeterminate, all → checked.
        select_all = page.locator("#select-all")
        page.check(f"#sel-{first}")
        page.check(f"#sel-{third}")
        expect(page.locator("#selected-count")).to_have_text("2 selected")
        assert select_all.evaluate("el => el.indeterminate") is True
        assert not select_all.is_checked()
        select_all.check()
        expect(page.locator("#selected-count")).to_have_text("40 selected")
        assert select_all.evaluate("el => el.indeterminate") is False
        page.uncheck(f"#sel-{first}")
        assert select_all.evaluate("el => el.indeterminate") is True

        # A filter that hides selected cards unselects them, and says so.
        page.fill("#q", "客户0")  # 客户00–客户09 stay; 30 selected cards are hidden
        expect(rows).to_have_count(10)
        expect(page.locator("#selected-count")).to_have_text("9 selected")
        expect(page.locator("#selection-dropped")).to_contain_text("30")
        assert select_all.evaluate("el => el.indeterminate") is True
        assert page.errors == []  # type: ignore[attr-defined]
    finally:
        context.close()


def person(server, name: str, role: str, display: str) -> None:
    """A user with a display name, made through the library on the server's database."""
    st = Store(server.data / "fieldcards.db")
    try:
        add_user(st, name, role, display)
        server.tokens[name] = create_token(st, name)
    finally:
        st.close()


def test_people_are_shown_by_their_display_names_and_give_to_takes_one(browser, server, tmp_path):
    person(server, "office", "office", "陈主管")
    person(server, "wang.wei", "rep", "王伟")
    person(server, "li.na", "rep", "李娜")
    phone = server.device("wang.wei", tmp_path)
    card = phone.create_card(name="赵敏", company="上海贸易")
    phone.add_activity(card, "visit", "第一次拜访")
    phone.sync()
    context = signed_in(browser, server, "office", DESK)
    try:
        page = open_app(context, server, "#/cards")
        up_to_date(page)
        row = page.locator(f"#cards-table tr[data-card-id='{card}']")
        expect(row).to_contain_text("王伟", timeout=WAIT_MS)
        assert "wang.wei" not in row.inner_text()
        page.click(f"#open-{card}")
        expect(page.locator("#side-panel #timeline li").first).to_contain_text("王伟")
        expect(page.locator("#side-panel")).not_to_contain_text("wang.wei")
        # Give to: the display name is enough.
        page.check(f"#sel-{card}")
        page.fill("#bulk-owner", "李娜")
        page.click("#bulk-owner-set")
        expect(page.locator("#flash")).to_contain_text("李娜", timeout=WAIT_MS)
        eventually(
            lambda: server_card(server, "office", card)["card"]["owner"] == "li.na", "the card given to li.na on the server"
        )
        assert page.errors == []  # type: ignore[attr-defined]
    finally:
        context.close()
