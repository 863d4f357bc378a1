"""axe-core (installed from npm, node_modules/axe-core) on every main screen, phone and desktop,
English and Chinese: a serious or critical finding fails the test, with the rule and the elements.
The pages' CSP forbids inline scripts, so the context bypasses it to inject axe (the app's own
scripts are unchanged)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import Server
from tests.e2e.conftest import allow_signed_out
from tests.e2e.test_field_app import app_url, session_cookie

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
PHONE = {"width": 390, "height": 844}
DESK = {"width": 1366, "height": 768}
WAIT_MS = 120_000

RUN_AXE = """async () => {
  const result = await axe.run(document, { resultTypes: ["violations"] });
  return result.violations.filter((v) => ["serious", "critical"].includes(v.impact))
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 5).map((n) => n.target.join(" ")).join(" | ")}`);
}"""


def findings(page: Page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    return page.evaluate(RUN_AXE)


@pytest.fixture
def seeded(server: Server, tmp_path):
    server.user("admin", "admin")
    server.user("wang.wei")
    phone = server.device("wang.wei", tmp_path)
    card = phone.create_card(
        name="王伟",
        company="上海贸易",
        phones=["13812345678"],
        emails=["wang@example.cn"],
        tags=["重点客户"],
        segment="A",
        follow_up="2026-01-05",
        notes="喜欢喝茶",
    )
    phone.add_activity(card, "visit", "第一次拜访")
    phone.add_activity(card, "purchase", "订单", amount="12500", currency="CNY")
    phone.create_card(name="王伟", company="上海贸易", phones=["+86 138 1234 5678"])  # a duplicate for the merge screen
    phone.sync()
    admin = server.device("admin", tmp_path)
    admin.sync()
    return {"card": card}


def page_for(browser, server: Server, user: str, viewport: dict[str, int], lang: str):
    context = browser.new_context(viewport=viewport, locale=lang, bypass_csp=True)
    context.add_cookies([session_cookie(server, user)])
    return context, context.new_page()


FIELD_SCREENS = ["#/cards", "#/card/{card}", "#/edit/{card}", "#/new", "#/today", "#/pending", "#/conflicts"]


@pytest.mark.parametrize("lang", ["en-US", "zh-CN"])
@pytest.mark.parametrize("viewport", [PHONE, DESK], ids=["phone", "desk"])
def test_the_field_app_has_no_serious_accessibility_findings(browser, server, seeded, viewport, lang):
    context, page = page_for(browser, server, "wang.wei", viewport, lang)
    try:
        found: dict[str, list[str]] = {}
        for route in FIELD_SCREENS:
            page.goto(app_url(server, route.format(card=seeded["card"])))
            expect(page.locator("#sync-status")).to_be_visible(timeout=WAIT_MS)
            expect(page.locator("main h2").first).to_be_visible(timeout=WAIT_MS)
            found[route] = findings(page)
        assert {k: v for k, v in found.items() if v} == {}
    finally:
        context.close()


OFFICE_SCREENS = [
    ("office.html#/import", ".office-nav"),
    ("office.html#/duplicates", "section.dup-group"),
    ("office.html#/dashboard", "#dash-cards"),
    ("office.html#/quality", ".office-nav"),
    ("office.html#/template", ".office-nav"),
    ("people.html", "#users"),
    ("admin.html", "main h2"),
]


@pytest.mark.parametrize("lang", ["en-US", "zh-CN"])
def test_the_office_and_admin_screens_have_no_serious_accessibility_findings(browser, server, seeded, lang):
    context, page = page_for(browser, server, "admin", DESK, lang)
    try:
        found: dict[str, list[str]] = {}
        for route, ready in OFFICE_SCREENS:
            page.goto(app_url(server, route))
            expect(page.locator(ready).first).to_be_visible(timeout=WAIT_MS)
            page.wait_for_load_state("networkidle")
            found[route] = findings(page)
        assert {k: v for k, v in found.items() if v} == {}
    finally:
        context.close()


def test_the_sign_in_page_has_no_serious_accessibility_findings(browser, server):
    context = browser.new_context(viewport=PHONE, locale="zh-CN", bypass_csp=True)
    try:
        page = context.new_page()
        allow_signed_out(page)  # the sign-in page asks whether a session exists
        page.goto(app_url(server, "signin.html"))
        expect(page.locator("h1").first).to_be_visible(timeout=WAIT_MS)
        assert findings(page) == []
    finally:
        context.close()


# Controls smaller than a finger (or a mouse on a desk) can take. A checkbox or radio counts with its
# label, which takes the tap too.
TOO_SMALL = """(min) => [...document.querySelectorAll('button, input, select, textarea, a.button, .field-nav-link, [role=button]')]
  .filter((el) => el.offsetParent !== null && el.type !== 'hidden')
  .map((el) => { const r = ((el.type === 'checkbox' || el.type === 'radio') && el.closest('label') || el).getBoundingClientRect();
    return [el.id || el.className || el.tagName, Math.round(r.width), Math.round(r.height)]; })
  .filter(([, w, h]) => w > 1 && h > 1 && Math.min(w, h) < min)"""


@pytest.mark.parametrize(("viewport", "smallest"), [(PHONE, 44), (DESK, 24)], ids=["phone-44px", "desk-24px"])
def test_every_control_of_the_field_app_is_big_enough_to_tap(browser, server, seeded, viewport, smallest):
    context, page = page_for(browser, server, "wang.wei", viewport, "en-US")
    try:
        found: dict[str, list] = {}
        for route in FIELD_SCREENS:
            page.goto(app_url(server, route.format(card=seeded["card"])))
            expect(page.locator("main h2").first).to_be_visible(timeout=WAIT_MS)
            found[route] = page.evaluate(TOO_SMALL, smallest)
        if viewport is PHONE:
            page.click("#menu-button")
            found["menu"] = page.evaluate(TOO_SMALL, smallest)
        assert {k: v for k, v in found.items() if v} == {}
    finally:
        context.close()
