"""The server's clock and the skew bound (contract section 4), in-process over a real SQLite file."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

from sync.protocol import hlc
from sync.protocol.engine import Engine
from sync.protocol.model import parse_sync_request
from sync.db import Store
from sync.people.users import add_user

DAY_MS = 86_400_000


def test_a_stamp_far_ahead_orders_as_server_time_and_never_moves_the_clock():
    wall = [1_800_000_000_000]
    clock = hlc.Clock("server", wall=lambda: wall[0])
    runaway = f"{wall[0] + 10 * DAY_MS:013d}-0000-phoneA"
    ordered = hlc.parse(clock.receive(runaway))
    assert ordered.node == "server" and ordered.ms == wall[0]
    wall[0] += 50
    assert hlc.parse(clock.now()).ms == wall[0]  # not wall + 5 minutes
    honest = f"{wall[0]:013d}-0000-phoneB"
    assert clock.receive(honest) == honest and honest > str(ordered)


def test_a_stamp_within_the_bound_is_kept_and_advances_the_clock():
    wall = [1_800_000_000_000]
    clock = hlc.Clock("server", wall=lambda: wall[0])
    ahead = f"{wall[0] + 60_000:013d}-0003-phone"
    assert clock.receive(ahead) == ahead
    assert clock.now() > ahead


def sync_edit(engine: Engine, user, device: str, card: str, at: str, fields: dict, was: dict | None) -> dict:
    mutation = {"id": str(uuid.uuid4()), "op": "card.put", "card": card, "at": at, "fields": fields}
    if was is not None:
        mutation["was"] = was
    request = parse_sync_request({"device": device, "mutations": [mutation]})
    return engine.sync(user, request).to_json()["results"][0]


def test_a_phone_ten_days_ahead_loses_to_a_later_honest_edit(tmp_path: Path):
    st = Store(tmp_path / "fieldcards.db")
    try:
        rep = add_user(st, "rep1", "rep")
        engine = Engine(st)
        card = str(uuid.uuid4())
        now = hlc.wall_ms()
        assert (
            sync_edit(engine, rep, "b", card, f"{now:013d}-0000-b", {"name": "Seed", "title": "t0"}, None)["status"] == "applied"
        )
        ahead = f"{now + 10 * DAY_MS:013d}-0000-a"
        assert sync_edit(engine, rep, "a", card, ahead, {"title": "from A"}, {"title": "t0"})["status"] == "applied"
        time.sleep(0.05)
        honest = f"{hlc.wall_ms():013d}-0000-b"
        out = sync_edit(engine, rep, "b", card, honest, {"title": "from B"}, {"title": "t0"})
        assert out["status"] == "conflict"
        assert out["card"]["title"] == "from B"  # the later, honest write wins
        history = engine.store  # the runaway stamp is kept as authored_at, ordered as server time
        with history.read() as conn:
            row = conn.execute("SELECT at, authored_at FROM history WHERE authored_at = ?", (ahead,)).fetchone()
        assert row is not None and row[0] != ahead and row[0] < honest
    finally:
        st.close()
