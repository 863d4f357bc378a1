"""Hostile and malformed input: always a 4xx in the contract's error shape, nothing stored harmed.
In-process over the real app (the `app` fixture) and a real SQLite file."""

from __future__ import annotations

import uuid

import pytest

from sync.protocol.hlc import Clock

CLOCK = Clock("dev")


def error_of(response) -> dict:
    body = response.json()
    assert set(body) == {"error"}, body
    assert isinstance(body["error"]["code"], str) and body["error"]["message"]
    return body["error"]


@pytest.fixture
def seeded(app):
    """The app with one rep and one card, whose state every test checks is untouched."""
    app.user("rep1")
    card = str(uuid.uuid4())
    with app.client("rep1") as c:
        r = c.post(
            "/api/v1/sync",
            json={
                "device": "d",
                "mutations": [
                    {"id": "seed", "op": "card.put", "card": card, "at": CLOCK.now(), "fields": {"name": "Seed", "tags": ["a"]}}
                ],
            },
        )
        assert r.status_code == 200
        before = c.get(f"/api/v1/cards/{card}").json()
    yield app, card, before
    with app.client("rep1") as c:
        assert c.get(f"/api/v1/cards/{card}").json() == before


BAD_BODIES = [
    (b"{not json", "invalid_request"),
    (b"", "invalid_request"),
    (b"[]", "invalid_request"),
    (b'"text"', "invalid_request"),
    (b"\xff\xfe\x00", "invalid_request"),
    (b"[" * 100_000 + b"]" * 100_000, "invalid_request"),
    (b'{"device": "d", "limit": NaN}', "invalid_request"),
    (b'{"device": 5}', "invalid_request"),
    (b'{"device": "d", "limit": "10"}', "invalid_request"),
    (b'{"device": "d", "limit": 0}', "invalid_request"),
    (b'{"device": "d", "limit": 5001}', "invalid_request"),
    (b'{"device": "d", "surprise": 1}', "invalid_request"),
    (b'{"device": "d", "mutations": "x"}', "invalid_request"),
    (b'{"device": "d", "mutations": [1]}', "invalid_request"),
    (b'{"device": "d", "mutations": [{"op": "card.put"}]}', "invalid_request"),
    (b'{"device": "d", "cursor": "garbage!!"}', "invalid_request"),
    (b'{"device": "d", "limit": 1' + b"0" * 5000 + b"}", "invalid_request"),
]


@pytest.mark.parametrize("body,code", BAD_BODIES, ids=[f"body{i}" for i in range(len(BAD_BODIES))])
def test_malformed_sync_request_is_a_400_with_the_contract_shape(seeded, body, code):
    app, _, _ = seeded
    with app.client("rep1") as c:
        r = c.post("/api/v1/sync", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 400, r.text
    assert error_of(r)["code"] == code


def test_error_fields_name_the_path(seeded):
    app, _, _ = seeded
    with app.client("rep1") as c:
        r = c.post("/api/v1/sync", json={"device": "d", "limit": "ten"})
    assert [f["path"] for f in error_of(r)["fields"]] == ["limit"]


def test_oversized_body_is_413(seeded):
    app, _, _ = seeded
    with app.client("rep1") as c:
        r = c.post("/api/v1/sync", content=b'{"device":"d","app":"' + b"x" * (5 * 1024 * 1024) + b'"}')
    assert r.status_code == 413
    assert error_of(r)["code"] == "too_large"


def test_no_or_bad_token_is_401(seeded):
    app, _, _ = seeded
    assert app.http.get("/api/v1/me").status_code == 401
    r = app.http.get("/api/v1/me", headers={"authorization": "Bearer fc_nope"})
    assert r.status_code == 401 and error_of(r)["code"] == "unauthenticated"


HOSTILE_MUTATIONS = [
    ({"fields": {"name": "X", "unknown": 1}}, "fields.unknown"),
    ({"fields": {"name": "X", "version": 9}}, "fields.version"),
    ({"fields": {"name": 5}}, "fields.name"),
    ({"fields": {"name": "X", "phones": "138"}}, "fields.phones"),
    ({"fields": {"name": "X", "phones": ["12"]}}, "fields.phones[0]"),
    ({"fields": {"name": "X", "emails": ["nope@"]}}, "fields.emails[0]"),
    ({"fields": {"name": "X", "segment": "Z"}}, "fields.segment"),
    ({"fields": {"name": "X", "tags": ["x" * 41]}}, "fields.tags[0]"),
    ({"fields": {"name": "x" * 201}}, "fields.name"),
    ({"fields": {"name": "X", "custom": {"color": "red"}}}, "fields.custom.color"),
    ({"fields": {"name": ""}}, "fields.name"),
    ({"fields": {}}, "fields.name"),
    ({"at": "yesterday"}, "at"),
    ({"card": "not-a-uuid"}, "card"),
    ({"op": "card.explode"}, "op"),
    ({"op": ["card.put"]}, "op"),  # not text: once an unhashable key and a 500
    ({"op": {"card.put": 1}}, "op"),
]


@pytest.mark.parametrize("patch,path", HOSTILE_MUTATIONS, ids=[p for _, p in HOSTILE_MUTATIONS])
def test_hostile_mutation_is_rejected_with_its_path(seeded, patch, path):
    app, _, _ = seeded
    mutation = {
        "id": str(uuid.uuid4()),
        "op": "card.put",
        "card": str(uuid.uuid4()),
        "at": CLOCK.now(),
        "fields": {"name": "X"},
        **patch,
    }
    with app.client("rep1") as c:
        r = c.post("/api/v1/sync", json={"device": "d", "mutations": [mutation]})
    assert r.status_code == 200, r.text
    result = r.json()["results"][0]
    assert result["status"] == "rejected"
    assert path in [e["path"] for e in result["errors"]], result


def test_hostile_edit_of_existing_card_changes_nothing(seeded):
    app, card, _ = seeded
    with app.client("rep1") as c:
        r = c.post(
            "/api/v1/sync",
            json={
                "device": "d",
                "mutations": [
                    {
                        "id": str(uuid.uuid4()),
                        "op": "card.put",
                        "card": card,
                        "at": CLOCK.now(),
                        "fields": {"tags": ["a", "b" * 50], "name": "Changed"},
                        "was": {"tags": ["a"], "name": "Seed"},
                    }
                ],
            },
        )
    assert r.json()["results"][0]["status"] == "rejected"


def test_unknown_route_and_method_get_the_error_shape(seeded):
    app, _, _ = seeded
    with app.client("rep1") as c:
        assert error_of(c.get("/api/v1/nothing"))["code"] == "not_found"
        r = c.get("/api/v1/sync")
        assert r.status_code == 405 and error_of(r)["code"] == "method_not_allowed"
        assert c.get("/api/v1/cards/../../etc/passwd").status_code == 404
        assert error_of(c.get("/api/v1/cards", params={"limit": "lots"}))["fields"][0]["path"] == "limit"
        assert c.post("/api/v1/conflicts/nope/resolve", json={"keep": "other"}).status_code == 404
        assert c.post("/api/v1/conflicts/nope/resolve", json={"keep": "maybe"}).status_code == 400


def test_missing_credentials_are_401_even_with_a_malformed_body(seeded):
    app, _, _ = seeded
    r = app.http.post("/api/v1/sync", content=b"{not json")
    assert r.status_code == 401 and error_of(r)["code"] == "unauthenticated"
