"""Replication to S3 (moto's server on 127.0.0.1) with the real Litestream, and restore from it
after the data directory is lost."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import boto3
import httpx
import pytest

from server.backup.litestream import restore_points
from server.config import Config
from tests.conftest import ROOT, Server, free_port, start_server, stop_server

BUCKET = "fieldcards-test"


@pytest.fixture
def s3_env():
    """A moto S3 server and the environment Litestream and the server need to reach it."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "AWS_CA_BUNDLE"}  # a CA bundle breaks plain-HTTP S3
    env.update(AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="us-east-1")
    moto = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            httpx.get(endpoint, timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.2)
    boto3.client(
        "s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test"
    ).create_bucket(Bucket=BUCKET)
    env["FIELDCARDS_REPLICA_URL"] = f"s3://{BUCKET}/fieldcards?endpoint={endpoint}&region=us-east-1&forcePathStyle=true"
    yield env
    moto.terminate()
    moto.wait(10)


def test_replicates_to_s3_and_restores_after_the_disk_is_lost(tmp_path, s3_env, monkeypatch):
    monkeypatch.delenv("AWS_CA_BUNDLE", raising=False)  # for the litestream calls made from this process
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, s3_env[key])
    data = tmp_path / "data"
    proc, url = start_server(data, env={**s3_env, "AWS_CA_BUNDLE": None})
    server = Server(url, data, proc)
    server.user("rep1")
    phone = server.device("rep1", tmp_path)
    card = phone.create_card(name="存到S3", phones=["13812345678"])
    phone.sync()
    config = Config.load(str(data), env=s3_env)
    deadline = time.time() + 30
    while time.time() < deadline and not restore_points(config):
        time.sleep(0.3)
    time.sleep(2.5)  # the card's own transaction, one sync interval after the first snapshot
    phone.close()
    stop_server(proc)

    shutil.rmtree(data)  # the disk is gone; only the bucket is left
    data.mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "server.cli", "--data", str(data), "restore", "--to", "latest", "--yes"],
        cwd=ROOT,
        env=s3_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    proc, url = start_server(data, "--no-backup")
    try:
        from sync.db import Store
        from sync.people.users import create_token

        st = Store(data / "fieldcards.db")
        token = create_token(st, "rep1")  # the user came back with the database
        st.close()
        got = httpx.get(f"{url}/api/v1/cards/{card}", headers={"authorization": f"Bearer {token}"})
        assert got.status_code == 200 and got.json()["card"]["phones"] == ["+8613812345678"]
    finally:
        stop_server(proc)
