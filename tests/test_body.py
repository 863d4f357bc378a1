"""Request bodies are decoded once by orjson when it can vouch for them; everything else takes the
standard parser, so each refusal keeps its message and its path."""

from __future__ import annotations

import json

import pytest

from server.api.body import check_values, parse_json_bytes, parse_json_text
from sync.errors import InvalidInput


def _standard(text: str) -> tuple:
    """What the standard parser and `check_values` alone make of a text."""

    def no_constants(name: str) -> None:
        raise ValueError(name)

    try:
        data = json.loads(text, parse_constant=no_constants)
    except RecursionError:
        return ("refused", "", "the JSON is nested too deeply")
    except ValueError:
        return ("refused", "", "not valid JSON")
    try:
        check_values(data, "")
    except InvalidInput as error:
        return ("refused", error.fields[0].path, error.fields[0].message)
    return ("read", data)


def _ours(text: str) -> tuple:
    try:
        return ("read", parse_json_text(text, "", "the body"))
    except InvalidInput as error:
        message = error.fields[0].message
        return ("refused", error.fields[0].path, "not valid JSON" if "is not valid JSON" in message else message)


NESTED = [
    open_ * n + inner + close * n
    for n in (63, 64, 65, 66)
    for inner in ("", "1", '{"k": "v"}', "{}")
    for open_, close in (("[", "]"),)
] + ['{"a": ' + "[" * n + "]" * n + "}" for n in (63, 64, 65)]
ODD = [
    '{"pending": 9223372036854775808}',
    "[-9223372036854775809]",
    "[18446744073709551615]",
    "[123456789012345678]",
    '["1234567890123456789"]',
    '{"x": "\\ud800"}',
    '{"\\udfff": 1}',
    "[1e999]",
    "[1.7976931348623159e308]",
    "[NaN]",
    "[-Infinity]",
    '{"a": [1, 2.5, {"b": null}], "c": "上海"}',
    '{"a": 1, "a": 2}',
    "[1e-400]",
    "[" * 2000 + "]" * 2000,
    '["a\\u0000b"]',
    "[1,]",
]


@pytest.mark.parametrize("text", NESTED + ODD)
def test_one_decode_agrees_with_the_standard_parser_and_checks(text: str):
    assert _ours(text) == _standard(text)


def test_bodies_that_are_not_utf8_or_are_empty_are_refused_with_a_reason():
    with pytest.raises(InvalidInput, match="not UTF-8"):
        parse_json_bytes(b'{"a": "\xff"}', "", "the request body")
    with pytest.raises(InvalidInput, match="empty"):
        parse_json_bytes(b"  \n", "", "the request body")
    assert parse_json_bytes('{"a": "上海"}'.encode(), "", "the request body") == {"a": "上海"}
