"""The server's memory helpers (server/memory.py): the cycle collector paused for heavy jobs is
switched back on when the last of them ends, whatever they return or raise; and a large write's
page cache (sync/db/connection.py) is given back when it ends."""

from __future__ import annotations

import gc
import threading

import pytest

from server import memory
from sync.db import Store
from sync.db.connection import DEFAULT_CACHE_KIB, LARGE_WRITE_CACHE_KIB


def test_the_collector_is_off_while_a_job_runs_and_on_after_it_returns_or_raises():
    assert gc.isenabled()
    seen: list[bool] = []

    def job(value: int) -> int:
        seen.append(gc.isenabled())
        return value * 2

    assert memory.without_collector(job)(21) == 42
    assert seen == [False] and gc.isenabled()

    def failing() -> None:
        raise ValueError("the job failed")

    with pytest.raises(ValueError, match="the job failed"):
        memory.without_collector(failing)()
    assert gc.isenabled()


def test_two_overlapping_jobs_switch_it_back_on_only_when_both_are_done():
    first_in, second_done, first_may_end = threading.Event(), threading.Event(), threading.Event()
    during: dict[str, bool] = {}

    def first() -> None:
        first_in.set()
        first_may_end.wait(10)
        during["first, at its end"] = gc.isenabled()

    def second() -> None:
        first_in.wait(10)
        during["second"] = gc.isenabled()

    one = threading.Thread(target=memory.without_collector(first))
    one.start()
    two = threading.Thread(target=lambda: (memory.without_collector(second)(), second_done.set()))
    two.start()
    second_done.wait(10)
    during["between: the first still runs"] = gc.isenabled()
    first_may_end.set()
    one.join(10)
    two.join(10)
    assert during == {"second": False, "between: the first still runs": False, "first, at its end": False}
    assert gc.isenabled()


def test_a_large_write_has_a_larger_page_cache_only_while_it_runs(tmp_path):
    store = Store(tmp_path / "fieldcards.db")
    try:

        def cache_kib(conn) -> int:
            return -conn.execute("PRAGMA cache_size").fetchone()[0]

        with store.write() as conn:
            assert cache_kib(conn) == DEFAULT_CACHE_KIB
        with store.write(large=True) as conn:
            assert cache_kib(conn) == LARGE_WRITE_CACHE_KIB
        with pytest.raises(RuntimeError):
            with store.write(large=True) as conn:
                raise RuntimeError("a large write that fails")
        with store.write() as conn:
            assert cache_kib(conn) == DEFAULT_CACHE_KIB  # back after a commit and after a rollback
    finally:
        store.close()
