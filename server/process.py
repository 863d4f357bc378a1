"""Running `fieldcards serve` as a child process on a free port of 127.0.0.1 and stopping it:
what the tests that need a real process (serve, the CLI, Litestream, kill -9, the browser) and
the benchmarks in bench/ both use. (bench/ never imports tests/.)"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
# The browser the e2e tests and bench/pwa.py drive: Debian's chromium (Playwright cannot download
# its own here), with no background traffic of its own.
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


START_WITHIN_S = 120.0


def start_server(data: Path, *extra: str, env: dict[str, str] | None = None) -> tuple[subprocess.Popen, str]:
    """`fieldcards serve` on a free port; `env` adds variables (a None value removes one)."""
    port = free_port()
    merged = {k: v for k, v in {**os.environ, **(env or {})}.items() if v is not None}
    proc = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "--data", str(data), "serve", "--port", str(port), *extra],
        cwd=ROOT,
        env=merged,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    # A bound, not a budget: a server normally answers in about a second, but on a loaded 2-core
    # machine (two test workers and the browser) its start has been seen to pass 30 s.
    deadline = time.time() + START_WITHIN_S
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {proc.stdout.read().decode() if proc.stdout else ''}")
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"server did not start in {START_WITHIN_S:.0f} s")


def stop_server(proc: subprocess.Popen) -> str:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.stdout.read().decode(errors="replace") if proc.stdout else ""
