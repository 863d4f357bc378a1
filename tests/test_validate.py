"""Card, activity and request validation: normalisation, limits, and paths on every error."""

from __future__ import annotations

import pytest

from sync.errors import InvalidInput
from sync.protocol.model import CardDelete, CardPut, parse_mutation, parse_sync_request
from sync.cards.validate import (
    check_date,
    normalize_email,
    normalize_phone,
    parsed_phone,
    normalize_was,
    validate_activity,
    validate_card_fields,
)
from tests.test_validate_fast_paths import by_phonenumbers

CARD = "0b7e2d8a-3c1f-4e5a-9b6d-2f8c1a4e7d90"


def errors_of(call) -> dict[str, str]:
    with pytest.raises(InvalidInput) as caught:
        call()
    return {e.path: e.message for e in caught.value.fields}


def fields(**values):
    return validate_card_fields(values, region="CN", creating=True)


def test_national_format_phone_is_read_with_default_region():
    assert normalize_phone("138 1234 5678", "CN") == "+8613812345678"
    assert normalize_phone("(650) 253-0000", "US") == "+16502530000"


def test_full_width_digits_from_a_chinese_keyboard_are_read():
    assert normalize_phone("１３８１２３４５６７８", "CN") == "+8613812345678"


def test_international_format_ignores_default_region():
    assert normalize_phone("+44 20 7946 0958", "CN") == "+442079460958"


def test_short_phone_is_refused_with_region_in_message():
    with pytest.raises(ValueError, match="not a valid phone number for region CN"):
        normalize_phone("138 1234", "CN")


def test_email_domain_lowercased_local_part_kept():
    assert normalize_email("Wang.Wei@Example.COM") == "Wang.Wei@example.com"
    with pytest.raises(ValueError, match="not a valid email"):
        normalize_email("foo@")


def test_february_30_is_not_a_date():
    with pytest.raises(ValueError, match="not a date: 2026-02-30"):
        check_date("2026-02-30")
    assert check_date("2024-02-29") == "2024-02-29"
    with pytest.raises(ValueError):
        check_date("24-2-9")


def test_chinese_name_is_kept_as_typed_and_trimmed():
    assert fields(name="  欧阳娜娜 ")["name"] == "欧阳娜娜"


def test_name_limit_is_200_characters():
    assert fields(name="名" * 200)["name"] == "名" * 200
    assert "name" in errors_of(lambda: fields(name="名" * 201))


def test_name_is_required_only_when_creating():
    assert errors_of(lambda: fields(company="Acme")) == {"name": "required"}
    assert validate_card_fields({"company": "Acme"}, region="CN", creating=False) == {"company": "Acme"}


def test_phones_in_different_formats_collapse_to_one():
    assert fields(name="X", phones=["13812345678", "+86 138 1234 5678", "138-1234-5678"])["phones"] == ["+8613812345678"]


def test_set_limits_at_the_boundary():
    phones = [f"+86138000000{i:02d}" for i in range(11)]
    assert len(fields(name="X", phones=phones[:10])["phones"]) == 10
    assert "phones" in errors_of(lambda: fields(name="X", phones=phones))
    tags = [f"t{i}" for i in range(21)]
    assert len(fields(name="X", tags=tags[:20])["tags"]) == 20
    assert "tags" in errors_of(lambda: fields(name="X", tags=tags))
    assert "tags[1]" in errors_of(lambda: fields(name="X", tags=["ok", "x" * 41]))


def test_all_errors_are_reported_together_with_paths():
    found = errors_of(
        lambda: fields(name="", phones=["12", "13812345678", "bad"], birthday="2026-02-30", segment="D", unknown=1, version=3)
    )
    assert set(found) == {"name", "phones[0]", "phones[2]", "birthday", "segment", "unknown", "version"}
    assert found["version"] == "cannot be set by a client"
    assert found["unknown"] == "unknown field"


@pytest.mark.parametrize(
    "field,value",
    [
        ("name", 5),
        ("company", ["x"]),
        ("phones", "13812345678"),
        ("phones", [13812345678]),
        ("tags", {"a": 1}),
        ("segment", 1),
        ("owner", "Bad Name"),
        ("custom", []),
        ("birthday", 20260101),
    ],
)
def test_wrong_json_types_are_errors_not_exceptions(field, value):
    given = {"name": "X", field: value}
    assert field in {p.split("[")[0] for p in errors_of(lambda: fields(**given))}


def test_empty_optional_text_becomes_null():
    assert fields(name="X", company="   ")["company"] is None


def test_custom_fields_follow_their_definitions():
    defs = [
        {"key": "size", "type": "choice", "choices": ["S", "M"], "required": True},
        {"key": "lines", "type": "choices", "choices": ["tea", "rice"]},
        {"key": "code", "type": "text", "pattern": r"[A-Z]{3}"},
        {"key": "staff", "type": "number"},
        {"key": "since", "type": "date"},
    ]
    good = validate_card_fields(
        {"name": "X", "custom": {"size": "S", "lines": ["tea", "tea"], "code": "ABC", "staff": 12, "since": "2020-01-31"}},
        region="CN",
        creating=True,
        custom_fields=defs,
    )
    assert good["custom"]["lines"] == ["tea"]
    bad = errors_of(
        lambda: validate_card_fields(
            {"name": "X", "custom": {"lines": ["coffee"], "code": "abc", "staff": True, "since": "2020-02-30", "nope": 1}},
            region="CN",
            creating=True,
            custom_fields=defs,
        )
    )
    assert set(bad) == {"custom.size", "custom.lines", "custom.code", "custom.staff", "custom.since", "custom.nope"}


def test_was_is_read_leniently():
    assert normalize_was({"phones": ["13812345678", "garbage"], "name": " A "}, region="CN") == {
        "phones": ["+8613812345678", "garbage"],
        "name": "A",
    }
    assert "bogus" in errors_of(lambda: normalize_was({"bogus": 1}, region="CN"))


def test_activity_rules():
    assert "id" in errors_of(
        lambda: validate_activity({"id": CARD.upper(), "kind": "visit", "at": "2026-11-24T10:00:00Z"}, card_id=CARD)
    )
    ok = validate_activity(
        {"id": CARD, "kind": "purchase", "at": "2026-11-24T10:00:00+08:00", "amount": "1200.50", "currency": "CNY"}, card_id=CARD
    )
    assert ok["id"] == CARD and ok["card"] == CARD and ok["text"] == ""
    bad = errors_of(
        lambda: validate_activity({"id": "x", "kind": "visit", "at": "2026-11-24", "rating": 6, "extra": 1}, card_id=CARD)
    )
    assert {"id", "at", "rating", "extra"} <= set(bad)
    assert "rating" in errors_of(
        lambda: validate_activity({"id": CARD, "kind": "visit", "at": "2026-11-24T10:00:00Z", "rating": 3}, card_id=CARD)
    )


def test_sync_request_is_strict():
    assert parse_sync_request({"device": "d"}).limit == 1000
    for bad, path in (
        ({"device": "d", "limit": "10"}, "limit"),
        ({"device": "d", "limit": True}, "limit"),
        ({"device": "d", "x": 1}, "x"),
        ({}, "device"),
        ({"device": "d", "mutations": [1]}, "mutations[0]"),
    ):
        assert path in errors_of(lambda: parse_sync_request(bad))


def test_mutation_envelopes():
    put = parse_mutation({"id": "m", "op": "card.put", "card": CARD, "at": "1763971200123-0000-d", "fields": {"name": "x"}})
    assert isinstance(put, CardPut) and put.card == CARD and put.was is None
    # Only the canonical form: uppercase, braces, urn:uuid: or no dashes would fold into one card.
    for folded in (CARD.upper(), "{" + CARD + "}", "urn:uuid:" + CARD, CARD.replace("-", "")):
        assert {"card"} == set(
            errors_of(
                lambda: parse_mutation(
                    {"id": "m", "op": "card.put", "card": folded, "at": "1763971200123-0000-d", "fields": {"name": "x"}}
                )
            )
        )
    delete = parse_mutation({"id": "m", "op": "card.delete", "card": CARD, "at": "1763971200123-0000-d", "version": 3})
    assert isinstance(delete, CardDelete) and delete.version == 3
    assert {"version"} == set(
        errors_of(
            lambda: parse_mutation({"id": "m", "op": "card.delete", "card": CARD, "at": "1763971200123-0000-d", "version": "3"})
        )
    )
    assert {"at", "card", "zzz"} <= set(
        errors_of(lambda: parse_mutation({"id": "m", "op": "card.put", "card": "nope", "at": "now", "fields": {}, "zzz": 1}))
    )


def test_control_characters_are_refused_with_the_path():
    for bad in ("\x00", "\x01", "\x0b", "\x1b", "\x7f"):
        found = errors_of(lambda: fields(name=f"A{bad}B", notes=f"x{bad}y", tags=[f"t{bad}"], company=bad))
        assert {"name", "notes", "tags[0]", "company"} <= set(found), (bad, found)
        assert "control character" in found["name"]
    ok = fields(name="A", notes="line one\nline two\ttab\r\n", address="上海\n浦东")
    assert ok["notes"].startswith("line one\nline two")


def test_fast_email_path_agrees_with_email_validator():
    from email_validator import EmailNotValidError, validate_email

    samples = [
        "a.b+c@Example.COM",
        "user@sub.domain.co",
        "x@y.io",
        "first.last@mail.example.org",
        "a..b@x.com",
        ".a@x.com",
        "a@x",
        "a@-x.com",
        "a@x-.com",
        "a@x.c",
        "a@x.123",
        "a@localhost",
        "a@host.local",
        "a@x.test",
        "王@example.com",
        "a b@x.com",
        '"quoted"@x.com',
        "a@[127.0.0.1]",
        "a@xn--fsq.com",
        "very.long." + "x" * 60 + "@x.com",
        "a@" + "b" * 64 + ".com",
        "o'brien@example.ie",
    ]
    for sample in samples:
        try:
            checked = validate_email(sample, check_deliverability=False)
            expected = f"{checked.local_part}@{checked.domain.lower()}"
        except EmailNotValidError:
            expected = None
        try:
            got = normalize_email(sample)
        except ValueError:
            got = None
        assert got == expected, sample


def _e164_samples() -> list[str]:
    """Every region's example numbers of every type, each a digit off, longer and shorter, with
    a leading zero, plus random digits after every country code (seeded: the same list each run)."""
    import random

    import phonenumbers

    rng = random.Random(14)
    samples: list[str] = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in range(12):
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None:
                continue
            text = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
            cc = str(example.country_code)
            samples += [
                text,
                text[:-1] + str((int(text[-1]) + 1) % 10),
                text + "5",
                text[:-1],
                f"+{cc}0{text[len(cc) + 1 :]}",
                f"+{cc}1{text[len(cc) + 1 :]}",
            ]
    for cc in sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE):
        for length in range(1, 19):
            samples += [f"+{cc}" + "".join(rng.choice("0123456789") for _ in range(length)) for _ in range(3)]
    return samples


def test_fast_e164_path_agrees_with_phonenumbers():
    from sync.cards.phones import e164_valid

    answered = 0
    for text in _e164_samples():
        fast = e164_valid(text)
        if fast is None:
            continue
        answered += 1
        assert (text if fast else None) == by_phonenumbers(text), text
    assert answered > 2000  # the fast path does answer most of them
    assert e164_valid("+8613812345678") is True and e164_valid("+16502530000") is True
    assert e164_valid("+8613812") is False


def test_phones_in_e164_are_refused_or_kept_as_phonenumbers_says():
    parsed_phone.cache_clear()
    for text in _e164_samples()[::7]:
        try:
            got = normalize_phone(text, "CN")
        except ValueError as error:
            assert "is not a valid phone number for region CN" in str(error)
            got = None
        assert got == by_phonenumbers(text), text


def test_purchase_amounts_are_read_as_people_write_them():
    def amount(written: str) -> str:
        return validate_activity(
            {"id": CARD, "kind": "purchase", "at": "2026-11-24T10:00:00Z", "amount": written, "currency": "CNY"}, card_id=CARD
        )["amount"]

    assert amount("12,500") == "12500"
    assert amount("¥12,500") == "12500"
    assert amount("￥12,500.50") == "12500.50"
    assert amount("1200.50") == "1200.50"
    for wrong in ("12,50", "1,2345", "¥", "12.500,00", "twelve"):
        bad = errors_of(
            lambda: validate_activity(
                {"id": CARD, "kind": "purchase", "at": "2026-11-24T10:00:00Z", "amount": wrong, "currency": "CNY"}, card_id=CARD
            )
        )
        assert "amount" in bad, wrong
