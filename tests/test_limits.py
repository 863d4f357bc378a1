"""Tables keyed by what outsiders send stay bounded, and heavy work cannot take the threads that
sync and sign-in need (issue 11)."""

from __future__ import annotations

import threading

import anyio
import anyio.to_thread
import pytest

from server.auth.limits import FailureLimiter
from server.lanes import HeavyLane
from sync.errors import Busy
from sync.recent import RecentTable


def test_failure_limiter_stays_bounded_over_100000_addresses():
    limiter = FailureLimiter(limit=5, window_s=60, max_keys=10_000)
    for i in range(100_000):
        limiter.failed(f"10.{i >> 16}.{(i >> 8) & 255}.{i & 255}")
    assert len(limiter) <= 10_000
    for _ in range(6):
        wait = limiter.failed("203.0.113.9")
    assert wait is not None  # the limit still holds for the address that keeps failing


def test_recent_table_stays_bounded_and_still_throttles():
    table = RecentTable(max_keys=1_000, ttl_s=60)
    for i in range(100_000):
        assert table.due(("user", f"/route/{i}"), 60)
    assert len(table) <= 1_000
    assert table.due("k", 60) and not table.due("k", 60)
    assert table.due("k", 60, value="changed")  # a changed value is due at once


def test_heavy_work_waits_in_its_own_lane_while_light_work_runs():
    release = threading.Event()
    outcome: dict[str, object] = {}

    async def main() -> None:
        lane = HeavyLane(workers=2, queue=3)

        async def heavy() -> None:
            await lane.run(release.wait, 30)

        async with anyio.create_task_group() as tasks:
            for _ in range(5):  # two running, three queued
                tasks.start_soon(heavy)
            await anyio.sleep(0.2)
            with pytest.raises(Busy):
                await lane.run(release.wait, 30)
            # Sync and sign-in use the default lane: they run at once although heavy work is stuck.
            outcome["light"] = await anyio.to_thread.run_sync(lambda: "done")
            outcome["stuck"] = lane.limiter.statistics().borrowed_tokens
            release.set()

    anyio.run(main)
    assert outcome == {"light": "done", "stuck": 2}
