"""Failure counters per client address, for rate limits on sign-in and on bad tokens.

Only failures count, and (for tokens) only failures are refused: an office behind one NAT address
keeps working while someone there, or a broken script, guesses tokens.
"""

from __future__ import annotations

import math
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field

from sync.recent import RecentTable


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


# Repeated denials and bad tokens are audited once a minute per (who, what), so a loop cannot flood the log.
AUDIT_REPEAT_S = 60.0


def _limit(limit: int, window_s: float) -> FailureLimiter:
    return field(default_factory=lambda: FailureLimiter(limit=limit, window_s=window_s))  # type: ignore[return-value]


@dataclass
class Throttles:
    """One app's rate limits and audit throttles (`app.state.throttles`): each app has its own, so
    two apps in one process (the in-process tests) never count each other's failures."""

    token_failures: FailureLimiter = _limit(60, 60)  # failed bearer tokens per address; valid ones pass
    sign_in_failures: FailureLimiter = _limit(10, 300)  # failed passkey sign-ins per address
    challenges: FailureLimiter = _limit(30, 60)  # sign-in challenges per address: plenty for people
    per_link: FailureLimiter = _limit(30, 600)  # a customer link is for one person
    per_link_address: FailureLimiter = _limit(120, 600)
    audited: RecentTable = field(default_factory=lambda: RecentTable(max_keys=10_000, ttl_s=AUDIT_REPEAT_S))
