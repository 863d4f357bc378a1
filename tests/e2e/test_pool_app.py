"""The shared pool and the company-wide duplicate check in the field app (issue 19), in Debian's
chromium against a real server: a rep offline types a colleague's customer's phone number and is
told a colleague is responsible, while nothing of the colleague's card is anywhere in the phone's
IndexedDB; the rep then claims a pool customer offline and owns it after the next sync."""

from __future__ import annotations

import json
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.conftest import Server
from tests.e2e.conftest import allow_offline, allow_refused, allow_signed_out
from tests.e2e.test_field_app import PHONE, WAIT_MS, eventually, open_app, server_card, shot, signed_in, up_to_date

COLLEAGUES_PHONE = "+8613812345678"

DUMP_INDEXEDDB = """async () => {
  const db = await new Promise((resolve, reject) => {
    const request = indexedDB.open("fieldcards");
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  const out = {};
  for (const name of db.objectStoreNames) {
    out[name] = await new Promise((resolve, reject) => {
      const request = db.transaction(name).objectStore(name).getAll();
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }
  db.close();
  return JSON.stringify(out, (key, value) => (value instanceof ArrayBuffer || ArrayBuffer.isView(value) ? "<bytes>" : value));
}"""


def indexeddb_text(page: Page) -> str:
    return page.evaluate(DUMP_INDEXEDDB)


def test_a_rep_offline_is_told_a_colleague_holds_the_customer_and_sees_nothing_of_that_card(
    browser, server: Server, tmp_path: Path
):
    server.user("li.na")
    server.user("wang.wei")
    server.user("office", "office")
    colleague = server.device("li.na", tmp_path)
    held = colleague.create_card(name="赵敏", company="青岛啤酒", phones=[COLLEAGUES_PHONE], notes="只谈年框")
    colleague.sync()
    office = server.device("office", tmp_path)
    pooled = office.create_card(name="刘洋", company="光明乳业", region="华东", phones=["+8613900001111"], owner=None)
    office.sync()

    context = signed_in(browser, server, "wang.wei", PHONE)
    try:
        page = open_app(context, server, "#/pool")
        up_to_date(page)
        # The pool view arrived with the sync: name, company, region; never the phone.
        expect(page.locator(f".pool-item[data-card-id='{pooled}']")).to_contain_text("光明乳业", timeout=WAIT_MS)
        shot(page, "pool", PHONE["width"], "en")

        allow_offline(context)
        context.set_offline(True)
        page.goto(page.url.split("#")[0] + "#/new")
        page.fill("#f-name", "Zhao Min")
        page.fill("#f-phones-0", "138 1234 5678")
        page.click("#save")
        expect(page.locator("#colleague-warning")).to_have_text("A colleague is responsible for this customer.")
        expect(page.locator("#save")).to_have_text("Save anyway")
        stored = indexeddb_text(page)
        for secret in (held, "赵敏", "青岛啤酒", "只谈年框", "li.na", COLLEAGUES_PHONE, "8613812345678", "+8613900001111"):
            assert secret not in stored, secret
        page.click("#save")  # saved anyway, offline: kept, and office will see both cards
        expect(page.locator("#card-title, h2").first).to_contain_text("Zhao Min", timeout=WAIT_MS)

        # Claim the pool customer, still offline: it is the rep's at once.
        page.goto(page.url.split("#")[0] + "#/pool")
        page.click(f".pool-item[data-card-id='{pooled}'] button.claim")
        expect(page.locator("h2").first).to_contain_text("刘洋", timeout=WAIT_MS)

        context.set_offline(False)
        page.click("#sync-now")
        up_to_date(page)
        eventually(lambda: server_card(server, "office", pooled)["card"]["owner"] == "wang.wei", "the claim on the server")
        groups = server.client("office").get("/api/v1/duplicates").json()["groups"]
        assert any(held in g["cards"] and g.get("candidate") == ["held_by_colleague"] for g in groups), json.dumps(groups)
        assert not page.errors, page.errors  # type: ignore[attr-defined]
    finally:
        context.close()


def test_an_admin_makes_a_team_and_sets_the_pool_rules_on_the_people_screen(browser, server: Server):
    server.user("admin", "admin")
    server.user("li.na")
    server.user("wang.wei")
    server.user("zhang.min", "manager")
    page = browser.new_page(viewport={"width": 1366, "height": 768}, locale="en-US")
    allow_signed_out(page)  # the token form first
    allow_refused(page, 400, "teams|pool/settings", "a team and pool rules the server refuses: their messages are checked")
    try:
        page.goto(server.url + "/people.html")
        page.fill("#token", server.tokens["admin"])
        page.click("button[type=submit]")
        expect(page.locator("#teams-none")).to_be_visible(timeout=WAIT_MS)
        # A team with a manager where a rep belongs: the server's message, at its path.
        page.fill("#team-name", "华东一组")
        page.fill("#team-members", "li.na, zhang.min")
        page.fill("#team-managers", "zhang.min")
        page.click("#team-save")
        expect(page.locator("#teams-error")).to_contain_text("members[1]: zhang.min is manager, not rep")
        page.fill("#team-members", "li.na, wang.wei")
        page.click("#team-save")
        expect(page.locator("#teams-said")).to_have_text("Team 华东一组 saved.")
        expect(page.locator("#team-table tbody tr")).to_have_count(1)
        teams = server.client("admin").get("/api/v1/teams").json()["teams"]
        assert [(t["name"], t["members"], t["managers"]) for t in teams] == [("华东一组", ["li.na", "wang.wei"], ["zhang.min"])]

        page.uncheck("#pool-field-industry")
        page.check("#pool-field-address")
        page.fill("#pool-max-held", "300")
        page.fill("#pool-days-A", "90")
        page.fill("#pool-days-none", "30")
        page.click("#pool-save")
        expect(page.locator("#teams-said")).to_have_text("The pool rules were saved.")
        rules = server.client("admin").get("/api/v1/pool/settings").json()["settings"]
        assert rules["fields"] == ["company", "address", "region", "segment", "tags"]
        assert rules["max_held"] == 300 and rules["claims_per_day"] is None
        assert rules["reclaim_days"] == {"A": 90, "B": None, "C": None, "none": 30}
        page.fill("#pool-days-B", "99999")
        page.click("#pool-save")
        expect(page.locator("#teams-error")).to_contain_text("reclaim_days.B: days from 1 to 3650")
    finally:
        page.close()
