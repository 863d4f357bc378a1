"""The admin's backup screen in a real browser: status, a drill, a previewed restore, the devices
still to sync, in English and Chinese. Screenshots go to docs/screenshots/."""

from __future__ import annotations

import time
from datetime import datetime, timezone

from tests.conftest import Server, start_server, stop_server
from tests.e2e.conftest import allow_refused, allow_signed_out, shots_dir
from tests.test_restore import replica_txid, wait_replicated

SHOTS = shots_dir()


def test_admin_previews_and_restores_from_the_backup_screen(browser, tmp_path):
    data = tmp_path / "data"
    proc, url = start_server(data)
    server = Server(url, data, proc)
    try:
        server.user("admin", "admin")
        server.user("rep1")
        phone = server.device("rep1", tmp_path)
        mark = replica_txid(data)
        phone.create_card(name="王伟", phones=["13812345678"])
        phone.sync()
        wait_replicated(data, mark)
        time.sleep(1.2)
        moment = datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
        time.sleep(1.2)
        mark = replica_txid(data)
        phone.create_card(name="Rolled Back Later")
        phone.sync()
        wait_replicated(data, mark)

        page = browser.new_page(viewport={"width": 1366, "height": 768}, locale="en-US")
        allow_signed_out(page)  # the token form first
        page.on("dialog", lambda dialog: dialog.accept())
        page.goto(url + "/admin.html")
        page.fill("#token", server.tokens["admin"])
        page.click("button[type=submit]")
        page.wait_for_selector("#running")
        assert page.text_content("#running") == "running"
        assert page.text_content("#drill") == "No drill has run yet."

        page.click("text=Run a drill now")
        page.wait_for_selector("#drill.ok")
        assert page.text_content("#drill").startswith("Passed")

        page.fill("#custom-time", moment)
        page.click("#preview")
        page.wait_for_selector("#rolled-back")
        assert page.text_content("#rolled-back").startswith("1 changes would be rolled back")
        assert page.text_content("#preview-time") == f"Preview of a restore to {moment.replace('T', ' ').replace('Z', ' UTC')}"
        assert page.text_content("#device-work").startswith("1 changes from 1 devices come back")
        assert "never rolled back" in page.text_content("#access-kept")
        page.screenshot(path=str(SHOTS / "admin-backup-1366-en.png"), full_page=True)
        # Another time typed: the preview (and its Restore button) goes until that time is previewed.
        page.fill("#custom-time", "2001-01-01T00:00:00Z")
        page.wait_for_selector("#confirm", state="detached")
        assert page.input_value("#custom-time") == "2001-01-01T00:00:00Z"
        page.fill("#custom-time", moment)
        page.click("#preview")
        page.wait_for_selector("#rolled-back")

        page.click("#confirm")
        page.wait_for_selector("#notice")
        assert page.text_content("#notice").startswith("Restored to")
        page.wait_for_selector("#waiting li")
        assert phone.device_id in page.text_content("#waiting")

        phone.sync()  # the phone sends back what the restore rolled back
        page.click("text=Refresh")
        page.wait_for_selector("#waiting:not(ul)")
        assert page.text_content("#waiting") == "Every device has synced since the restore."

        page.select_option("#lang", "zh-CN")
        page.wait_for_selector("text=备份与恢复")
        assert page.text_content("#running") == "运行中"
        assert page.text_content("#notice").startswith("已恢复到")
        assert page.text_content("#drill").startswith("通过")  # the drill record survived the restore
        page.screenshot(path=str(SHOTS / "admin-backup-1366-zh-CN.png"), full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})
        page.screenshot(path=str(SHOTS / "admin-backup-390-zh-CN.png"), full_page=True)
        page.close()
    finally:
        stop_server(server.proc)


def test_non_admin_token_is_told_it_cannot_see_backups_even_if_typed_while_the_screen_first_asks(browser, tmp_path):
    """A rep's token gets "Only admins can see backups." The screen's first look at the server (no
    token yet) can answer while someone types their token; the sign-in form is drawn anew then, and
    it used to come up empty, so the click met an empty required field and nothing happened (a
    flaky run found it). Here that answer is held until the token is typed."""
    data = tmp_path / "data"
    proc, url = start_server(data, "--no-backup")
    server = Server(url, data, proc)
    try:
        server.user("rep1")
        page = browser.new_page(locale="en-US")
        allow_signed_out(page)
        allow_refused(
            page, 403, "admin/(?:backup|restore-points)", "a rep's token is refused the backup screen: what this test checks"
        )
        held = []
        page.route(
            "**/api/v1/admin/**",
            lambda route: held.append(route) if "authorization" not in route.request.headers else route.continue_(),
        )
        page.goto(url + "/admin.html")
        page.fill("#token", server.tokens["rep1"])
        for _ in range(2400):  # both of the first look's requests wait at the route (a bound, not a budget)
            if len(held) >= 2:
                break
            page.wait_for_timeout(50)
        assert len(held) == 2, held
        page.evaluate("document.querySelector('#token').dataset.first = 'yes'")
        for route in held:
            route.continue_()  # the first look answers now: 401, and the screen is drawn again
        page.wait_for_function("() => !document.querySelector('#token')?.dataset.first")
        assert page.input_value("#token") == server.tokens["rep1"]
        page.click("button[type=submit]")
        page.wait_for_selector("#error")
        assert page.text_content("#error") == "Only admins can see backups."
        page.close()
    finally:
        stop_server(server.proc)
