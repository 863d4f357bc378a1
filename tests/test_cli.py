"""The `fieldcards` command: exit codes, one-line errors, a token alone on stdout. Its `main` runs
in-process (argv in; exit code, stdout and stderr out); `python -m server.cli` as a real process where
the exit status itself is the point, and beside a real `fieldcards serve`."""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys

import httpx

from server.cli import main
from tests.conftest import ROOT, start_app, start_server, stop_server


def fieldcards(*args: str) -> subprocess.CompletedProcess:
    """`fieldcards ARGS` through the command's `main`, as the process would run it."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(args))
        except SystemExit as exit:  # argparse's own exits (--help)
            code = exit.code if isinstance(exit.code, int) else 2
    return subprocess.CompletedProcess(["fieldcards", *args], code, out.getvalue(), err.getvalue())


def test_the_process_exits_with_mains_status(tmp_path):
    run = lambda *args: subprocess.run(
        [sys.executable, "-m", "server.cli", "--data", str(tmp_path / "data"), *args],  # noqa: E731
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run("user", "add", "ann", "--role", "office").returncode == 0
    again = run("user", "add", "ann", "--role", "office")
    assert again.returncode == 1 and "exists" in again.stderr


def test_user_add_and_token_create(tmp_path):
    data = str(tmp_path / "data")
    added = fieldcards("--data", data, "user", "add", "wang.wei", "--role", "rep", "--display", "王伟")
    assert added.returncode == 0, added.stderr
    token = fieldcards("--data", data, "token", "create", "wang.wei", "--label", "phone")
    assert token.returncode == 0
    lines = token.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("fc_") and len(lines[0]) > 30
    app = start_app(tmp_path / "data")
    try:
        me = app.http.get("/api/v1/me", headers={"authorization": f"Bearer {lines[0]}"}).json()
        assert me == {"user": "wang.wei", "role": "rep", "display": "王伟"}
    finally:
        app.stop()


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


def test_invite_prints_a_one_time_link_on_the_configured_origin(tmp_path, monkeypatch):
    data = str(tmp_path / "data")
    assert fieldcards("--data", data, "user", "add", "admin", "--role", "admin").returncode == 0
    monkeypatch.setenv("FIELDCARDS_ORIGIN", "https://cards.example.com")
    made = fieldcards("--data", data, "invite", "admin")
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


def test_import_prints_each_problem_and_keeps_the_rows_with_problems_for_their_file(tmp_path):
    """`fieldcards import`: every problem on stderr, the summary on stdout, and the rows with a
    problem kept with the import as they were (the parsed rows are let go as they are planned)."""
    from sync.db import Store
    from sync.office import importer
    from sync.protocol.engine import Engine
    from sync.access import User

    data = str(tmp_path / "data")
    assert fieldcards("--data", data, "user", "add", "boss", "--role", "admin").returncode == 0
    sheet = tmp_path / "客户.csv"
    sheet.write_text(
        "姓名,手机,生日\n张三,13800001111,1990-01-01\n,13800002222,\n李四,13800003333,not a date\n", encoding="utf-8"
    )
    checked = fieldcards("--data", data, "import", str(sheet), "--dry-run")
    assert checked.returncode == 0, checked.stderr
    assert '"create": 2' in checked.stdout and "row 3:" in checked.stderr and "row 4:" in checked.stderr
    done = fieldcards("--data", data, "import", str(sheet))
    assert done.returncode == 0, done.stderr
    import_id = next(line.split()[1].rstrip(":") for line in done.stderr.splitlines() if line.startswith("import "))
    store = Store(tmp_path / "data" / "fieldcards.db")
    try:
        kept = importer.stored_problems(Engine(store), User("boss", "admin"), import_id)
    finally:
        store.close()
    assert [(number, cells) for number, cells, _card in kept["rows"]] == [
        (3, ["", "13800002222", ""]),
        (4, ["李四", "13800003333", "not a date"]),
    ]
