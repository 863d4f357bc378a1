"""Custom fields: defined by an admin, in the schema, validated on sync (a missing required field is
rejected with its path), exported, imported; removing one hides it and keeps stored values."""

from __future__ import annotations

import io
import uuid

from openpyxl import Workbook

from tests.conftest import App

FIELDS = [
    {
        "key": "level",
        "label": {"en": "Customer level", "zh-CN": "客户级别"},
        "type": "choice",
        "choices": ["金牌", "银牌"],
        "required": True,
    },
    {"key": "budget", "label": {"en": "Budget", "zh-CN": "预算"}, "type": "number"},
    {"key": "wechat", "label": {"en": "WeChat", "zh-CN": "微信"}, "type": "text", "pattern": "[A-Za-z][-_A-Za-z0-9]{5,19}"},
    {"key": "products", "label": {"en": "Products", "zh-CN": "产品"}, "type": "choices", "choices": ["软件", "硬件", "服务"]},
    {"key": "met_on", "label": {"en": "First met", "zh-CN": "初次见面"}, "type": "date"},
]


def put(device_id: str, fields: dict, card: str | None = None) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "op": "card.put",
        "card": card or str(uuid.uuid4()),
        "at": "1763971200123-0000-" + device_id,
        "fields": fields,
    }


def test_custom_fields_from_template_to_sync_export_and_import(app: App):
    app.user("admin", "admin")
    app.user("office", "office")
    app.user("rep1")
    with app.client("admin") as admin, app.client("rep1") as rep, app.client("office") as office:
        assert rep.put("/api/v1/template", json={"custom_fields": FIELDS}).status_code == 403
        bad = admin.put("/api/v1/template", json={"custom_fields": [{"key": "Bad Key", "label": {"en": "x"}, "type": "colour"}]})
        assert bad.status_code == 400
        assert {f["path"] for f in bad.json()["error"]["fields"]} >= {
            "custom_fields[0].key",
            "custom_fields[0].label",
            "custom_fields[0].type",
        }
        saved = admin.put(
            "/api/v1/template",
            json={"custom_fields": FIELDS, "industries": ["制造", "零售"], "regions": ["华东"], "tags": ["vip"]},
        )
        assert saved.status_code == 200, saved.text
        options = rep.get("/api/v1/schema").json()["options"]
        assert [f["key"] for f in options["custom_fields"]] == [f["key"] for f in FIELDS]
        assert options["industries"] == ["制造", "零售"]

        missing = put("d1", {"name": "王伟"})
        wrong = put(
            "d1", {"name": "李娜", "custom": {"level": "铜牌", "wechat": "1x", "budget": "lots", "products": ["软件", "飞机"]}}
        )
        good = put(
            "d1",
            {
                "name": "张三",
                "custom": {
                    "level": "金牌",
                    "budget": 50000,
                    "wechat": "zhang_san88",
                    "products": ["软件", "服务"],
                    "met_on": "2026-03-01",
                },
            },
        )
        answer = rep.post("/api/v1/sync", json={"device": "d1", "mutations": [missing, wrong, good]}).json()
        first, second, third = answer["results"]
        assert first["status"] == "rejected" and first["errors"] == [{"path": "fields.custom.level", "message": "required"}]
        assert second["status"] == "rejected"
        assert {e["path"] for e in second["errors"]} == {
            "fields.custom.level",
            "fields.custom.wechat",
            "fields.custom.budget",
            "fields.custom.products",
        }
        assert third["status"] == "applied" and third["card"]["custom"]["budget"] == 50000

        exported = office.get("/api/v1/export", params={"format": "xlsx", "lang": "zh-CN"})
        again = office.post("/api/v1/imports", files={"file": ("x.xlsx", exported.content)}, data={"mode": "upsert"})
        assert (again.json()["create"], again.json()["update"]) == (0, 0), again.json()

        book = Workbook()
        book.active.append(["姓名", "手机", "客户级别", "预算", "产品"])
        book.active.append(["赵六", "13812345678", "银牌", "1,200", "硬件、服务"])
        book.active.append(["钱七", "13812345679", "", "", ""])
        out = io.BytesIO()
        book.save(out)
        imported = office.post("/api/v1/imports", files={"file": ("c.xlsx", out.getvalue())}, data={"mode": "upsert"})
        body = imported.json()
        assert body["create"] == 1 and body["mapping"]["客户级别"] == "custom.level"
        assert [(e["row"], e["column"], e["code"]) for e in body["errors"]] == [(3, "客户级别", "required")]
        zhao = [c for c in office.get("/api/v1/cards", params={"q": "赵六"}).json()["cards"]][0]
        assert zhao["custom"] == {"level": "银牌", "budget": 1200, "products": ["硬件", "服务"]}

        # Removing a field hides it; stored values stay and old devices may still send it.
        assert admin.put("/api/v1/template", json={"custom_fields": FIELDS[:1] + FIELDS[2:]}).status_code == 200
        assert "budget" not in [f["key"] for f in rep.get("/api/v1/schema").json()["options"]["custom_fields"]]
        card = third["card"]
        assert rep.get(f"/api/v1/cards/{card['id']}").json()["card"]["custom"]["budget"] == 50000
        edit = {**put("d1", {"custom": {"budget": 60000}}, card["id"]), "was": {"custom": {"budget": 50000}}}
        assert rep.post("/api/v1/sync", json={"device": "d1", "mutations": [edit]}).json()["results"][0]["status"] == "applied"
        audit = [e["action"] for e in admin.get("/api/v1/audit").json()["audit"]]
        assert audit.count("template.update") == 2
