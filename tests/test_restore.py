"""Backups with the real Litestream binary: point-in-time restore, the full rescue of a running
server by its devices, drills that pass and fail, and a kill -9 under write load."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import httpx
import pytest

from server.backup.litestream import restore_points
from server.config import Config
from tests.conftest import ROOT, Server, start_server, stop_server


def now_rfc3339() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def moment_between() -> str:
    """A restore moment after every write made so far and before any write that comes next;
    called after `wait_replicated`. Before the moment: one sync interval (1 s), because the replica's
    newest point may hold only part of what the database has committed (a session touch, say, landed
    first), and Litestream takes the rest at its next sync. After it: a few milliseconds, because
    Litestream stamps each restore point to the millisecond when it writes it, later than any write
    that comes after the moment."""
    time.sleep(1.2)
    moment = now_rfc3339()
    time.sleep(0.02)
    return moment


def replica_txid(data: Path) -> str:
    points = restore_points(Config.load(str(data)))
    return max((p["max_txid"] for p in points), default="0")


def wait_replicated(data: Path, past: str, timeout: float = 30) -> None:
    """Until the replica holds a transaction newer than `past` (taken before the writes)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if replica_txid(data) > past:
            return
        time.sleep(0.3)
    raise AssertionError(f"nothing replicated past txid {past} within {timeout} s")


def fieldcards(data: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "server.cli", "--data", str(data), *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def backed_up(tmp_path):
    """A server replicating to a file replica, with an admin and a rep."""
    data = tmp_path / "data"
    proc, url = start_server(data)
    srv = Server(url, data, proc)
    srv.user("admin", "admin")
    srv.user("rep1")
    yield srv
    for device in srv.devices:
        device.close()
    stop_server(srv.proc)


def names_in(db: Path) -> set[str]:
    conn = sqlite3.connect(db)
    try:
        return {r[0] for r in conn.execute("SELECT json_extract(data, '$.name') FROM cards")}
    finally:
        conn.close()


def test_restore_to_a_time_between_two_writes_holds_exactly_the_first(backed_up, tmp_path):
    phone = backed_up.device("rep1", tmp_path)
    mark = replica_txid(backed_up.data)
    phone.create_card(name="First")
    phone.sync()
    wait_replicated(backed_up.data, mark)
    moment = moment_between()
    mark = replica_txid(backed_up.data)
    phone.create_card(name="Second")
    phone.sync()
    wait_replicated(backed_up.data, mark)
    stop_server(backed_up.proc)
    epoch_before = (
        sqlite3.connect(backed_up.data / "fieldcards.db").execute("SELECT value FROM meta WHERE key = 'epoch'").fetchone()[0]
    )

    preview = fieldcards(backed_up.data, "restore", "--to", moment, "--dry-run")
    assert preview.returncode == 0, preview.stderr
    assert '"changes": 1' in preview.stdout  # the second card's creation would be rolled back
    assert names_in(backed_up.data / "fieldcards.db") == {"First", "Second"}  # a dry run writes nothing

    done = fieldcards(backed_up.data, "restore", "--to", moment, "--yes")
    assert done.returncode == 0, done.stderr
    assert names_in(backed_up.data / "fieldcards.db") == {"First"}
    kept = list(backed_up.data.glob("pre-restore-*.db"))
    assert len(kept) == 1 and names_in(kept[0]) == {"First", "Second"}  # the restore can be undone
    epoch_after = (
        sqlite3.connect(backed_up.data / "fieldcards.db").execute("SELECT value FROM meta WHERE key = 'epoch'").fetchone()[0]
    )
    assert epoch_after != epoch_before
    backed_up.proc, backed_up.url = start_server(backed_up.data)


def test_restore_refuses_bad_times_clearly(backed_up):
    stop_server(backed_up.proc)
    bad = fieldcards(backed_up.data, "restore", "--to", "yesterday-ish", "--yes")
    assert bad.returncode == 1 and "RFC 3339" in bad.stderr
    too_early = fieldcards(backed_up.data, "restore", "--to", "2001-01-01T00:00:00Z", "--yes")
    assert too_early.returncode == 1 and len(too_early.stderr.strip().splitlines()) == 1
    no_stdin = fieldcards(backed_up.data, "restore", "--to", "latest")
    assert no_stdin.returncode == 2 and "--yes" in no_stdin.stderr
    backed_up.proc, backed_up.url = start_server(backed_up.data)


def test_running_server_restores_and_devices_bring_back_the_rolled_back_work(backed_up, tmp_path):
    backed_up.user("rep2")
    phone, laptop, other = (
        backed_up.device("rep1", tmp_path),
        backed_up.device("rep1", tmp_path),
        backed_up.device("rep2", tmp_path),
    )
    mark = replica_txid(backed_up.data)
    base = phone.create_card(name="王伟", phones=["13812345678"])
    other.create_card(name="Other Rep's")
    for device in (phone, laptop, other):
        device.sync()
    wait_replicated(backed_up.data, mark)
    moment = moment_between()

    mark = replica_txid(backed_up.data)
    late = phone.create_card(name="After T", tags=["late"])
    laptop.sync()
    laptop.edit_card(base, segment="A")
    phone.add_activity(base, "visit", "拜访")
    other_late = other.create_card(name="Other After T")
    for device in (phone, laptop, other):
        device.sync()
    acknowledged = {m["id"] for d in (phone, laptop, other) for m in d.acknowledged()}
    wait_replicated(backed_up.data, mark)

    with backed_up.client("admin") as admin:
        preview = admin.post("/api/v1/admin/restore", json={"to": moment, "dry_run": True})
        assert preview.status_code == 200, preview.text
        assert preview.json()["preview"]["rolled_back"]["changes"] >= 3
        assert admin.post("/api/v1/admin/restore", json={"to": "not a time"}).status_code == 400
        with backed_up.client("rep1") as rep:
            assert rep.post("/api/v1/admin/restore", json={"to": moment}).status_code == 403
        done = admin.post("/api/v1/admin/restore", json={"to": moment}, timeout=120)
        assert done.status_code == 200, done.text
        with backed_up.client("rep1") as rep:
            assert rep.get(f"/api/v1/cards/{late}").status_code == 404  # really rolled back
        status = admin.get("/api/v1/admin/backup", params={"fresh": "1"}).json()
        assert {d["id"] for d in status["last_restore"]["devices_not_synced"]} == {
            phone.device_id,
            laptop.device_id,
            other.device_id,
        }

        reports = [device.sync() for device in (phone, laptop, other)]
        assert all(report.reset for report in reports)
        for device in (phone, laptop, other):
            device.sync()
        status = admin.get("/api/v1/admin/backup", params={"fresh": "1"}).json()
        assert status["last_restore"]["devices_not_synced"] == []
        assert status["running"] is True
        entries = admin.get("/api/v1/audit").json()["audit"]
        assert [(e["actor"], e["action"], e["target"]) for e in entries][-2:] == [
            ("admin", "backup.restore", moment),
            ("admin", "backup.reapply", moment),
        ]

    with backed_up.client("rep1") as rep:
        card = rep.get(f"/api/v1/cards/{base}").json()
        assert card["card"]["segment"] == "A" and [a["text"] for a in card["activities"]] == ["拜访"]
        assert rep.get(f"/api/v1/cards/{late}").json()["card"]["tags"] == ["late"]
        assert len(rep.get("/api/v1/cards").json()["cards"]) == 2  # no duplicates
    with backed_up.client("rep2") as rep:
        assert rep.get(f"/api/v1/cards/{other_late}").status_code == 200
    assert phone.cards() == laptop.cards()
    recorded = {r[0] for r in sqlite3.connect(backed_up.data / "fieldcards.db").execute("SELECT id FROM mutations")}
    assert acknowledged <= recorded
    assert httpx.get(backed_up.url + "/readyz").status_code == 200


def test_drill_passes_on_a_healthy_replica_and_fails_on_a_corrupted_one(backed_up, tmp_path):
    phone = backed_up.device("rep1", tmp_path)
    mark = replica_txid(backed_up.data)
    for n in range(3):
        phone.create_card(name=f"Drill {n}")
    phone.sync()
    wait_replicated(backed_up.data, mark)
    passed = fieldcards(backed_up.data, "drill", "--json")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert '"ok": true' in passed.stdout and '"cards": 3' in passed.stdout
    with backed_up.client("admin") as admin:
        status = admin.get("/api/v1/admin/backup", params={"fresh": "1"}).json()
    assert status["last_drill"]["ok"] is True and status["warnings"] == []

    stop_server(backed_up.proc)
    for ltx in (backed_up.data / "replica").rglob("*.ltx"):
        raw = bytearray(ltx.read_bytes())
        raw[len(raw) // 2 :] = b"\x00garbage" * (len(raw) // 16 + 1)
        ltx.write_bytes(bytes(raw[: len(raw)]))
    failed = fieldcards(backed_up.data, "drill")
    assert failed.returncode == 1
    assert failed.stdout.startswith("drill FAILED: ")
    backed_up.proc, backed_up.url = start_server(backed_up.data)
    with backed_up.client("admin") as admin:
        status = admin.get("/api/v1/admin/backup", params={"fresh": "1"}).json()
    assert status["last_drill"]["ok"] is False
    assert any("drill failed" in w for w in status["warnings"])


def test_kill_9_under_write_load_loses_no_acknowledged_write_and_replication_resumes(backed_up, tmp_path):
    token = backed_up.tokens["rep1"]
    acknowledged: list[str] = []
    stop = threading.Event()

    def write() -> None:
        with httpx.Client(base_url=backed_up.url, headers={"authorization": f"Bearer {token}"}, timeout=10) as c:
            for n in range(2000):
                if stop.is_set():
                    return
                card = str(uuid.uuid4())
                try:
                    r = c.post(
                        "/api/v1/sync",
                        json={
                            "device": "load",
                            "limit": 1,
                            "mutations": [
                                {
                                    "id": card,
                                    "op": "card.put",
                                    "card": card,
                                    "at": f"{int(time.time() * 1000)}-0000-load",
                                    "fields": {"name": f"Load {n}"},
                                }
                            ],
                        },
                    )
                except httpx.HTTPError:
                    return
                if r.status_code == 200 and r.json()["results"][0]["status"] == "applied":
                    acknowledged.append(card)

    writer = threading.Thread(target=write)
    writer.start()
    time.sleep(2.0)
    os.kill(backed_up.proc.pid, signal.SIGKILL)
    backed_up.proc.wait()
    stop.set()
    writer.join()
    assert len(acknowledged) > 10
    time.sleep(0.5)
    orphans = subprocess.run(["pgrep", "-f", f"litestream replicate.*{backed_up.data}"], capture_output=True, text=True)
    lingering = subprocess.run(["pgrep", "-af", "litestream replicate"], capture_output=True, text=True).stdout

    backed_up.proc, backed_up.url = start_server(backed_up.data)
    with backed_up.client("rep1") as c:
        cards, after = set(), None
        while True:
            page = c.get("/api/v1/cards", params={"limit": 1000, **({"after": after} if after else {})}).json()
            cards |= {card["id"] for card in page["cards"]}
            after = page["next"]
            if not after:
                break
    assert set(acknowledged) <= cards
    assert orphans.returncode == 1 or str(backed_up.data) not in lingering  # Litestream died with the server
    phone = backed_up.device("rep1", tmp_path)
    mark = replica_txid(backed_up.data)
    phone.create_card(name="After the crash")
    phone.sync()
    wait_replicated(backed_up.data, mark)
    deadline = time.time() + 15
    while httpx.get(backed_up.url + "/readyz").status_code != 200 and time.time() < deadline:
        time.sleep(0.3)
    assert httpx.get(backed_up.url + "/readyz").status_code == 200
