"""A batch is applied mutation by mutation, each all or nothing, in one transaction: what a
rejected mutation would have written never stays, whether or not it ran in a savepoint."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

from sync.access import User
from sync.protocol.batch import Batch, NeedsSavepoints
from sync.protocol.engine import Engine
from sync.errors import FieldError, InvalidInput
from sync.protocol.hlc import Clock
from sync.protocol.model import parse_sync_request
from sync.db import Store

CLOCK = Clock("test-device")
OFFICE = User("office", "office")


def put(card: str, **fields) -> dict:
    return {"id": str(uuid.uuid4()), "op": "card.put", "card": card, "at": CLOCK.now(), "fields": fields}


class RejectsAfterWriting(Batch):
    """A mutation path that finds a problem only after it has written (none does today)."""

    def _apply(self, m):  # type: ignore[no-untyped-def]
        super()._apply(m)
        raise InvalidInput("found late", [FieldError("name", "found late")])


@pytest.fixture
def engine(tmp_path: Path):
    st = Store(tmp_path / "fieldcards.db")
    yield Engine(st)
    st.close()


def cards(engine: Engine) -> int:
    with engine.store.read() as conn:
        return conn.execute("SELECT count(*) FROM cards").fetchone()[0]


def test_a_rejection_after_a_write_needs_the_careful_pass(engine: Engine):
    with pytest.raises(NeedsSavepoints), engine.store.write() as conn:
        RejectsAfterWriting(engine, conn, OFFICE, "d", "2026-12-04T00:00:00Z", careful=False).apply(
            put(str(uuid.uuid4()), name="A")
        )
    assert cards(engine) == 0


def test_the_careful_pass_rolls_back_only_the_rejected_mutation(engine: Engine):
    with engine.store.write() as conn:
        batch = RejectsAfterWriting(engine, conn, OFFICE, "d", "2026-12-04T00:00:00Z", careful=True)
        result, _ = batch.apply(put(str(uuid.uuid4()), name="A"))
        assert result["status"] == "rejected" and result["errors"][0]["message"] == "found late"
        ok, _ = Batch(engine, conn, OFFICE, "d", "2026-12-04T00:00:00Z", careful=True).apply(put(str(uuid.uuid4()), name="B"))
        assert ok["status"] == "applied"
    assert cards(engine) == 1


def test_rejections_before_any_write_need_no_savepoint(engine: Engine):
    good, bad = str(uuid.uuid4()), str(uuid.uuid4())
    results = engine.apply(
        OFFICE, "d", [put(good, name="A", phones=["+8613812345678"]), put(bad, name="B", phones=["12"]), put(bad, name="")]
    )
    assert [r["status"] for r in results] == ["applied", "rejected", "rejected"]
    assert results[1]["errors"][0]["path"] == "fields.phones[0]"
    assert cards(engine) == 1


MUTATIONS = [
    ("new", {"name": "王伟", "phones": ["138 1234 5678"], "emails": ["A@Example.COM"], "tags": ["vip"]}, None),
    ("new", {"phones": ["+8613900000001"]}, None),  # no name: refused for a new card only
    ("new", {"name": "X", "phones": ["12"]}, None),
    ("old", {"company": "上海贸易", "phones": ["+8613900000002"]}, {"company": None}),
    ("old", {"company": "B"}, {"nickname": "x"}),  # `was` with an unknown field
    ("old", {"segment": "Z"}, None),
]


def _batch_of(cards: dict[str, str]) -> list[dict]:
    out = []
    for which, fields, was in MUTATIONS:
        mutation = put(cards[which] if which == "old" else str(uuid.uuid4()), **fields)
        if was is not None:
            mutation["was"] = was
        out.append(mutation)
    return out


def _outcome(results: list[dict]) -> list:
    """What a result says, less the ids and times that differ from run to run."""
    return [
        (
            r["status"],
            r.get("errors"),
            {k: v for k, v in (r.get("card") or {}).items() if k not in ("id", "created_at", "updated_at")},
        )
        for r in results
    ]


def test_checks_made_before_the_transaction_give_the_answers_made_inside(tmp_path: Path):
    """Engine.apply (imports) checks values before taking the writer; a sync checks them inside."""
    answers = []
    for name, checked_before in (("inside", False), ("before", True)):
        st = Store(tmp_path / f"{name}.db")
        engine = Engine(st)
        old = str(uuid.uuid4())
        engine.apply(OFFICE, "d", [put(old, name="Old", phones=["+8613900000009"])])
        mutations = _batch_of({"old": old})
        if checked_before:
            results = engine.apply(OFFICE, "d", mutations)
        else:
            from sync.protocol.model import parse_sync_request

            results = engine.sync(OFFICE, parse_sync_request({"device": "d", "mutations": mutations})).results
        answers.append(_outcome(results))
        st.close()
    assert answers[0] == answers[1]
    assert [a[0] for a in answers[1]] == ["applied", "rejected", "rejected", "merged", "rejected", "rejected"]


def test_a_template_changed_after_the_checks_is_the_one_applied(engine: Engine):
    from sync.cards import template

    card = str(uuid.uuid4())
    checked = engine._check_before([put(card, name="A")])
    template.save(
        engine.store,
        User("admin", "admin"),
        {"custom_fields": [{"key": "level", "label": {"en": "Level", "zh-CN": "级别"}, "type": "text", "required": True}]},
    )
    results = engine._apply_all(OFFICE, "d", [put(card, name="A")], None, None, careful=False, checked=checked)
    assert results[0]["status"] == "rejected"
    assert results[0]["errors"][0]["path"] == "fields.custom.level"


@settings(max_examples=300, deadline=None)
@given(
    hs.fixed_dictionaries(
        {},
        optional={
            "name": hs.sampled_from(["A", " 王伟 ", "", None, 5]),
            "phones": hs.lists(hs.sampled_from(["+8613812345678", "138 1234 5678", "12", "+16502530000"]), max_size=3),
            "emails": hs.lists(hs.sampled_from(["a@x.com", "bad", "B@Example.COM"]), max_size=2),
            "segment": hs.sampled_from(["A", "Z", None]),
            "custom": hs.dictionaries(
                hs.sampled_from(["level", "size", "other"]), hs.sampled_from(["x", 3, None, ""]), max_size=3
            ),
        },
    )
)
def test_values_accepted_for_a_new_card_read_the_same_for_an_existing_one(fields):
    """What `Engine.apply` relies on to check a card.put once before the transaction."""
    from sync.cards.validate import validate_card_fields

    custom = [{"key": "level", "type": "text", "required": True}, {"key": "size", "type": "number"}]
    try:
        creating = validate_card_fields(fields, region="CN", creating=True, custom_fields=custom)
    except InvalidInput:
        return
    assert validate_card_fields(fields, region="CN", creating=False, custom_fields=custom) == creating


def test_a_mutation_id_sent_twice_in_one_push_gets_the_first_answer_and_applies_once(engine: Engine):
    """A push looks its ids up once before it applies them: an id applied earlier in the same push
    must still be found, answered as before and not applied again (and a retried push the same)."""
    card = str(uuid.uuid4())
    first, other = put(card, name="A"), put(card, notes="later")
    again = {**first, "fields": {"name": "changed on the way"}}
    rep = User("rep1", "rep")
    request = parse_sync_request({"device": "d", "mutations": [first, other, again]})
    answered = engine.sync(rep, request).results
    assert [r["status"] for r in answered] == ["applied", "applied", "applied"]
    assert answered[2] == answered[0] and answered[0]["version"] == 1
    retried = engine.sync(rep, request).results
    assert retried == answered
    with engine.store.read() as conn:
        name, version = conn.execute("SELECT json_extract(data, '$.name'), version FROM cards WHERE id = ?", (card,)).fetchone()
    assert (name, version) == ("A", 2)
