"""Stored JSON is written by orjson where it matches the standard encoder byte for byte."""

from __future__ import annotations

import contextlib
import json
import random
import struct

from sync import db
from sync.jsontext import dumps, dumps_utf8


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
