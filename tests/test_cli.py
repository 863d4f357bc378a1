"""The `fieldcards` command: exit codes, one-line errors, a token alone on stdout."""
from __future__ import annotations

import subprocess
import sys

import httpx

from tests.conftest import ROOT, start_server, stop_server


def fieldcards(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "server.cli", *args], cwd=ROOT, capture_output=True, text=True, timeout=60)


def test_user_add_and_token_create(tmp_path):
    data = str(tmp_path / "data")
    added = fieldcards("--data", data, "user", "add", "wang.wei", "--role", "rep", "--display", "王伟")
    assert added.returncode == 0, added.stderr
    token = fieldcards("--data", data, "token", "create", "wang.wei", "--label", "phone")
    assert token.returncode == 0
    lines = token.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("fc_") and len(lines[0]) > 30
    proc, url = start_server(tmp_path / "data", "--no-backup")
    try:
        me = httpx.get(url + "/api/v1/me", headers={"authorization": f"Bearer {lines[0]}"}).json()
        assert me == {"user": "wang.wei", "role": "rep", "display": "王伟"}
    finally:
        stop_server(proc)


def test_failures_exit_1_with_one_line_and_usage_errors_exit_2(tmp_path):
    data = str(tmp_path / "data")
    assert fieldcards("--data", data, "user", "add", "ann", "--role", "office").returncode == 0
    again = fieldcards("--data", data, "user", "add", "ann", "--role", "office")
    assert again.returncode == 1 and len(again.stderr.strip().splitlines()) == 1 and "exists" in again.stderr
    bad_name = fieldcards("--data", data, "user", "add", "Ann Lee", "--role", "rep")
    assert bad_name.returncode == 1
    assert fieldcards("--data", data, "token", "create", "nobody").returncode == 1
    usage = fieldcards("--data", data, "user", "add", "bob", "--role", "boss")
    assert usage.returncode == 2 and len(usage.stderr.strip().splitlines()) == 1
    assert fieldcards("--data", data, "frobnicate").returncode == 2
    assert fieldcards("--data", data).returncode == 2


def test_invite_prints_a_one_time_link_on_the_configured_origin(tmp_path):
    import os

    data = str(tmp_path / "data")
    assert fieldcards("--data", data, "user", "add", "admin", "--role", "admin").returncode == 0
    env = {**os.environ, "FIELDCARDS_ORIGIN": "https://cards.example.com"}
    made = subprocess.run([sys.executable, "-m", "server.cli", "--data", data, "invite", "admin"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, env=env)
    assert made.returncode == 0, made.stderr
    lines = made.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("https://cards.example.com/signin.html#invite=")
    unknown = fieldcards("--data", data, "invite", "nobody")
    assert unknown.returncode == 1 and "nobody" in unknown.stderr


def test_invite_prints_a_link_on_the_port_the_server_actually_serves(tmp_path):
    data = tmp_path / "data"
    proc, url = start_server(data, "--no-backup")  # a free port, not the default 8000
    try:
        assert fieldcards("--data", str(data), "user", "add", "admin", "--role", "admin").returncode == 0
        made = fieldcards("--data", str(data), "invite", "admin")
        assert made.returncode == 0, made.stderr
        port = url.rsplit(":", 1)[1]
        assert made.stdout.strip().startswith(f"http://localhost:{port}/signin.html#invite=")
        # The link opens the sign-in page of that very server.
        assert httpx.get(made.stdout.strip().split("#")[0].replace("localhost", "127.0.0.1")).status_code == 200
    finally:
        stop_server(proc)
    assert not (data / "fieldcards.origin").exists()  # a stopped server leaves no origin behind
