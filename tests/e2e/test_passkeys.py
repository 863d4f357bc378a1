"""Passkeys end to end: an invite link, registration in Debian's chromium with a CDP virtual
authenticator, discoverable sign-in, all verified by py_webauthn on the server; a used invite,
a replayed answer and an expired challenge are refused."""

from __future__ import annotations

import sqlite3

import httpx

from tests.conftest import Server, start_server, stop_server
from tests.e2e.conftest import allow_signed_out, shots_dir

SHOTS = shots_dir()

# Runs in the page: one complete sign-in by hand, so the test can send the same answer twice.
SIGN_IN_BY_HAND = """async () => {
  const post = (path, body) => fetch('/api/v1' + path, {method: 'POST', body: JSON.stringify(body),
    headers: {'Content-Type': 'application/json', 'X-Fieldcards': '1'}});
  const options = await (await post('/auth/login/options', {})).json();
  const credential = await navigator.credentials.get({publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options.publicKey)});
  return {handle: options.handle, credential: credential.toJSON()};
}"""

SEND = """async (body) => {
  const r = await fetch('/api/v1/auth/login', {method: 'POST', body: JSON.stringify(body),
    headers: {'Content-Type': 'application/json', 'X-Fieldcards': '1'}});
  return [r.status, await r.json()];
}"""


def authenticator(page) -> None:
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )


def test_invite_register_and_discoverable_sign_in(browser, tmp_path):
    data = tmp_path / "data"
    proc, url = start_server(data, "--no-backup")
    server = Server(url, data, proc)
    try:
        server.user("admin", "admin")
        local = url.replace("127.0.0.1", "localhost")  # passkeys need a domain: rp id localhost
        with server.client("admin") as admin:
            made = admin.post("/api/v1/users", json={"name": "wang.wei", "role": "rep", "display": "王伟"})
            assert made.status_code == 201, made.text
        invite_url = made.json()["invite"]["url"]
        assert invite_url.startswith(local + "/signin.html#invite=")

        context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
        page = context.new_page()
        # Signed out at first and again after sign-out; a replayed and an expired sign-in are refused
        # with 401 on purpose below.
        allow_signed_out(page)
        authenticator(page)
        page.goto(invite_url)
        page.fill("#label", "王伟的手机")
        page.click("#create-passkey")
        page.wait_for_selector("#message")
        assert "王伟" in page.text_content("h2")
        assert "#invite" not in page.url  # the spent code leaves the address bar
        page.screenshot(path=str(SHOTS / "signin-390-zh-CN.png"), full_page=True)
        cookie = next(c for c in context.cookies() if c["name"] == "fc_session")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
        me = page.evaluate("async () => (await fetch('/api/v1/me')).json()")
        assert me == {"user": "wang.wei", "role": "rep", "display": "王伟"}

        # The invite works once.
        other = browser.new_context(locale="en-US").new_page()
        allow_signed_out(other)  # no session; the spent invite is refused with 401: what this checks
        authenticator(other)
        other.goto(invite_url)
        other.click("#create-passkey")
        other.wait_for_selector("#error")
        assert "used, expired or unknown" in other.text_content("#error")

        # Sign out, then sign in with no user name: the authenticator offers the passkey.
        page.click("#signout")
        page.wait_for_selector("#signin-passkey, #error")
        assert page.query_selector("#error") is None, page.text_content("#error")
        assert page.evaluate("async () => (await fetch('/api/v1/me')).status") == 401
        page.click("#signin-passkey")
        page.wait_for_selector("#passkeys li")
        assert "王伟的手机" in page.text_content("#passkeys")
        assert page.evaluate("async () => (await fetch('/api/v1/me')).json()")["user"] == "wang.wei"

        # A replayed answer is refused: the challenge was taken out when it was first used.
        answer = page.evaluate(SIGN_IN_BY_HAND)
        first, second = page.evaluate(SEND, answer), page.evaluate(SEND, answer)
        assert first[0] == 200 and first[1]["user"] == "wang.wei"
        assert second[0] == 401 and "expired or was used" in second[1]["error"]["message"]

        # An expired challenge is refused (its expiry moved into the past, as five minutes would).
        late = page.evaluate(SIGN_IN_BY_HAND)
        with sqlite3.connect(data / "fieldcards.db") as db:
            assert db.execute("UPDATE challenges SET expires = 0").rowcount == 1
        expired = page.evaluate(SEND, late)
        assert expired[0] == 401 and "expired" in expired[1]["error"]["message"]

        with server.client("admin") as admin:
            audit = admin.get("/api/v1/audit").json()["audit"]
            actions = [(e["actor"], e["action"]) for e in audit]
            assert ("wang.wei", "passkey.add") in actions and ("wang.wei", "auth.signin") in actions
            assert ("anonymous", "auth.signin_failed") in actions
            users = {u["name"]: u for u in admin.get("/api/v1/users").json()["users"]}
            assert users["wang.wei"]["passkeys"] == 1 and users["wang.wei"]["last_sign_in"]
            # Lost phone: the admin re-invites; the new link works once more.
            again = admin.post("/api/v1/users/wang.wei/invite").json()["invite"]["url"]
        assert (
            httpx.post(
                url + "/api/v1/auth/register/options",
                json={"invite": again.split("invite=")[1]},
                headers={"x-fieldcards": "1", "origin": local},
            ).status_code
            == 200
        )
        context.close()
        other.context.close()
    finally:
        stop_server(server.proc)
