"""The customer's voice end to end (issue 17), in Debian's chromium against a real server: a rep at
390×844 makes a survey link offline and shows its QR; a second browser context with no session
opens it (not active until the phone syncs), corrects a phone and a job title the rep changed
meanwhile, and gives a bad rating; the rep syncs and sees "李娜 updated their details", the feedback
and the conflict; the bad rating opened a follow-up item, which the rep resolves offline; Undo puts
the customer's phone back through an ordinary edit."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.conftest import allow_offline, allow_refused, allow_signed_out, shots_dir
from tests.e2e.test_accessibility import findings
from tests.e2e.test_field_app import (
    PHONE,
    WAIT_MS,
    app_url,
    eventually,
    open_app,
    open_conflicts,
    server_card,
    session_cookie,
    up_to_date,
)

TOKENS_KEPT = """() => new Promise((resolve) => {
  const open = indexedDB.open("fieldcards");
  open.onsuccess = () => {
    const meta = open.result.transaction("meta").objectStore("meta");
    const tokens = meta.get("link_tokens");
    const surveys = meta.get("surveys");
    surveys.onsuccess = () => resolve(surveys.result?.value?.length ? (tokens.result?.value || []).length : 0);
  };
})"""


def test_a_customer_answers_a_link_made_offline_and_the_rep_follows_it_up(browser, server, tmp_path):
    server.user("rep1")
    server.user("admin", "admin")
    with server.client("admin") as admin:
        survey = admin.post(
            "/api/v1/surveys",
            json={
                "name": {"en": "After the visit", "zh-CN": "拜访后回访"},
                "scale": "csat",
                "question": {"en": "How satisfied are you with our service?", "zh-CN": "您对我们的服务满意吗？"},
                "questions": [
                    {
                        "type": "choice",
                        "required": True,
                        "label": {"en": "What should we improve?", "zh-CN": "我们最该改进什么？"},
                        "choices": [{"en": "Delivery", "zh-CN": "送货"}, {"en": "Price", "zh-CN": "价格"}],
                    }
                ],
            },
        ).json()["survey"]
    seed = server.device("rep1", tmp_path)
    card = seed.create_card(name="李娜", company="北京科技", title="经理", phones=["13900001111"])
    seed.sync()

    phone = browser.new_context(viewport=PHONE, locale="en-US", bypass_csp=True)  # bypass: axe is injected
    phone.add_cookies([session_cookie(server, "rep1")])
    customer = browser.new_context(viewport=PHONE, locale="en-US", bypass_csp=True)  # no session: the customer's phone
    allow_refused(customer, 404, r"public/links/[^?\]]+", "a link made offline is unknown to the server until the phone syncs")
    allow_refused(customer, 400, r"public/links/[^?\]]+", "the required question unanswered: the server refuses the answer")
    try:
        rep = open_app(phone, server, f"#/card/{card}")
        up_to_date(rep)
        eventually(lambda: rep.evaluate(TOKENS_KEPT) > 0, "link tokens and surveys kept on the phone")

        # Offline at the visit: the QR shows at once, from a reserved token.
        allow_offline(phone)
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

        zh = customer.new_page()
        zh.goto(url + "?lang=zh-CN")
        expect(zh.locator("#survey")).to_contain_text("我们最该改进什么？")
        zh.screenshot(path=str(shots_dir() / "customer-survey-390-zh-CN.png"), full_page=True)
        zh.close()
        expect(page.locator("#survey")).to_contain_text("What should we improve? (required)")
        page.fill("#c-phones", "13900002222")
        page.fill("#c-title", "副总经理")
        page.check("input[name=rating][value='1']")
        page.fill("#c-comment", "送货太慢")
        page.screenshot(path=str(shots_dir() / "customer-survey-390-en.png"), full_page=True)
        assert findings(page) == []
        page.click("#send")  # the required question unanswered: refused, nothing kept, nothing typed lost
        expect(page.locator("[data-answer='answers.q1']")).to_have_text("required")
        assert page.input_value("#c-phones") == "13900002222" and page.is_checked("input[name=rating][value='1']")
        page.check("input[name='q-q1'][value='c1']")
        page.click("#send")
        expect(page.locator("#thanks")).to_be_visible()

        held = server_card(server, "rep1", card)
        assert held["card"]["phones"] == ["+8613900002222"]
        [feedback] = held["activities"]
        assert (feedback["rating"], feedback["survey"], feedback["answers"]) == (1, survey["id"], {"q1": "c1"})
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
        expect(rep.locator("#my-scorecard [data-score='visits']")).to_have_text("0")  # the rep's own figures
        rep.goto(app_url(server, f"#/card/{card}"))
        expect(rep.locator("#timeline")).to_contain_text("送货太慢")

        # Resolved offline, like any edit of the card; Undo sends the phone number back.
        allow_offline(phone)
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


def test_office_sees_overdue_follow_up_items_on_the_dashboard_and_an_admin_sets_the_rule(browser, tmp_path):
    from tests.e2e.test_office import finish, open_office, started

    server = started(tmp_path)
    try:
        server.user("office", "office")
        server.user("admin", "admin")
        server.user("rep1")
        phone = server.device("rep1", tmp_path)
        card = phone.create_card(name="赵敏", company="广州贸易")
        phone.add_activity(card, "feedback", "发票一直没开", rating=2)
        phone.sync()

        page, problems = open_office(browser, server, "office", "#/dashboard")
        expect(page.locator("#items-open")).to_have_text("1", timeout=WAIT_MS)
        page.fill("#filter-date", "2999-01-01")  # far past its due date: overdue, whatever day the test runs
        page.dispatch_event("#filter-date", "change")
        expect(page.locator("#items-overdue")).to_have_text("1", timeout=WAIT_MS)
        row = page.locator("#table-overdue-items tbody tr")
        expect(row).to_contain_text("赵敏")
        expect(row).to_contain_text("★2 发票一直没开")
        # The scorecards: rep1's row, a CSV per figure.
        expect(page.locator("#table-scorecards tr[data-rep='rep1']")).to_be_visible(timeout=WAIT_MS)
        with page.expect_download() as download:
            page.click("#score-csv-visits")
        assert open(download.value.path(), encoding="utf-8-sig").read().splitlines()[0] == "rep,visits,target,progress"
        assert problems == []
        page.close()

        admin = browser.new_page(viewport={"width": 1366, "height": 768}, locale="en-US")
        allow_signed_out(admin)  # the token form first
        admin.goto(server.url.replace("127.0.0.1", "localhost") + "/people.html")
        admin.fill("#token", server.tokens["admin"])
        admin.click("button[type=submit]")
        admin.wait_for_selector("#rule-rating", timeout=WAIT_MS)
        expect(admin.locator("#rule-rating")).to_have_value("2")
        admin.fill("#rule-rating", "3")
        admin.click("#rules-save")
        expect(admin.locator("#voice-said")).to_be_visible(timeout=WAIT_MS)
        with server.client("rep1") as client:
            assert client.get("/api/v1/follow-ups/settings").json()["settings"]["rating_at_most"] == 3

        # A survey written on the same screen: NPS and one choice question, in both languages.
        admin.click("#survey-new")
        admin.fill("#survey-name-en", "Quarterly")
        admin.fill("#survey-name-zh-CN", "季度回访")
        admin.select_option("#survey-scale", "nps")
        admin.fill("#survey-question-en", "Would you recommend us?")
        admin.fill("#survey-question-zh-CN", "您会向朋友推荐我们吗？")
        admin.click("#survey-add-question")
        admin.fill("#sq-label-0-en", "What mattered most?")
        admin.fill("#sq-label-0-zh-CN", "您最看重什么？")
        admin.fill("#sq-choices-0", "Price | 价格\nDelivery | 送货")
        admin.check("#sq-required-0")
        admin.click("#survey-save")
        expect(admin.locator("#survey-list")).to_contain_text("Quarterly", timeout=WAIT_MS)
        with server.client("rep1") as client:
            [survey] = client.get("/api/v1/surveys").json()["surveys"]
        assert survey["scale"] == "nps" and survey["questions"][0]["choices"] == [
            {"id": "c1", "en": "Price", "zh-CN": "价格"},
            {"id": "c2", "en": "Delivery", "zh-CN": "送货"},
        ]
        assert survey["questions"][0]["required"] is True and survey["name"]["zh-CN"] == "季度回访"

        admin.fill("#target-visits", "4")
        admin.click("#targets-save")
        expect(admin.locator("#voice-said")).to_have_text("The targets were saved.", timeout=WAIT_MS)
        with server.client("office") as client:
            assert client.get("/api/v1/scorecards").json()["targets"] == {"visits": 4}
        admin.close()
    finally:
        finish(server)


def test_office_downloads_survey_links_for_the_cards_selected_in_the_desktop_table(browser, server, tmp_path):
    from tests.e2e.test_field_app import DESK

    server.user("office", "office")
    server.user("admin", "admin")
    server.user("rep1")
    with server.client("admin") as admin:
        survey = admin.post(
            "/api/v1/surveys",
            json={
                "name": {"en": "After the visit", "zh-CN": "拜访后回访"},
                "scale": "csat",
                "question": {"en": "How satisfied are you?", "zh-CN": "您满意吗？"},
            },
        ).json()["survey"]
    seed = server.device("rep1", tmp_path)
    first = seed.create_card(name="李娜", phones=["13900001111"])
    second = seed.create_card(name="王伟")
    seed.create_card(name="赵敏")
    seed.sync()
    desk = browser.new_context(viewport=DESK, locale="en-US", bypass_csp=True, accept_downloads=True)
    desk.add_cookies([session_cookie(server, "office")])
    try:
        page = open_app(desk, server)
        up_to_date(page)
        eventually(lambda: page.evaluate(TOKENS_KEPT) > 0, "surveys kept on the computer")
        for card in (first, second):
            page.check(f"#sel-{card}")
        expect(page.locator("#bulk-survey")).to_have_value(survey["id"])
        page.select_option("#bulk-survey-format", "csv")
        assert findings(page) == []
        with page.expect_download() as download:
            page.click("#bulk-survey-links")
        text = open(download.value.path(), encoding="utf-8-sig").read()
        lines = text.strip().splitlines()
        assert lines[0] == "id,name,company,phones,owner,link,expires" and len(lines) == 3
        assert {line.split(",")[1] for line in lines[1:]} == {"李娜", "王伟"} and all("/c/" in line for line in lines[1:])
        expect(page.locator("#flash")).to_contain_text("2 survey links made")
    finally:
        desk.close()


def test_lifecycle_stages_on_the_card_in_the_filter_and_on_the_dashboard(browser, server, tmp_path):
    from datetime import date

    from sync.office import stages
    from sync.protocol.engine import Engine
    from sync.db import Store
    from tests.e2e.test_office import open_office

    server.user("rep1")
    server.user("office", "office")
    seed = server.device("rep1", tmp_path)
    buyer = seed.create_card(name="李娜")
    seed.add_activity(buyer, "purchase", "首单", amount="100", currency="CNY")
    browsing = seed.create_card(name="王伟")
    seed.sync()
    st = Store(server.data / "fieldcards.db")
    try:
        moved = stages.apply(Engine(st), date.today())  # the hourly job, run now
    finally:
        st.close()
    assert {(m["card"], m["to"]) for m in moved} == {(buyer, "new"), (browsing, "lead")}

    phone = browser.new_context(viewport=PHONE, locale="en-US", bypass_csp=True)
    phone.add_cookies([session_cookie(server, "rep1")])
    try:
        rep = open_app(phone, server, f"#/card/{buyer}")
        up_to_date(rep)
        expect(rep.locator("#card-stage")).to_have_value("new")
        assert findings(rep) == []
        allow_offline(phone)
        phone.set_offline(True)
        rep.goto(app_url(server, f"#/card/{browsing}"))
        rep.select_option("#card-stage", "lost")  # by hand, offline
        expect(rep.locator("#flash")).to_contain_text("Stage set to Lost")
        rep.goto(app_url(server, "#/cards"))
        rep.select_option("#filter-stage", "lost")
        expect(rep.locator("[data-card-id]")).to_have_count(1)
        expect(rep.locator(f"[data-card-id='{browsing}']")).to_be_visible()
        phone.set_offline(False)
        rep.click("#sync-now")
        eventually(lambda: server_card(server, "rep1", browsing)["card"]["stage"] == "lost", "the hand's stage on the server")
    finally:
        phone.close()

    page, problems = open_office(browser, server, "office", "#/dashboard")
    expect(page.locator("#table-stages")).to_contain_text("Lost", timeout=WAIT_MS)
    expect(page.locator("#table-win-back")).to_contain_text("王伟")
    page.fill("#stage-at_risk_days", "60")
    page.click("#stage-rules-save")
    expect(page.locator("#stage-rules-said")).to_be_visible()
    with server.client("office") as client:
        assert client.get("/api/v1/stages/rules").json()["rules"]["at_risk_days"] == 60
    assert problems == []
    page.close()
