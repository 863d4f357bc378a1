"""The webhooks card of the people screen in a real browser: add an endpoint (its secret shown
once), send a test to a real receiver, read the delivery log, send again, turn it off."""

from __future__ import annotations

from sync.db import Store
from sync.people.users import add_user, create_token
from tests.conftest import start_server, stop_server
from tests.e2e.conftest import allow_signed_out, watch
from tests.e2e.test_admin_people import UNLABELLED
from tests.test_webhooks import Receiver


def test_admin_adds_tests_and_reads_the_log_of_a_webhook(browser, tmp_path):
    data = tmp_path / "data"
    proc, url = start_server(data, "--no-backup", env={"FIELDCARDS_WEBHOOKS_ALLOW_PRIVATE": "1"})
    receiver = Receiver()
    try:
        st = Store(data / "fieldcards.db")
        try:
            add_user(st, "admin", "admin")
            token = create_token(st, "admin")
        finally:
            st.close()
        page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="en-US")
        problems = watch(page)
        allow_signed_out(page)  # the token form first
        page.goto(url + "/people.html")
        page.fill("#token", token)
        page.click("button[type=submit]")
        page.wait_for_selector("#hooks-title")
        assert page.text_content("#webhooks") == "No webhooks."
        page.fill("#hook-url", receiver.url)
        page.check("[id='hook-event-activity.added']")
        page.click("#hook-submit")
        page.wait_for_selector("#new-hook-secret")
        receiver.secret = page.input_value("#new-hook-secret")
        assert receiver.secret.startswith("whsec_")
        assert page.evaluate(UNLABELLED) == []
        page.click("#new-hook-done")
        row = page.locator("#webhooks tr[data-hook]")
        assert "activity.added" in row.text_content()
        page.locator("#webhooks button", has_text="Send a test").click()
        page.wait_for_selector("#notice:text('answered 200')")
        assert receiver.bad_signatures == 0 and [e["type"] for e in receiver.events] == ["webhook.test"]
        page.locator("#webhooks button", has_text="Delivery log").click()
        page.wait_for_selector("#hook-deliveries")
        assert "webhook.test" in page.text_content("#hook-deliveries")
        page.locator("#hook-deliveries button", has_text="Send again").click()
        page.wait_for_selector("#notice:text('will be sent again')")
        page.locator("#webhooks button", has_text="Turn off").click()
        page.wait_for_selector("#webhooks button:text('Turn on')")
        assert problems == []
        page.close()
    finally:
        receiver.close()
        output = stop_server(proc)
    assert "Traceback" not in output, output
