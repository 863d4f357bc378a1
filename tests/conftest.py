"""Fixtures that build real parts: a `fieldcards serve` process on 127.0.0.1 over a SQLite file
in tmp_path, users with tokens, and reference-client devices."""
from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from server.process import ROOT, free_port, start_server, stop_server  # noqa: F401 (re-exported for tests)
from sync.client import Device
from sync.store import Store
from sync.users import add_user, create_token



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
