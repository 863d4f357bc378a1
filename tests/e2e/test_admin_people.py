"""The admin's people screen in a real browser: add a user and get their invite link, change a
role, create a token that is shown once, revoke it and a device, read the audit log, in English
and Chinese, wide and narrow. Screenshots go to docs/screenshots/."""

from __future__ import annotations

import re
import secrets
import time

import httpx
import pytest

from sync.db import identity
from sync.protocol.client import DeviceRevoked
from sync.times import utc_now
from sync.db import Store
from sync.people.users import add_user, create_token
from tests.conftest import Server, start_server, stop_server
from tests.e2e.conftest import allow_refused, allow_signed_out, shots_dir, watch

SHOTS = shots_dir()

# Controls a screen reader could not name: no <label for>, no aria-label, no text.
UNLABELLED = """[...document.querySelectorAll('input, select, textarea, button')].filter((el) =>
  !el.getAttribute('aria-label') && !(el.id && document.querySelector(`label[for="${CSS.escape(el.id)}"]`)) &&
  !(el.tagName === 'BUTTON' && el.textContent.trim())).map((el) => el.id || el.outerHTML)"""


def admin_token(server: Server) -> str:
    st = Store(server.data / "fieldcards.db")
    try:
        add_user(st, "admin", "admin")
        token = create_token(st, "admin")
    finally:
        st.close()
    server.tokens["admin"] = token
    return token


def test_admin_manages_people_tokens_devices_and_reads_the_audit_log(browser, tmp_path):
    data = tmp_path / "data"
    proc, url = start_server(data, "--no-backup")
    server = Server(url, data, proc)
    try:
        token = admin_token(server)
        server.user("li.na")
        phone = server.device("li.na", tmp_path)
        phone.create_card(name="李娜的客户")
        phone.sync()
        assert len(phone.cards()) == 1
        api = httpx.Client(base_url=url + "/api/v1", headers={"authorization": f"Bearer {token}"}, timeout=30)

        page = browser.new_page(viewport={"width": 1366, "height": 768}, locale="en-US")
        problems = watch(page)
        allow_signed_out(page)  # the token form first
        allow_refused(page, 400, "users", "a user name the server refuses: its message shows next to the field")
        allow_refused(page, 409, "users", "the same user name again: the API's conflict shows next to the form")
        questions: list[str] = []
        page.on("dialog", lambda dialog: (questions.append(dialog.message), dialog.accept()))
        page.goto(url + "/people.html")
        page.wait_for_selector("#token")
        assert page.get_attribute("a[href^='signin.html']", "href") == "signin.html?next=people.html"
        page.fill("#token", token)
        page.click("button[type=submit]")
        page.wait_for_selector("#users")
        assert page.text_content("h1") == "Fieldcards · People and access"
        assert page.get_attribute(".bar a[href='admin.html']", "href") == "admin.html"
        assert page.get_attribute("#help", "href") == "/guide/admin.en"

        # A name the server refuses: its message shows next to the field.
        page.get_by_label("User name", exact=True).fill("Wang Wei")
        page.click("#add-submit")
        page.wait_for_selector("#new-name-error")
        assert "a-z" in page.text_content("#new-name-error")
        assert page.get_attribute("#new-name", "aria-invalid") == "true"
        assert page.evaluate("document.activeElement.id") == "new-name"

        page.get_by_label("User name", exact=True).fill("wang.wei")
        page.get_by_label("Display name", exact=True).fill("王伟")
        page.select_option("#new-role", "rep")
        page.click("#add-submit")
        page.wait_for_selector("#invite-url")
        link = page.input_value("#invite-url")
        assert link.startswith("http://localhost:"), link
        assert "/signin.html#invite=" in link
        assert page.get_attribute("#invite-url", "readonly") is not None
        assert page.text_content("#invite-title") == "Invite link for 王伟 (wang.wei)"
        assert re.fullmatch(r"Expires \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.", page.text_content("#invite-expires"))  # local time
        assert page.text_content("#notice") == "wang.wei was added. Send them the invite link above."
        assert page.evaluate("document.activeElement.id") == "invite-url"
        page.click("#invite-url-copy")
        page.wait_for_selector("#invite-url-copied:not(:empty)")
        assert page.text_content("#invite-url-copied") == "Copied."
        assert page.locator("#users tr[data-user='wang.wei']").count() == 1

        # The same name again: the API's conflict shows next to the form.
        page.fill("#new-name", "wang.wei")
        page.click("#add-submit")
        page.wait_for_selector("#add-error")
        assert "exists already" in page.text_content("#add-error")

        # A fresh invite link for an existing user replaces the old one.
        page.get_by_role("button", name="Invite link for li.na").click()
        page.wait_for_selector("#invite-title:text('Invite link for li.na')")
        assert page.input_value("#invite-url") != link

        # By keyboard: the arrows pick a role, the Save button appears after it, Enter saves.
        save = page.get_by_role("button", name="Save role of wang.wei", exact=True)
        assert save.is_hidden()
        page.get_by_label("Role of wang.wei", exact=True).focus()
        page.keyboard.press("ArrowDown")
        assert page.input_value("[id='role-wang.wei']") == "manager"
        page.keyboard.press("ArrowDown")
        assert page.input_value("[id='role-wang.wei']") == "office"
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == "save-role-wang.wei"
        page.keyboard.press("Enter")
        page.wait_for_selector("#notice:text('wang.wei is now Office.')")
        assert page.evaluate("document.activeElement.id") == "role-wang.wei"  # the keyboard stays where it was
        users = {u["name"]: u for u in api.get("/users").json()["users"]}
        assert users["wang.wei"]["role"] == "office"
        assert users["wang.wei"]["display"] == "王伟"

        # A token for wang.wei: shown once, with the warning, then only listed.
        page.select_option("#token-user", "wang.wei")
        page.fill("#token-label", "laptop sync")
        page.click("#token-submit")
        page.wait_for_selector("#new-token")
        secret = page.input_value("#new-token")
        assert secret.startswith("fc_")
        assert "will not be shown again" in page.text_content("#new-token-once")
        assert httpx.get(url + "/api/v1/me", headers={"authorization": f"Bearer {secret}"}).json()["user"] == "wang.wei"
        row = page.locator("#tokens tr", has_text="laptop sync")
        assert row.count() == 1 and "wang.wei" in row.text_content() and "Active" in row.text_content()
        page.click("#new-token-done")
        page.wait_for_selector("#new-token", state="detached")
        assert secret not in page.content()
        page.reload()
        page.wait_for_selector("#tokens")
        assert secret not in page.content()
        assert page.locator("#tokens tr", has_text="laptop sync").count() == 1

        page.get_by_role("button", name="Revoke the token laptop sync of wang.wei").click()
        page.wait_for_selector("#notice:text('is revoked')")
        assert questions[-1].startswith("Revoke the token “laptop sync” of wang.wei?")
        tokens = api.get("/tokens", params={"user": "*"}).json()["tokens"]
        [revoked] = [tk for tk in tokens if tk["label"] == "laptop sync"]
        assert revoked["revoked_at"]
        assert "Revoked" in page.locator("#tokens tr", has_text="laptop sync").text_content()
        assert httpx.get(url + "/api/v1/me", headers={"authorization": f"Bearer {secret}"}).status_code == 401

        # The phone: listed, revoked after a question, and wiped at its next sync.
        assert "wipes its local data at its next sync" in page.text_content("#devices-intro")
        device_row = page.locator(f"#devices tr[data-device='{phone.device_id}']")
        assert "li.na" in device_row.text_content() and "ref-0.1" in device_row.text_content()
        device_row.get_by_role("button", name=f"Revoke device {phone.device_id[:8]} of li.na").click()
        page.wait_for_selector("#notice:text('wipes its data at its next sync')")
        [device] = api.get("/devices").json()["devices"]
        assert device["revoked_at"]
        with pytest.raises(DeviceRevoked):
            phone.sync()
        assert phone.cards() == {}

        # Disabling asks first, then ends the user's tokens; enabling gives the account back.
        page.get_by_role("button", name="Disable li.na", exact=True).click()
        page.wait_for_selector("#notice:text('li.na is disabled')")
        assert questions[-1].startswith("Disable li.na?")
        assert "Disabled" in page.locator("#users tr[data-user='li.na']").text_content()
        assert {u["name"]: u for u in api.get("/users").json()["users"]}["li.na"]["disabled"] is True
        assert httpx.get(url + "/api/v1/me", headers={"authorization": f"Bearer {server.tokens['li.na']}"}).status_code == 401
        page.get_by_role("button", name="Enable li.na", exact=True).click()
        page.wait_for_selector("#notice:text('li.na is enabled again')")
        assert {u["name"]: u for u in api.get("/users").json()["users"]}["li.na"]["disabled"] is False

        # The audit log, newest first, with a filter that keeps the focus in its box.
        adds = page.locator("#audit tr[data-audit]", has_text="user.add")
        assert adds.count() >= 2
        assert "wang.wei" in page.locator("#audit tr[data-audit]", has_text="user.add").first.text_content()
        assert "user.update" in page.locator("#audit tbody tr").first.text_content()  # the newest first
        page.get_by_label("Filter by action or user").fill("user.update")
        page.wait_for_selector("#audit-count:text('matching')")
        rows = page.locator("#audit tbody tr")
        assert rows.count() == 3 and "role: rep → office" in rows.last.text_content()
        assert "disabled: true → false" in rows.first.text_content()
        assert page.evaluate("document.activeElement.id") == "audit-filter"
        page.fill("#audit-filter", "")
        page.wait_for_selector("#audit-count:text('newest')")
        assert page.evaluate(UNLABELLED) == []
        page.screenshot(path=str(SHOTS / "admin-people-1366-en.png"), full_page=True)

        page.select_option("#lang", "zh-CN")
        page.wait_for_selector("h1:text('人员与权限')")
        assert page.text_content("#users-title") == "用户"
        assert page.text_content("#audit-title") == "审计日志"
        assert "添加用户" in page.locator("#audit tr[data-audit]", has_text="user.add").first.text_content()  # actions in words
        assert "内勤" in page.locator("#users tr[data-user='wang.wei']").text_content()
        page.set_viewport_size({"width": 390, "height": 844})
        assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling on a phone
        assert page.evaluate(UNLABELLED) == []
        page.screenshot(path=str(SHOTS / "admin-people-390-zh-CN.png"), full_page=True)
        assert problems == []
        page.close()
        api.close()
    finally:
        for device in server.devices:
            device.close()
        output = stop_server(server.proc)
    assert "Traceback" not in output, output


def test_non_admin_is_told_people_are_for_admins(browser, tmp_path):
    data = tmp_path / "data"
    proc, url = start_server(data, "--no-backup")
    server = Server(url, data, proc)
    try:
        server.user("rep1")
        page = browser.new_page(locale="en-US")
        allow_signed_out(page)  # the token form first, and a token that is not accepted
        allow_refused(page, 403, "[^\\]]*", "a rep's token is refused the people screen: what this test checks")
        page.goto(url + "/admin.html")
        page.click("a[href='people.html']")  # the backup screen links here
        page.wait_for_selector("#token")
        page.fill("#token", server.tokens["rep1"])
        page.click("button[type=submit]")
        page.wait_for_selector("#error")
        assert page.text_content("#error") == "Only admins can manage people and access."
        page.fill("#token", "fc_not-a-real-token")
        page.click("button[type=submit]")
        page.wait_for_selector("#error:text('not accepted')")
        page.close()
    finally:
        output = stop_server(server.proc)
    assert "Traceback" not in output, output


def test_a_passkey_session_cookie_is_enough_and_sign_out_ends_it(browser, tmp_path):
    """Signed in with a passkey (a session cookie, no token in the tab): the screen loads and can act."""
    data = tmp_path / "data"
    proc, url = start_server(data, "--no-backup")
    server = Server(url, data, proc)
    try:
        admin_token(server)
        raw = secrets.token_urlsafe(32)
        st = Store(data / "fieldcards.db")
        try:
            with st.write() as conn:
                now_s = int(time.time())
                identity.insert_session(conn, raw, "admin", utc_now(), now_s, now_s + 3600, "test")
        finally:
            st.close()
        context = browser.new_context(locale="en-US")
        context.add_cookies([{"name": "fc_session", "value": raw, "url": url}])
        page = context.new_page()
        allow_signed_out(page)  # after sign-out and the reload, the session has ended
        page.goto(url + "/people.html")
        page.wait_for_selector("#users")
        page.get_by_role("button", name="Invite link for admin").click()  # a write: CSRF header and origin pass
        page.wait_for_selector("#invite-url")
        assert page.input_value("#invite-url").startswith("http://localhost:")
        page.click("#sign-out")
        page.wait_for_selector("#token")
        deadline = time.time() + 10
        while time.time() < deadline and httpx.get(url + "/api/v1/me", cookies={"fc_session": raw}).status_code != 401:
            time.sleep(0.1)
        assert httpx.get(url + "/api/v1/me", cookies={"fc_session": raw}).status_code == 401
        page.reload()
        page.wait_for_selector("#token")
        assert page.locator("#error").count() == 0
        context.close()
    finally:
        output = stop_server(server.proc)
    assert "Traceback" not in output, output
