"""Hostile input found from outside (issue 11), in-process over the real app and a real SQLite file:
each answer is a 4xx in the contract's error shape, naming the field, and nothing stored is harmed."""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from server.app import create_app
from server.config import Config
from sync.protocol.hlc import Clock
from sync.db import Store
from sync.people.users import add_user, create_token

CLOCK = Clock("dev")


class Office:
    """The app in-process, with tokens for an admin, an office user and a rep."""

    def __init__(self, client: TestClient, tokens: dict[str, str], db: Path) -> None:
        self.client, self.tokens, self.db = client, tokens, db

    def as_(self, name: str) -> dict[str, str]:
        return {"authorization": f"Bearer {self.tokens[name]}"}


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Office]:
    # A short webhook poll: the worker sees the app stopping only between passes (conftest's `app`).
    config = Config(data_dir=tmp_path, backup=False, webhook_poll_s=0.05)
    tmp_path.mkdir(exist_ok=True)
    st = Store(config.db_path)
    tokens = {}
    for name, role in (("admin", "admin"), ("office", "office"), ("rep1", "rep"), ("rep2", "rep")):
        add_user(st, name, role)
        tokens[name] = create_token(st, name)
    st.close()
    with TestClient(create_app(config, replicate=False)) as client:
        yield Office(client, tokens, config.db_path)


def error_of(response, status: int = 400) -> dict:
    assert response.status_code == status, (response.status_code, response.text[:300])
    body = response.json()
    assert set(body) == {"error"} and isinstance(body["error"]["fields"], list), body
    assert body["error"]["code"] and body["error"]["message"]
    return body["error"]


def put(card: str, fields: dict, **extra) -> dict:
    return {"id": str(uuid.uuid4()), "op": "card.put", "card": card, "at": CLOCK.now(), "fields": fields, **extra}


def test_a_lone_surrogate_anywhere_is_a_400_with_its_path(app: Office):
    card = str(uuid.uuid4())
    raw = (
        '{"device": "d", "mutations": [{"id": "m1", "op": "card.put", "card": "%s", "at": "%s", '
        '"fields": {"name": "\\ud800"}}]}' % (card, CLOCK.now())
    )
    found = error_of(
        app.client.post("/api/v1/sync", content=raw.encode(), headers={**app.as_("rep1"), "content-type": "application/json"})
    )
    assert found["fields"][0]["path"] == "mutations[0].fields.name"
    key = '{"device": "d", "\\udfff": 1}'
    assert error_of(app.client.post("/api/v1/sync", content=key.encode(), headers=app.as_("rep1")))["fields"]
    assert app.client.get(f"/api/v1/cards/{card}", headers=app.as_("rep1")).status_code == 404


def test_numbers_and_nesting_that_cannot_be_stored_are_400(app: Office):
    rep = app.as_("rep1")
    found = error_of(app.client.post("/api/v1/sync", json={"device": "d", "pending": 2**63}, headers=rep))
    assert found["fields"][0]["path"] == "pending"
    deep = '{"device": "d", "x": ' + "[" * 100 + "]" * 100 + "}"
    assert error_of(app.client.post("/api/v1/sync", content=deep.encode(), headers=rep))
    huge = '{"device": "d", "limit": 1e999}'
    assert error_of(app.client.post("/api/v1/sync", content=huge.encode(), headers=rep))
    card = str(uuid.uuid4())
    r = app.client.post(
        "/api/v1/sync",
        json={
            "device": "d",
            "mutations": [
                put(card, {"name": "A"}),
                {"id": "del", "op": "card.delete", "card": card, "at": CLOCK.now(), "version": 2**63},
            ],
        },
        headers=rep,
    )
    assert r.status_code == 200 and r.json()["results"][1]["status"] == "rejected"


@pytest.mark.parametrize(
    "path, params, name",
    [
        ("/api/v1/cards", {"q": "x" * 50_001}, "q"),
        ("/api/v1/cards", {"limit": "²"}, "limit"),
        ("/api/v1/reminders", {"stale_days": "²"}, "stale_days"),
        ("/api/v1/reminders", {"date": "0001-01-01"}, "date"),
        ("/api/v1/reminders", {"date": "２０２６-01-01"}, "date"),
        ("/api/v1/quality", {"stale_days": "²"}, "stale_days"),
        ("/api/v1/quality", {"date": "0001-01-01"}, "date"),
        ("/api/v1/dashboard", {"date": "0001-01-01"}, "date"),
        ("/api/v1/dashboard", {"date": "9999-12-31"}, "date"),
        ("/api/v1/admin/restore-points", {"limit": "²"}, "limit"),
        ("/api/v1/audit", {"after": str(10**30)}, "after"),
        ("/api/v1/devices", {"limit": "-1"}, "limit"),
    ],
)
def test_hostile_query_parameters_are_400_naming_the_parameter(app: Office, path: str, params: dict, name: str):
    found = error_of(app.client.get(path, params=params, headers=app.as_("admin")))
    assert found["fields"][0]["path"] == name


def test_an_import_mapping_nested_deep_is_a_400(app: Office):
    mapping = "[" * 100_000 + "]" * 100_000
    r = app.client.post(
        "/api/v1/imports",
        headers=app.as_("office"),
        files={"file": ("a.csv", "姓名\n王伟\n".encode(), "text/csv")},
        data={"mapping": mapping, "dry_run": "true"},
    )
    assert error_of(r)["fields"][0]["path"] == "mapping"
    r = app.client.post(
        "/api/v1/imports",
        headers=app.as_("office"),
        files={"file": ("a.csv", "姓名\n王伟\n".encode(), "text/csv")},
        data={"mapping": json.dumps({"姓名": {"x": 1}}), "dry_run": "true"},
    )
    assert error_of(r)["fields"][0]["path"] == "mapping"


def test_control_characters_are_refused_and_export_still_works(app: Office):
    card = str(uuid.uuid4())
    r = app.client.post(
        "/api/v1/sync",
        json={
            "device": "d",
            "mutations": [put(card, {"name": "A\x00B"}), put(str(uuid.uuid4()), {"name": "ok", "notes": "a\x1bb"})],
        },
        headers=app.as_("rep1"),
    )
    results = r.json()["results"]
    assert [x["status"] for x in results] == ["rejected", "rejected"]
    assert results[0]["errors"][0]["path"] == "fields.name" and "U+0000" in results[0]["errors"][0]["message"]
    assert results[1]["errors"][0]["path"] == "fields.notes"
    assert app.client.get("/api/v1/export", params={"format": "xlsx"}, headers=app.as_("office")).status_code == 200


def test_non_canonical_card_ids_are_refused_not_folded(app: Office):
    card = str(uuid.uuid4())
    rep = app.as_("rep1")
    r = app.client.post(
        "/api/v1/sync",
        json={
            "device": "d",
            "mutations": [put(card, {"name": "A"}), put(card.upper(), {"name": "B"}), put("{" + card + "}", {"name": "C"})],
        },
        headers=rep,
    )
    results = r.json()["results"]
    assert [x["status"] for x in results] == ["applied", "rejected", "rejected"]
    assert results[1]["errors"][0]["path"] == "card"
    assert app.client.get(f"/api/v1/cards/{card}", headers=rep).json()["card"]["name"] == "A"


def test_an_activity_id_already_used_by_someone_else_is_rejected(app: Office):
    mine, theirs = str(uuid.uuid4()), str(uuid.uuid4())
    activity = str(uuid.uuid4())

    def add(card: str) -> dict:
        return {
            "id": str(uuid.uuid4()),
            "op": "activity.add",
            "card": card,
            "at": CLOCK.now(),
            "activity": {"id": activity, "kind": "visit", "at": "2026-11-24T10:00:00Z", "text": "拜访"},
        }

    one = app.client.post(
        "/api/v1/sync", json={"device": "d1", "mutations": [put(mine, {"name": "A"}), add(mine)]}, headers=app.as_("rep1")
    ).json()
    assert one["results"][1]["status"] == "applied"
    two = app.client.post(
        "/api/v1/sync", json={"device": "d2", "mutations": [put(theirs, {"name": "B"}), add(theirs)]}, headers=app.as_("rep2")
    ).json()
    assert two["results"][1]["status"] == "rejected" and two["results"][1]["code"] == "invalid"
    assert two["results"][1]["errors"][0]["path"] == "activity.id"
    got = app.client.get(f"/api/v1/cards/{mine}", headers=app.as_("rep1")).json()
    assert [a["text"] for a in got["activities"]] == ["拜访"]


def test_a_custom_pattern_that_backtracks_is_matched_in_linear_time(app: Office):
    template = {"custom_fields": [{"key": "code", "label": {"en": "Code", "zh-CN": "编码"}, "type": "text", "pattern": "(a+)+$"}]}
    assert app.client.put("/api/v1/template", json=template, headers=app.as_("admin")).status_code == 200
    r = app.client.post(
        "/api/v1/sync",
        json={"device": "d", "mutations": [put(str(uuid.uuid4()), {"name": "A", "custom": {"code": "a" * 40 + "!"}})]},
        headers=app.as_("rep1"),
    )
    result = r.json()["results"][0]
    assert result["status"] == "rejected" and result["errors"][0]["path"] == "fields.custom.code"
    backref = {"custom_fields": [{"key": "code", "label": {"en": "Code", "zh-CN": "编码"}, "type": "text", "pattern": "(a)\\1"}]}
    found = error_of(app.client.put("/api/v1/template", json=backref, headers=app.as_("admin")))
    assert found["fields"][0]["path"].endswith("pattern")


def test_every_error_has_fields_even_when_no_field_is_at_fault(app: Office):
    for response in (
        app.client.get("/api/v1/me"),
        app.client.get("/api/v1/nope", headers=app.as_("rep1")),
        app.client.get("/api/v1/audit", headers=app.as_("rep1")),
    ):
        assert response.status_code in (401, 403, 404)
        assert response.json()["error"]["fields"] == []


def test_sign_in_options_are_rate_limited_per_address(app: Office):
    answers = [
        app.client.post(
            "/api/v1/auth/login/options", json={}, headers={"x-fieldcards": "1", "origin": "http://localhost:8000"}
        ).status_code
        for _ in range(40)
    ]
    assert answers[0] == 200 and 429 in answers
    with sqlite3.connect(app.db) as db:
        assert db.execute("SELECT count(*) FROM challenges").fetchone()[0] <= 30


def test_a_user_cannot_register_endless_devices_and_the_list_pages(app: Office):
    rep = app.as_("rep1")
    answers = [app.client.post("/api/v1/sync", json={"device": f"dev-{i}"}, headers=rep) for i in range(55)]
    assert [a.status_code for a in answers[:50]] == [200] * 50
    assert error_of(answers[50], 403)["code"] == "too_many_devices"
    page = app.client.get("/api/v1/devices", params={"limit": 20}, headers=app.as_("admin")).json()
    assert len(page["devices"]) == 20 and page["next"] == "20"
    rest = app.client.get("/api/v1/devices", params={"limit": 1000, "after": page["next"]}, headers=app.as_("admin")).json()
    assert len(rest["devices"]) == 30 and rest["next"] is None


def test_revoking_a_device_can_revoke_the_token_it_used(app: Office):
    rep = app.as_("rep1")
    assert app.client.post("/api/v1/sync", json={"device": "lost"}, headers=rep).status_code == 200
    assert app.client.post("/api/v1/sync", json={"device": "kept"}, headers=app.as_("rep2")).status_code == 200
    plain = app.client.post("/api/v1/devices/kept/revoke", headers=app.as_("admin"))
    assert plain.json() == {"device": "kept", "revoked": True, "credential": None}
    assert app.client.get("/api/v1/me", headers=app.as_("rep2")).status_code == 200  # the token stays by default
    done = app.client.post("/api/v1/devices/lost/revoke", json={"credential": True}, headers=app.as_("admin"))
    assert done.status_code == 200 and done.json()["credential"] == "token"
    assert app.client.post("/api/v1/sync", json={"device": "a-new-id"}, headers=rep).status_code == 401
    assert (
        error_of(app.client.post("/api/v1/devices/lost/revoke", json={"credential": "yes"}, headers=app.as_("admin")))["fields"][
            0
        ]["path"]
        == "credential"
    )
