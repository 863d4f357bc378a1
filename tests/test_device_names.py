"""PUT /api/v1/devices/{id}/name: a user names their own phone ("王伟的华为") so that a lost one is
recognised in the admin's device list; another user's device is not found; bad names are 4xx
with the field."""

from __future__ import annotations

import uuid

from starlette.testclient import TestClient

from server.app import create_app
from server.config import Config
from sync.db import Store
from sync.people.users import add_user, create_token


def test_a_user_names_their_own_device_and_the_admin_sees_the_name(tmp_path):
    config = Config(data_dir=tmp_path, backup=False, webhook_poll_s=0.05)  # a quick stop (conftest QUICK_STOP)
    st = Store(config.db_path)
    tokens = {}
    for name, role in (("admin", "admin"), ("wang.wei", "rep"), ("li.na", "rep")):
        add_user(st, name, role)
        tokens[name] = {"authorization": f"Bearer {create_token(st, name)}"}
    st.close()
    phone = str(uuid.uuid4())
    with TestClient(create_app(config, replicate=False)) as client:
        synced = client.post(
            "/api/v1/sync",
            json={"device": phone, "epoch": None, "cursor": None, "mutations": []},
            headers=tokens["wang.wei"] | {"user-agent": "Mozilla/5.0 (Linux; Android 14; Pixel 7) Chrome/131.0"},
        )
        assert synced.status_code == 200, synced.text
        named = client.put(f"/api/v1/devices/{phone}/name", json={"name": "  王伟的 华为  "}, headers=tokens["wang.wei"])
        assert named.status_code == 200 and named.json() == {"device": phone, "name": "王伟的 华为"}
        listed = client.get("/api/v1/devices", headers=tokens["admin"]).json()["devices"]
        assert [(d["id"], d["name"]) for d in listed] == [(phone, "王伟的 华为")]
        assert "Pixel 7" in listed[0]["user_agent"]

        other = client.put(f"/api/v1/devices/{phone}/name", json={"name": "mine now"}, headers=tokens["li.na"])
        assert other.status_code == 404
        for bad in ({"name": "x" * 61}, {"name": 5}, {"name": "a\u200bb"}, {"nom": "x"}):
            answer = client.put(f"/api/v1/devices/{phone}/name", json=bad, headers=tokens["wang.wei"])
            assert answer.status_code == 400 and answer.json()["error"]["fields"][0]["path"] == "name", (bad, answer.text)
        cleared = client.put(f"/api/v1/devices/{phone}/name", json={"name": ""}, headers=tokens["wang.wei"])
        assert cleared.json()["name"] is None
