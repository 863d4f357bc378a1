"""A batch is applied mutation by mutation, each all or nothing, in one transaction: what a
rejected mutation would have written never stays, whether or not it ran in a savepoint."""
from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from sync.access import User
from sync.engine import Batch, Engine, _NeedsSavepoints
from sync.errors import FieldError, InvalidInput
from sync.hlc import Clock
from sync.store import Store

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
    with pytest.raises(_NeedsSavepoints), engine.store.write() as conn:
        RejectsAfterWriting(engine, conn, OFFICE, "d", "2026-12-04T00:00:00Z", careful=False).apply(
            put(str(uuid.uuid4()), name="A"))
    assert cards(engine) == 0


def test_the_careful_pass_rolls_back_only_the_rejected_mutation(engine: Engine):
    with engine.store.write() as conn:
        batch = RejectsAfterWriting(engine, conn, OFFICE, "d", "2026-12-04T00:00:00Z", careful=True)
        result, _ = batch.apply(put(str(uuid.uuid4()), name="A"))
        assert result["status"] == "rejected" and result["errors"][0]["message"] == "found late"
        ok, _ = Batch(engine, conn, OFFICE, "d", "2026-12-04T00:00:00Z", careful=True).apply(
            put(str(uuid.uuid4()), name="B"))
        assert ok["status"] == "applied"
    assert cards(engine) == 1


def test_rejections_before_any_write_need_no_savepoint(engine: Engine):
    good, bad = str(uuid.uuid4()), str(uuid.uuid4())
    results = engine.apply(OFFICE, "d", [put(good, name="A", phones=["+8613812345678"]),
                                         put(bad, name="B", phones=["12"]), put(bad, name="")])
    assert [r["status"] for r in results] == ["applied", "rejected", "rejected"]
    assert results[1]["errors"][0]["path"] == "fields.phones[0]"
    assert cards(engine) == 1
