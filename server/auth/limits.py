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
    def __init__(self, limit: int, window_s: float, max_keys: int = 10_000) -> None:
        self.limit = limit
        self.window_s = window_s
        self.max_keys = max_keys
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._failures)

    def _sweep(self, now: float) -> None:
        """Keys come from outside (one per address): once the table is full, forget the addresses
        whose failures are all past the window, then, if still full, the ones that failed longest
        ago. Memory stays flat however many addresses fail once and never come back."""
        if len(self._failures) < self.max_keys:
            return
        for key in [k for k, f in self._failures.items() if not f or f[-1] <= now - self.window_s]:
            del self._failures[key]
        if len(self._failures) >= self.max_keys:
            oldest = sorted(self._failures, key=lambda k: self._failures[k][-1])
            for key in oldest[: len(oldest) - self.max_keys // 2]:
                del self._failures[key]

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
            self._sweep(now)
            failures = self._recent(key, now)
            failures.append(now)
            self._failures[key] = failures
            if len(failures) <= self.limit:
                return None
            return max(1, math.ceil(failures[0] + self.window_s - now))
