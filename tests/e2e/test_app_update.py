"""The update rule of the PWA in a real browser: a new version of the app installs in the
background but takes over only once the outbox has drained; then the page reloads on it."""

from __future__ import annotations

import shutil
import time

from server.auth import sessions
from tests.conftest import ROOT, Server, start_server, stop_server
from tests.e2e.conftest import allow_problems
from tests.test_access import session_cookie

VERSION = """() => new Promise((resolve) => {
  navigator.serviceWorker.addEventListener('message', (e) => resolve(e.data.version), { once: true });
  navigator.serviceWorker.controller.postMessage({ type: 'version' });
})"""

EDIT_THROUGH_THE_APP_STORE = """async () => {
  const { openDb } = await import('/js/app/db.js');
  const { Device } = await import('/js/app/device.js');
  const device = await Device.open(await openDb());
  await device.createCard({ name: 'Written under version 1' });
  return device.pendingCount();
}"""


def poll(page, expression: str, timeout: float = 60) -> object:
    """Like wait_for_function, which needs eval (our CSP forbids it); survives reloads."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            value = page.evaluate(expression)
            if value:
                return value
        except Exception:  # the page is navigating: ask again
            pass
        time.sleep(0.25)
    raise AssertionError(f"not true within {timeout} s: {expression}")


def test_a_new_version_waits_for_the_outbox_then_takes_over(browser, tmp_path):
    app = tmp_path / "pwa"
    shutil.copytree(ROOT / "pwa", app)
    data = tmp_path / "data"
    proc, url = start_server(data, "--no-backup", env={"FIELDCARDS_PWA_DIR": str(app)})
    server = Server(url, data, proc)
    try:
        server.user("rep1")
        local = url.replace("127.0.0.1", "localhost")
        context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-US")
        context.add_cookies(
            [{"name": sessions.COOKIE, "value": session_cookie(server, "rep1"), "domain": "localhost", "path": "/"}]
        )
        page = context.new_page()
        page.goto(local + "/index.html")
        poll(page, "() => navigator.serviceWorker.controller !== null")
        first = page.evaluate(VERSION)

        page.route("**/api/v1/sync", lambda route: route.abort())  # the network fails: edits wait
        allow_problems(
            page,
            r"(?:/api/v1/sync net::ERR_FAILED|net::ERR_FAILED \[[^\]]*/api/v1/sync\])",
            "the test makes the sync fail, so that the edit waits in the outbox",
        )
        assert page.evaluate(EDIT_THROUGH_THE_APP_STORE) == 1
        page.evaluate("() => { window.stillTheSamePage = true; }")
        with (app / "css" / "app.css").open("a") as css:
            css.write("\n/* version 2 */\n")
        page.evaluate("() => navigator.serviceWorker.getRegistration().then((r) => r.update())")
        poll(page, "() => navigator.serviceWorker.getRegistration().then((r) => r.waiting !== null)")
        poll(page, "() => document.querySelector('#update-toast') !== null", timeout=120)
        time.sleep(3)
        assert page.evaluate("() => window.stillTheSamePage === true")  # not taken over: the outbox holds an edit
        assert page.evaluate(VERSION) == first

        page.unroute("**/api/v1/sync")
        poll(
            page, "() => window.stillTheSamePage === undefined && navigator.serviceWorker.controller !== null", timeout=180
        )  # the app syncs (backoff), the outbox drains, the new version takes over, reload
        assert poll(page, VERSION) != first
        with server.client("rep1") as rep:
            names = [c["name"] for c in rep.get("/api/v1/cards").json()["cards"]]
        assert names == ["Written under version 1"]
        context.close()
    finally:
        stop_server(server.proc)
