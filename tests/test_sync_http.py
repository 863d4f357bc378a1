"""The sync endpoint and the card endpoints: in-process over the real app (the `app` fixture) and a
SQLite file; the reference client's devices over real HTTP to a `fieldcards serve` process."""

from __future__ import annotations

import uuid

import httpx

from sync.protocol.hlc import Clock
from tests.conftest import Caller

DEVICE = "dev-a"


def at(clock: Clock = Clock(DEVICE)) -> str:
    return clock.now()


def put(card: str, fields: dict, was: dict | None = None, mid: str | None = None, when: str | None = None) -> dict:
    m = {"id": mid or str(uuid.uuid4()), "op": "card.put", "card": card, "at": when or at(), "fields": fields}
    if was is not None:
        m["was"] = was
    return m


def sync(client: Caller | httpx.Client, mutations: list[dict], device: str = DEVICE, **extra) -> httpx.Response:
    return client.post("/api/v1/sync", json={"device": device, "epoch": None, "cursor": None, "mutations": mutations, **extra})


def test_create_then_read_back_with_normalised_phone(app):
    app.user("rep1")
    card = str(uuid.uuid4())
    with app.client("rep1") as c:
        r = sync(c, [put(card, {"name": " 王伟 ", "phones": ["138 1234 5678"], "emails": ["Wang@Example.COM"]})])
        assert r.status_code == 200, r.text
        result = r.json()["results"][0]
        assert result["status"] == "applied" and result["version"] == 1
        got = c.get(f"/api/v1/cards/{card}").json()["card"]
    assert got["name"] == "王伟"
    assert got["phones"] == ["+8613812345678"]
    assert got["emails"] == ["Wang@example.com"]
    assert got["owner"] == "rep1" and got["deleted"] is False and got["custom"] == {}


def test_edit_delete_and_history_record_every_change(app):
    app.user("rep1")
    card = str(uuid.uuid4())
    with app.client("rep1") as c:
        sync(c, [put(card, {"name": "Li Na"})])
        r = sync(c, [put(card, {"segment": "A"}, {"segment": None})])
        assert r.json()["results"][0]["version"] == 2
        r = sync(c, [{"id": "del-1", "op": "card.delete", "card": card, "at": at(), "version": 2}])
        assert r.json()["results"][0]["status"] == "applied"
        history = c.get(f"/api/v1/cards/{card}/history").json()["history"]
        assert [h["version"] for h in history] == [1, 2, 3]
        assert history[1]["changes"] == {"segment": [None, "A"]}
        assert history[2]["changes"] == {"deleted": [False, True]} and history[2]["mutation"] == "del-1"
        assert all(h["device"] == DEVICE and h["user"] == "rep1" and h["received_at"] for h in history)
        # A deleted card leaves the list but is still readable by id for restore.
        assert c.get("/api/v1/cards").json()["cards"] == []


def test_concurrent_scalar_edit_is_a_conflict_that_keeps_both_values(app):
    app.user("rep1")
    card = str(uuid.uuid4())
    with app.client("rep1") as c:
        sync(c, [put(card, {"name": "Zhang San", "company": "Old Co"})])
        first = sync(c, [put(card, {"company": "Alpha"}, {"company": "Old Co"})], device="phone")
        assert first.json()["results"][0]["status"] == "applied"
        second = sync(c, [put(card, {"company": "Beta"}, {"company": "Old Co"})], device="laptop").json()
        result = second["results"][0]
        assert result["status"] == "conflict"
        assert result["card"]["company"] == "Beta"  # later clock wins
        conflicts = c.get("/api/v1/conflicts?status=open").json()["conflicts"]
        assert len(conflicts) == 1 and conflicts[0]["id"] == result["conflicts"][0]
        assert conflicts[0]["field"] == "company" and conflicts[0]["kept"] == "Beta" and conflicts[0]["other"] == "Alpha"
        resolved = c.post(f"/api/v1/conflicts/{conflicts[0]['id']}/resolve", json={"keep": "other"})
        assert resolved.status_code == 200, resolved.text
        assert resolved.json()["card"]["company"] == "Alpha"
        assert c.get("/api/v1/conflicts?status=open").json()["conflicts"] == []
        history = c.get(f"/api/v1/cards/{card}/history").json()["history"]
        assert history[-1]["changes"] == {"company": ["Beta", "Alpha"]}


def test_phones_added_on_two_devices_both_survive_as_merged(app):
    app.user("rep1")
    card = str(uuid.uuid4())
    with app.client("rep1") as c:
        sync(c, [put(card, {"name": "Chen", "phones": ["+8613800000000"]})])
        sync(c, [put(card, {"phones": ["+8613800000000", "+8613900000000"]}, {"phones": ["+8613800000000"]})], device="a")
        r = sync(c, [put(card, {"phones": ["+8613800000000", "+8613700000000"]}, {"phones": ["+8613800000000"]})], device="b")
        result = r.json()["results"][0]
    assert result["status"] == "merged"
    assert result["card"]["phones"] == ["+8613800000000", "+8613900000000", "+8613700000000"]


def test_retry_after_lost_response_applies_once(app):
    app.user("rep1")
    card = str(uuid.uuid4())
    create = put(card, {"name": "Once", "tags": ["vip"]}, mid="m-create")
    with app.client("rep1") as c:
        first = sync(c, [create]).json()["results"][0]
        again = sync(c, [create]).json()["results"][0]
        history = c.get(f"/api/v1/cards/{card}/history").json()["history"]
    assert again == first
    assert len(history) == 1


def test_rejected_mutation_does_not_block_the_ones_after_it(app):
    app.user("rep1")
    good, bad = str(uuid.uuid4()), str(uuid.uuid4())
    with app.client("rep1") as c:
        r = sync(c, [put(bad, {"name": "Bad", "birthday": "2026-02-30"}), put(good, {"name": "Good"})])
        assert r.status_code == 200
        results = r.json()["results"]
        assert results[0]["status"] == "rejected" and results[0]["code"] == "invalid"
        assert results[0]["errors"][0]["path"] == "fields.birthday"
        assert "2026-02-30" in results[0]["errors"][0]["message"]
        assert results[1]["status"] == "applied"
        assert c.get(f"/api/v1/cards/{bad}").status_code == 404
        assert c.get(f"/api/v1/cards/{good}").status_code == 200


def test_pull_pages_through_every_card_with_a_cursor(app):
    app.user("office1", "office")
    ids = [str(uuid.uuid4()) for _ in range(25)]
    with app.client("office1") as c:
        sync(c, [put(i, {"name": f"Card {n}"}) for n, i in enumerate(ids)])
        seen, cursor, pages = [], None, 0
        while True:
            body = c.post("/api/v1/sync", json={"device": "puller", "cursor": cursor, "limit": 10}).json()
            seen += [ch["card"]["id"] for ch in body["changes"] if ch["type"] == "card"]
            cursor, pages = body["cursor"], pages + 1
            if not body["more"]:
                break
    assert sorted(seen) == sorted(ids)
    assert pages == 3


def test_rep_never_pulls_another_reps_card(app):
    app.user("rep1")
    app.user("rep2")
    mine, theirs = str(uuid.uuid4()), str(uuid.uuid4())
    with app.client("rep1") as a, app.client("rep2") as b:
        sync(a, [put(mine, {"name": "Mine"})])
        sync(b, [put(theirs, {"name": "Theirs"})], device="dev-b")
        pulled = sync(a, []).json()["changes"]
        assert {ch["card"]["id"] for ch in pulled if ch["type"] == "card"} == {mine}
        assert a.get(f"/api/v1/cards/{theirs}").status_code == 404
        edit = sync(a, [put(theirs, {"name": "Hijack"}, {"name": "Theirs"})]).json()["results"][0]
        assert edit["status"] == "rejected" and edit["code"] == "not_found"
        assert b.get(f"/api/v1/cards/{theirs}").json()["card"]["name"] == "Theirs"


def test_rep_cannot_change_owner(app):
    app.user("rep1")
    app.user("rep2")
    card = str(uuid.uuid4())
    with app.client("rep1") as c:
        sync(c, [put(card, {"name": "Keep"})])
        result = sync(c, [put(card, {"owner": "rep2"}, {"owner": "rep1"})]).json()["results"][0]
    assert result["status"] == "rejected" and result["code"] == "forbidden"
    assert result["errors"][0]["path"] == "fields.owner"


def test_possible_duplicate_warning_names_the_other_card(app):
    app.user("rep1")
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    with app.client("rep1") as c:
        sync(c, [put(first, {"name": "A", "phones": ["+8613812345678"]})])
        body = sync(c, [put(second, {"name": "B", "phones": ["13812345678"]})]).json()
    assert body["warnings"] == [{"mutation": body["results"][0]["id"], "code": "possible_duplicate", "cards": [first]}]


def test_epoch_mismatch_answers_reset_and_full_pull(app):
    app.user("rep1")
    card = str(uuid.uuid4())
    with app.client("rep1") as c:
        sync(c, [put(card, {"name": "X"})])
        body = c.post("/api/v1/sync", json={"device": DEVICE, "epoch": "old-epoch", "cursor": None}).json()
    assert body["reset"] is True
    assert [ch["card"]["id"] for ch in body["changes"]] == [card]


def test_clock_far_ahead_is_ordered_as_server_time_and_kept_as_authored(app):
    app.user("rep1")
    card = str(uuid.uuid4())
    future = "9999999999999-0000-evil"
    with app.client("rep1") as c:
        sync(c, [put(card, {"name": "Skew", "company": "A"}, when=future)])
        history = c.get(f"/api/v1/cards/{card}/history").json()["history"]
    assert history[0]["authored_at"] == future
    assert history[0]["at"] < "2100"  # ordered by the server's own clock, not the year 2286


def test_delete_after_someone_elses_edit_becomes_a_conflict(app):
    app.user("rep1")
    card = str(uuid.uuid4())
    with app.client("rep1") as c:
        sync(c, [put(card, {"name": "Del"})], device="phone")
        sync(c, [put(card, {"title": "CEO"}, {"title": None})], device="laptop")
        result = sync(
            c, [{"id": str(uuid.uuid4()), "op": "card.delete", "card": card, "at": at(), "version": 1}], device="phone"
        ).json()["results"][0]
        assert result["status"] == "conflict"
        assert result["card"]["deleted"] is False
        record = c.get("/api/v1/conflicts").json()["conflicts"][0]
        assert record["field"] == "deleted" and record["other"] is True
        resolved = c.post(f"/api/v1/conflicts/{record['id']}/resolve", json={"keep": "other"}).json()
        assert resolved["card"]["deleted"] is True


def test_edit_of_deleted_card_brings_it_back_with_a_conflict(app):
    app.user("rep1")
    card = str(uuid.uuid4())
    with app.client("rep1") as c:
        sync(c, [put(card, {"name": "Back"})])
        sync(c, [{"id": str(uuid.uuid4()), "op": "card.delete", "card": card, "at": at(), "version": 1}])
        result = sync(c, [put(card, {"notes": "visited"}, {"notes": None})], device="other").json()["results"][0]
    assert result["status"] == "conflict"
    assert result["card"]["deleted"] is False and result["card"]["notes"] == "visited"


def test_activity_is_idempotent_by_its_id(app):
    app.user("rep1")
    card, activity = str(uuid.uuid4()), str(uuid.uuid4())
    add = {
        "op": "activity.add",
        "card": card,
        "at": at(),
        "activity": {"id": activity, "card": card, "kind": "visit", "at": "2026-11-24T10:00:00Z", "text": "拜访"},
    }
    with app.client("rep1") as c:
        sync(c, [put(card, {"name": "Act"})])
        sync(c, [{**add, "id": "a1"}])
        sync(c, [{**add, "id": "a2"}])  # a second mutation carrying the same activity
        activities = c.get(f"/api/v1/cards/{card}").json()["activities"]
    assert len(activities) == 1 and activities[0]["by"] == "rep1" and activities[0]["text"] == "拜访"


def test_me_and_schema(app):
    app.user("office1", "office")
    with app.client("office1") as c:
        assert c.get("/api/v1/me").json() == {"user": "office1", "role": "office", "display": "office1"}
        schema = c.get("/api/v1/schema").json()
    assert schema["options"]["default_region"] == "CN"
    assert schema["options"]["segments"] == ["A", "B", "C"]
    assert "phones" in schema["card"]["properties"]


def test_search_finds_chinese_name_by_pinyin_and_phone_digits(app):
    app.user("rep1")
    card = str(uuid.uuid4())
    with app.client("rep1") as c:
        sync(c, [put(card, {"name": "王伟", "phones": ["+8613812345678"]})])
        for q in ("wangwei", "ww", "王", "138 1234", "13812345678"):
            cards = c.get("/api/v1/cards", params={"q": q}).json()["cards"]
            assert [x["id"] for x in cards] == [card], q
        assert c.get("/api/v1/cards", params={"q": "lina"}).json()["cards"] == []


def test_reassigned_card_leaves_the_old_reps_device_and_their_offline_edit_is_kept(app, tmp_path):
    app.user("rep1")
    app.user("rep2")
    app.user("office1", "office")
    phone, office, other = app.device("rep1", tmp_path), app.device("office1", tmp_path), app.device("rep2", tmp_path)
    card = phone.create_card(name="Moving On", company="Old Co")
    phone.add_activity(card, "visit", "first visit")
    phone.sync()
    office.sync()
    phone.edit_card(card, company="Offline Co")  # offline on the phone...
    office.edit_card(card, owner="rep2")  # ...while the office reassigns the card
    office.sync()
    report = phone.sync()
    assert report.statuses == {"conflict": 1}
    assert card not in phone.cards() and phone.activities(card) == []
    other.sync()
    assert other.card(card)["company"] == "Old Co"
    assert [a["text"] for a in other.activities(card)] == ["first visit"]  # it arrived whole
    with app.client("rep2") as c:
        records = c.get("/api/v1/conflicts", params={"status": "open"}).json()["conflicts"]
    assert [(r["field"], r["kept"], r["other"], r["other_by"]) for r in records] == [("company", "Old Co", "Offline Co", "rep1")]
