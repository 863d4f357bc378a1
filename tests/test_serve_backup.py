"""`fieldcards serve` runs under Litestream replication by default (the real binary); without it,
SQLite checkpoints the WAL itself."""

from __future__ import annotations

import time
import uuid

import httpx

from sync.db import Store
from sync.people.users import add_user, create_token
from tests.conftest import App, start_server, stop_server


def test_serve_replicates_to_a_file_replica_and_is_ready(tmp_path):
    data = tmp_path / "data"
    proc, url = start_server(data)
    try:
        st = Store(data / "fieldcards.db")
        add_user(st, "admin", "admin")
        token = create_token(st, "admin")
        st.close()
        card = str(uuid.uuid4())
        r = httpx.post(
            url + "/api/v1/sync",
            headers={"authorization": f"Bearer {token}"},
            json={
                "device": "d",
                "mutations": [
                    {"id": "m", "op": "card.put", "card": card, "at": "1763971200123-0000-d", "fields": {"name": "Replicated"}}
                ],
            },
        )
        assert r.status_code == 200
        deadline = time.time() + 20
        replica = data / "replica"
        while time.time() < deadline and not list(replica.rglob("*.ltx")):
            time.sleep(0.2)
        assert list(replica.rglob("*.ltx")), "no LTX file reached the replica"
        ready = httpx.get(url + "/readyz")
        assert ready.status_code == 200 and ready.json()["backup"] is True
    finally:
        output = stop_server(proc)
    assert proc.returncode == 0, output


def test_no_backup_is_ready_without_litestream(tmp_path):
    proc, url = start_server(tmp_path / "data", "--no-backup")
    try:
        ready = httpx.get(url + "/readyz")
        assert ready.status_code == 200 and ready.json()["backup"] is False
        assert not (tmp_path / "data" / "replica").exists()
    finally:
        stop_server(proc)


def test_without_backup_the_wal_is_checkpointed_by_sqlite(app: App):
    """With no Litestream to own checkpoints, the WAL must not grow without bound. (The app
    in-process without replication: what `serve --no-backup` runs.)"""
    app.user("office", "office")
    with app.client("office") as c:
        for batch in range(8):
            mutations = [
                {
                    "id": str(uuid.uuid4()),
                    "op": "card.put",
                    "card": str(uuid.uuid4()),
                    "at": f"1763971200123-{batch:04d}-d",
                    "fields": {"name": "x" * 200, "notes": "n" * 3000},
                }
                for _ in range(500)
            ]
            assert c.post("/api/v1/sync", json={"device": "d", "limit": 1, "mutations": mutations}).status_code == 200
    wal = app.data / "fieldcards.db-wal"
    # 4,000 cards of ~3 KB wrote well over 12 MB; checkpoints keep the WAL near 1,000 pages.
    assert wal.stat().st_size < 12 * 1024 * 1024
