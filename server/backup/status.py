"""What an admin (and /readyz) needs to know about backups: is Litestream running, when did the
replica last receive a change, how far behind is it, how did the last drill go."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sync import db
from sync.db import Store

from ..config import Config
from .drill import last_drill
from .litestream import BackupError, Replicator, restore_points
from .restore import restore_status

CACHE_S = 10.0


def _seconds(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def public_replica(url: str) -> str:
    """The replica URL without any password in it."""
    parts = urlsplit(url)
    if parts.password:
        netloc = f"{parts.username}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


class BackupMonitor:
    def __init__(self, config: Config, st: Store, replicator: Replicator | None) -> None:
        self.config = config
        self.store = st
        self.replicator = replicator
        self._cached: tuple[float, dict[str, Any]] | None = None
        self._lock = threading.Lock()

    def status(self, *, fresh: bool = False) -> dict[str, Any]:
        with self._lock:
            if not fresh and self._cached and time.monotonic() - self._cached[0] < CACHE_S:
                return self._cached[1]
            found = self._measure()
            self._cached = (time.monotonic(), found)
            return found

    def _measure(self) -> dict[str, Any]:
        warnings: list[str] = []
        found: dict[str, Any] = {
            "enabled": self.replicator is not None,
            "replica": public_replica(self.config.replica),
            "running": bool(self.replicator and self.replicator.running),
            "last_replicated_at": None,
            "last_change_at": None,
            "lag_seconds": None,
            "restore_points": {"count": 0, "earliest": None, "latest": None},
        }
        with self.store.read() as conn:
            latest = db.latest_change(conn)
        found["last_change_at"] = latest["received_at"] if latest else None
        if self.replicator is None:
            warnings.append("backup is off (--no-backup)")
        else:
            if not found["running"]:
                warnings.append("Litestream is not running")
            try:
                points = restore_points(self.config)
            except BackupError as error:
                points = []
                warnings.append(str(error))
            if points:
                found["restore_points"] = {
                    "count": len(points),
                    "earliest": points[0]["timestamp"],
                    "latest": points[-1]["timestamp"],
                }
                found["last_replicated_at"] = points[-1]["timestamp"]
            if latest:
                replicated = _seconds(found["last_replicated_at"]) if points else 0.0
                # LTX files are stamped to the second when written; a change is covered once a file
                # stamped after it exists.
                found["lag_seconds"] = max(0.0, round(_seconds(latest["received_at"]) - replicated - 1, 1))
                if found["lag_seconds"] > self.config.max_lag_seconds:
                    warnings.append(f"the replica is {found['lag_seconds']:.0f} s behind")
        drill = last_drill(self.store)
        found["last_drill"] = drill
        overdue_after = 2 * self.config.drill_every_hours * 3600
        if drill and not drill["ok"]:
            warnings.append(f"the last restore drill failed: {drill.get('message')}")
        if drill and time.time() - _seconds(drill["at"]) > overdue_after:
            warnings.append("the last restore drill is overdue")
        found["drill_overdue"] = bool(drill and time.time() - _seconds(drill["at"]) > overdue_after)
        found["last_restore"] = restore_status(self.store)
        found["warnings"] = warnings
        found["checked_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
        return found

    def replication_problem(self) -> str | None:
        """Why /readyz must say 503, or None."""
        if self.replicator is None:
            return None
        if not self.replicator.running:
            return "replication is not running"
        lag = self.status()["lag_seconds"]
        if lag is not None and lag > self.config.max_lag_seconds:
            return f"replication lags {lag:.0f} s behind (more than {self.config.max_lag_seconds} s)"
        return None
