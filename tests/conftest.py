"""Fixtures that build real parts: a `fieldcards serve` process on 127.0.0.1 over a SQLite file
in tmp_path, users with tokens, and reference-client devices."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from sync.client import Device
from sync.store import Store
from sync.users import add_user, create_token

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    """A running server process and helpers to act on it as different users."""

    url: str
    data: Path
    proc: subprocess.Popen
    tokens: dict[str, str] = field(default_factory=dict)
    devices: list[Device] = field(default_factory=list)

    def user(self, name: str, role: str = "rep") -> str:
        """Create a user (through the library, on the same database file) and return a token."""
        st = Store(self.data / "fieldcards.db")
        try:
            add_user(st, name, role)
            token = create_token(st, name)
        finally:
            st.close()
        self.tokens[name] = token
        return token

    def client(self, name: str) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"authorization": f"Bearer {self.tokens[name]}"}, timeout=60)

    def device(self, name: str, tmp: Path, **kwargs) -> Device:
        path = tmp / f"device-{name}-{len(self.devices)}.db"
        device = Device(self.url, self.tokens[name], path, **kwargs)
        self.devices.append(device)
        return device


def start_server(data: Path, *extra: str, env: dict[str, str] | None = None) -> tuple[subprocess.Popen, str]:
    """`fieldcards serve` on a free port; `env` adds variables (a None value removes one)."""
    port = free_port()
    merged = {k: v for k, v in {**os.environ, **(env or {})}.items() if v is not None}
    proc = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "--data", str(data), "serve", "--port", str(port), *extra],
        cwd=ROOT, env=merged, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 30
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {proc.stdout.read().decode() if proc.stdout else ''}")
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not start in 30 s")


def stop_server(proc: subprocess.Popen) -> str:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.stdout.read().decode(errors="replace") if proc.stdout else ""


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    data = tmp_path / "data"
    proc, url = start_server(data, "--no-backup")
    srv = Server(url, data, proc)
    yield srv
    for device in srv.devices:
        device.close()
    output = stop_server(srv.proc)  # a test may have restarted it: stop the one running now
    assert "Traceback" not in output, output
