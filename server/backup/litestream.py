"""Runs `litestream replicate` as a child of the server, so neither runs without the other.

The server supervises rather than being Litestream's `-exec` child: a restore must stop and
restart replication while the web process lives on.
"""
from __future__ import annotations

import logging
import os
import subprocess
import threading
import time

from ..config import Config

log = logging.getLogger("fieldcards.backup")


class Replicator:
    """Starts, watches and stops one `litestream replicate` process."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self._proc: subprocess.Popen[bytes] | None = None
        self._stopping = False
        self._watch: threading.Thread | None = None
        self.started_at: float | None = None

    def env(self) -> dict[str, str]:
        return {**os.environ, "FIELDCARDS_DB": str(self.config.db_path), "FIELDCARDS_REPLICA": self.config.replica}

    def start(self) -> None:
        self._stopping = False
        log_path = self.config.data_dir / "litestream.log"
        with open(log_path, "ab") as out:
            self._proc = subprocess.Popen(
                [self.config.litestream_bin, "replicate", "-config", str(self.config.litestream_config)],
                env=self.env(), stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )
        self.started_at = time.time()
        self._watch = threading.Thread(target=self._restart_on_exit, daemon=True)
        self._watch.start()

    def _restart_on_exit(self) -> None:
        """Litestream dying must not silently stop backups: restart it, and /readyz shows the gap."""
        while not self._stopping:
            proc = self._proc
            if proc is None:
                return
            code = proc.wait()
            if self._stopping:
                return
            log.error("litestream exited with %s; restarting in 2 s", code)
            time.sleep(2)
            if not self._stopping:
                self.start()
                return

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping = True
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
