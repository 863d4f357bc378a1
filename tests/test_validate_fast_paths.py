"""The shortcuts of card validation (issue 14) answer exactly as the full rules do: a phone in
E.164 read from phonenumbers' metadata against phonenumbers' own parse, and a card's text read
once against the full text rule, error messages included."""

from __future__ import annotations

import os

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

from sync.cards.phones import e164_valid, national_e164
from sync.cards.validate import MULTILINE_FIELDS, TEXT_LIMITS, _text, normalize_phone, parsed_phone, validate_card_fields
from sync.errors import InvalidInput
from sync.protocol import hlc
from sync.protocol.model import parse_mutation

# Regions reps work in, and country codes shared by many regions (+1, +7, +44) or with national
# prefixes that phonenumbers strips (+86's 1[12]xx and 179xx carrier codes).
CODES = ("86", "852", "853", "886", "1", "7", "44", "49", "33", "81", "82", "91", "65", "61", "55", "62", "84")
# Starts of real numbers of those regions, so that the random digits after them land among valid
# numbers as well as invalid ones.
STARTS = ("", "1", "13", "138", "15", "18", "199", "2", "21", "5", "6", "7", "9", "650", "20", "30", "40", "80", "90")


def by_phonenumbers(text: str, region: str = "CN") -> str | None:
    """What phonenumbers alone makes of a number: its E.164 form, or None when it is refused."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# Generated numbers per shortcut in `make test` (a fixed set: derandomized); a deeper comparison
# with FIELDCARDS_PHONE_EXAMPLES=20000, say (docs/architecture.md, "The tests").
EXAMPLES = int(os.environ.get("FIELDCARDS_PHONE_EXAMPLES", "1000"))


@settings(max_examples=EXAMPLES, derandomize=True, deadline=None)
@given(code=hs.sampled_from(CODES), start=hs.sampled_from(STARTS), rest=hs.text("0123456789", max_size=14))
def test_e164_shortcut_answers_as_phonenumbers(code: str, start: str, rest: str) -> None:
    text = f"+{code}{start}{rest}"
    fast = e164_valid(text)
    if fast is not None:  # None: only the full parse can tell, and it does
        assert (text if fast else None) == by_phonenumbers(text), text


@settings(max_examples=500, derandomize=True, deadline=None)
@given(code=hs.sampled_from(CODES), start=hs.sampled_from(STARTS), rest=hs.text("0123456789", max_size=14))
def test_a_phone_is_kept_or_refused_as_phonenumbers_says(code: str, start: str, rest: str) -> None:
    text = f"+{code}{start}{rest}"
    parsed_phone.cache_clear()
    try:
        got: str | None = normalize_phone(text, "CN")
    except ValueError as error:
        assert str(error) == f"{text!r} is not a valid phone number for region CN"
        got = None
    assert got == by_phonenumbers(text), text


# Regions of the codes above, national prefixes (CN's 179xx carrier codes, RU's 8, US's 1) and
# international ones (RU's 810) included.
REGIONS = ("CN", "HK", "MO", "TW", "US", "CA", "RU", "KZ", "GB", "DE", "FR", "JP", "KR", "IN", "SG", "AU", "BR", "ID", "VN")


@settings(max_examples=EXAMPLES, derandomize=True, deadline=None)
@given(
    region=hs.sampled_from(REGIONS),
    start=hs.sampled_from(STARTS + ("86", "179", "17951", "8", "810", "7", "44")),
    rest=hs.text("0123456789", max_size=14),
    cut=hs.sampled_from(("", " ", "-")),
)
def test_national_shortcut_answers_as_phonenumbers(region: str, start: str, rest: str, cut: str) -> None:
    digits = f"{start}{rest}"
    text = cut.join((digits[:3], digits[3:7], digits[7:])) if cut and len(digits) > 7 else digits
    fast = national_e164(text, region)
    if fast is not None:  # None: only the full parse can tell, and it does
        candidate, valid = fast
        assert (candidate if valid else None) == by_phonenumbers(text, region), (text, region)


def test_national_numbers_from_a_sheet_take_the_shortcut() -> None:
    assert national_e164("13812345678", "CN") == ("+8613812345678", True)
    assert national_e164("138-1234-5678", "CN") == ("+8613812345678", True)
    assert national_e164("138 1234 5678", "CN") == ("+8613812345678", True)
    assert national_e164("1381234567", "CN") == ("+861381234567", False)
    assert national_e164("6502530000", "US") == ("+16502530000", True)
    for text, region in (("013812345678", "CN"), ("17951 13812345678", "CN"), ("8613812345678", "CN"), ("89161234567", "RU")):
        assert national_e164(text, region) is None, text  # a prefix `parse` may read: the full parse
    parsed_phone.cache_clear()
    assert normalize_phone("138-1234-5678", "CN") == "+8613812345678"
    assert parsed_phone.cache_info().currsize == 0  # answered without phonenumbers' parse


def test_the_e164_shortcut_answers_the_numbers_a_push_carries() -> None:
    for text in ("+8613812345678", "+8615912345678", "+16502530000", "+442079460000", "+85291234567"):
        assert e164_valid(text) is True, text
    for text in ("+8613812", "+86138123456789", "+16501230000", "+4420794600001"):
        assert e164_valid(text) is False, text


TEXTS = [
    "Wang Wei",
    "  王伟  ",
    "",
    "   ",
    "a\tb",
    "a\nb",
    "a\rb",
    "a\x00b",
    "x\x7f",
    "\u3000王\u3000",
    None,
    42,
    ["a"],
    {"a": 1},
]


@pytest.mark.parametrize("name", sorted(TEXT_LIMITS))
@pytest.mark.parametrize("creating", [True, False])
def test_a_card_text_reads_as_the_full_text_rule(name: str, creating: bool) -> None:
    limit = TEXT_LIMITS[name]
    samples = TEXTS + ["x" * limit, "x" * (limit + 1), " " + "x" * limit + " ", "\n" + "y" * limit + "\t"]
    for value in samples:
        try:
            expected: object = _text(value, limit, required=(name == "name"), multiline=name in MULTILINE_FIELDS)
        except ValueError as error:
            expected = {name: str(error)}
        try:
            got: object = validate_card_fields({"name": "n", name: value}, region="CN", creating=creating)[name]
        except InvalidInput as refused:
            got = {f.path: f.message for f in refused.fields}
        assert got == expected, (name, value)


CLOCKS = [
    None,
    5,
    1.5,
    True,
    [],
    "",
    "abc",
    "1763971200123-0000-dev",
    "1763971200123-0000-",
    "176397120012-0000-d",
    "1763971200123-00000-d",
    "1763971200123-0000-dev\n",
    "1763971200123-0000-dev ok",
    "１７63971200123-0000-d",
    "1763971200123-0000-" + "d" * 100,
    "1763971200123-0000-" + "d" * 101,
    "x" * 300,
]


@pytest.mark.parametrize("at", CLOCKS)
def test_a_mutation_clock_is_refused_as_hlc_parse_refuses_it(at: object) -> None:
    try:
        hlc.parse(at)
        expected: dict[str, str] = {}
    except ValueError as error:
        expected = {"at": str(error)}
    raw = {"id": "m1", "op": "card.delete", "card": "0b7e2d8a-3c1f-4e5a-9b6d-2f8c1a4e7d90", "at": at, "version": 0}
    try:
        parse_mutation(raw)
        got: dict[str, str] = {}
    except InvalidInput as refused:
        got = {f.path: f.message for f in refused.fields}
    assert got == expected


def test_unknown_envelope_keys_are_named_in_their_order() -> None:
    raw = {
        "zz": 1,
        "id": "m1",
        "op": "card.claim",
        "card": "0b7e2d8a-3c1f-4e5a-9b6d-2f8c1a4e7d90",
        "at": "1763971200123-0000-dev",
        "fields": {},
        "a" * 80: 2,
    }
    with pytest.raises(InvalidInput) as refused:
        parse_mutation(raw)
    assert [(f.path, f.message) for f in refused.value.fields] == [
        ("zz", "unknown field"),
        ("fields", "unknown field"),
        ("a" * 60, "unknown field"),
    ]
