"""GET /api/v1/people: every signed-in user can read who is who (wang.wei is 王伟), so screens show
display names, not login names; disabled users stay in it because their cards and activities still
name them."""

from __future__ import annotations

from starlette.testclient import TestClient

from server.app import create_app
from server.config import Config
from sync.db import Store
from sync.people.users import add_user, create_token


def test_any_signed_in_user_reads_display_names_and_nobody_else(tmp_path):
    config = Config(data_dir=tmp_path, backup=False, webhook_poll_s=0.05)  # a quick stop (conftest QUICK_STOP)
    st = Store(config.db_path)
    add_user(st, "admin", "admin")
    add_user(st, "wang.wei", "rep", "王伟")
    add_user(st, "li.na", "rep")  # no display name given: the user name stands in
    rep_token = create_token(st, "wang.wei")
    admin_token = create_token(st, "admin")
    st.close()
    with TestClient(create_app(config, replicate=False)) as client:
        assert client.get("/api/v1/people").status_code == 401
        disabled = client.patch(
            "/api/v1/users/li.na", json={"disabled": True}, headers={"authorization": f"Bearer {admin_token}"}
        )
        assert disabled.status_code == 200, disabled.text
        answer = client.get("/api/v1/people", headers={"authorization": f"Bearer {rep_token}"})
        assert answer.status_code == 200
        assert answer.json()["people"] == [
            {"name": "admin", "display": "admin", "active": True},
            {"name": "li.na", "display": "li.na", "active": False},
            {"name": "wang.wei", "display": "王伟", "active": True},
        ]
