"""Hybrid logical clocks: `"<13-digit unix ms>-<4-digit counter>-<node>"`, sortable as strings.

Devices stamp every mutation with one; the server orders concurrent scalar writes by them and
bounds how far a device's clock may run ahead (contract section 4).
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass

HLC_RE = re.compile(r"^(\d{13})-(\d{4})-([A-Za-z0-9._:-]{1,100})$")
MAX_SKEW_MS = 5 * 60 * 1000
MAX_COUNTER = 9999


@dataclass(frozen=True, order=True)
class Stamp:
    ms: int
    counter: int
    node: str

    def __str__(self) -> str:
        return f"{self.ms:013d}-{self.counter:04d}-{self.node}"


def parse(value: object) -> Stamp:
    """Read an HLC string; raise ValueError with a message a person can act on."""
    if not isinstance(value, str):
        raise ValueError("must be a clock string like 1763971200123-0000-device")
    m = HLC_RE.match(value)
    if not m:
        raise ValueError(f"not a valid clock {value[:60]!r}: expected <13-digit ms>-<4-digit counter>-<device>")
    return Stamp(int(m.group(1)), int(m.group(2)), m.group(3))


def wall_ms() -> int:
    return int(time.time() * 1000)


class Clock:
    """A thread-safe HLC for one node. `now()` stamps a local event, `receive()` folds in a remote stamp."""

    def __init__(self, node: str, wall=wall_ms) -> None:
        self.node = node
        self._wall = wall
        self._ms = 0
        self._counter = 0
        self._lock = threading.Lock()

    def now(self) -> str:
        with self._lock:
            self._tick(self._wall())
            return str(Stamp(self._ms, self._counter, self.node))

    def receive(self, remote: str) -> str:
        """Fold in a device's stamp and return the stamp that orders its write (contract section 4).

        A stamp within the skew bound advances our clock past it and orders as given. A stamp
        further ahead is ordered as server time, and it never moves our clock: otherwise one phone
        set ten days ahead would drag the server 5 minutes into the future and win every conflict
        against honest edits made in those minutes (issue 11).
        """
        stamp = parse(remote)
        with self._lock:
            wall = self._wall()
            if stamp.ms > wall + MAX_SKEW_MS:
                self._tick(wall)
                return str(Stamp(self._ms, self._counter, self.node))
            if stamp.ms > self._ms or (stamp.ms == self._ms and stamp.counter > self._counter):
                self._ms, self._counter = stamp.ms, min(stamp.counter, MAX_COUNTER - 1)
            self._tick(wall)
            return remote

    def _tick(self, wall: int) -> None:
        if wall > self._ms:
            self._ms, self._counter = wall, 0
        elif self._counter < MAX_COUNTER:
            self._counter += 1
        else:
            # Counter exhausted within one millisecond: borrow the next millisecond.
            self._ms, self._counter = self._ms + 1, 0
