"""The rep's day in the field (issue 16), in Debian's chromium on a phone (390×844) against a real
server: the rep sets a customer's location where they stand, finds the customer first in Nearby and
in My day's route, goes offline, logs a visit (its position recorded) and takes a photo (a file
chooser with a generated PNG), comes back online; the photo is uploaded downscaled, without EXIF,
and office at a desk (1366×768) sees it in the side panel with the visit's distance from the
customer. The position is Playwright's geolocation override; nothing here depends on the date
except the follow-ups, which are set relative to today as the app reads them.
"""

from __future__ import annotations

import base64
import struct
import zlib
from datetime import date
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from tests.conftest import Server
from tests.e2e.conftest import allow_offline
from tests.e2e.test_accessibility import findings
from tests.e2e.test_field_app import DESK, PHONE, eventually, open_app, server_card, session_cookie, shot, up_to_date

PEOPLE_SQUARE = {"latitude": 31.2304, "longitude": 121.4737, "accuracy": 12}
NORTH_300_M = {"latitude": 31.2331, "longitude": 121.4737, "accuracy": 25}  # 300 m north of it


def png(path: Path, width: int, height: int) -> Path:
    """A real PNG (a colour gradient) with an eXIf chunk, as a camera's photo would carry one."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    row = bytes(b for x in range(width) for b in (x * 255 // width, 120, 200 - x * 200 // width))
    raw = b"".join(b"\x00" + row for _ in range(height))
    exif = b"MM\x00\x2a\x00\x00\x00\x08\x00\x00GPS-secret-place"
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"eXIf", exif)
        + chunk(b"IDAT", zlib.compress(raw, 6))
        + chunk(b"IEND", b"")
    )
    return path


def in_chinese(page, ready: str, then) -> None:  # type: ignore[no-untyped-def]
    """The same screen in Chinese (for the zh-CN guide's screenshots), then back in English."""

    def choose(lang: str) -> None:
        if page.locator("#menu-button").is_visible():  # on a phone the language is in the menu
            page.click("#menu-button")
        page.select_option("#lang", lang)
        expect(page.locator("html")).to_have_attribute("lang", lang)
        page.keyboard.press("Escape")  # the menu closes

    choose("zh-CN")
    expect(page.locator(ready)).to_be_visible()
    then()
    choose("en")


def jpeg_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a JPEG's start-of-frame marker."""
    at = 2
    while at < len(data):
        marker, length = data[at + 1], struct.unpack(">H", data[at + 2 : at + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            height, width = struct.unpack(">HH", data[at + 5 : at + 9])
            return width, height
        at += 2 + length
    raise AssertionError("no start-of-frame in the JPEG")


def test_a_rep_sets_a_location_finds_it_nearby_logs_a_visit_and_a_photo_offline_and_office_sees_both(
    browser, server: Server, tmp_path
):
    server.user("rep1")
    server.user("office1", "office")
    today = date.today().isoformat()  # My day lists the follow-ups due on the phone's today
    seed = server.device("rep1", tmp_path)
    shop = seed.create_card(name="Huangpu Tea House", company="黄浦茶庄", follow_up=today)
    near = seed.create_card(name="Lujiazui Trading", location={"lat": 31.2397, "lng": 121.4998}, follow_up=today)
    far = seed.create_card(name="Hongqiao Steel", location={"lat": 31.1979, "lng": 121.3363})
    nowhere = seed.create_card(name="Nowhere Ltd")
    seed.sync()

    context = browser.new_context(viewport=PHONE, locale="en-US", geolocation=PEOPLE_SQUARE, permissions=["geolocation"])
    context.add_cookies([session_cookie(server, "rep1")])
    try:
        page = open_app(context, server, f"#/card/{shop}")
        up_to_date(page)

        # "I am at this customer": the phone's position becomes the card's location.
        expect(page.locator("#place-none")).to_be_visible()
        page.click("#set-here")
        expect(page.locator("#place-value")).to_contain_text("31.230400, 121.473700")
        expect(page.locator("#place-map-google")).to_have_attribute(
            "href", "https://www.google.com/maps/dir/?api=1&destination=31.230400%2C121.473700"
        )
        eventually(
            lambda: server_card(server, "rep1", shop)["card"]["location"] == {"lat": 31.2304, "lng": 121.4737},
            "the location on the server",
        )

        # Nearby: nearest first, the card without a location after, with the prompt.
        page.click("#nav-nearby")
        expect(page.locator("#nearby-list > li")).to_have_count(3)
        order = [li.get_attribute("data-card-id") for li in page.locator("#nearby-list > li").all()]
        assert order == [shop, near, far]
        expect(page.locator(f"#nearby-list [data-card-id='{near}'] .badge.distance")).to_have_text("2.7 km")
        expect(page.locator("#nearby-unplaced [data-card-id]")).to_have_attribute("data-card-id", nowhere)
        expect(page.locator("#unplaced-title")).to_contain_text("Set it at your next visit")
        shot(page, "nearby", PHONE["width"], "en")
        in_chinese(page, "#nearby-list", lambda: shot(page, "nearby", PHONE["width"], "zh-CN"))

        # My day: today's follow-ups in route order, each with a route link from the previous stop.
        page.click("#nav-today")
        page.click("#plan-day")
        expect(page.locator("#day-route > li")).to_have_count(2)
        assert [li.locator("[data-card-id]").get_attribute("data-card-id") for li in page.locator("#day-route > li").all()] == [
            shop,
            near,
        ]
        expect(page.locator("#day-route > li").nth(1)).to_contain_text("2.7 km from the previous stop")
        expect(page.locator("#day-route > li").nth(1).locator("[data-map='google']")).to_have_attribute(
            "href", "https://www.google.com/maps/dir/?api=1&destination=31.239700%2C121.499800&origin=31.230400%2C121.473700"
        )

        # Offline, 300 m away: a visit in two taps records the position; a photo is kept on the phone.
        allow_offline(context)
        context.set_offline(True)
        context.set_geolocation(NORTH_300_M)
        page.click("#nav-nearby")
        page.click(f"#nearby-list [data-card-id='{shop}'] a.card-item")
        expect(page.locator("#card-title")).to_have_text("Huangpu Tea House")
        page.click("#log-visit")
        page.fill("#visit-text", "Measured the shop front.")
        with page.expect_file_chooser() as chooser:
            page.click("#visit-photo")
        chooser.value.set_files(str(png(tmp_path / "signed-order.png", 600, 400)))
        expect(page.locator("#visit-photos")).to_have_text("Photos to add: 1")
        page.click("#visit-save")
        visit = page.locator("#timeline > li").first
        expect(visit.locator(".visit-place")).to_contain_text("300 m from the customer (±25 m)")
        expect(visit.locator(".attachments img")).to_have_attribute("alt", "signed-order.jpg")  # the visit's own photo

        photo = png(tmp_path / "shop-front.png", 3000, 1500)
        with page.expect_file_chooser() as chooser:
            page.click("#take-photo")
        chooser.value.set_files(str(photo))
        image = page.locator("#attachment-list img")
        expect(image).to_be_visible()
        assert image.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [2048, 1024]  # shown at once, from the phone
        expect(page.locator("#attachment-list [data-uploaded='false']")).to_contain_text("waiting to upload")
        attachment_id = page.locator("#attachment-list [data-attachment-id]").get_attribute("data-attachment-id")
        page.locator("#place").scroll_into_view_if_needed()
        shot(page, "card-photo", PHONE["width"], "en")

        page.click("#nav-pending")
        expect(page.locator("#files-waiting")).to_contain_text("shop-front.jpg")
        expect(page.locator("#files-waiting")).to_contain_text("signed-order.jpg")
        expect(page.locator("#nav-pending .count")).to_have_text("3")  # the visit and two photos, each counted once
        expect(page.locator("#outbox")).to_contain_text("Photo or file “shop-front.jpg” on Huangpu Tea House")
        shot(page, "pending-photo", PHONE["width"], "en")
        in_chinese(page, "#files-waiting", lambda: shot(page, "pending-photo", PHONE["width"], "zh-CN"))

        # Online again: the visit and the photo's declaration sync, then the bytes upload.
        context.set_offline(False)
        up_to_date(page)
        with server.client("rep1") as rep:
            eventually(
                lambda: rep.get(f"/api/v1/attachments/{attachment_id}/upload").json().get("uploaded"), "the photo uploaded", 60
            )
            got = rep.get(f"/api/v1/attachments/{attachment_id}")
        assert got.status_code == 200 and got.headers["content-type"] == "image/jpeg"
        assert got.content[:2] == b"\xff\xd8" and b"Exif" not in got.content and b"GPS-secret-place" not in got.content
        assert jpeg_size(got.content) == (2048, 1024)
        expect(page.locator("#files-waiting")).to_have_count(0)
        assert not page.errors  # type: ignore[attr-defined]
    finally:
        context.close()

    office = server.device("office1", tmp_path)
    office.sync()
    [logged] = [a for a in office.activities(shop) if a["kind"] == "visit"]
    assert logged["location"] == {"lat": 31.2331, "lng": 121.4737, "accuracy_m": 25}
    assert logged["text"] == "Measured the shop front."

    # Office at a desk: the photo (from the server) and the visit's distance in the side panel.
    desk = browser.new_context(viewport=DESK, locale="en-US")
    desk.add_cookies([session_cookie(server, "office1")])
    try:
        page = open_app(desk, server, f"#/card/{shop}")
        up_to_date(page)
        panel = page.locator("#side-panel")
        image = panel.locator("#attachment-list img")
        expect(image).to_be_visible()
        expect(image).to_have_attribute("src", f"/api/v1/attachments/{attachment_id}")
        eventually(lambda: image.evaluate("img => img.complete && img.naturalWidth") == 2048, "the photo drawn from the server")
        expect(panel.locator("#timeline > li").first.locator(".visit-place")).to_contain_text("300 m from the customer")
        expect(panel.locator("#timeline > li").first.locator(".attachments img")).to_have_attribute("alt", "signed-order.jpg")
        shot(page, "desk-visit-photo", DESK["width"], "en")
    finally:
        desk.close()


def test_office_types_a_location_and_a_bad_one_is_explained_not_sent(browser, server: Server, tmp_path):
    server.user("office1", "office")
    seed = server.device("office1", tmp_path)
    card = seed.create_card(name="Typed Place Co")
    seed.sync()
    desk = browser.new_context(viewport=DESK, locale="zh-CN")
    desk.add_cookies([session_cookie(server, "office1")])
    try:
        page = open_app(desk, server, f"#/edit/{card}")
        page.select_option("#lang", "zh-CN")
        page.fill("#f-lat", "95")
        page.fill("#f-lng", "121.4737")
        page.click("#save")
        expect(page.locator("#f-lat-error")).to_contain_text("纬度应在 -90 到 90 之间")
        page.fill("#f-lat", "31.2304")
        page.click("#save")
        expect(page.locator("#place-value")).to_contain_text("31.230400, 121.473700")
        # In Chinese the route opens in Amap and Baidu, with GCJ-02 / BD-09 coordinates.
        amap = page.locator("#place-map-amap").get_attribute("href")
        assert httpx.URL(amap).host == "uri.amap.com" and "121.478" in amap  # WGS-84 121.4737 is 121.478… in GCJ-02
        expect(page.locator("#place-map-baidu")).to_be_visible()
        eventually(
            lambda: server_card(server, "office1", card)["card"]["location"] == {"lat": 31.2304, "lng": 121.4737},
            "the typed location on the server",
        )
    finally:
        desk.close()


@pytest.mark.parametrize("lang", ["en-US", "zh-CN"])
def test_the_field_screens_have_no_serious_accessibility_findings(browser, server: Server, tmp_path, lang):
    """axe-core on Nearby, My day and a card with its location, a photo and a visit with a position."""
    server.user("rep1")
    phone = server.device("rep1", tmp_path)
    card = phone.create_card(name="黄浦茶庄", location={"lat": 31.2304, "lng": 121.4737}, follow_up=date.today().isoformat())
    phone.create_card(name="没有位置")
    visit = phone.add_activity(card, "visit", "到店", location={"lat": 31.2331, "lng": 121.4737, "accuracy_m": 25})
    phone.add_attachment(card, png(tmp_path / "x.png", 8, 8).read_bytes(), "门头.png", "image/png", activity=visit)
    phone.sync()
    phone.upload_files()
    context = browser.new_context(
        viewport=PHONE, locale=lang, bypass_csp=True, geolocation=PEOPLE_SQUARE, permissions=["geolocation"]
    )
    context.add_cookies([session_cookie(server, "rep1")])
    try:
        page = open_app(context, server, "#/nearby")
        expect(page.locator("#sync-status")).to_have_text("Up to date" if lang == "en-US" else "已是最新")
        found: dict[str, list[str]] = {}
        expect(page.locator("#nearby-list > li")).to_have_count(1)
        found["nearby"] = findings(page)
        page.click("#nav-today")
        page.click("#plan-day")
        expect(page.locator("#day-route > li")).to_have_count(1)
        found["my day"] = findings(page)
        page.click("#nav-nearby")
        page.click(f"#nearby-list [data-card-id='{card}'] a.card-item")
        expect(page.locator("#timeline .attachments img")).to_be_visible()
        expect(page.locator("#timeline .visit-place")).to_have_attribute("data-distance-m", "300")
        found["card"] = findings(page)
        page.click("#log-visit")
        found["visit form"] = findings(page)
        assert {k: v for k, v in found.items() if v} == {}
    finally:
        context.close()


def exif_block(make: bytes) -> bytes:
    """An APP1 EXIF block (big-endian TIFF) whose IFD0 holds Orientation = 6 and Make = `make`."""
    ascii_ = make + b"\x00"
    ifd = struct.pack(">H", 2) + struct.pack(">HHII", 0x0112, 3, 1, 6 << 16) + struct.pack(">HHII", 0x010F, 2, len(ascii_), 38)
    tiff = b"MM\x00\x2a" + struct.pack(">I", 8) + ifd + b"\x00\x00\x00\x00" + ascii_
    body = b"Exif\x00\x00" + tiff
    return b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body


def test_a_rep_who_chooses_to_keep_the_place_keeps_exif_in_photos_turned_upright(browser, server: Server, tmp_path):
    server.user("rep1")
    seed = server.device("rep1", tmp_path)
    card = seed.create_card(name="Camera Co")
    seed.sync()
    context = browser.new_context(viewport=PHONE, locale="en-US")
    context.add_cookies([session_cookie(server, "rep1")])
    try:
        page = open_app(context, server, f"#/card/{card}")
        up_to_date(page)
        # A camera's JPEG: drawn by the browser itself, with an EXIF block put after its start marker.
        data_url = page.evaluate("""() => { const c = document.createElement('canvas'); c.width = 64; c.height = 48;
          c.getContext('2d').fillRect(0, 0, 32, 24); return c.toDataURL('image/jpeg'); }""")
        plain = base64.b64decode(data_url.split(",", 1)[1])
        photo = tmp_path / "with-exif.jpg"
        photo.write_bytes(plain[:2] + exif_block(b"GPS-secret-place") + plain[2:])
        page.check("#keep-place")
        with page.expect_file_chooser() as chooser:
            page.click("#take-photo")
        chooser.value.set_files(str(photo))
        expect(page.locator("#attachment-list img")).to_be_visible()
        attachment_id = page.locator("#attachment-list [data-attachment-id]").get_attribute("data-attachment-id")
        with server.client("rep1") as rep:
            eventually(
                lambda: rep.get(f"/api/v1/attachments/{attachment_id}/upload").json().get("uploaded"), "the photo uploaded", 60
            )
            got = rep.get(f"/api/v1/attachments/{attachment_id}").content
        kept = got[2 : 2 + len(exif_block(b"GPS-secret-place"))]
        assert kept[:4] == b"\xff\xe1" + struct.pack(">H", len(kept) - 2) and b"GPS-secret-place" in kept
        assert struct.unpack(">H", kept[4 + 6 + 8 + 2 + 8 : 4 + 6 + 8 + 2 + 10])[0] == 1  # orientation: upright now
        assert jpeg_size(got) == (48, 64)  # orientation 6 (turned 90°) was applied when redrawing
    finally:
        context.close()
