"""Spreadsheets in and out over HTTP: XLSX and GB18030 CSV with Chinese headers, dry runs, upsert
by phone, undo (with a conflict for a field changed since), export → import changing nothing, and
bad files refused clearly. In-process over the real app (the `app` fixture), the reference client's
phones included."""

from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
import uuid

import httpx
import pytest
from openpyxl import Workbook

from sync import db
from sync.access import User
from sync.db import Store
from sync.office import importer
from sync.protocol.engine import Engine
from sync.protocol.hlc import Clock

from tests.conftest import App, Caller

HEADERS = ["姓名", "公司", "职位", "手机", "邮箱", "地区", "客户等级", "标签", "生日", "下次跟进", "备注"]


def xlsx(rows: list[list[object]], headers: list[str] = HEADERS, merge: str | None = None) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    if merge:
        sheet.merge_cells(merge)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def gb18030_csv(rows: list[list[str]], headers: list[str] = HEADERS) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    writer.writerows(rows)
    return out.getvalue().encode("gb18030")


def upload(client: Caller | httpx.Client, name: str, data: bytes, **form: str) -> httpx.Response:
    return client.post("/api/v1/imports", files={"file": (name, data)}, data=form, timeout=120)


def cards_by_name(client: Caller | httpx.Client) -> dict[str, dict]:
    return {c["name"]: c for c in client.get("/api/v1/cards", params={"limit": 1000}).json()["cards"]}


def test_xlsx_with_chinese_headers_dry_run_then_import(app: App):
    app.user("office", "office")
    data = xlsx(
        [
            [
                "王伟",
                "上海贸易",
                "经理",
                13812345678,
                "Wang@Example.CN",
                "上海",
                "a",
                "vip、重点",
                "1980-05-06",
                "2026-12-01",
                "老客户",
            ],
            ["李娜", "北京科技", None, "139 0000 1111", None, "北京", "B", None, None, None, None],
            ["坏日期", None, None, None, None, None, None, None, "2026-02-30", None, None],
            ["公式", None, None, None, None, None, None, None, None, None, "=1+1"],
        ]
    )
    with app.client("office") as office:
        dry = upload(office, "客户.xlsx", data, dry_run="true", mode="upsert")
        assert dry.status_code == 200, dry.text
        plan = dry.json()
        # A bad optional cell costs the row nothing: the row is imported without it, with a warning.
        assert (plan["rows"], plan["create"], plan["update"], plan["skip"]) == (4, 4, 0, 0)
        assert plan["mapping"]["手机"] == "phones" and plan["mapping"]["客户等级"] == "segment"
        assert plan["errors"] == []
        assert {
            "row": 4,
            "column": "生日",
            "value": "2026-02-30",
            "code": "not_a_date",
            "message": '生日 "2026-02-30" is not a date; imported without it',
        } in plan["warnings"]
        assert any(w["row"] == 5 and w["column"] == "备注" and w["code"] == "formula" for w in plan["warnings"])
        assert office.get("/api/v1/cards").json()["cards"] == []  # a dry run writes nothing

        done = upload(office, "客户.xlsx", data, mode="upsert")
        assert done.status_code == 200, done.text
        assert done.json()["import"] and done.json()["create"] == 4
        cards = cards_by_name(office)
        assert set(cards) == {"王伟", "李娜", "坏日期", "公式"}
        assert cards["坏日期"]["birthday"] is None and cards["公式"]["notes"] is None
        wang = cards["王伟"]
        assert wang["phones"] == ["+8613812345678"] and wang["emails"] == ["Wang@example.cn"]
        assert (wang["segment"], wang["tags"], wang["birthday"], wang["follow_up"]) == (
            "A",
            ["vip", "重点"],
            "1980-05-06",
            "2026-12-01",
        )
        assert wang["owner"] == "office"
        assert cards["李娜"]["phones"] == ["+8613900001111"]
        history = office.get(f"/api/v1/cards/{wang['id']}/history").json()["history"]
        assert history[0]["device"].startswith("import:")
        audit_actions = [e["action"] for e in server_audit(app)]
        assert "import" in audit_actions


def server_audit(app: App) -> list[dict]:
    if "admin" not in app.tokens:
        app.user("admin", "admin")
    with app.client("admin") as admin:
        return admin.get("/api/v1/audit").json()["audit"]


def test_gb18030_upsert_by_phone_then_undo_with_a_conflict(app: App, tmp_path):
    app.user("office", "office")
    app.user("rep1")
    phone = app.device("rep1", tmp_path)
    known = phone.create_card(name="张三", phones=["13811112222"], company="旧公司", tags=["a"])
    untouched = phone.create_card(name="赵六", phones=["13833334444"])
    phone.sync()
    remembered = idempotency_records(app)
    with app.client("office") as office:
        before = {c["id"]: c for c in office.get("/api/v1/cards").json()["cards"]}
        data = gb18030_csv(
            [
                ["张三", "新公司", "", "+86 138 1111 2222", "", "", "", "b", "", "", ""],
                ["新客户", "某公司", "", "13855556666", "", "", "", "", "", "", ""],
            ]
        )
        done = upload(office, "客户.csv", data, match="phone", mode="upsert")
        assert done.status_code == 200, done.text
        assert (done.json()["create"], done.json()["update"]) == (1, 1)
        import_id = done.json()["import"]
        updated = office.get(f"/api/v1/cards/{known}").json()["card"]
        assert updated["company"] == "新公司" and updated["tags"] == ["a", "b"]
        assert office.get(f"/api/v1/cards/{untouched}").json()["card"] == before[untouched]

        # The rep changes the company again after the import: the undo must not overwrite it.
        phone.sync()
        phone.edit_card(known, company="代表改的公司")
        phone.sync()
        undone = office.post(f"/api/v1/imports/{import_id}/undo")
        assert undone.status_code == 200, undone.text
        assert undone.json()["conflicts"] == 1
        after = office.get(f"/api/v1/cards/{known}").json()["card"]
        assert after["company"] == "代表改的公司" and after["tags"] == ["a"]
        conflicts = office.get("/api/v1/conflicts", params={"status": "open"}).json()["conflicts"]
        assert [(c["card"], c["field"], c["kept"], c["other"]) for c in conflicts] == [
            (known, "company", "代表改的公司", "旧公司")
        ]
        names = set(cards_by_name(office))
        assert names == {"张三", "赵六"}  # the created card is gone again
        again = office.post(f"/api/v1/imports/{import_id}/undo")
        assert again.status_code == 400
    # The import's and the undo's own mutations keep no idempotency record (their import record
    # keeps them from running twice); the phone's two later syncs keep theirs.
    now = idempotency_records(app)
    assert "office" not in now and now["rep1"] == remembered["rep1"] + 1, (remembered, now)


def idempotency_records(app: App) -> dict[str, int]:
    """How many idempotency records each user has."""
    conn = sqlite3.connect(app.data / "fieldcards.db")
    try:
        return dict(conn.execute("SELECT user, count(*) FROM mutations GROUP BY user").fetchall())
    finally:
        conn.close()


def test_undo_restores_exactly_the_previous_state(app: App):
    app.user("office", "office")
    with app.client("office") as office:
        first = upload(office, "a.xlsx", xlsx([["王伟", "甲公司", "经理", "13812345678", "", "", "A", "", "", "", "note"]]))
        assert first.status_code == 200
        before = cards_by_name(office)["王伟"]
        second = upload(
            office, "b.xlsx", xlsx([["王伟", "乙公司", "总监", "13812345678", "w@x.cn", "广州", "B", "vip", "", "", "new note"]])
        )
        assert second.json()["update"] == 1
        assert office.post(f"/api/v1/imports/{second.json()['import']}/undo").status_code == 200
        after = cards_by_name(office)["王伟"]
        keep = lambda card: {k: v for k, v in card.items() if k not in ("version", "updated_at")}  # noqa: E731
        assert keep(after) == keep(before)


def test_export_then_import_changes_nothing_and_reps_export_only_their_cards(app: App, tmp_path):
    app.user("office", "office")
    app.user("rep1")
    app.user("rep2")
    for rep, name in (("rep1", "王伟"), ("rep2", "李娜")):
        device = app.device(rep, tmp_path)
        device.create_card(
            name=name, phones=["138" + str(abs(hash(name)))[:8]], tags=["vip", "新"], notes="第一行\n=不是公式", company="+上海"
        )
        device.sync()
    with app.client("office") as office:
        for fmt, lang in (("csv", "en"), ("xlsx", "zh-CN")):
            exported = office.get("/api/v1/export", params={"format": fmt, "lang": lang})
            assert exported.status_code == 200, exported.text
            if fmt == "csv":
                assert exported.content.startswith(b"\xef\xbb\xbf")
                assert "'=不是公式" not in exported.content.decode("utf-8-sig")  # only cells that start a formula
            again = upload(office, f"export.{fmt}", exported.content, mode="upsert", match="phone,email")
            assert again.status_code == 200, again.text
            assert (again.json()["create"], again.json()["update"]) == (0, 0), again.json()
        none = office.get("/api/v1/export", params={"format": "csv", "segment": "none"}).content.decode("utf-8-sig")
        assert "王伟" in none and "李娜" in none  # neither has a segment
        assert "王伟" not in office.get("/api/v1/export", params={"format": "csv", "segment": "A"}).content.decode("utf-8-sig")
    with app.client("rep1") as rep:
        mine = rep.get("/api/v1/export", params={"format": "csv"}).content.decode("utf-8-sig")
        assert "王伟" in mine and "李娜" not in mine
        assert upload(rep, "x.csv", b"name\nA\n").status_code == 403
    assert sum(e["action"] == "export" for e in server_audit(app)) == 5


def test_bad_files_get_clear_errors_and_change_nothing(app: App):
    app.user("office", "office")
    with app.client("office") as office:
        cases = [
            ("empty.csv", b"", "empty"),
            ("notes.txt", b"name\nA\n", ".csv or .xlsx"),
            ("fake.xlsx", b"PK\x03\x04 not really a workbook", "not a valid Excel"),
            ("binary.csv", os.urandom(4096), ""),
            ("merged.xlsx", xlsx([["A", "B"]], merge="A2:B2"), "merged cells"),
        ]
        for name, data, words in cases:
            answer = upload(office, name, data)
            assert answer.status_code == 400, (name, answer.status_code, answer.text)
            body = answer.json()["error"]
            assert body["code"] == "invalid_request" and words in str(body), (name, body)
        unmapped = upload(office, "headers.csv", "foo,bar\n1,2\n".encode())
        assert unmapped.status_code == 400 and "name" in unmapped.json()["error"]["message"]
        preview = upload(office, "headers.csv", "foo,bar\n1,2\n".encode(), dry_run="true")
        assert preview.status_code == 200 and preview.json()["headers"] == ["foo", "bar"]  # shown, so they can be mapped
        assert preview.json()["skip"] == 1 and "name" in preview.json()["errors"][0]["message"]
        huge = upload(office, "huge.csv", os.urandom(6 * 1024 * 1024))
        assert huge.status_code == 413
        no_file = office.post("/api/v1/imports", data={"mode": "upsert"})
        assert no_file.status_code == 400
        bad_mode = upload(office, "a.csv", "姓名\n王伟\n".encode(), mode="replace")
        assert bad_mode.status_code == 400 and bad_mode.json()["error"]["fields"][0]["path"] == "mode"
        assert office.get("/api/v1/cards").json()["cards"] == []


@pytest.mark.parametrize("journaled", ["mutations beside the todo", "the clock in each todo entry"])
def test_a_journaled_import_is_replayed_whole_in_either_form_and_undone(tmp_path, journaled):
    """A restore re-applies an import from its journal entry. Entries written before the todo
    entries held their clock carry the mutations beside them: both forms replay the same."""
    store = Store(tmp_path / "fieldcards.db")
    engine, office = Engine(store), User("office", "office")
    import_id, card, at = str(uuid.uuid4()), str(uuid.uuid4()), Clock("old").now()
    fields = {"name": "旧日志", "phones": ["+8613800001111"]}
    mutation_id = str(uuid.uuid5(uuid.UUID(import_id), "row-2"))
    job = {
        "import": import_id,
        "filename": "old.csv",
        "mode": "create",
        "match": ["phone"],
        "rows": 1,
        "counts": {"create": 1, "update": 0, "skip": 0},
        "plan_errors": 0,
        "warnings": 0,
        "problems": None,
    }
    if journaled == "mutations beside the todo":
        job["todo"] = [[2, card, "create", fields, None]]
        job["mutations"] = [{"id": mutation_id, "op": "card.put", "card": card, "at": at, "fields": fields}]
    else:
        job["todo"] = [[2, card, "create", fields, None, at]]
    try:
        importer.replay_import(engine, office, job)
        importer.replay_import(engine, office, job)  # already there: nothing happens
        with store.read() as conn:
            assert db.card_json(conn, card)["name"] == "旧日志"
            assert mutation_id in db.mutation_ids_in_history(conn)
        assert importer.undo_import(engine, office, import_id)["statuses"] == {"applied": 1}
        with store.read() as conn:
            assert db.card_json(conn, card)["deleted"] is True
    finally:
        store.close()


def test_undoing_an_import_that_does_not_exist_is_a_404_whatever_the_id(app: App):
    app.user("office", "office")
    with app.client("office") as office:
        for import_id in ("0", "not-a-uuid", "00000000-0000-0000-0000-000000000000"):
            answer = office.post(f"/api/v1/imports/{import_id}/undo")
            assert answer.status_code == 404, (import_id, answer.text)
            assert answer.json()["error"]["code"] == "not_found"


def test_an_import_validates_again_when_the_template_changed_after_its_plan(tmp_path):
    """A plan's values were validated once, under the template of that moment, and the import does
    not validate them a second time; a template changed in between (here: a new required field)
    makes the import check every row again, under the template it writes with."""
    from sync.cards import template
    from sync.office.spreadsheet import read_table

    store = Store(tmp_path / "fieldcards.db")
    engine, office, admin = Engine(store), User("office", "office"), User("admin", "admin")
    sheet = "姓名,手机\n张三,13800001111\n李四,13800002222\n".encode()
    try:
        quiet = importer.plan_import(engine, office, read_table("a.csv", sheet), mapping=None, match=["phone"], mode="create")
        done = importer.run_import(engine, office, quiet, filename="a.csv", mode="create", match=["phone"])
        assert done["create"] == 2 and done["errors"] == []

        other = "姓名,手机\n王五,13800003333\n".encode()
        plan = importer.plan_import(engine, office, read_table("b.csv", other), mapping=None, match=["phone"], mode="create")
        template.save(
            store,
            admin,
            {
                "custom_fields": [
                    {"key": "contract", "label": {"en": "Contract", "zh-CN": "合同号"}, "type": "text", "required": True}
                ]
            },
        )
        late = importer.run_import(engine, office, plan, filename="b.csv", mode="create", match=["phone"])
        assert [e["code"] for e in late["errors"]] == ["rejected"]
        assert late["errors"][0]["row"] == 2 and "required" in late["errors"][0]["message"]
        with store.read() as conn:
            names = {card["name"] for card in db.live_cards(conn, None)}
        assert names == {"张三", "李四"}
    finally:
        store.close()


def test_a_plan_keeps_each_rows_values_as_json_text_and_imports_the_same_values(tmp_path):
    """A plan holds each row's values as their JSON text (50,000 rows of dicts and lists held ~50 MB
    until the commit); read back they are the values validation made, a fresh copy each time, and
    the cards get them."""
    from sync.office.spreadsheet import read_table

    store = Store(tmp_path / "fieldcards.db")
    engine, office = Engine(store), User("office", "office")
    sheet = "姓名,公司,手机,地区,客户等级,标签\n张三,星河贸易,13800001111,上海,A,vip;新\n李四,星河贸易,13800002222,上海,A,vip\n".encode()
    try:
        plan = importer.plan_import(engine, office, read_table("a.csv", sheet), mapping=None, match=["phone"], mode="create")
        first, second = plan.rows
        assert isinstance(first.fields_json, bytes) and first.was_json == b"{}"
        assert first.fields == {
            "name": "张三",
            "company": "星河贸易",
            "phones": ["+8613800001111"],
            "region": "上海",
            "segment": "A",
            "tags": ["vip", "新"],
        }
        assert first.fields is not first.fields and first.fields["tags"] is not first.fields["tags"]
        assert second.public()["fields"]["phones"] == ["+8613800002222"]
        importer.run_import(engine, office, plan, filename="a.csv", mode="create", match=["phone"])
        with store.read() as conn:
            cards = {card["name"]: card for card in db.live_cards(conn, None)}
        assert (cards["张三"]["region"], cards["张三"]["company"], cards["张三"]["tags"]) == ("上海", "星河贸易", ["vip", "新"])
        assert (cards["李四"]["segment"], cards["李四"]["tags"]) == ("A", ["vip"])
    finally:
        store.close()


def test_an_imports_journal_entry_replays_into_the_same_cards_on_another_database(tmp_path):
    """The journal entry an import writes (its job, and a todo entry per row made from each row's
    kept JSON) is what a restore re-applies: replayed on a database without the import, it makes
    the same cards, field for field, with the same mutation ids, and can be undone there."""
    from sync.office.spreadsheet import read_table

    sheet = (
        "姓名,公司,手机,邮箱,标签,备注\n"
        '张三,星河贸易,13800001111,z@example.cn,"vip;新","一行\n两行 ""引号"" \\ 反斜杠"\n'
        "李四,,13800002222,,,\n"
        "无名氏,,not a phone,bad@,,\n"
    ).encode()
    first, second = Store(tmp_path / "first.db"), Store(tmp_path / "second.db")
    office = User("office", "office")
    try:
        engine = Engine(first)
        plan = importer.plan_import(engine, office, read_table("a.csv", sheet), mapping=None, match=["phone"], mode="create")
        done = importer.run_import(engine, office, plan, filename="a.csv", mode="create", match=["phone"])
        with first.read() as conn:
            (payload,) = conn.execute("SELECT payload FROM journal WHERE kind = 'import'").fetchone()
            made = {card["id"]: card for card in db.live_cards(conn, None)}
            made_by = db.mutation_ids_in_history(conn)
        job = json.loads(payload)
        assert job["import"] == done["import"] and len(job["todo"]) == done["create"] == 3
        assert [entry[:3] for entry in job["todo"]] == [[r.row, r.card, "create"] for r in plan.rows]
        assert [entry[3] for entry in job["todo"]] == [r.fields for r in plan.rows]

        importer.replay_import(Engine(second), office, job)
        with second.read() as conn:
            again = {card["id"]: card for card in db.live_cards(conn, None)}
            assert db.mutation_ids_in_history(conn) == made_by
        keep = ("name", "company", "phones", "emails", "tags", "notes", "owner", "version")
        assert {i: {k: c[k] for k in keep} for i, c in again.items()} == {i: {k: c[k] for k in keep} for i, c in made.items()}
        assert importer.undo_import(Engine(second), office, done["import"])["statuses"] == {"applied": 3}
    finally:
        first.close()
        second.close()


def test_what_apply_writes_first_commits_with_the_batch_or_not_at_all(tmp_path):
    """An import writes its journal entry before its rows (`Engine.apply(first=…)`), so its text
    is not held on top of everything else: it is in the same transaction, and goes if the batch fails."""
    from sync import journal

    store = Store(tmp_path / "fieldcards.db")
    engine, office = Engine(store), User("office", "office")
    card = str(uuid.uuid4())
    put = {"id": str(uuid.uuid4()), "op": "card.put", "card": card, "at": Clock("t").now(), "fields": {"name": "先写"}}

    def first(conn: sqlite3.Connection) -> None:
        journal.record(conn, office, "import", {"import": "x", "todo": []}, ref="x")

    def fail(conn: sqlite3.Connection, results: list[object]) -> None:
        raise RuntimeError("the import record could not be written")

    try:
        with pytest.raises(RuntimeError):
            engine.apply(office, "import:x", [put], first=first, within=fail, remember=False)
        with store.read() as conn:
            assert conn.execute("SELECT count(*) FROM journal").fetchone()[0] == 0
            assert db.card_json(conn, card) is None
        engine.apply(office, "import:x", [put], first=first, remember=False)
        with store.read() as conn:
            assert conn.execute("SELECT kind, ref FROM journal").fetchall() == [("import", "x")]
            assert db.card_json(conn, card)["name"] == "先写"
    finally:
        store.close()


def test_a_plan_may_let_the_files_rows_go_and_keep_those_with_problems(tmp_path):
    """`release_rows`: the parsed rows are not held beside the whole plan (the server's import asks
    it); the problems file still shows each row with a problem as it was."""
    from sync.office.spreadsheet import read_table

    store = Store(tmp_path / "fieldcards.db")
    engine, office = Engine(store), User("office", "office")
    sheet = "姓名,手机,生日\n张三,13800001111,1990-01-01\n,13800002222,\n李四,13800003333,not a date\n".encode()
    try:
        kept_table, released = read_table("a.csv", sheet), read_table("a.csv", sheet)
        whole = importer.plan_import(engine, office, kept_table, mapping=None, match=["phone"], mode="create")
        plan = importer.plan_import(engine, office, released, mapping=None, match=["phone"], mode="create", release_rows=True)
        assert released.rows == [[], [], []] and plan.problem_cells == {3: ["", "13800002222", ""], 4: kept_table.rows[2]}
        as_read = [row[:2] for row in importer.plan_problems(released, plan)["rows"]]  # the card ids differ
        assert as_read == [row[:2] for row in importer.plan_problems(kept_table, whole)["rows"]] and len(as_read) == 2
    finally:
        store.close()
