"""JSON text as the store and the sync answer write it: compact, UTF-8 kept as is. orjson writes
it about five times faster than the standard encoder; where the two could differ in a single byte
(a float below 1e-4, an integer past 64 bits, a key that is not text), the standard encoder writes
it, so stored cards, history and answers read exactly as before.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

# orjson writes 1.5e-05 as 0.000015 and 1e-07 as 1e-7; Python writes both in exponent form.
# Larger floats and every other value come out the same (tests/test_jsontext.py). In compact JSON
# a number in exponent form ends at `,`, `]` or `}`: "e-" in a UUID string is followed by hex and
# a dash or a quote. Both checks are literal searches, about a millisecond per megabyte.
_EXPONENT = re.compile(rb"e-[0-9]+[,\]}]")


def dumps(value: Any) -> str:
    """`json.dumps(value, ensure_ascii=False, separators=(",", ":"))`, byte for byte."""
    return dumps_utf8(value).decode()


def dumps_utf8(value: Any) -> bytes:
    """`dumps` as UTF-8 bytes: a large text (an import's journal entry) is never held as a Python
    string as well, which for Chinese text is twice its UTF-8 size."""
    if type(value) is float:
        return _standard(value).encode()
    try:
        out = orjson.dumps(value)
    except TypeError:  # orjson.JSONEncodeError: what only the standard encoder writes
        return _standard(value).encode()
    if b"0.0000" in out or _EXPONENT.search(out):
        return _standard(value).encode()
    return out


def dumps_kept(value: Any) -> bytes:
    """`dumps_utf8` for a text that is kept a while (an import's plan holds one per row): orjson's
    bytes keep the whole buffer it wrote into, about 4 KB however short the text (50,000 rows
    of ~250 bytes held 206 MB), so the text is copied out at its own size (~0.2 µs)."""
    return memoryview(dumps_utf8(value)).tobytes()


def loads_card_text(text: str | bytes) -> Any:
    """`json.loads` of text the store wrote from a card's validated values (the card, its clocks,
    its history, its activities as the dashboard reads them, an import's undo records), by orjson:
    about three times faster, and an undo of 50,000 rows reads 250,000 such texts. Only there:
    orjson reads an integer past 64 bits as a float, and validation keeps every number of a card
    and an activity far below that (`MAX_NUMBER`, coordinates, versions, ratings; amounts are
    text). A lone surrogate escape, which orjson refuses, is read by the standard decoder."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def _standard(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
