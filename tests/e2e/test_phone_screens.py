"""The rep's app on small phones (360×640, 390×844) in Debian's chromium against a real server
(issue 15): a form's first problem gets focus with its message in view, never under the sticky
Save bar; the duplicate warning is in view and says what "Save anyway" does; amounts are read as
people write them ("12,500", "¥12,500"); the fixed chrome (header, bottom nav, + button) leaves the
screen to the content and covers no list item.

The app is opened at http://localhost:PORT/ (service workers need a secure origin).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from playwright.sync_api import Page, expect

from tests.conftest import Server
from tests.e2e.test_field_app import (
    app_url,
    choose_language,
    open_app,
    rejected_edit,
    screens,
    seed_book,
    server_card,
    session_cookie,
    shot,
    signed_in,
    up_to_date,
)

SMALL = {"width": 360, "height": 640}
PHONE = {"width": 390, "height": 844}
WAIT_MS = 120_000

BOX = "(sel) => { const r = document.querySelector(sel).getBoundingClientRect(); return {top: r.top, bottom: r.bottom, height: r.height}; }"


def box(page: Page, selector: str) -> dict[str, float]:
    return page.evaluate(BOX, selector)


def in_view_above_bars(page: Page, selector: str) -> None:
    """The element is inside the window, below the header and above the Save bar and the nav."""
    target = box(page, selector)
    header = box(page, "#field-header")
    assert target["top"] >= header["bottom"] - 1, (selector, target, header)
    limit = page.evaluate("window.innerHeight")
    for bar in ("#save-bar", "#nav"):
        if page.locator(bar).count() and page.locator(bar).is_visible():
            limit = min(limit, box(page, bar)["top"])
    assert target["bottom"] <= limit + 1, (selector, target, limit)


def seeded(server: Server, tmp_path) -> dict[str, Any]:
    server.user("rep1")
    seed = server.device("rep1", tmp_path)
    ids = {"wang": seed.create_card(name="王伟", company="上海贸易", phones=["13812345678"])}
    seed.sync()
    return ids


# --- major 5: forms whose errors are in view ----------------------------------------------------


def test_a_bad_second_phone_gets_focus_and_its_message_shows_above_the_save_bar(browser, server, tmp_path):
    seeded(server, tmp_path)
    context = signed_in(browser, server, "rep1", SMALL)
    try:
        page = open_app(context, server, "#/new")
        up_to_date(page)
        expect(page.locator("#f-name")).to_be_visible(timeout=WAIT_MS)
        page.fill("#f-name", "李娜")
        page.fill("#f-phones-0", "13900001111")
        page.click("#f-phones-add")
        page.fill("#f-phones-1", "12345")
        page.fill("#f-notes", "见面聊过")
        page.focus("#f-notes")
        page.click("#save")
        expect(page.locator("#f-phones-error")).to_contain_text("12345")
        # Focus on the phone that is wrong, not the first phone field.
        assert page.evaluate("document.activeElement.id") == "f-phones-1"
        expect(page.locator("#f-phones-0")).not_to_have_attribute("aria-invalid", "true")
        in_view_above_bars(page, "#f-phones-error")
        in_view_above_bars(page, "#f-phones-1")

        # The same phone as 王伟's card: the warning is in view and says what the button now does.
        page.fill("#f-phones-1", "138 1234 5678")
        page.click("#save")
        expect(page.locator("#dup-warning")).to_contain_text("王伟")
        expect(page.locator("#save")).to_have_text("Save anyway")
        expect(page.locator("#dup-warning")).to_contain_text("Save anyway")
        warning = box(page, "#dup-warning")
        assert warning["top"] >= box(page, "#field-header")["bottom"] - 1
        assert warning["bottom"] <= box(page, "#nav")["top"] + 1
        page.click("#save")
        expect(page.locator("#card-title")).to_have_text("李娜", timeout=WAIT_MS)
    finally:
        context.close()


def test_purchase_amounts_written_with_separators_and_a_yuan_sign_are_accepted(browser, server, tmp_path):
    ids = seeded(server, tmp_path)
    context = signed_in(browser, server, "rep1", PHONE)
    try:
        page = open_app(context, server, f"#/card/{ids['wang']}")
        up_to_date(page)
        expect(page.locator("#card-title")).to_have_text("王伟", timeout=WAIT_MS)

        page.click("#add-activity")
        page.select_option("#activity-kind", "purchase")
        page.fill("#activity-amount", "12,50")  # not an amount: refused next to the field, in view
        page.click("#activity-save")
        expect(page.locator("#activity-amount-error")).to_contain_text("12,50")
        assert page.evaluate("document.activeElement.id") == "activity-amount"
        in_view_above_bars(page, "#activity-amount-error")

        # The form fits a purchase: its labels say so, the currency is chosen from a list.
        expect(page.locator("#activity-save")).to_have_text("Save purchase")
        expect(page.locator("label[for='activity-text']")).to_have_text("What was bought (optional)")
        expect(page.locator("#activity-currency")).to_have_value("CNY")
        assert "US Dollar (USD)" in page.locator("#activity-currency option").all_text_contents()
        page.fill("#activity-amount", "¥12,500")
        page.click("#activity-save")
        expect(page.locator("#timeline li")).to_have_count(1, timeout=WAIT_MS)
        page.click("#add-activity")
        page.select_option("#activity-kind", "purchase")
        page.fill("#activity-amount", "12,500.50")
        page.click("#activity-save")
        expect(page.locator("#timeline li")).to_have_count(2, timeout=WAIT_MS)
        expect(page.locator("#card-totals")).to_have_text("Purchases ¥25,000.50")  # money as people read it
        assert sorted(page.locator("#timeline li .money").all_text_contents()) == ["¥12,500.00", "¥12,500.50"]
        up_to_date(page)

        def purchases() -> list[tuple[str, str]]:
            return sorted((a["amount"], a["currency"]) for a in server_card(server, "rep1", ids["wang"])["activities"])

        expect(page.locator("#sync-status")).to_have_text("Up to date", timeout=WAIT_MS)
        assert purchases() == [("12500", "CNY"), ("12500.50", "CNY")]
        assert page.errors == []  # type: ignore[attr-defined]
    finally:
        context.close()


# --- major 6: chrome that leaves the screen to the content --------------------------------------

OVERLAP = """([a, b]) => { const r = document.querySelector(a).getBoundingClientRect(), s = document.querySelector(b).getBoundingClientRect();
  return r.width > 0 && s.width > 0 && r.left < s.right && s.left < r.right && r.top < s.bottom && s.top < r.bottom; }"""
FIELDS_IN_VIEW = """() => { const top = document.querySelector('#field-header').getBoundingClientRect().bottom;
  const bottom = document.querySelector('#save-bar').getBoundingClientRect().top;
  return [...document.querySelectorAll('#card-form .fields > .field')].filter((f) => {
    const r = f.getBoundingClientRect(); return r.height > 0 && r.top >= top - 1 && r.bottom <= bottom + 1; }).length; }"""


def test_header_and_nav_leave_the_screen_to_the_cards_and_the_new_button_covers_no_card(browser, server, tmp_path):
    server.user("rep1")
    seed = server.device("rep1", tmp_path)
    for n in range(30):
        seed.create_card(name=f"客户{n:02d}", company="上海贸易")
    seed.sync()
    for viewport, most in ((SMALL, 0.17), (PHONE, 0.13)):
        context = signed_in(browser, server, "rep1", viewport)
        try:
            page = open_app(context, server, "#/cards")
            up_to_date(page)
            expect(page.locator("#card-list li")).to_have_count(30, timeout=WAIT_MS)
            chrome = box(page, "#field-header")["height"] + box(page, "#nav")["height"]
            assert chrome / viewport["height"] <= most, (viewport, chrome)
            # The sync state is a chip in the one-row header; language and Help wait in the menu.
            assert box(page, "#sync-status")["height"] <= 32
            expect(page.locator("#lang")).to_be_hidden()
            expect(page.locator("#help")).to_be_hidden()
            page.click("#menu-button")
            expect(page.locator("#menu-button")).to_have_attribute("aria-expanded", "true")
            expect(page.locator("#help")).to_be_visible()
            page.select_option("#lang", "zh-CN")
            expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
            expect(page.locator("#lang")).to_be_hidden()  # choosing closes the menu
            # Scrolled to the end, the + button and the nav cover no card.
            page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
            last = "#card-list li:last-child"
            assert not page.evaluate(OVERLAP, [last, "#new-card"])
            assert not page.evaluate(OVERLAP, [last, "#nav"])
            # The card form shows more than a handful of fields at once.
            page.click("#new-card")
            expect(page.locator("#f-name")).to_be_visible(timeout=WAIT_MS)
            page.evaluate("window.scrollTo(0, 0)")
            assert page.evaluate(FIELDS_IN_VIEW) >= (4 if viewport is SMALL else 6)
            assert page.errors == []  # type: ignore[attr-defined]
        finally:
            context.close()


# --- screenshots on the smallest phone ----------------------------------------------------------


def test_screenshots_of_every_screen_on_a_small_phone(browser, server, tmp_path):
    """docs/screenshots/field-*-360-*.png (written there only with FIELDCARDS_SHOTS=docs/screenshots)."""
    server.user("rep1")
    ids = seed_book(server, tmp_path)
    context = signed_in(browser, server, "rep1", SMALL)
    try:
        page = open_app(context, server)
        up_to_date(page)
        rejected_edit(page, server, ids["liu"])
        for lang in ("en", "zh-CN"):
            choose_language(page, lang)
            screens(page, server, 360, lang, ids["wang"])
            page.goto(app_url(server, "#/cards"))
            page.click("#menu-button")
            expect(page.locator("#help")).to_be_visible()
            shot(page, "menu", 360, lang)
            page.keyboard.press("Escape")
            expect(page.locator("#help")).to_be_hidden()
        assert page.errors == []  # type: ignore[attr-defined]
    finally:
        context.close()


# --- a device a person can recognise -------------------------------------------------------------

PIXEL = "Mozilla/5.0 (Linux; Android 14; Pixel 7 Build/UQ1A.240205.004) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36"


def test_a_rep_names_the_phone_and_the_admin_recognises_it_by_name_and_model(browser, server, tmp_path):
    seeded(server, tmp_path)
    server.user("admin", "admin")
    context = browser.new_context(viewport=PHONE, locale="zh-CN", user_agent=PIXEL)
    context.add_cookies([session_cookie(server, "rep1")])
    try:
        page = open_app(context, server, "#/pending")
        expect(page.locator("#sync-status")).to_have_text("已是最新", timeout=WAIT_MS)
        page.fill("#device-name", "王伟的 Pixel")
        page.click("#device-name-save")
        expect(page.locator("#device-name-note")).to_contain_text("已保存")
        assert page.errors == []  # type: ignore[attr-defined]
    finally:
        context.close()
    admin = browser.new_context(viewport={"width": 1366, "height": 768}, locale="en-US")
    admin.add_cookies([session_cookie(server, "admin")])
    try:
        page = admin.new_page()
        page.goto(app_url(server, "people.html"))
        row = page.locator("#devices tr[data-device]").filter(has_text="1.0.0")  # the phone, not the seeding script
        expect(row).to_contain_text("王伟的 Pixel", timeout=WAIT_MS)
        expect(row).to_contain_text("Pixel 7")
        expect(row).to_contain_text("Android 14")
    finally:
        admin.close()


# --- addresses open in the map app people use -----------------------------------------------------


def test_an_address_opens_amap_in_chinese_and_the_map_app_can_be_chosen(browser, server, tmp_path):
    server.user("rep1")
    seed = server.device("rep1", tmp_path)
    card = seed.create_card(name="王伟", address="上海市浦东新区世纪大道100号")
    seed.sync()
    context = signed_in(browser, server, "rep1", PHONE)
    try:
        page = open_app(context, server, f"#/card/{card}")
        up_to_date(page)
        link = page.locator("#address-link")
        expect(link).to_have_attribute(
            "href", "https://www.google.com/maps/search/?api=1&query=" + quote("上海市浦东新区世纪大道100号")
        )
        choose_language(page, "zh-CN")
        expect(link).to_have_attribute("href", re.compile(r"^https://uri\.amap\.com/search\?keyword="))
        page.click("#menu-button")
        page.select_option("#map-app", "baidu")
        expect(link).to_have_attribute("href", re.compile(r"^https://api\.map\.baidu\.com/geocoder\?address="))
        assert page.errors == []  # type: ignore[attr-defined]
    finally:
        context.close()
