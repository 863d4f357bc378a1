"""Failure counters per client address, for rate limits on sign-in and on bad tokens.

Only failures count, and (for tokens) only failures are refused: an office behind one NAT address
keeps working while someone there, or a broken script, guesses tokens.
"""
from __future__ import annotations

import math
import threading
import time
from collections import defaultdict, deque


class FailureLimiter:
    def __init__(self, limit: int, window_s: float) -> None:
        self.limit = limit
        self.window_s = window_s
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        failures = self._failures[key]
        while failures and failures[0] <= now - self.window_s:
            failures.popleft()
        if not failures:
            del self._failures[key]  # keeps the table as small as the set of current offenders
            return deque()
        return failures

    def retry_after(self, key: str) -> int | None:
        """Seconds until `key` may try again, or None while it is under the limit."""
        now = time.monotonic()
        with self._lock:
            failures = self._recent(key, now)
            if len(failures) < self.limit:
                return None
            return max(1, math.ceil(failures[0] + self.window_s - now))

    def failed(self, key: str) -> int | None:
        """Count one failure; returns the wait when this failure is over the limit."""
        now = time.monotonic()
        with self._lock:
            failures = self._recent(key, now)
            failures.append(now)
            self._failures[key] = failures
            if len(failures) <= self.limit:
                return None
            return max(1, math.ceil(failures[0] + self.window_s - now))
