"""The customer's voice end to end (issue 17), in Debian's chromium against a real server: a rep at
390×844 makes a survey link offline and shows its QR; a second browser context with no session
opens it (not active until the phone syncs), corrects a phone and a job title the rep changed
meanwhile, and gives a bad rating; the rep syncs and sees "李娜 updated their details", the feedback
and the conflict; the bad rating opened a follow-up item, which the rep resolves offline; Undo puts
the customer's phone back through an ordinary edit."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.test_accessibility import findings
from tests.e2e.test_field_app import (PHONE, WAIT_MS, app_url, eventually, open_app, open_conflicts, server_card,
                                      session_cookie, up_to_date)

TOKENS_KEPT = """() => new Promise((resolve) => {
  const open = indexedDB.open("fieldcards");
  open.onsuccess = () => {
    const get = open.result.transaction("meta").objectStore("meta").get("link_tokens");
    get.onsuccess = () => resolve((get.result?.value || []).length);
  };
})"""


def test_a_customer_answers_a_link_made_offline_and_the_rep_follows_it_up(browser, server, tmp_path):
    server.user("rep1")
    seed = server.device("rep1", tmp_path)
    card = seed.create_card(name="李娜", company="北京科技", title="经理", phones=["13900001111"])
    seed.sync()

    phone = browser.new_context(viewport=PHONE, locale="en-US", bypass_csp=True)  # bypass: axe is injected
    phone.add_cookies([session_cookie(server, "rep1")])
    customer = browser.new_context(viewport=PHONE, locale="en-US")  # no session: the customer's own phone
    try:
        rep = open_app(phone, server, f"#/card/{card}")
        up_to_date(rep)
        eventually(lambda: rep.evaluate(TOKENS_KEPT) > 0, "link tokens kept in reserve")

        # Offline at the visit: the QR shows at once, from a reserved token.
        phone.set_offline(True)
        rep.click("#customer-link-button")
        rep.select_option("#link-purpose", "survey")
        rep.click("#link-make")
        expect(rep.locator("#link-made svg.qr")).to_be_visible()
        expect(rep.locator("#link-made")).to_contain_text("It works once this phone has synced.")
        url = rep.input_value("#link-url")
        assert findings(rep) == []
        assert "/c/" in url

        page = customer.new_page()
        page.goto(url + "?lang=en")
        expect(page.locator("#state")).to_contain_text("not active yet")

        phone.set_offline(False)
        rep.click("#sync-now")
        up_to_date(rep)
        page.goto(url + "?lang=en")
        expect(page.locator("#customer-form")).to_be_visible()
        assert page.input_value("#c-title") == "经理"

        # The rep changes the title meanwhile; the customer corrects it too: a conflict, never an overwrite.
        rep.goto(app_url(server, f"#/edit/{card}"))
        rep.fill("#f-title", "总监")
        rep.click("#save")
        eventually(lambda: server_card(server, "rep1", card)["card"]["title"] == "总监", "the rep's title on the server")

        page.fill("#c-phones", "13900002222")
        page.fill("#c-title", "副总经理")
        page.check("input[name=rating][value='1']")
        page.fill("#c-comment", "送货太慢")
        page.click("#send")
        expect(page.locator("#thanks")).to_be_visible()

        held = server_card(server, "rep1", card)
        assert held["card"]["phones"] == ["+8613900002222"]
        [conflict] = open_conflicts(server, "rep1")
        assert conflict["field"] == "title" and {conflict["kept"], conflict["other"]} == {"总监", "副总经理"}

        # The rep syncs: the update, the feedback and the follow-up item are on the phone.
        rep.click("#sync-now")
        rep.goto(app_url(server, "#/today"))
        update = rep.locator("#customer-updates .update")
        expect(update).to_contain_text("李娜 updated their details", timeout=WAIT_MS)
        expect(update).to_contain_text("+8613900002222")
        item = rep.locator("#follow-up-items .item")
        expect(item).to_contain_text("★1 送货太慢")
        expect(rep.locator("#nav-conflicts .count")).to_have_text("1", timeout=WAIT_MS)
        rep.locator("#follow-up-items .item-edit").click()
        assert findings(rep) == []  # Today with an update, an item and its form
        rep.goto(app_url(server, f"#/card/{card}"))
        expect(rep.locator("#timeline")).to_contain_text("送货太慢")

        # Resolved offline, like any edit of the card; Undo sends the phone number back.
        phone.set_offline(True)
        rep.goto(app_url(server, "#/today"))
        if not rep.locator("#item-status").count():
            rep.locator("#follow-up-items .item-edit").click()
        rep.select_option("#item-status", "resolved")
        rep.fill("#item-note", "已补发货物，客户满意")
        rep.click("#item-save")
        expect(rep.locator("#items-none")).to_be_visible()
        rep.locator("#customer-updates .update-undo").click()
        expect(rep.locator("#customer-updates")).to_have_count(0)
        phone.set_offline(False)
        rep.click("#sync-now")

        def settled():
            now = server_card(server, "rep1", card)["card"]
            return now if now["phones"] == ["+8613900001111"] and now["follow_ups"][0]["status"] == "resolved" else None
        now = eventually(settled, "the resolved item and the undone phone on the server", timeout=60)
        assert now["follow_ups"][0]["note"] == "已补发货物，客户满意"
        assert rep.errors == []  # type: ignore[attr-defined]
    finally:
        phone.close()
        customer.close()
