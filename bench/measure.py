"""What the benchmarks read of a server process: its resident memory, its CPU time, and the
largest resident memory while a block of work runs."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Self


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far, all its threads: on a machine shared with
    other work, cards per server CPU second moves far less than cards per wall second."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Beside:
    """Work that runs in a thread of its own while the `with` block runs: `_run` until `_stop`."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        raise NotImplementedError


class PeakRSS(Beside):
    """The server's largest resident set while the block runs, sampled every 50 ms (issue 14's
    memory target holds under 32 concurrent full pulls and during a 50,000-row import)."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak_mb = pid, 0.0
        self.before_mb = self.now_mb()
        super().__init__()

    def now_mb(self) -> float:
        return rss_mb(self.pid)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_mb = max(self.peak_mb, self.now_mb())
            self._stop.wait(0.05)
