"""Convergence: reference devices edit offline at random, sync in random order, lose responses and
retry. At the end every device equals what the server shows its user, and no acknowledged
mutation is missing. Each example runs against a fresh real server."""
from __future__ import annotations

import sqlite3

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync.client import Device, SyncFailed
from tests.conftest import Server, start_server, stop_server

PHONES = ["+8613800000001", "+8613800000002", "+8613900000003", "+16502530000"]
TAGS = ["vip", "新客户", "lead", "beijing"]
NAMES = ["王伟", "李娜", "Zhang Wei", "Acme Buyer"]
NOTES = ["first line\nsecond line\nthird line\n", "FIRST\nsecond line\nthird line\n",
         "first line\nsecond line\nTHIRD\n", None]


class LossyTransport(httpx.HTTPTransport):
    """A real HTTP transport whose next response can be lost after the server handled the request."""

    def __init__(self) -> None:
        super().__init__()
        self.lose_next = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if self.lose_next:
            self.lose_next = False
            response.read()
            response.close()
            raise httpx.ReadError("response lost on the way back", request=request)
        return response


step = st.one_of(
    st.tuples(st.just("create"), st.integers(0, 4), st.sampled_from(NAMES), st.sampled_from(PHONES)),
    st.tuples(st.just("name"), st.integers(0, 4), st.integers(0, 50), st.sampled_from(NAMES)),
    st.tuples(st.just("phones"), st.integers(0, 4), st.integers(0, 50), st.lists(st.sampled_from(PHONES), max_size=3)),
    st.tuples(st.just("tags"), st.integers(0, 4), st.integers(0, 50), st.lists(st.sampled_from(TAGS), max_size=3)),
    st.tuples(st.just("notes"), st.integers(0, 4), st.integers(0, 50), st.sampled_from(NOTES)),
    st.tuples(st.just("segment"), st.integers(0, 4), st.integers(0, 50), st.sampled_from(["A", "B", "C", None])),
    st.tuples(st.just("delete"), st.integers(0, 4), st.integers(0, 50), st.none()),
    st.tuples(st.just("visit"), st.integers(0, 4), st.integers(0, 50), st.none()),
    st.tuples(st.just("reassign"), st.just(4), st.integers(0, 50), st.sampled_from(["rep1", "rep2"])),
    st.tuples(st.just("sync"), st.integers(0, 4), st.booleans(), st.none()),
)


def pick(device: Device, index: int) -> str | None:
    ids = sorted(device.cards())
    return ids[index % len(ids)] if ids else None


def play(device: Device, transport: LossyTransport, action: str, target: int | bool, value) -> None:
    if action == "create":
        device.create_card(name=target, phones=[value])
        return
    if action == "sync":
        transport.lose_next = bool(target)
        try:
            device.sync()
        except httpx.ReadError:
            pass  # the server applied it; the device retries with the same ids next time
        return
    card = pick(device, target)
    if card is None:
        return
    if action == "delete":
        device.delete_card(card)
    elif action == "visit":
        device.add_activity(card, "visit", "拜访客户")
    elif action == "reassign":
        device.edit_card(card, owner=value)
    else:
        device.edit_card(card, **{action: value})


def server_view(server: Server, user: str) -> dict[str, dict]:
    cards, after = {}, None
    with server.client(user) as c:
        while True:
            body = c.get("/api/v1/cards", params={"limit": 1000, **({"after": after} if after else {})}).json()
            cards.update({card["id"]: card for card in body["cards"]})
            after = body["next"]
            if not after:
                return cards


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(steps=st.lists(step, min_size=5, max_size=40))
def test_devices_converge_and_keep_every_acknowledged_mutation(tmp_path_factory, steps):
    tmp = tmp_path_factory.mktemp("conv")
    proc, url = start_server(tmp / "data", "--no-backup")
    server = Server(url, tmp / "data", proc)
    try:
        for name, role in (("rep1", "rep"), ("rep2", "rep"), ("office1", "office")):
            server.user(name, role)
        owners = ["rep1", "rep1", "rep2", "rep2", "office1"]
        transports = [LossyTransport() for _ in owners]
        devices = [Device(url, server.tokens[o], tmp / f"d{i}.db", transport=t)
                   for i, (o, t) in enumerate(zip(owners, transports))]
        for action, who, target, value in steps:
            play(devices[who], transports[who], action, target, value)
        for _ in range(2):  # everyone syncs twice: the second round brings the others' first
            for device in devices:
                device.sync()
        for owner, device in zip(owners, devices):
            assert device.cards() == server_view(server, owner)
            assert device.pending() == []
        db = sqlite3.connect(tmp / "data" / "fieldcards.db")
        recorded = {r[0] for r in db.execute("SELECT id FROM mutations")}
        versions = set(db.execute("SELECT card, version FROM history"))
        activities = {r[0] for r in db.execute("SELECT id FROM activities")}
        for device in devices:
            for m in device.acknowledged():
                assert m["id"] in recorded
                result = m["result"]
                if m["op"] == "card.put" and result["status"] in ("applied", "merged"):
                    assert (m["card"], result["version"]) in versions
                if m["op"] == "activity.add":
                    assert m["activity"]["id"] in activities
        for device in devices:
            device.close()
    except SyncFailed as failure:
        pytest.fail(f"a sync request failed: {failure}")
    finally:
        output = stop_server(proc)
    assert "Traceback" not in output, output
