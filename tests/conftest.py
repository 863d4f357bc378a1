"""Fixtures that build real parts over a SQLite file in tmp_path: `app`, the real Starlette app
in-process under Starlette's TestClient (HTTP behaviour, reference-client devices over its
transport, a stop and start over the same data), and `server`, a `fieldcards serve` process on
127.0.0.1 (where the process matters: serve, the CLI, Litestream, kill -9, slow sockets); users
with tokens, and reference-client devices."""

from __future__ import annotations

import itertools
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from server.app import create_app
from server.config import Config
from server.process import ROOT, free_port, start_server, stop_server  # noqa: F401 (re-exported for tests)
from sync.protocol.client import Device
from sync.db import Store
from sync.people.users import add_user, create_token


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


# The webhook worker sees the server stopping only between passes: a short poll keeps each stop
# from waiting a whole second (about 0.5 s instead of 1.2 s per server).
QUICK_STOP = {"FIELDCARDS_WEBHOOK_POLL_S": "0.05"}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    data = tmp_path / "data"
    proc, url = start_server(data, "--no-backup", env=QUICK_STOP)
    srv = Server(url, data, proc)
    yield srv
    for device in srv.devices:
        device.close()
    output = stop_server(srv.proc)  # a test may have restarted it: stop the one running now
    assert "Traceback" not in output, output


class Caller:
    """The in-process app called as one user: the TestClient's methods with that user's bearer token.
    A context manager like `Server.client`, so a test reads the same on either. (Cookies are the
    TestClient's, shared by every caller: one browser.)"""

    def __init__(self, http: TestClient, headers: dict[str, str]) -> None:
        self.http, self.headers = http, headers

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        kwargs.pop("timeout", None)  # no socket in-process: nothing to time out
        return self.http.request(method, url, **{**kwargs, "headers": {**self.headers, **(kwargs.get("headers") or {})}})

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def put(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("PUT", url, **kwargs)

    def patch(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("PATCH", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", url, **kwargs)

    def __enter__(self) -> Caller:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


class _Into(httpx.BaseTransport):
    """Into whichever app runs now: a device keeps working across `App.stop()` and `App.start()`,
    as a phone does across a server's restart."""

    def __init__(self, app: App) -> None:
        self.app = app

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self.app.http._transport.handle_request(request)  # httpx keeps a client's transport there


@dataclass
class App:
    """The real app in-process (`create_app` under Starlette's TestClient, lifespan running) over
    its own data directory, and helpers to act on it as different users."""

    config: Config
    address: tuple[str, int]  # the client address every request comes from
    http: TestClient = field(init=False)  # anonymous: no token
    tokens: dict[str, str] = field(default_factory=dict)
    devices: list[Device] = field(default_factory=list)
    url: str = "http://testserver"  # the TestClient's base URL: what a device in-process talks to

    def __post_init__(self) -> None:
        self.start()

    @property
    def data(self) -> Path:
        return self.config.data_dir

    def start(self) -> None:
        """Start the app (again): a new `create_app` over the same data directory, lifespan run."""
        self.http = TestClient(create_app(self.config, replicate=False), client=self.address)
        self.http.__enter__()

    def stop(self) -> None:
        """Stop the app as a server stops: the lifespan's shutdown runs, the database is closed."""
        self.http.__exit__(None, None, None)

    def user(self, name: str, role: str = "rep") -> str:
        """Create a user (through the library, on the app's database file) and return a token."""
        st = Store(self.data / "fieldcards.db")
        try:
            add_user(st, name, role)
            token = create_token(st, name)
        finally:
            st.close()
        self.tokens[name] = token
        return token

    def as_(self, name: str) -> dict[str, str]:
        return {"authorization": f"Bearer {self.tokens[name]}"}

    def client(self, name: str) -> Caller:
        return Caller(self.http, self.as_(name))

    def device(self, name: str, tmp: Path, **kwargs: Any) -> Device:
        """A reference-client device of `name`, talking to the app in-process: no socket and no
        second process."""
        path = tmp / f"device-{name}-{len(self.devices)}.db"
        kwargs.setdefault("transport", self.transport)
        device = Device(self.url, self.tokens[name], path, **kwargs)
        self.devices.append(device)
        return device

    @property
    def transport(self) -> httpx.BaseTransport:
        """An httpx transport into the app, for a device or a transport of a test's own that wraps it."""
        return _Into(self)


_ADDRESSES = itertools.count(1)


def start_app(data: Path, **settings: Any) -> App:
    """`create_app` in-process over `data`, without backup, started; `App.stop()` when done.
    `settings` are Config's fields (what FIELDCARDS_* variables would set for a server)."""
    config = Config(**{"data_dir": data, "backup": False, "webhook_poll_s": 0.05, **settings})  # see QUICK_STOP
    # Each app gets a client address of its own, so that a test reads its per-address throttles
    # (failed tokens, sign-ins, link tries) and audit entries apart from any other app's.
    n = next(_ADDRESSES)
    return App(config, (f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}", 50000))


def logged_exceptions(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Exceptions only logged (from a handler or a background thread): a real server's Traceback."""
    return [r.getMessage() for r in caplog.records if r.exc_info]


@pytest.fixture
def app(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> Iterator[App]:
    """`create_app` in-process, without backup. An exception in a handler fails the test at once
    (the TestClient raises it); one only logged, from a handler or a background thread, fails it at
    the end, as a traceback in a real server's output would."""
    made = start_app(tmp_path / "data")
    try:
        yield made
    finally:
        for device in made.devices:
            device.close()
        made.stop()
    assert not logged_exceptions(caplog)
