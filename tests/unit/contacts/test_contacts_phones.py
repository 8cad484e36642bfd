"""Phone numbers as written in customer records: what each can be used for, and masking."""

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.contacts.domain.phones import NumberType, mask_phone, parse_phone


@pytest.mark.parametrize(
    "written",
    [
        "13800138000",
        "138 0013 8000",
        "138-0013-8000",
        "+86 13800138000",
        "+8613800138000",
        "0086 138 0013 8000",
        "86-13800138000",
        " 13800138000 ",
        "１３８００１３８０００",
        "手机：13800138000",
    ],
)
def test_a_mainland_mobile_in_any_human_format_becomes_one_e164_number_that_takes_sms(written):
    parsed = parse_phone(written)

    assert parsed.number_type is NumberType.MOBILE
    assert parsed.e164 == "+8613800138000"
    assert parsed.key == "+8613800138000"
    assert parsed.raw == written


@pytest.mark.parametrize(
    ("written", "e164"),
    [
        ("0571-88123456", "+8657188123456"),
        ("0571 88123456", "+8657188123456"),
        ("(0571)88123456", "+8657188123456"),
        ("+86-571-88123456", "+8657188123456"),
        ("010-12345678", "+861012345678"),
        ("0571-88123456转8001", "+8657188123456"),
        ("4008200000", "+864008200000"),
    ],
)
def test_a_fixed_line_or_hotline_is_kept_for_calls_but_not_for_sms(written, e164):
    parsed = parse_phone(written)

    assert parsed.number_type is NumberType.LANDLINE
    assert parsed.e164 == e164


@pytest.mark.parametrize(
    "written",
    [
        "",
        "   ",
        "无",
        "不详",
        "n/a",
        "1380000",
        "1380013800",
        "138001380001",
        "88123456",
        "14012345678",
        "13800138000/13900139000",
        "+852 9123 4567",
        "+1 650 253 0000",
    ],
)
def test_unusable_numbers_are_invalid_with_a_reason_and_no_e164(written):
    parsed = parse_phone(written)

    assert parsed.number_type is NumberType.INVALID
    assert parsed.e164 is None
    assert not parsed.is_valid
    assert parsed.problem


def test_an_invalid_number_is_identified_by_its_text_without_blanks():
    assert parse_phone("138 0000").key == "1380000"


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("+8613800138000", "138****8000"),
        ("+8657188123456", "057*****3456"),
        ("+861012345678", "010****5678"),
        ("1380000", "*****00"),
        ("无", ""),
    ],
)
def test_masking_hides_the_middle_digits_of_the_national_number(phone, masked):
    assert mask_phone(phone) == masked


def _by_the_library_alone(written: str) -> tuple[str | None, NumberType]:
    try:
        number = phonenumbers.parse(written, "CN")
    except phonenumbers.NumberParseException:
        return None, NumberType.INVALID
    if not phonenumbers.is_valid_number(number) or number.country_code != 86:
        return None, NumberType.INVALID
    kind = phonenumbers.number_type(number)
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if kind == phonenumbers.PhoneNumberType.MOBILE:
        return e164, NumberType.MOBILE
    if kind == phonenumbers.PhoneNumberType.FIXED_LINE:
        return e164, NumberType.LANDLINE
    return None, NumberType.INVALID


@settings(derandomize=True, max_examples=300)
@given(
    digits=st.from_regex(r"1[0-9]{10}", fullmatch=True),
    prefix=st.sampled_from(["", "+86", "+86 ", "0086 ", "86-"]),
    spaced=st.booleans(),
)
def test_mobiles_read_without_the_general_parser_agree_with_the_library(digits, prefix, spaced):
    body = f"{digits[:3]} {digits[3:7]} {digits[7:]}" if spaced else digits
    written = prefix + body

    parsed = parse_phone(written)

    assert (parsed.e164, parsed.number_type) == _by_the_library_alone(written)
