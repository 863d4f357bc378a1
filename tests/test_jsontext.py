"""Stored JSON is written by orjson where it matches the standard encoder byte for byte."""

from __future__ import annotations

import contextlib
import json
import random
import struct
import tracemalloc

from sync import db
from sync.cards.validate import MAX_NUMBER
from sync.jsontext import dumps, dumps_kept, dumps_utf8, loads_card_text


def standard(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def test_text_of_every_kind_is_written_as_the_standard_encoder_writes_it():
    text = "".join(chr(i) for i in range(0x80)) + '\u2028\u2029\ufeff上海😀"\\/ e-mail 0.00001'
    values = [
        text,
        {"a": [1, -2, 0, True, False, None, {}, []], "上海": {"x": "y"}},
        2**63 - 1,
        -(2**63),
        2**64,
        -(2**70),
        {1: "int key"},
        (1, 2),
        [0.1, -0.0, 1e15, 1e16, 1e22, 1.5e-5, 1e-7, 5e-324, 0.0001],
    ]
    for value in values:
        assert dumps(value) == standard(value), value
        assert dumps_utf8(value) == standard(value).encode(), value


def test_a_cards_stored_text_reads_back_as_the_standard_decoder_reads_it():
    texts = [
        standard({"a": [1, -2, 0, True, False, None, {}, []], "上海": {"x": "y"}, "t": '\u2028😀"\\'}),
        standard([2**63 - 1, -(2**63), MAX_NUMBER, -MAX_NUMBER, "12345678901234567890123 in a string"]),
        standard([0.1, -0.0, 1e15, 1e22, 1.5e-5, 1e-7, 5e-324, 1.7976931348623157e308, 31.2304, -122.4194]),
        '"\\ud800 a lone surrogate escape"',  # orjson refuses it; validated text never holds one, read anyway
        '{"k": 1, "k": 2}',
    ]
    for text in texts:
        for given in (text, text.encode()):
            got, expected = loads_card_text(given), json.loads(given)
            assert repr(got) == repr(expected), text  # repr: -0.0 and 1 vs 1.0 and True vs 1 apart
    # Why only a card's text: orjson reads an integer past 64 bits as a float. Validation keeps a
    # card's numbers under MAX_NUMBER, far from it.
    assert MAX_NUMBER < 2**63 and type(loads_card_text(standard(2**64 + 1))) is float
    with contextlib.suppress(ValueError):
        loads_card_text("{not json")
        raise AssertionError("text that is not JSON must raise")


def test_floats_of_every_magnitude_are_written_as_the_standard_encoder_writes_them():
    rng = random.Random(14)
    for _ in range(20_000):
        bits = struct.unpack("d", struct.pack("Q", rng.getrandbits(64)))[0]
        scaled = float("%.17ge%d" % (rng.uniform(1, 10), rng.randint(-330, 300)))
        for number in (bits, scaled, round(rng.uniform(-1e6, 1e6), rng.randint(0, 8))):
            if number == number and abs(number) != float("inf"):
                assert dumps({"n": [number, -number]}) == standard({"n": [number, -number]}), number


def test_ids_and_text_that_look_like_exponents_take_the_fast_encoder():
    import orjson

    from sync.jsontext import _EXPONENT

    value = {
        "id": "0b7e2d8a-3c1f-4e5a-9b6d-2f8c1a4e7d90",
        "ids": ["ab3e-1234-5678", "3e-123456789012"],
        "at": "1763971200123-0000-bench",
        "n": 0.5,
        "notes": "price 3e-5 or so",
    }
    assert _EXPONENT.search(orjson.dumps(value)) is None and dumps(value) == standard(value)
    for tiny in (1.5e-5, -1e-7, [0.00001], {"lat": 1e-05}):
        assert dumps(tiny) == standard(tiny)


def test_a_journal_entry_written_as_utf8_bytes_reads_back_as_the_same_text(tmp_path):
    payload = {"todo": [[2, "c", "create", {"name": "王伟 😀", "notes": "a\u2028b"}, None, "t"]], "n": 1.5e-5}
    with contextlib.closing(db.Store(tmp_path / "fieldcards.db")) as store, store.write() as conn:
        entry = db.insert_journal(conn, "2026-01-02T00:00:00.000Z", "office", "office", "import", "x", dumps_utf8(payload))
        kind, text = conn.execute("SELECT typeof(payload), payload FROM journal WHERE id = ?", (entry,)).fetchone()
    assert kind == "text"
    assert text == standard(payload) and json.loads(text) == payload


def test_a_kept_text_is_the_same_text_and_holds_only_its_own_size():
    """orjson's bytes keep the ~4 KB buffer they were written into: an import's plan keeps one text
    per row (`RowPlan`), so those are copied out at their size."""
    for value in ({"name": "王伟", "phones": ["+8613800001111"], "tags": ["vip"]}, {"lat": 1e-05}, {}):
        assert dumps_kept(value) == dumps_utf8(value) and json.loads(dumps_kept(value)) == value
    value = {"name": "王伟", "phones": ["+8613800001111"], "tags": ["vip"]}  # written by orjson
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        kept = [dumps_kept(value) for _ in range(1000)]
        per_text = (tracemalloc.get_traced_memory()[0] - before) / len(kept)
    finally:
        tracemalloc.stop()
    assert per_text < 4 * len(kept[0]) + 100
