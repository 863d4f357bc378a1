"""The customer's page, in a real browser with no session (issue 17): their own details only,
corrected and sent once, in Chinese or English; the state of a used link in words."""

from __future__ import annotations

import uuid

from sync.protocol.hlc import Clock
from tests.conftest import Server, start_server, stop_server
from tests.e2e.conftest import allow_refused, shots_dir

PHONE = {"width": 390, "height": 844}
CLOCK = Clock("e2e")


def test_a_customer_corrects_a_phone_and_answers_a_survey_from_the_link(browser, tmp_path):
    data = tmp_path / "data"
    proc, url = start_server(data, "--no-backup")
    server = Server(url, data, proc)
    try:
        server.user("rep1")
        card, link_id = str(uuid.uuid4()), str(uuid.uuid4())
        with server.client("rep1") as rep:
            answer = rep.post(
                "/api/v1/sync",
                json={
                    "device": "phone",
                    "mutations": [
                        {
                            "id": str(uuid.uuid4()),
                            "op": "card.put",
                            "card": card,
                            "at": CLOCK.now(),
                            "fields": {"name": "李娜", "company": "北京科技", "phones": ["13900001111"], "notes": "内部备注"},
                        },
                        {
                            "id": str(uuid.uuid4()),
                            "op": "link.create",
                            "card": card,
                            "at": CLOCK.now(),
                            "link": {"id": link_id, "purpose": "survey", "survey": "csat-1"},
                        },
                    ],
                },
            ).json()
        token = answer["results"][1]["link"]["token"]
        context = browser.new_context(viewport=PHONE, locale="zh-CN")  # no session, no token: a customer
        allow_refused(context, 410, r"public/links/[^?\]]+", "the link opened again after it was used: the page says so")
        page = context.new_page()
        page.goto(f"{url}/c/{token}")
        page.wait_for_selector("#customer-form")
        assert page.input_value("#c-name") == "李娜"
        assert "内部备注" not in page.content()
        assert page.text_content("h1") == "您的信息"
        page.screenshot(path=str(shots_dir() / "customer-390-zh-CN.png"), full_page=True)
        page.fill("#c-phones", "13900002222")
        page.check("input[name=consent][value=phone]")
        page.check("input[name=rating][value='4']")
        page.fill("#c-comment", "服务很好")
        page.click("#send")
        page.wait_for_selector("#thanks")
        assert page.text_content("#thanks") == "谢谢！我们已收到您的回复。"
        with server.client("rep1") as rep:
            held = rep.get(f"/api/v1/cards/{card}").json()
        assert held["card"]["phones"] == ["+8613900002222"]
        assert [(a["kind"], a["rating"], a["text"]) for a in held["activities"]] == [("feedback", 4, "服务很好")]
        again = context.new_page()
        again.goto(f"{url}/c/{token}?lang=en")
        again.wait_for_selector("#state")
        assert again.text_content("#state") == "This link was already used. Thank you."
        again.screenshot(path=str(shots_dir() / "customer-390-en-used.png"), full_page=True)
        context.close()
    finally:
        stop_server(server.proc)
