"""Who may do what, over HTTP: every endpoint as anonymous, rep, another rep, office and admin;
cookie sessions and CSRF; rate limits on bad tokens; disabling users; device revocation wiping the
device; denials in the audit log. In-process over the real app (the `app` fixture): a browser is
a cookie header and an Origin against the app's own address, the phone being revoked the reference
client over the TestClient's transport, and the app behind HTTPS a second app with that origin."""

from __future__ import annotations

import json
import sqlite3
import time
import uuid

import httpx
import pytest
from starlette.testclient import TestClient

from server.app import create_app
from server.auth import sessions
from server.config import Config
from sync.protocol.client import DeviceRevoked
from sync.protocol.hlc import Clock
from sync.db import Store
from tests.conftest import App, Caller

ROLES = ("anonymous", "rep1", "rep2", "office", "admin")
CLOCK = Clock("pytest")


@pytest.fixture
def staff(app: App) -> dict[str, str]:
    """rep1 and rep2 with one card each (sent through the sync endpoint), office, admin; returns
    the card ids."""
    app.user("admin", "admin")
    app.user("office", "office")
    cards = {}
    for rep in ("rep1", "rep2"):
        app.user(rep)
        cards[rep] = str(uuid.uuid4())
        mutation = {
            "id": str(uuid.uuid4()),
            "op": "card.put",
            "card": cards[rep],
            "at": CLOCK.now(),
            "fields": {"name": f"Card of {rep}"},
        }
        answer = app.client(rep).post("/api/v1/sync", json={"device": str(uuid.uuid4()), "mutations": [mutation]})
        assert answer.json()["results"][0]["status"] == "applied", answer.text
    return cards


def call(app: App, who: str, method: str, path: str, body: dict | None = None) -> httpx.Response:
    headers = {} if who == "anonymous" else {"authorization": f"Bearer {app.tokens[who]}"}
    return app.http.request(method, "/api/v1" + path, json=body, headers=headers)


def test_every_endpoint_answers_each_role_as_the_contract_says(app, staff):
    rep1_card, rep2_card = staff["rep1"], staff["rep2"]
    no_conflict = str(uuid.uuid4())
    sync_body = {"device": str(uuid.uuid4()), "limit": 100, "mutations": []}
    everyone = {"rep1": 200, "rep2": 200, "office": 200, "admin": 200}
    admins_only = {"rep1": 403, "rep2": 403, "office": 403}
    # (method, path, body, expected status per signed-in role; admin None = any answer but 401/403)
    matrix = [
        ("GET", "/me", None, everyone),
        ("GET", "/schema", None, everyone),
        ("POST", "/sync", sync_body, everyone),
        ("GET", "/cards", None, everyone),
        ("GET", f"/cards/{rep1_card}", None, {"rep1": 200, "rep2": 404, "office": 200, "admin": 200}),
        ("GET", f"/cards/{rep1_card}/history", None, {"rep1": 200, "rep2": 404, "office": 200, "admin": 200}),
        ("GET", "/conflicts", None, everyone),
        ("POST", f"/conflicts/{no_conflict}/resolve", {"keep": "current"}, {r: 404 for r in everyone}),
        ("GET", "/passkeys", None, everyone),
        ("GET", "/tokens", None, everyone),
        ("GET", "/tokens?user=*", None, {**admins_only, "admin": 200}),
        ("POST", "/tokens", {"label": "script"}, {r: 201 for r in everyone}),
        ("POST", "/tokens", {"label": "for someone", "user": "rep2"}, {"rep1": 403, "rep2": 201, "office": 403, "admin": 201}),
        ("GET", "/users", None, {**admins_only, "admin": 200}),
        ("POST", "/users", {"name": "new.rep", "role": "rep"}, {**admins_only, "admin": 201}),
        ("PATCH", "/users/rep2", {"display": "Rep Two"}, {**admins_only, "admin": 200}),
        ("POST", "/users/rep2/invite", None, {**admins_only, "admin": 201}),
        ("GET", "/devices", None, {**admins_only, "admin": 200}),
        ("POST", "/devices/no-such-device/revoke", None, {**admins_only, "admin": 404}),
        ("GET", "/admin/backup", None, {**admins_only, "admin": 200}),
        ("GET", "/admin/restore-points", None, {**admins_only, "admin": None}),
        ("POST", "/admin/restore", {"to": "latest", "dry_run": True}, {**admins_only, "admin": None}),
        ("GET", "/audit", None, {**admins_only, "admin": 200}),
        ("POST", "/imports", {}, {"rep1": 403, "rep2": 403, "office": 400, "admin": 400}),
        ("POST", f"/imports/{no_conflict}/undo", None, {"rep1": 403, "rep2": 403, "office": 404, "admin": 404}),
        ("GET", "/export?format=csv", None, everyone),
    ]
    for method, path, body, expected in matrix:
        for who in ROLES:
            answer = call(app, who, method, path, body)
            want = 401 if who == "anonymous" else expected[who]
            if want is None:
                assert answer.status_code not in (401, 403, 500), (who, method, path, answer.text)
            else:
                assert answer.status_code == want, (who, method, path, answer.status_code, answer.text)
            if answer.status_code >= 400:
                assert set(answer.json()["error"]) >= {"code", "message"}, answer.text

    # Reps see only their own cards, in lists and in pulls.
    for rep, own in (("rep1", rep1_card), ("rep2", rep2_card)):
        listed = {c["id"] for c in call(app, rep, "GET", "/cards").json()["cards"]}
        assert listed == {own}
        pulled = json.dumps(
            call(app, rep, "POST", "/sync", {"device": str(uuid.uuid4()), "limit": 100, "mutations": []}).json()["changes"]
        )
        other = rep2_card if rep == "rep1" else rep1_card
        assert own in pulled and other not in pulled
    assert {c["id"] for c in call(app, "office", "GET", "/cards").json()["cards"]} == {rep1_card, rep2_card}

    denied = [e for e in call(app, "admin", "GET", "/audit").json()["audit"] if e["action"] == "access.denied"]
    assert {(e["actor"], e["target"]) for e in denied} >= {("rep1", "GET /api/v1/audit"), ("office", "GET /api/v1/users")}


def session_cookie(app: App, user: str) -> str:
    """A browser session as the passkey sign-in makes it (tests/e2e/test_passkeys.py drives the real one)."""
    st = Store(app.data / "fieldcards.db")
    try:
        with st.write() as conn:
            return sessions.start(conn, Config.load(str(app.data)), user, "pytest")
    finally:
        st.close()


def browser(app: App, raw: str) -> Caller:
    """A browser holding the session cookie `raw` (its own cookie header, not the TestClient's jar)."""
    return Caller(app.http, {"cookie": f"{sessions.COOKIE}={raw}"})


def test_cookie_writes_need_the_header_and_our_origin(app, staff):
    raw = session_cookie(app, "rep1")
    body = {"device": str(uuid.uuid4()), "limit": 10, "mutations": []}
    with browser(app, raw) as tab:
        assert tab.get("/api/v1/me").json()["user"] == "rep1"  # reads need no header
        bare = tab.post("/api/v1/sync", json=body)
        assert bare.status_code == 403 and "X-Fieldcards" in bare.json()["error"]["message"]
        evil = tab.post("/api/v1/sync", json=body, headers={"x-fieldcards": "1", "origin": "https://evil.example"})
        assert evil.status_code == 403 and "evil.example" in evil.json()["error"]["message"]
        no_origin = tab.post("/api/v1/sync", json=body, headers={"x-fieldcards": "1"})
        assert no_origin.status_code == 403
        ours = {"x-fieldcards": "1", "origin": app.url}
        assert tab.post("/api/v1/sync", json=body, headers=ours).status_code == 200

        # Signing out ends the session on the server, not just the cookie.
        assert tab.post("/api/v1/auth/logout", json={}, headers=ours).status_code == 200
    with browser(app, raw) as stale:
        ended = stale.get("/api/v1/me")
        assert ended.status_code == 401 and "sign in again" in ended.json()["error"]["message"]

    # Sessions idle longer than the idle limit end too.
    idle = session_cookie(app, "rep1")
    with sqlite3.connect(app.data / "fieldcards.db") as db:
        db.execute("UPDATE sessions SET last_seen = ? WHERE revoked_at IS NULL", (int(time.time()) - 31 * 86400,))
    assert browser(app, idle).get("/api/v1/me").status_code == 401

    # Sign-in endpoints refuse cross-site posts as well.
    assert (
        app.http.post(
            "/api/v1/auth/login/options", json={}, headers={"x-fieldcards": "1", "origin": "https://evil.example"}
        ).status_code
        == 403
    )


def test_failed_tokens_are_rate_limited_but_valid_ones_keep_working(app, staff):
    statuses = [app.http.get("/api/v1/me", headers={"authorization": f"Bearer fc_wrong{n}"}).status_code for n in range(65)]
    assert statuses[:60] == [401] * 60 and statuses[-1] == 429
    limited = app.http.get("/api/v1/me", headers={"authorization": "Bearer fc_wrong"})
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
    assert call(app, "rep1", "GET", "/me").status_code == 200  # the office behind the same address works on
    failed = [e for e in call(app, "admin", "GET", "/audit").json()["audit"] if e["action"] == "auth.token_failed"]
    assert len(failed) == 1  # recorded, but not once per attempt


def test_disabling_a_user_ends_their_sessions_and_tokens_and_the_last_admin_stays(app, staff):
    raw = session_cookie(app, "rep1")
    assert app.http.get("/api/v1/me", headers={"cookie": f"{sessions.COOKIE}={raw}"}).status_code == 200
    assert call(app, "admin", "PATCH", "/users/rep1", {"disabled": True}).status_code == 200
    assert call(app, "rep1", "GET", "/me").status_code == 401
    assert app.http.get("/api/v1/me", headers={"cookie": f"{sessions.COOKIE}={raw}"}).status_code == 401
    last = call(app, "admin", "PATCH", "/users/admin", {"role": "office"})
    assert last.status_code == 409 and "last admin" in last.json()["error"]["message"]
    bad_role = call(app, "admin", "PATCH", "/users/rep2", {"role": "boss"})
    assert bad_role.status_code == 400 and bad_role.json()["error"]["fields"][0]["path"] == "role"
    audit = call(app, "admin", "GET", "/audit").json()["audit"]
    assert any(e["action"] == "user.update" and e["target"] == "rep1" for e in audit)


def test_a_revoked_device_is_refused_and_wipes_its_local_data(app, staff, tmp_path):
    phone = app.device("rep1", tmp_path)
    phone.sync()
    card = phone.create_card(name="Unsent when revoked")
    phone.add_attachment(card, b"\xff\xd8 a photo of the shop", "shop.jpg", "image/jpeg")
    assert phone.cards()
    listed = {d["id"]: d for d in call(app, "admin", "GET", "/devices").json()["devices"]}
    assert listed[phone.device_id]["user"] == "rep1" and listed[phone.device_id]["app"]
    assert listed[phone.device_id]["user_agent"]
    assert call(app, "admin", "POST", f"/devices/{phone.device_id}/revoke").status_code == 200
    with pytest.raises(DeviceRevoked):
        phone.sync()
    assert not phone.cards()
    for table in ("journal", "files", "pool"):  # the photo's bytes go too, and the pool view
        assert phone.db.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0, table
    audit = call(app, "admin", "GET", "/audit").json()["audit"]
    assert ("admin", "device.revoke", phone.device_id) in [(e["actor"], e["action"], e["target"]) for e in audit]


def test_security_headers_and_hsts_only_behind_https(app, tmp_path):
    plain = app.http.get("/signin.html")
    assert "script-src 'self'" in plain.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in plain.headers["content-security-policy"]
    assert plain.headers["x-content-type-options"] == "nosniff" and "strict-transport-security" not in plain.headers
    config = Config(data_dir=tmp_path / "tls", backup=False, origin="https://cards.example.com", webhook_poll_s=0.05)
    with TestClient(create_app(config, replicate=False)) as tls:
        assert tls.get("/healthz").headers["strict-transport-security"].startswith("max-age=")
