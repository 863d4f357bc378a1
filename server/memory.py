"""How the server asks glibc's allocator to keep its resident memory near what it uses. Both are
no-ops where the C library is not glibc."""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

M_ARENA_MAX = -8


@functools.cache
def _libc() -> Any:
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None


def few_arenas() -> None:
    """glibc gives each thread its own malloc arena; with big pull pages built on several threads
    the freed memory stays mapped in every arena. Two arenas keep the server's memory near what
    it uses. Must run before the worker threads start."""
    libc = _libc()
    if libc is not None and hasattr(libc, "mallopt"):
        libc.mallopt(M_ARENA_MAX, 2)


def give_back() -> None:
    """Return freed memory to the system after heavy work (an import of 50,000 rows frees ~200 MB
    that glibc would otherwise keep mapped until the process ends; the next heavy job starts from
    the server's usual size). A few milliseconds; ctypes lets other threads run meanwhile."""
    libc = _libc()
    if libc is not None and hasattr(libc, "malloc_trim"):
        libc.malloc_trim(0)


LARGE_ANSWER_BYTES = 1 << 20  # a sync answer this large has just freed its page's changes
_GIVE_BACK_EVERY_S = 1.0
_given_back_at = 0.0  # `time.monotonic()` of the last give-back after a large answer
_given_back_lock = threading.Lock()


def give_back_after_large(size: int) -> None:
    """`give_back` after a large sync answer was built, at most once a second: the 5,000 changes of
    a full page are ~600-byte objects that glibc (not Python's small-object allocator) holds, and
    32 phones pulling 100,000 cards at once left ~30 MB of them mapped after the burst."""
    global _given_back_at
    if size < LARGE_ANSWER_BYTES:
        return
    now = time.monotonic()
    with _given_back_lock:
        if now - _given_back_at < _GIVE_BACK_EVERY_S:
            return
        _given_back_at = now
    give_back()


_pausing = 0  # heavy jobs running with the cycle collector off (`without_collector`)
_pausing_lock = threading.Lock()


def without_collector(func: Callable[..., T]) -> Callable[..., T]:
    """`func` with Python's cycle collector off while it runs: for an import and its undo, which
    make a few hundred thousand dicts and lists that form no cycles while the plan of every row
    is alive, and the collector walked them again and again (~10% of a 50,000-row import). Reference
    counting still frees everything as usual. Counted, so that two such jobs that overlap switch
    it back on only when both are done; cycles other threads make meanwhile wait until then."""

    @functools.wraps(func)
    def paused(*args: Any, **kwargs: Any) -> T:
        global _pausing
        with _pausing_lock:
            _pausing += 1
            gc.disable()
        try:
            return func(*args, **kwargs)
        finally:
            with _pausing_lock:
                _pausing -= 1
                if _pausing == 0:
                    gc.enable()

    return paused
