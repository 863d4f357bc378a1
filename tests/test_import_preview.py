"""An import right after its preview uses the preview's plan, only while planning again would give
the same plan (sync/office/previews.py). What shows which plan an import used: the ids of the
cards it creates, which the plan makes and the preview shows."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import App
from tests.test_import import cards_by_name, upload

SHEET = "姓名,公司,手机\n王伟,星河贸易,13800001111\n李娜,北辰科技,13800002222\n".encode()


def created_ids(answer: dict) -> dict[int, str]:
    return {row["row"]: row["card"] for row in answer["preview"] if row["action"] == "create"}


def test_an_import_after_its_preview_creates_the_cards_the_preview_showed(app: App, tmp_path: Path):
    app.user("office", "office")
    app.user("rep1")
    phone = app.device("rep1", tmp_path)
    with app.client("office") as office:
        preview = upload(office, "a.csv", SHEET, dry_run="true")
        assert preview.status_code == 200, preview.text
        shown = created_ids(preview.json())
        assert len(shown) == 2
        # A rep's edit meanwhile that touches nothing the file holds keeps the preview's plan.
        phone.create_card(name="无关客户", phones=["13900009999"])
        phone.sync()
        done = upload(office, "a.csv", SHEET)
        assert done.status_code == 200, done.text
        assert created_ids(done.json()) == shown and done.json()["create"] == 2
        cards = cards_by_name(office)
        assert {cards["王伟"]["id"], cards["李娜"]["id"]} == set(shown.values())
        # Used once: the same import again is planned again, and now matches the cards it made.
        again = upload(office, "a.csv", SHEET)
        assert (again.json()["create"], again.json()["skip"]) == (0, 2), again.text


def test_a_card_made_since_the_preview_with_a_phone_of_the_file_makes_the_import_plan_again(app: App, tmp_path: Path):
    """The preview said 'create' for 李娜; a rep has since made her card with the same phone: the
    import must update that card, not create a second 李娜 from the stale plan."""
    app.user("office", "office")
    app.user("rep1")
    phone = app.device("rep1", tmp_path)
    with app.client("office") as office:
        shown = created_ids(upload(office, "a.csv", SHEET, dry_run="true").json())
        hers = phone.create_card(name="李娜", phones=["+86 138 0000 2222"])
        phone.sync()
        done = upload(office, "a.csv", SHEET, mode="upsert")
        assert done.status_code == 200, done.text
        assert (done.json()["create"], done.json()["update"]) == (1, 1)
        assert created_ids(done.json()) != shown
        li_na = [c for c in office.get("/api/v1/cards", params={"limit": 100}).json()["cards"] if c["name"] == "李娜"]
        assert [c["id"] for c in li_na] == [hers] and li_na[0]["company"] == "北辰科技"


def test_a_preview_serves_only_its_own_user_file_and_choices(app: App):
    app.user("office", "office")
    app.user("office2", "office")
    with app.client("office") as office, app.client("office2") as other:
        shown = created_ids(upload(office, "a.csv", SHEET, dry_run="true").json())
        by_other = upload(other, "a.csv", SHEET)  # another person: planned for them, the preview stays unused
        assert by_other.status_code == 200 and set(created_ids(by_other.json()).values()).isdisjoint(shown.values())

    with app.client("office") as office:
        other_sheet = SHEET.replace("13800001111".encode(), "13800003333".encode())
        shown = created_ids(upload(office, "b.csv", other_sheet, dry_run="true").json())
        changed_mode = upload(office, "b.csv", other_sheet, mode="create")  # other choices than the preview's
        assert changed_mode.status_code == 200
        assert created_ids(changed_mode.json()).get(2) not in shown.values()


def test_a_template_or_people_change_since_the_preview_makes_the_import_plan_again(app: App):
    app.user("office", "office")
    app.user("admin", "admin")
    with app.client("office") as office, app.client("admin") as admin:
        shown = created_ids(upload(office, "a.csv", SHEET, dry_run="true").json())
        app.user("newrep")  # someone an owner column could now name
        done = upload(office, "a.csv", SHEET)
        assert done.status_code == 200 and done.json()["create"] == 2
        assert set(created_ids(done.json()).values()).isdisjoint(shown.values())

        others = SHEET.replace(b"138000", b"139000")
        upload(office, "c.csv", others, dry_run="true")
        required = {"key": "level", "label": {"en": "Level", "zh-CN": "级别"}, "type": "text", "required": True}
        assert admin.put("/api/v1/template", json={"custom_fields": [required]}).status_code == 200
        done = upload(office, "c.csv", others)  # every new card now needs a level the file lacks
        assert done.status_code == 200, done.text
        assert (done.json()["create"], done.json()["skip"], done.json()["errors"][0]["code"]) == (0, 2, "required")


def test_a_plan_holds_until_a_card_it_updates_or_could_match_changes(tmp_path: Path):
    """`still_holds` looks at every card written since the plan read the store."""
    from sync.access import User
    from sync.db import Store
    from sync.office import importer, previews
    from sync.office.spreadsheet import read_table
    from sync.protocol.engine import Engine
    from sync.protocol.hlc import Clock

    store = Store(tmp_path / "fieldcards.db")
    engine, office, clock = Engine(store), User("office", "office"), Clock("t")

    def put(card: str, **fields: object) -> None:
        engine.apply(
            office, "d", [{"id": f"m-{clock.now()}", "op": "card.put", "card": card, "at": clock.now(), "fields": fields}]
        )

    known, other = "0190a000-0000-7000-8000-000000000001", "0190a000-0000-7000-8000-000000000002"
    put(known, name="王伟", phones=["+8613800001111"])
    put(other, name="无关", phones=["+8613900009999"])
    table = read_table("a.csv", SHEET)

    def plan() -> importer.Plan:
        return importer.plan_import(engine, office, table, mapping=None, match=["phone"], mode="upsert", with_basis=True)

    try:
        made = plan()
        assert [r.action for r in made.rows] == ["update", "create"] and previews.still_holds(engine, made)
        without = importer.plan_import(engine, office, table, mapping=None, match=["phone"], mode="upsert")
        assert without.basis is None and not previews.still_holds(engine, without)  # an import's own: never kept
        put(other, notes="与文件无关")
        assert previews.still_holds(engine, made)  # a card the file neither updates nor matches
        put(known, notes="代表刚改过")
        assert not previews.still_holds(engine, made)  # the card row 2 updates

        made = plan()
        put("0190a000-0000-7000-8000-000000000003", name="李娜", phones=["+8613800002222"])
        assert not previews.still_holds(engine, made)  # a new card with row 3's phone
    finally:
        store.close()


def test_a_kept_plan_is_taken_once_by_its_own_key_and_not_after_it_expires(tmp_path: Path):
    from sync.access import User
    from sync.db import Store
    from sync.office import importer, previews
    from sync.office.spreadsheet import read_table
    from sync.protocol.engine import Engine

    store = Store(tmp_path / "fieldcards.db")
    engine, office = Engine(store), User("office", "office")
    try:
        plan = importer.plan_import(
            engine, office, read_table("a.csv", SHEET), mapping=None, match=["phone"], mode="upsert", with_basis=True
        )
        kept = previews.Kept(plan, {"headers": [], "rows": [], "problems": []}, ["姓名", "公司", "手机"])
        waiting = previews.Previews()
        waiting.keep("mine", kept)
        assert waiting.take("someone else's", engine) is None  # another import leaves it waiting
        assert waiting.take("mine", engine) is kept
        assert waiting.take("mine", engine) is None  # once

        expired = previews.Previews(keep_for_s=-1.0)  # already past, whatever the clock's resolution
        expired.keep(
            "mine",
            previews.Kept(
                importer.plan_import(
                    engine, office, read_table("a.csv", SHEET), mapping=None, match=["phone"], mode="upsert", with_basis=True
                ),
                {},
                [],
            ),
        )
        assert expired.take("mine", engine) is None
    finally:
        store.close()
