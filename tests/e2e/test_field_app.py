"""The field app (pwa/index.html) in Debian's chromium against a real server: a rep works offline
through a reload and a browser restart and the server ends up with exactly those edits; two
devices edit the same field and the conflict is resolved on the Conflicts screen; a change the
server rejects is fixed on the Pending screen; a card reassigned away leaves the phone. Also the
screenshots of every screen (docs/screenshots/field-*.png), phone and desktop, English and Chinese.

The app is opened at http://localhost:PORT/ (not 127.0.0.1): service workers need a secure origin.
Waiting is done with Playwright's `expect` (selectors), since our CSP forbids `wait_for_function`.
"""

from __future__ import annotations

import re
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Callable

import httpx
from playwright.sync_api import BrowserContext, Page, expect

from server.auth import sessions
from server.config import Config
from sync.db import Store
from tests.conftest import Server
from tests.e2e.conftest import CHROMIUM, CHROMIUM_FLAGS, allow_offline, allow_problems, allow_refused, shots_dir, watch

SHOTS = shots_dir()
PHONE = {"width": 390, "height": 844}
DESK = {"width": 1366, "height": 768}
WAIT_MS = 120_000  # a state the app reports; long, so a busy machine is late, not failed


# --- helpers ---------------------------------------------------------------------------------


def session_cookie(server: Server, user: str) -> dict[str, Any]:
    """A browser session as the passkey sign-in makes it (tests/e2e/test_passkeys.py drives the real one)."""
    st = Store(server.data / "fieldcards.db")
    try:
        with st.write() as conn:
            raw = sessions.start(conn, Config.load(str(server.data)), user, "pytest")
    finally:
        st.close()
    # An expiry, like the server's Max-Age, so that the cookie survives a browser restart.
    return {
        "name": sessions.COOKIE,
        "value": raw,
        "domain": "localhost",
        "path": "/",
        "httpOnly": True,
        "sameSite": "Lax",
        "expires": int(time.time()) + 86400,
    }


def app_url(server: Server, route: str = "") -> str:
    return server.url.replace("127.0.0.1", "localhost") + "/" + route


def signed_in(browser, server: Server, user: str, viewport: dict[str, int] = PHONE) -> BrowserContext:
    context = browser.new_context(viewport=viewport, locale="en-US")
    context.add_cookies([session_cookie(server, user)])
    return context


def open_app(context: BrowserContext, server: Server, route: str = "") -> Page:
    page = context.pages[0] if context.pages else context.new_page()
    page.goto(app_url(server, route))
    expect(page.locator("#sync-status")).to_be_visible()
    page.errors = watch(page)  # type: ignore[attr-defined]
    return page


def up_to_date(page: Page) -> None:
    expect(page.locator("#sync-status")).to_have_text("Up to date", timeout=WAIT_MS)


def eventually(check: Callable[[], Any], what: str, timeout: float = 20) -> Any:
    """Polls until `check()` returns something truthy (the app syncs on its own schedule)."""
    deadline = time.time() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def server_cards(server: Server, user: str) -> dict[str, dict[str, Any]]:
    with server.client(user) as client:
        return {c["id"]: c for c in client.get("/api/v1/cards", params={"limit": 1000}).json()["cards"]}


def server_card(server: Server, user: str, card_id: str) -> dict[str, Any]:
    with server.client(user) as client:
        return client.get(f"/api/v1/cards/{card_id}").json()


def open_conflicts(server: Server, user: str) -> list[dict[str, Any]]:
    with server.client(user) as client:
        return client.get("/api/v1/conflicts", params={"status": "open"}).json()["conflicts"]


def card_id_of(page: Page, name: str) -> str:
    return page.locator("[data-card-id]", has_text=name).first.get_attribute("data-card-id")


def shot(page: Page, screen: str, width: int, lang: str) -> None:
    if page.locator("#flash-close").count():  # the note after the last action is not part of the screen
        page.click("#flash-close")
    page.screenshot(path=str(SHOTS / f"field-{screen}-{width}-{lang}.png"))


def controlled_by_service_worker(page: Page) -> bool:
    return page.evaluate("() => navigator.serviceWorker.controller !== null")


# --- 1. offline, reload, restart ---------------------------------------------------------------


def test_rep_edits_offline_through_a_reload_and_a_restart_and_the_server_gets_exactly_that(browser, server, tmp_path):
    server.user("rep1")
    profile = tmp_path / "profile"
    context = browser.browser_type.launch_persistent_context(
        str(profile), executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True, viewport=PHONE, locale="en-US"
    )
    try:
        context.add_cookies([session_cookie(server, "rep1")])
        page = open_app(context, server)
        up_to_date(page)
        eventually(lambda: controlled_by_service_worker(page), "the service worker to control the page")

        allow_offline(context)
        context.set_offline(True)
        expect(page.locator("#sync-status")).to_contain_text("Offline")
        page.click("#new-card")
        page.fill("#f-name", "王伟")
        page.fill("#f-company", "上海贸易")
        page.fill("#f-phones-0", "138 1234 5678")
        page.fill("#f-tags", "vip, 重点客户")
        page.click("#save")
        expect(page.locator("#card-title")).to_have_text("王伟")
        wang = page.url.rsplit("/", 1)[1]
        expect(page.locator("#contacts a[href='tel:+8613812345678']")).to_be_visible()

        page.click("#log-visit")
        page.fill("#visit-text", "第一次拜访")
        page.click("#visit-save")
        expect(page.locator("#timeline")).to_contain_text("第一次拜访")

        page.click("#edit-card")
        page.fill("#f-company", "上海贸易有限公司")
        page.fill("#f-follow_up", "2030-01-15")
        page.click("#save")
        expect(page.locator("#card-company")).to_have_text("上海贸易有限公司")

        page.goto(app_url(server, "#/new"))
        page.fill("#f-name", "Li Na")
        page.fill("#f-phones-0", "+44 20 7946 0958")
        page.click("#f-emails-add")
        page.fill("#f-emails-0", "li.na@example.com")
        page.select_option("#f-segment-value", "B")
        page.click("#save")
        expect(page.locator("#card-title")).to_have_text("Li Na")
        li = page.url.rsplit("/", 1)[1]
        expect(page.locator("#sync-status")).to_contain_text("4 pending")

        # A phone another card has: a warning before saving, which does not block (here: cancelled).
        page.goto(app_url(server, "#/new"))
        page.fill("#f-name", "Wang Wei (office)")
        page.fill("#f-phones-0", "13812345678")
        page.click("#save")
        expect(page.locator("#dup-warning")).to_contain_text("王伟")
        expect(page.locator("#save")).to_have_text("Save anyway")
        page.click("#cancel")
        expect(page.locator("#card-list [data-card-id]")).to_have_count(2)

        # Search as you type, by pinyin initials and by phone digits, offline.
        page.goto(app_url(server, "#/cards"))
        page.fill("#q", "ww")
        expect(page.locator("#card-list [data-card-id]")).to_have_count(1)
        page.fill("#q", "13812345678")
        expect(page.locator(f"#card-list [data-card-id='{wang}']")).to_be_visible()
        page.fill("#q", "")

        # A reload without a network: the service worker serves the app, IndexedDB holds the cards.
        page.reload()
        expect(page.locator("#card-list [data-card-id]")).to_have_count(2)
        expect(page.locator("#sync-status")).to_contain_text("4 pending")
        assert page.errors == []  # type: ignore[attr-defined]
        context.close()

        # The browser is closed and opened again, still offline: the work is still there.
        context = browser.browser_type.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            args=CHROMIUM_FLAGS,
            headless=True,
            viewport=PHONE,
            locale="en-US",
            offline=True,
        )
        allow_offline(context)
        page = open_app(context, server)
        expect(page.locator("#card-list [data-card-id]")).to_have_count(2)
        assert server_cards(server, "rep1") == {}

        context.set_offline(False)
        up_to_date(page)
        cards = eventually(lambda: (c := server_cards(server, "rep1")) and len(c) == 2 and c, "both cards on the server")
        assert set(cards) == {wang, li}
        assert {k: cards[wang][k] for k in ("name", "company", "phones", "tags", "follow_up", "owner", "version")} == {
            "name": "王伟",
            "company": "上海贸易有限公司",
            "phones": ["+8613812345678"],
            "tags": ["vip", "重点客户"],
            "follow_up": "2030-01-15",
            "owner": "rep1",
            "version": 2,
        }
        assert {k: cards[li][k] for k in ("name", "phones", "emails", "segment", "company", "version")} == {
            "name": "Li Na",
            "phones": ["+442079460958"],
            "emails": ["li.na@example.com"],
            "segment": "B",
            "company": None,
            "version": 1,
        }
        activities = server_card(server, "rep1", wang)["activities"]
        assert [(a["kind"], a["text"], a["by"]) for a in activities] == [("visit", "第一次拜访", "rep1")]
        with server.client("rep1") as client:
            history = client.get(f"/api/v1/cards/{wang}/history").json()["history"]
        assert [sorted(h["changes"]) for h in history][1] == ["company", "follow_up"]  # the edit went as a delta
    finally:
        context.close()


# --- 2. a conflict between two devices ---------------------------------------------------------


def test_two_devices_edit_the_same_field_offline_and_the_conflict_is_resolved_on_the_conflicts_screen(browser, server, tmp_path):
    server.user("rep1")
    server.user("office", "office")
    seed = server.device("rep1", tmp_path)
    card = seed.create_card(name="Chen Jie", company="Old Co")
    seed.sync()

    phone = signed_in(browser, server, "rep1")
    desk = signed_in(browser, server, "office", DESK)
    try:
        a = open_app(phone, server)
        b = open_app(desk, server)
        for page in (a, b):
            expect(page.locator(f"[data-card-id='{card}']")).to_be_visible(timeout=WAIT_MS)
            up_to_date(page)

        allow_offline(phone)
        phone.set_offline(True)
        allow_offline(desk)
        desk.set_offline(True)
        a.goto(app_url(server, f"#/edit/{card}"))
        a.fill("#f-company", "Alpha")
        a.click("#save")
        expect(a.locator("#card-company")).to_have_text("Alpha")
        b.click(f"#open-{card}")  # the desktop table: the card opens in the side panel
        b.click("#side-panel #edit-card")
        b.fill("#f-company", "Beta")
        b.click("#save")
        expect(b.locator("#side-panel #card-company")).to_have_text("Beta")

        phone.set_offline(False)
        eventually(lambda: server_card(server, "office", card)["card"]["company"] == "Alpha", "the phone's edit on the server")
        desk.set_offline(False)
        conflicts = eventually(lambda: open_conflicts(server, "office"), "the conflict record")
        assert [(c["field"], c["kept"], c["other"], c["kept_by"], c["other_by"]) for c in conflicts] == [
            ("company", "Beta", "Alpha", "office", "rep1")
        ]

        a.click("#sync-now")
        a.goto(app_url(server, "#/conflicts"))
        item = a.locator(f"[data-conflict-id='{conflicts[0]['id']}']")
        expect(item).to_contain_text("Chen Jie")
        expect(item).to_contain_text("Company")
        expect(item.locator(".side").first).to_contain_text("Beta")
        expect(item.locator(".side").nth(1)).to_contain_text("Alpha")
        expect(item).to_contain_text("office")
        expect(a.locator("#nav-conflicts .count")).to_have_text("1")
        item.locator(".keep-other").click()
        expect(a.locator("#conflicts-none")).to_be_visible(timeout=WAIT_MS)
        assert open_conflicts(server, "office") == []
        assert server_card(server, "office", card)["card"]["company"] == "Alpha"

        a.goto(app_url(server, f"#/card/{card}"))
        expect(a.locator("#card-company")).to_have_text("Alpha", timeout=WAIT_MS)  # resolving syncs the phone
        b.click("#sync-now")
        expect(b.locator(f"tr[data-card-id='{card}']")).to_contain_text("Alpha", timeout=WAIT_MS)
        expect(b.locator("#side-panel #card-company")).to_have_text("Alpha")
    finally:
        phone.close()
        desk.close()


# --- 3. a change the server rejects --------------------------------------------------------------


def test_a_change_the_server_rejects_shows_on_pending_with_its_message_and_is_fixed_there(browser, server, tmp_path):
    server.user("rep1")
    seed = server.device("rep1", tmp_path)
    card = seed.create_card(name="Zhang San", company="Guangzhou Foods")
    seed.sync()

    context = signed_in(browser, server, "rep1")
    try:
        page = open_app(context, server, f"#/edit/{card}")
        expect(page.locator("#f-phones-0")).to_be_visible(timeout=WAIT_MS)
        # The form refuses what it can tell is wrong, next to the field...
        page.fill("#f-phones-0", "12345")
        page.click("#save")
        expect(page.locator("#f-phones-error")).to_contain_text("is not a phone number for region CN")
        expect(page.locator("#f-phones-0")).to_have_attribute("aria-invalid", "true")
        # ...but a well-formed number in no numbering plan only the server knows about.
        page.fill("#f-phones-0", "+1 555 010 0123")
        page.click("#save")
        expect(page.locator("#card-title")).to_have_text("Zhang San")
        expect(page.locator("#sync-status")).to_contain_text("1 need attention", timeout=WAIT_MS)
        expect(page.locator("#nav-pending .count")).to_have_text("1")

        page.click("#nav-pending")
        entry = page.locator("[data-state='rejected']")
        expect(entry).to_contain_text("Edit Zhang San: Phones")
        expect(entry.locator(".server-errors")).to_contain_text("fields.phones[0]")
        expect(entry.locator(".server-errors")).to_contain_text("'+15550100123' is not a valid phone number for region CN")
        assert server_card(server, "rep1", card)["card"]["phones"] == []

        entry.locator("textarea").fill("139 0000 1111")
        entry.locator("button[type='submit']").click()
        expect(page.locator("#pending-summary")).to_contain_text("Nothing is waiting", timeout=WAIT_MS)
        eventually(
            lambda: server_card(server, "rep1", card)["card"]["phones"] == ["+8613900001111"], "the fixed phone on the server"
        )
        up_to_date(page)
        page.goto(app_url(server, f"#/card/{card}"))
        expect(page.locator("#contacts a[href='tel:+8613900001111']")).to_be_visible()

        # Another rejected change is discarded instead: the card shows the server's value again.
        page.click("#edit-card")
        page.fill("#f-company", "Guangzhou Foods Ltd")
        page.click("#f-phones-add")
        page.fill("#f-phones-1", "+1 555 010 0199")
        page.click("#save")
        expect(page.locator("#card-company")).to_have_text("Guangzhou Foods Ltd")
        page.click("#nav-pending")
        page.on("dialog", lambda dialog: dialog.accept())
        page.locator("[data-state='rejected'] button.danger").click(timeout=WAIT_MS)
        expect(page.locator("#pending-summary")).to_contain_text("Nothing is waiting")
        page.goto(app_url(server, f"#/card/{card}"))
        expect(page.locator("#card-company")).to_have_text("Guangzhou Foods")
        expect(page.locator("#contacts a[href^='tel:']")).to_have_count(1)
        assert server_card(server, "rep1", card)["card"]["company"] == "Guangzhou Foods"
    finally:
        context.close()


# --- 4. a card reassigned away leaves the phone -------------------------------------------------


def test_a_card_reassigned_away_from_the_rep_disappears_from_the_phone_on_the_next_sync(browser, server, tmp_path):
    server.user("rep1")
    server.user("rep2")
    server.user("office", "office")
    seed = server.device("rep1", tmp_path)
    leaving = seed.create_card(name="Wu Fang", company="Hangzhou Net")
    staying = seed.create_card(name="Zhou Min", company="Beijing Tech")
    seed.add_activity(leaving, "visit", "looked at the catalogue")
    seed.sync()

    phone = signed_in(browser, server, "rep1")
    desk = signed_in(browser, server, "office", DESK)
    try:
        a = open_app(phone, server, f"#/card/{leaving}")
        expect(a.locator("#timeline")).to_contain_text("looked at the catalogue", timeout=WAIT_MS)
        # The office reassigns it from the desktop table: select the row, give it to rep2.
        b = open_app(desk, server)
        expect(b.locator(f"tr[data-card-id='{leaving}']")).to_be_visible(timeout=WAIT_MS)
        b.check(f"#sel-{leaving}")
        expect(b.locator("#selected-count")).to_have_text("1 selected")
        b.fill("#bulk-owner", "rep2")
        b.click("#bulk-owner-set")
        eventually(lambda: server_card(server, "office", leaving)["card"]["owner"] == "rep2", "the new owner on the server")

        a.click("#sync-now")
        expect(a.locator("#card-gone")).to_be_visible(timeout=WAIT_MS)
        a.click("#nav-cards")
        expect(a.locator(f"[data-card-id='{staying}']")).to_be_visible()
        expect(a.locator(f"[data-card-id='{leaving}']")).to_have_count(0)
        a.fill("#q", "wu fang")
        expect(a.locator("#card-list [data-card-id]")).to_have_count(0)
    finally:
        phone.close()
        desk.close()


def test_a_rep_sees_no_reassign_control_and_an_ended_session_keeps_the_outbox(browser, server, tmp_path):
    server.user("rep1")
    seed = server.device("rep1", tmp_path)
    card = seed.create_card(name="Sun Li")
    seed.sync()
    desk = signed_in(browser, server, "rep1", DESK)
    allow_refused(
        desk,
        401,
        "me|sync|links/reserve|customer-updates|surveys|scorecards",  # the app's background calls too, whichever runs first
        "the test ends the session: the app is refused and asks to sign in again",
    )
    try:
        page = open_app(desk, server)
        page.check(f"#sel-{card}")
        expect(page.locator("#bulk-tag")).to_be_visible()
        expect(page.locator("#bulk-owner")).to_have_count(0)
        page.fill("#bulk-tag", "trade-fair")
        page.click("#bulk-tag-add")
        eventually(lambda: server_card(server, "rep1", card)["card"]["tags"] == ["trade-fair"], "the tag on the server")

        # The session ends: a banner asks to sign in again, the edit stays in the outbox.
        desk.clear_cookies()
        page.click(f"#open-{card}")
        page.click("#fu-1w")
        expect(page.locator("#signed-out")).to_be_visible(timeout=WAIT_MS)
        expect(page.locator("#signin-link")).to_have_attribute("href", "signin.html?next=index.html")
        expect(page.locator("#sync-status")).to_contain_text("1 pending")
        desk.add_cookies([session_cookie(server, "rep1")])
        page.click("#sync-now")
        up_to_date(page)
        expect(page.locator("#signed-out")).to_have_count(0)
        week = (date.today() + timedelta(days=7)).isoformat()
        assert server_card(server, "rep1", card)["card"]["follow_up"] == week
    finally:
        desk.close()


CARDS_IN_INDEXEDDB = """async () => {
  const { openDb } = await import('/js/app/db.js');
  const store = await openDb();
  const [cards, journal] = [await store.count('cards'), await store.count('journal')];
  store.close();
  return [cards, journal];
}"""


def test_a_revoked_device_says_so_and_keeps_no_customer_data(browser, server, tmp_path):
    server.user("admin", "admin")
    server.user("rep1")
    seed = server.device("rep1", tmp_path)
    card = seed.create_card(name="Ma Chao", phones=["13811112222"])
    seed.sync()
    context = signed_in(browser, server, "rep1")
    allow_refused(context, 403, "sync", "the device is revoked: the server refuses its sync")
    allow_refused(context, 401, "me|links/reserve|customer-updates|surveys|scorecards", "the session ended with the device")
    try:
        page = open_app(context, server)
        expect(page.locator(f"[data-card-id='{card}']")).to_be_visible(timeout=WAIT_MS)
        up_to_date(page)
        with server.client("admin") as admin:
            phone = next(d for d in admin.get("/api/v1/devices").json()["devices"] if d["user"] == "rep1" and d["app"] == "1.0.0")
            assert admin.post(f"/api/v1/devices/{phone['id']}/revoke").status_code == 200
        page.click("#sync-now")
        expect(page.locator("#revoked")).to_be_visible(timeout=WAIT_MS)
        expect(page.locator("#sync-status")).to_have_text("Device revoked")
        expect(page.locator("[data-card-id]")).to_have_count(0)
        assert page.evaluate(CARDS_IN_INDEXEDDB) == [0, 0]
        assert page.evaluate("async () => (await fetch('/api/v1/me')).status") == 401  # the session ended with it
    finally:
        context.close()


def test_help_opens_the_guide_for_the_role_in_the_apps_language(browser, server, tmp_path):
    server.user("rep1")
    context = signed_in(browser, server, "rep1")
    try:
        page = open_app(context, server)
        up_to_date(page)
        expect(page.locator("#help")).to_have_attribute("href", "/guide/rep.en")
        choose_language(page, "zh-CN")
        expect(page.locator("#help")).to_have_attribute("href", "/guide/rep.zh-CN")
        guide = context.new_page()
        guide.goto(app_url(server).split("/index.html")[0].rstrip("/") + "/guide/rep.zh-CN")
        expect(guide.locator("h1").first).to_contain_text("Fieldcards")
        assert guide.locator("main.guide h2").count() >= 3
    finally:
        context.close()


def test_purchases_and_feedback_are_logged_and_totalled_on_the_card(browser, server, tmp_path):
    server.user("rep1")
    seed = server.device("rep1", tmp_path)
    card = seed.create_card(name="Zhou Jie")
    seed.sync()
    context = signed_in(browser, server, "rep1")
    try:
        page = open_app(context, server, f"#/card/{card}")
        up_to_date(page)
        page.click("#add-activity")
        page.select_option("#activity-kind", "purchase")
        page.fill("#activity-text", "Order 42")
        page.fill("#activity-amount", "1200.50")
        page.click("#activity-save")
        page.click("#add-activity")
        page.select_option("#activity-kind", "feedback")
        page.select_option("#activity-rating", "4")
        page.click("#activity-save")
        expect(page.locator("#card-totals")).to_have_text("Purchases ¥1,200.50 · Feedback 4.0/5 (1)", timeout=WAIT_MS)
        up_to_date(page)

        def on_server() -> dict | None:
            with server.client("rep1") as rep:
                found = rep.get(f"/api/v1/cards/{card}").json()["activities"]
            return {a["kind"]: a for a in found} if len(found) == 2 else None

        kinds = eventually(on_server, "both activities on the server")
        assert (kinds["purchase"]["amount"], kinds["purchase"]["currency"]) == ("1200.50", "CNY")
        assert kinds["feedback"]["rating"] == 4
    finally:
        context.close()


def test_today_offers_a_birthday_greeting_and_a_private_calendar_link(browser, server, tmp_path):
    server.user("rep1")
    seed = server.device("rep1", tmp_path)
    seed.create_card(name="Gu Yan", phones=["13812345678"], emails=["gu@example.cn"], birthday=f"1990-{date.today():%m-%d}")
    seed.create_card(name="Lu Bo", phones=["13900001111"], follow_up=date.today().isoformat())
    seed.sync()
    context = signed_in(browser, server, "rep1")
    try:
        page = open_app(context, server, "#/today")
        up_to_date(page)
        expect(page.locator("#birthday-list .greet a")).to_have_count(3)
        # The greeting is written out, and the message carries it.
        expect(page.locator("#birthday-list .greeting-text")).to_contain_text("Happy birthday, Gu Yan!")
        expect(page.locator("#birthday-list a.sms")).to_have_attribute(
            "href", re.compile(r"^sms:\+8613812345678\?body=Happy%20birthday%2C%20Gu%20Yan!")
        )
        # Birthdays come first; a follow-up due can be called or messaged from the list.
        assert (
            page.evaluate("document.querySelector('#bd-title').compareDocumentPosition(document.querySelector('#due-title')) & 4")
            == 4
        )
        expect(page.locator("#due-list a.call")).to_have_attribute("href", "tel:+8613900001111")
        expect(page.locator("#due-list a.sms")).to_have_attribute("href", "sms:+8613900001111")
        page.click("#calendar-link")
        url = page.locator("#calendar-url").input_value()
        assert "/api/v1/calendar.ics?key=cal_" in url
        feed = httpx.get(url.replace("localhost", "127.0.0.1"))
        assert feed.status_code == 200 and "Gu Yan" in feed.text
    finally:
        context.close()


def test_office_exports_what_the_desktop_filters_show(browser, server, tmp_path):
    server.user("office", "office")
    seed = server.device("office", tmp_path)
    seed.create_card(name="王伟", segment="A", tags=["vip"])
    seed.create_card(name="李娜", segment="B")
    seed.sync()
    context = signed_in(browser, server, "office", viewport=DESK)
    try:
        page = open_app(context, server, "#/cards")
        up_to_date(page)
        page.select_option("#filter-segment", "A")
        href = page.get_attribute("#export-csv", "href")
        assert "segment=A" in href and "format=csv" in href
        with page.expect_download() as download:
            page.click("#export-csv")
        text = Path(download.value.path()).read_bytes().decode("utf-8-sig")
        assert "王伟" in text and "李娜" not in text
    finally:
        context.close()


def test_another_user_on_the_same_browser_never_sends_or_sees_the_first_users_work(browser, server, tmp_path):
    server.user("rep1")
    server.user("rep2")
    theirs = server.device("rep2", tmp_path)
    theirs_card = theirs.create_card(name="Card of rep2")
    theirs.sync()
    context = signed_in(browser, server, "rep1")
    # The page is reloaded and sent elsewhere while its calls (and its icon) are in flight: the
    # browser aborts them.
    allow_problems(context, r"^requestfailed: GET https?://[^/]+/\S+ net::ERR_ABORTED", "reloads mid-load")
    # The test swaps the session cookie under a live page: a background call already on its way
    # (the link-token reserve, the customers' updates) is then answered 401 for the old session.
    allow_refused(context, 401, "links/reserve|customer-updates|surveys|scorecards", "the session is swapped under a live page")
    try:
        page = open_app(context, server)
        up_to_date(page)
        eventually(lambda: controlled_by_service_worker(page), "the service worker to control the page")  # installed
        allow_offline(context)
        context.set_offline(True)
        page.goto(app_url(server, "#/new"))
        page.fill("#f-name", "Written by rep1 offline")
        page.click("#save")
        expect(page.locator("#sync-status")).to_contain_text("1 pending", timeout=WAIT_MS)

        # rep2 signs in on the same browser while rep1's edit still waits: nothing is sent.
        context.clear_cookies()
        context.add_cookies([session_cookie(server, "rep2")])
        context.set_offline(False)
        page.reload()
        expect(page.locator("#held")).to_contain_text("rep1", timeout=WAIT_MS)
        time.sleep(1)
        assert set(server_cards(server, "rep2")) == {theirs_card}
        assert server_cards(server, "rep1") == {}

        # rep1 comes back and sends it; then rep2 takes over an empty outbox: the device is handed over.
        context.clear_cookies()
        context.add_cookies([session_cookie(server, "rep1")])
        page.reload()
        up_to_date(page)
        assert [c["name"] for c in server_cards(server, "rep1").values()] == ["Written by rep1 offline"]
        context.clear_cookies()
        context.add_cookies([session_cookie(server, "rep2")])
        page.goto(app_url(server, "#/cards"))
        page.reload()
        expect(page.locator(f"[data-card-id='{theirs_card}']")).to_be_visible(timeout=WAIT_MS)
        expect(page.locator("[data-card-id]")).to_have_count(1)
    finally:
        context.close()


# --- screenshots -------------------------------------------------------------------------------


TEMPLATE = {
    "custom_fields": [
        {
            "key": "level",
            "type": "choice",
            "label": {"en": "Customer level", "zh-CN": "客户级别"},
            "choices": ["金牌", "银牌", "铜牌"],
        },
        {
            "key": "wechat",
            "type": "text",
            "label": {"en": "WeChat ID", "zh-CN": "微信号"},
            "pattern": "[A-Za-z][A-Za-z0-9_-]{5,19}",
        },
    ],
    "industries": ["贸易", "制造", "零售"],
    "regions": ["上海", "北京", "广东"],
    "tags": ["vip", "经销商", "展会"],
}


def seed_book(server: Server, tmp: Path) -> dict[str, str]:
    """A small book of cards for rep1, with the admins' custom fields, activities, due follow-ups,
    birthdays and one conflict."""
    server.user("admin", "admin")
    with server.client("admin") as admin:
        assert admin.put("/api/v1/template", json=TEMPLATE).status_code == 200
    today = date.today()
    soon = today + timedelta(days=3)
    phone = server.device("rep1", tmp)
    ids = {
        "wang": phone.create_card(
            name="王伟",
            company="上海贸易",
            title="采购经理",
            phones=["13812345678"],
            emails=["wang.wei@shanghai-trade.cn"],
            address="上海市浦东新区世纪大道100号",
            region="上海",
            industry="贸易",
            segment="A",
            tags=["vip", "重点客户"],
            follow_up=today.isoformat(),
            birthday=f"1985-{soon:%m-%d}",
            notes="喜欢喝绿茶。\n下次带新产品目录。",
            custom={"level": "金牌", "wechat": "wangwei_sh"},
        ),
        "li": phone.create_card(
            name="李娜",
            company="北京科技",
            phones=["13900001111"],
            segment="B",
            tags=["新客户"],
            follow_up=(today - timedelta(days=5)).isoformat(),
        ),
        "zhang": phone.create_card(
            name="张敏", company="广州食品", phones=["020 8888 6666"], segment="C", birthday=f"1990-{today:%m-%d}"
        ),
        "liu": phone.create_card(name="刘强", company="深圳电子", phones=["13700002222"], tags=["经销商"]),
        "anna": phone.create_card(
            name="Anna Schmidt",
            company="Globex GmbH",
            phones=["+49 30 901820"],
            emails=["anna.schmidt@globex.example.com"],
            segment="A",
            tags=["export"],
        ),
        "tom": phone.create_card(
            name="Tom Baker",
            company="Acme Ltd",
            phones=["+1 212 736 5000"],
            segment="B",
            follow_up=(today + timedelta(days=10)).isoformat(),
        ),
    }
    phone.add_activity(ids["wang"], "visit", "介绍了新产品，客户对价格有兴趣。")
    phone.add_activity(ids["wang"], "call", "确认下周二再次拜访。")
    phone.sync()
    laptop = server.device("rep1", tmp)
    laptop.sync()
    phone.edit_card(ids["wang"], company="上海贸易有限公司")
    laptop.edit_card(ids["wang"], company="上海贸易集团")
    phone.sync()
    laptop.sync()
    return ids


def choose_language(page: Page, lang: str) -> None:
    if page.locator("#menu-button").is_visible():  # on a phone the language is in the menu
        page.click("#menu-button")
    page.select_option("#lang", lang)
    expect(page.locator("html")).to_have_attribute("lang", lang)


def screens(page: Page, server: Server, width: int, lang: str, card: str) -> None:
    """cards, detail, edit, today, pending: one screenshot each in the current language."""
    page.goto(app_url(server, "#/cards"))
    expect(page.locator("[data-card-id]").first).to_be_visible()
    shot(page, "cards", width, lang)
    page.goto(app_url(server, f"#/card/{card}"))
    expect(page.locator("#timeline li").first).to_be_visible()
    shot(page, "detail", width, lang)
    page.goto(app_url(server, f"#/edit/{card}"))
    expect(page.locator("#card-form")).to_be_visible()
    shot(page, "edit", width, lang)
    page.goto(app_url(server, "#/today"))
    expect(page.locator("#due-list")).to_be_visible()
    shot(page, "today", width, lang)
    page.goto(app_url(server, "#/pending"))
    expect(page.locator("[data-state='rejected']")).to_be_visible()
    expect(page.locator("#storage-used")).not_to_contain_text("unknown")
    shot(page, "pending", width, lang)


def rejected_edit(page: Page, server: Server, card: str) -> None:
    page.goto(app_url(server, f"#/edit/{card}"))
    page.fill("#f-phones-0", "+1 555 010 0123")
    page.click("#save")
    expect(page.locator("#sync-status")).to_contain_text("need attention", timeout=WAIT_MS)


def test_screenshots_of_every_screen_on_a_phone(browser, server, tmp_path):
    server.user("rep1")
    ids = seed_book(server, tmp_path)
    context = signed_in(browser, server, "rep1")
    try:
        page = open_app(context, server)
        up_to_date(page)
        rejected_edit(page, server, ids["liu"])
        for lang in ("en", "zh-CN"):
            choose_language(page, lang)
            page.goto(app_url(server, "#/conflicts"))
            expect(page.locator("[data-conflict-id]")).to_have_count(1)
            shot(page, "conflicts", 390, lang)
        # The rest offline, with one change waiting: what a rep sees in the field.
        allow_offline(context)
        context.set_offline(True)
        page.goto(app_url(server, f"#/card/{ids['li']}"))
        page.click("#log-visit")
        page.fill("#visit-text", "送去样品")
        page.click("#visit-save")
        expect(page.locator("#sync-status")).to_contain_text("1")
        for lang in ("en", "zh-CN"):
            choose_language(page, lang)
            screens(page, server, 390, lang, ids["wang"])
        page.goto(app_url(server, "#/cards"))
        page.fill("#q", "ww")
        expect(page.locator("#card-list [data-card-id]")).to_have_count(1)
        shot(page, "search", 390, "zh-CN")
        assert page.errors == []  # type: ignore[attr-defined]
    finally:
        context.close()


def test_screenshots_of_every_screen_on_a_desktop(browser, server, tmp_path):
    server.user("rep1")
    server.user("office", "office")
    ids = seed_book(server, tmp_path)
    context = signed_in(browser, server, "office", DESK)
    try:
        page = open_app(context, server)
        up_to_date(page)
        rejected_edit(page, server, ids["liu"])
        for lang in ("en", "zh-CN"):
            choose_language(page, lang)
            page.goto(app_url(server, "#/conflicts"))
            expect(page.locator("[data-conflict-id]")).to_have_count(1)
            shot(page, "conflicts", 1366, lang)
            screens(page, server, 1366, lang, ids["wang"])
            page.goto(app_url(server, "#/cards"))
            page.click("#sort-follow_up")
            page.check(f"#sel-{ids['wang']}")
            page.check(f"#sel-{ids['anna']}")
            page.click(f"#open-{ids['anna']}")
            expect(page.locator("#bulk-owner")).to_be_visible()
            expect(page.locator("#side-panel #card-title")).to_have_text("Anna Schmidt")
            shot(page, "desktop", 1366, lang)
            page.click("#bulk-clear")
        assert page.errors == []  # type: ignore[attr-defined]
    finally:
        context.close()
