"""Runs `litestream replicate` as a child of the server, so neither runs without the other.

The server supervises rather than being Litestream's `-exec` child: a restore must stop and
restart replication while the web process lives on.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import logging
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

from sync.errors import FieldcardsError

from ..config import Config

log = logging.getLogger("fieldcards.backup")


def _die_with_parent() -> None:
    """Runs in the child before exec: if the server is killed (even with -9), Litestream gets
    SIGTERM instead of replicating on as an orphan next to the restarted server's own."""
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


PR_SET_PDEATHSIG = 1


class Replicator:
    """Keeps one `litestream replicate` running while wanted; restarts it if it dies.

    Every child is spawned by one long-lived supervisor thread: the parent-death signal is tied
    to the thread that forked, so a short-lived worker thread must never be the one to spawn.
    """

    def __init__(self, config: Config) -> None:
        self.config = config
        self._proc: subprocess.Popen[bytes] | None = None
        self._wanted = False
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None
        self.restarts = 0

    def env(self) -> dict[str, str]:
        return {**os.environ, "FIELDCARDS_DB": str(self.config.db_path), "FIELDCARDS_REPLICA": self.config.replica}

    def start(self) -> None:
        with self._changed:
            self._wanted = True
            if self._thread is None:
                self._thread = threading.Thread(target=self._supervise, name="litestream", daemon=True)
                self._thread.start()
            self._changed.notify_all()
            self._changed.wait_for(lambda: self._proc is not None, timeout=10)

    def stop(self, timeout: float = 10.0) -> None:
        with self._changed:
            self._wanted = False
            proc = self._proc
            self._changed.notify_all()
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    @property
    def running(self) -> bool:
        proc = self._proc
        return proc is not None and proc.poll() is None

    def _supervise(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._wanted)
                proc = self._spawn()
                self._proc = proc
                self._changed.notify_all()
            code = proc.wait()
            with self._changed:
                self._proc = None
                unexpected = self._wanted
            if unexpected:
                # Litestream dying must not silently stop backups: restart it; /readyz shows the gap.
                self.restarts += 1
                log.error("litestream exited with %s; restarting in 2 s", code)
                time.sleep(2)

    def _spawn(self) -> subprocess.Popen[bytes]:
        with open(self.config.data_dir / "litestream.log", "ab") as out:
            return subprocess.Popen(
                [self.config.litestream_bin, "replicate", "-config", str(self.config.litestream_config)],
                env=self.env(),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )


# --- one-shot commands: restore points and restores ------------------------------------------


class BackupError(FieldcardsError):
    """Litestream could not do what was asked (no restore point at that time, no replica, a
    damaged file); the message says why in one line. 409: the request met the replica's state."""

    code = "backup_unavailable"
    status = 409


def _run(config: Config, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FIELDCARDS_DB": str(config.db_path), "FIELDCARDS_REPLICA": config.replica}
    try:
        # The parent-death signal ends a restore with a server killed midway, instead of an orphan
        # finishing a scratch file after the restarted server cleaned them up. Safe to tie to
        # this thread: it waits here until the child exits.
        return subprocess.run(
            [config.litestream_bin, *args], env=env, capture_output=True, text=True, timeout=timeout, preexec_fn=_die_with_parent
        )
    except FileNotFoundError:
        raise BackupError(f"the litestream binary was not found at {config.litestream_bin}") from None
    except subprocess.TimeoutExpired:
        raise BackupError(f"litestream {args[0]} did not finish in {timeout:.0f} s") from None


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


def restore_points(config: Config) -> list[dict[str, object]]:
    """Every LTX file of the replica, oldest first: `timestamp`, `level`, `min_txid`, `max_txid`.

    Level 0 files give per-second points (kept for `l0-retention`); higher levels are coarser.
    """
    done = _run(
        config, "ltx", "-config", str(config.litestream_config), "-level", "all", "-json", str(config.db_path), timeout=120
    )
    if done.returncode != 0:
        raise BackupError(f"cannot list restore points: {_last_line(done.stderr or done.stdout)}")
    try:
        files = json.loads(done.stdout or "[]") or []
    except json.JSONDecodeError:
        raise BackupError("litestream ltx printed something that is not JSON") from None
    return sorted(files, key=lambda f: (str(f.get("timestamp")), str(f.get("max_txid"))))


def restore_to(config: Config, moment: str | None, out: Path) -> Path:
    """Restore the replica as of `moment` (RFC 3339; None for the latest) into the new file `out`."""
    out.unlink(missing_ok=True)
    args = ["restore", "-config", str(config.litestream_config), "-o", str(out)]
    if moment:
        args += ["-timestamp", moment]
    done = _run(config, *args, str(config.db_path))
    # Some forms exit 0 without writing anything: the file is the proof.
    if done.returncode != 0 or not out.exists():
        raise BackupError(
            f"litestream could not restore{' to ' + moment if moment else ''}: {_last_line(done.stderr or done.stdout)}"
        )
    return out
