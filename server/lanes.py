"""Two lanes for work in threads. Sync, sign-in and card reads run in anyio's default lane;
heavy work (spreadsheet imports and exports, dashboards, duplicates, restores, drills) runs in a
lane of its own with two workers and a short queue. Eight exports of 50,000 cards used to take
all eight threads for a minute while another rep's one-mutation sync waited (issue 11); now they
wait for each other, and past the queue the caller gets 429 `busy` with Retry-After.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import anyio
import anyio.to_thread

from sync.errors import Busy

from . import memory

T = TypeVar("T")

HEAVY_WORKERS = 2
HEAVY_QUEUE = 8


class HeavyLane:
    """Created once per app; the limiter itself is made lazily inside the running event loop."""

    def __init__(self, workers: int = HEAVY_WORKERS, queue: int = HEAVY_QUEUE) -> None:
        self.workers = workers
        self.queue = queue
        self._limiter: anyio.CapacityLimiter | None = None

    @property
    def limiter(self) -> anyio.CapacityLimiter:
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self.workers)
        return self._limiter

    async def run(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        stats = self.limiter.statistics()
        if stats.tasks_waiting >= self.queue:
            raise Busy("the server is busy with other exports, imports and reports; try again in a minute", retry_after=30)
        return await anyio.to_thread.run_sync(functools.partial(_then_give_back, func, *args, **kwargs), limiter=self.limiter)


def _then_give_back(func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Heavy work, then the memory it freed goes back to the system (`memory.give_back`)."""
    try:
        return func(*args, **kwargs)
    finally:
        memory.give_back()
