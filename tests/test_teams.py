"""Teams and managers (issue 19; contract 7): a manager sees and changes their team's cards and
nothing else, reassigns within the team, and their phone's view moves when the team changes."""

from __future__ import annotations

import re
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


class Company:
    def __init__(self, client: TestClient, tokens: dict[str, str]) -> None:
        self.client, self.tokens = client, tokens

    def as_(self, name: str) -> dict[str, str]:
        return {"authorization": f"Bearer {self.tokens[name]}"}

    def sync(self, name: str, *mutations: dict, device: str = "", cursor: str | None = None) -> dict:
        answer = self.client.post(
            "/api/v1/sync",
            json={"device": device or f"{name}-phone", "cursor": cursor, "mutations": list(mutations)},
            headers=self.as_(name),
        )
        assert answer.status_code == 200, answer.text
        return answer.json()

    def card(self, name: str, fields: dict) -> str:
        card = str(uuid.uuid4())
        [result] = self.sync(name, put(card, fields))["results"]
        assert result["status"] == "applied"
        return card


def put(card: str, fields: dict, was: dict | None = None) -> dict:
    body = {"id": str(uuid.uuid4()), "op": "card.put", "card": card, "at": CLOCK.now(), "fields": fields}
    return body | ({"was": was} if was is not None else {})


@pytest.fixture
def company(tmp_path: Path) -> Iterator[Company]:
    # A short webhook poll: the worker sees the app stopping only between passes (conftest's `app`).
    config = Config(data_dir=tmp_path, backup=False, webhook_poll_s=0.05)
    st = Store(config.db_path)
    tokens = {}
    for name, role in (
        ("admin", "admin"),
        ("office", "office"),
        ("boss", "manager"),
        ("rep1", "rep"),
        ("rep2", "rep"),
        ("rep3", "rep"),
    ):
        add_user(st, name, role)
        tokens[name] = create_token(st, name)
    st.close()
    with TestClient(create_app(config, replicate=False)) as client:
        yield Company(client, tokens)


def test_a_manager_sees_and_changes_exactly_their_teams_cards(company: Company):
    made = company.client.post(
        "/api/v1/teams",
        json={"name": "华东一组", "members": ["rep1", "rep2"], "managers": ["boss"]},
        headers=company.as_("admin"),
    )
    assert made.status_code == 201, made.text
    team = made.json()["team"]
    one, two, three = (company.card(r, {"name": f"{r} 的客户"}) for r in ("rep1", "rep2", "rep3"))
    boss = company.as_("boss")
    listed = {c["id"] for c in company.client.get("/api/v1/cards", headers=boss).json()["cards"]}
    assert listed == {one, two}
    assert company.client.get(f"/api/v1/cards/{three}", headers=boss).status_code == 404
    pulled = {c["card"]["id"] for c in company.sync("boss")["changes"] if c["type"] == "card"}
    assert pulled == {one, two}
    edited = company.sync("boss", put(one, {"notes": "主管的备注"}, was={"notes": None}))["results"][0]
    assert edited["status"] == "applied"
    moved = company.sync("boss", put(one, {"owner": "rep2"}, was={"owner": "rep1"}))["results"][0]
    assert moved["status"] == "applied" and moved["card"]["owner"] == "rep2"
    away = company.sync("boss", put(two, {"owner": "rep3"}, was={"owner": "rep2"}))["results"][0]
    assert away["status"] == "rejected" and away["code"] == "forbidden"
    assert company.sync("boss", put(three, {"notes": "x"}, was={"notes": None}))["results"][0]["code"] == "not_found"
    assert company.client.get("/api/v1/dashboard", headers=boss).json()["cards"] == 2
    assert [t["id"] for t in company.client.get("/api/v1/teams", headers=company.as_("rep1")).json()["teams"]] == [team["id"]]
    assert company.client.get("/api/v1/teams", headers=company.as_("rep3")).json()["teams"] == []
    for method, path in (
        ("GET", "/api/v1/users"),
        ("GET", "/api/v1/audit"),
        ("GET", "/api/v1/devices"),
        ("GET", "/api/v1/duplicates"),
        ("POST", "/api/v1/teams"),
        ("PUT", f"/api/v1/teams/{team['id']}"),
        ("POST", f"/api/v1/cards/{one}/erase"),
        ("GET", f"/api/v1/cards/{one}/export"),
        ("POST", "/api/v1/cards/merge"),
        ("GET", "/api/v1/admin/backup"),
    ):
        answer = company.client.request(method, path, headers=boss, json={})
        assert answer.status_code == 403, (method, path, answer.status_code)


def test_moving_a_rep_between_teams_moves_what_the_managers_phone_holds(company: Company):
    admin = company.as_("admin")
    team = company.client.post(
        "/api/v1/teams", json={"name": "A", "members": ["rep1", "rep2"], "managers": ["boss"]}, headers=admin
    ).json()["team"]
    two, three = company.card("rep2", {"name": "二号"}), company.card("rep3", {"name": "三号"})
    company.sync(
        "rep3",
        {
            "id": str(uuid.uuid4()),
            "op": "activity.add",
            "card": three,
            "at": CLOCK.now(),
            "activity": {"id": str(uuid.uuid4()), "kind": "visit", "at": "2026-11-24T10:00:00Z", "text": "拜访"},
        },
    )
    first = company.sync("boss")
    changed = company.client.put(
        f"/api/v1/teams/{team['id']}", json={"name": "A", "members": ["rep1", "rep3"], "managers": ["boss"]}, headers=admin
    )
    assert changed.status_code == 200 and changed.json()["team"]["members"] == ["rep1", "rep3"]
    later = company.sync("boss", cursor=first["cursor"])["changes"]
    assert {"type": "remove", "card": two, "reason": "revoked", "into": None} in later
    assert [c["card"]["id"] for c in later if c["type"] == "card"] == [three]
    assert [c["activity"]["text"] for c in later if c["type"] == "activity"] == ["拜访"]
    assert company.client.get(f"/api/v1/cards/{two}", headers=company.as_("boss")).status_code == 404


def test_a_team_holds_reps_under_managers(company: Company):
    bad = company.client.post(
        "/api/v1/teams", json={"name": "", "members": ["office", "nobody"], "managers": ["rep1"]}, headers=company.as_("admin")
    )
    assert bad.status_code == 400
    assert {f["path"] for f in bad.json()["error"]["fields"]} == {"name", "members[0]", "members[1]", "managers[0]"}
    made = company.client.post("/api/v1/users", json={"name": "boss2", "role": "manager"}, headers=company.as_("admin"))
    assert made.status_code in (200, 201), made.text


def test_every_route_answers_a_manager_as_its_guard_says(company: Company):
    """Every cell of the manager's row, from the route table itself, so a new route cannot be missed:
    admin and office routes are 403, signed-in routes never 401/403/500 (the handlers narrow what a
    manager sees, checked above and in tests/test_pool.py), public routes never 500."""
    from server.app import api_table
    from server.auth.guard import ADMIN, OFFICE, PUBLIC

    company.client.post(
        "/api/v1/teams", json={"name": "A", "members": ["rep1"], "managers": ["boss"]}, headers=company.as_("admin")
    )
    own = company.card("rep1", {"name": "一号"})
    other = company.card("rep2", {"name": "二号"})
    fill = {
        "card_id": own,
        "team_id": str(uuid.uuid4()),
        "link_id": str(uuid.uuid4()),
        "token": "x",
        "attachment_id": str(uuid.uuid4()),
        "conflict_id": str(uuid.uuid4()),
        "passkey_id": "x",
        "token_id": "x",
        "name": "rep1",
        "device_id": "x",
        "import_id": str(uuid.uuid4()),
        "progress_id": "x",
        "webhook_id": str(uuid.uuid4()),
        "delivery_id": "1",
        "merge_id": str(uuid.uuid4()),
    }
    boss = company.as_("boss")
    checked = 0
    for path, _handler, methods, need in api_table():
        if path in ("/auth/logout", "/calendar/key"):
            continue  # would end the manager's own session or replace their feed key; covered elsewhere
        # Any other path parameter (routes added later): an id that names nothing.
        params = set(re.findall(r"{(\w+)}", path))
        url = "/api/v1" + path.format(**{k: fill.get(k, str(uuid.uuid4())) for k in params})
        for method in methods:
            answer = company.client.request(method, url, headers=boss, json={})
            cell = (method, path, answer.status_code, answer.text[:200])
            assert answer.status_code < 500, cell
            if need in (ADMIN, OFFICE):
                assert answer.status_code == 403, cell
            elif need != PUBLIC:
                assert answer.status_code not in (401, 403), cell
            checked += 1
    assert checked >= 60
    # The cells where what a manager sees is narrowed to their team (a rep of another team: 404).
    assert company.client.get(f"/api/v1/cards/{other}", headers=boss).status_code == 404
    assert company.client.get(f"/api/v1/cards/{other}/history", headers=boss).status_code == 404
    assert company.client.get(f"/api/v1/cards/{own}/history", headers=boss).status_code == 200
    assert company.client.put("/api/v1/pool/settings", json={"view_limit": 10}, headers=boss).status_code == 403
    assert company.client.get("/api/v1/pool", headers=boss).status_code == 200
