"""Convergence: devices edit offline at random, sync in random order, lose responses and retry. At
the end every device equals what the server shows its user, and no acknowledged mutation is
missing. Each example runs against a fresh app: the reference client (sync/protocol/client.py) talks
to it in-process; the PWA's device (pwa/js/app/device.js, in node over fake-indexeddb, through
tests/js/drive_device.mjs) plays the same generated histories against a real server over HTTP."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from sync.protocol.client import Device, SyncFailed
from tests.conftest import QUICK_STOP, ROOT, App, Server, logged_exceptions, start_app, start_server, stop_server

PHONES = ["+8613800000001", "+8613800000002", "+8613900000003", "+16502530000"]
TAGS = ["vip", "新客户", "lead", "beijing"]
NAMES = ["王伟", "李娜", "Zhang Wei", "Acme Buyer"]
NOTES = ["first line\nsecond line\nthird line\n", "FIRST\nsecond line\nthird line\n", "first line\nsecond line\nTHIRD\n", None]
USERS = (("rep1", "rep"), ("rep2", "rep"), ("office1", "office"))
OWNERS = ["rep1", "rep1", "rep2", "rep2", "office1"]  # who holds each of the five devices
NODE = shutil.which("node")
DRIVER = ROOT / "tests" / "js" / "drive_device.mjs"


class LossyTransport(httpx.BaseTransport):
    """A transport into the app whose next response can be lost after the app handled the request."""

    def __init__(self, into: httpx.BaseTransport) -> None:
        self.into = into
        self.lose_next = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.into.handle_request(request)
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


def server_view(server: Server | App, user: str) -> dict[str, dict]:
    cards, after = {}, None
    with server.client(user) as c:
        while True:
            body = c.get("/api/v1/cards", params={"limit": 1000, **({"after": after} if after else {})}).json()
            cards.update({card["id"]: card for card in body["cards"]})
            after = body["next"]
            if not after:
                return cards


def assert_converged(server: Server | App, devices: list[tuple[str, dict, int, list[dict]]]) -> None:
    """Each device (its owner, cards, pending count, acknowledged mutations with their results)
    equals what the server shows its owner, and every acknowledged mutation is stored."""
    for owner, cards, pending, _ in devices:
        assert cards == server_view(server, owner)
        assert pending == 0
    db = sqlite3.connect(server.data / "fieldcards.db")
    try:
        recorded = {r[0] for r in db.execute("SELECT id FROM mutations")}
        versions = set(db.execute("SELECT card, version FROM history"))
        activities = {r[0] for r in db.execute("SELECT id FROM activities")}
    finally:
        db.close()
    for _, _, _, acknowledged in devices:
        for m in acknowledged:
            assert m["id"] in recorded
            result = m["result"]
            if m["op"] == "card.put" and result["status"] in ("applied", "merged"):
                assert (m["card"], result["version"]) in versions
            if m["op"] == "activity.add":
                assert m["activity"]["id"] in activities


histories = st.lists(step, min_size=5, max_size=40)

# Always played as well: a lost answer and its retry, a colleague's phone pulling the card, the
# office moving one of rep1's cards to rep2 while rep1's other phone edits it offline (rep1's phones
# must drop it), a delete seen by the other phones, and a lost answer on a delete.
KNOWN_HISTORY = [
    ("create", 0, "王伟", PHONES[0]),
    ("create", 2, "李娜", PHONES[1]),
    ("sync", 0, True, None),
    ("sync", 2, False, None),
    ("sync", 1, False, None),
    ("sync", 3, False, None),
    ("sync", 4, False, None),
    ("reassign", 4, 0, "rep2"),
    ("reassign", 4, 1, "rep2"),
    ("tags", 1, 0, [TAGS[0]]),
    ("notes", 3, 0, NOTES[1]),
    ("sync", 4, False, None),
    ("delete", 2, 0, None),
    ("sync", 3, False, None),
    ("sync", 2, True, None),
    ("visit", 3, 0, None),
    ("sync", 1, False, None),
]


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(steps=histories)
@example(steps=KNOWN_HISTORY)
def test_devices_converge_and_keep_every_acknowledged_mutation(tmp_path_factory, caplog, steps):
    tmp = tmp_path_factory.mktemp("conv")
    app = start_app(tmp / "data")
    devices: list[Device] = []
    try:
        for name, role in USERS:
            app.user(name, role)
        transports = [LossyTransport(app.transport) for _ in OWNERS]
        devices = [
            Device(app.url, app.tokens[o], tmp / f"d{i}.db", transport=t) for i, (o, t) in enumerate(zip(OWNERS, transports))
        ]
        for action, who, target, value in steps:
            play(devices[who], transports[who], action, target, value)
        for _ in range(2):  # everyone syncs twice: the second round brings the others' first
            for device in devices:
                device.sync()
        assert_converged(
            app, [(owner, device.cards(), len(device.pending()), device.acknowledged()) for owner, device in zip(OWNERS, devices)]
        )
    except SyncFailed as failure:
        pytest.fail(f"a sync request failed: {failure}")
    finally:
        for device in devices:
            device.close()
        app.stop()
    assert not logged_exceptions(caplog)


def drive_pwa_devices(server: Server, steps: list[tuple], names: dict[str, str]) -> list[dict[str, Any]]:
    """Play a history with device.js in node (tests/js/drive_device.mjs); each device's end state.
    `names` gives this history's own user for each of USERS (the server is shared)."""
    steps = [(a, who, target, names[value] if a == "reassign" else value) for a, who, target, value in steps]
    prefix = f"js-{names['rep1']}"
    history = {"url": server.url, "tokens": [server.tokens[names[o]] for o in OWNERS], "steps": steps, "prefix": prefix}
    run = subprocess.run(
        [NODE, str(DRIVER)], input=json.dumps(history), capture_output=True, text=True, cwd=ROOT, timeout=600
    )  # a guard against a hang, not a speed limit
    assert run.returncode == 0, f"a sync failed in device.js:\n{run.stderr}"
    return json.loads(run.stdout)["devices"]


@pytest.fixture(scope="module")
def pwa_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One real server for every history of the test below, each history with users of its own:
    a server start costs about a CPU second, and the histories cannot see each other's cards
    (the office user of one history sees the cards of earlier ones too, as office users do)."""
    data = tmp_path_factory.mktemp("conv-js") / "data"
    proc, url = start_server(data, "--no-backup", env=QUICK_STOP)
    server = Server(url, data, proc)
    yield server
    output = stop_server(server.proc)
    assert "Traceback" not in output, output


@pytest.mark.skipif(NODE is None, reason="node is not installed")
@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck))
@given(steps=histories)
@example(steps=KNOWN_HISTORY)
def test_pwa_devices_converge_and_keep_every_acknowledged_mutation(pwa_server, steps):
    suffix = uuid.uuid4().hex[:8]
    names = {name: f"{name}-{suffix}" for name, _ in USERS}
    for name, role in USERS:
        pwa_server.user(names[name], role)
    devices = drive_pwa_devices(pwa_server, steps, names)
    assert_converged(
        pwa_server, [(names[owner], d["cards"], d["pending"], d["acknowledged"]) for owner, d in zip(OWNERS, devices)]
    )
