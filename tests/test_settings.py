"""Admin settings that a restore never rolls back (issue 18): the privacy notice, edited by an admin,
public as JSON and as the page /privacy in both languages; and the lost-phone lock every signed-in
app reads."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sync import db
from sync.db import Store
from tests.test_hostile import Office, app, error_of  # noqa: F401

CSRF = {"x-fieldcards": "1"}


def test_the_admin_edits_the_privacy_notice_and_everyone_reads_it_escaped(app: Office):  # noqa: F811
    default = app.client.get("/api/v1/public/privacy")  # no credentials
    assert default.status_code == 200 and default.json()["custom"] is False
    assert "个人信息" in default.json()["zh-CN"] and "personal information" in default.json()["en"]
    assert app.client.put("/api/v1/admin/privacy", headers=app.as_("office"), json={"en": "x"}).status_code == 403
    text = "Acme Ltd. keeps your card.\nLine two <b>bold?</b>\n\nWrite to privacy@acme.example."
    saved = app.client.put("/api/v1/admin/privacy", headers=app.as_("admin"), json={"en": text, "zh-CN": "本公司保存您的名片。"})
    assert saved.status_code == 200, saved.text
    assert saved.json()["custom"] is True and saved.json()["updated_by"] == "admin"
    public = app.client.get("/api/v1/public/privacy").json()
    assert public["en"] == text and public["zh-CN"] == "本公司保存您的名片。" and "updated_by" not in public
    page = app.client.get("/privacy", params={"lang": "en"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert (
        "<p>Acme Ltd. keeps your card.\nLine two &lt;b&gt;bold?&lt;/b&gt;</p><p>Write to privacy@acme.example.</p>" in page.text
    )
    assert "<script" not in page.text and "script-src 'self'" in page.headers["content-security-policy"]
    chinese = app.client.get("/privacy", headers={"accept-language": "zh-CN,zh;q=0.9"})
    assert '<html lang="zh-CN">' in chinese.text and "本公司保存您的名片。" in chinese.text
    only_en = app.client.put("/api/v1/admin/privacy", headers=app.as_("admin"), json={"en": ""})
    assert only_en.json()["zh-CN"] == "本公司保存您的名片。" and "personal information" in only_en.json()["en"]
    bad = error_of(app.client.put("/api/v1/admin/privacy", headers=app.as_("admin"), json={"en": 5, "fr": "x"}))
    assert bad["fields"][0]["path"] == ""
    bad = error_of(app.client.put("/api/v1/admin/privacy", headers=app.as_("admin"), json={"en": "x" * 20_001}))
    assert bad["fields"][0]["path"] == "en"
    actions = [e["action"] for e in app.client.get("/api/v1/audit", headers=app.as_("admin")).json()["audit"]]
    assert actions.count("privacy.notice") == 2


def test_the_lock_setting_is_the_admins_and_every_app_reads_it(app: Office):  # noqa: F811
    assert app.client.get("/api/v1/settings", headers=app.as_("rep1")).json() == {"lock_after_days": None}
    assert app.client.put("/api/v1/admin/settings", headers=app.as_("office"), json={"lock_after_days": 3}).status_code == 403
    for wrong in (0, 366, 2.5, True, "7"):
        bad = error_of(app.client.put("/api/v1/admin/settings", headers=app.as_("admin"), json={"lock_after_days": wrong}))
        assert bad["fields"][0]["path"] == "lock_after_days", wrong
    assert error_of(app.client.put("/api/v1/admin/settings", headers=app.as_("admin"), json={"days": 3}))["fields"]
    assert app.client.put("/api/v1/admin/settings", headers=app.as_("admin"), json={"lock_after_days": 7}).json() == {
        "lock_after_days": 7
    }
    assert app.client.get("/api/v1/settings", headers=app.as_("rep1")).json() == {"lock_after_days": 7}
    assert app.client.get("/api/v1/settings").status_code == 401
    app.client.put("/api/v1/admin/settings", headers=app.as_("admin"), json={"lock_after_days": None})
    assert app.client.get("/api/v1/settings", headers=app.as_("rep2")).json() == {"lock_after_days": None}


def test_the_notice_and_the_lock_are_copied_across_a_restore(tmp_path: Path):
    live, restored = Store(tmp_path / "live.db"), Store(tmp_path / "restored.db")
    try:
        with restored.write() as conn:  # the old file: an older notice and lock
            db.set_meta(conn, "privacy_notice", '{"en": "old"}')
            db.set_meta(conn, "lock_after_days", "30")
        with live.write() as conn:
            db.set_meta(conn, "privacy_notice", '{"en": "new"}')
            db.set_meta(conn, "lock_after_days", "")  # turned off since
    finally:
        live.close()
        restored.close()
    with sqlite3.connect(tmp_path / "live.db") as source, sqlite3.connect(tmp_path / "restored.db") as target:
        db.copy_access_state(source, target)
        assert db.meta_value(target, "privacy_notice") == '{"en": "new"}'
        assert db.meta_value(target, "lock_after_days") == ""
