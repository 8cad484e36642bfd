"""Telephone numbers as customers write them, and what each one can be used for.

Registry numbers come in human formats (``138 0013 8000``, ``+86 13800138000``,
``0571-88123456``, ``0571-88123456转8001``). Each is parsed once, on import, against the
Chinese numbering plan: a mainland mobile can take an SMS; a mainland fixed line (or a
company hotline) can only be called; anything else is invalid and never used to notify anyone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

import phonenumbers
from phonenumbers import PhoneNumber, PhoneNumberFormat, PhoneNumberType

from services.contacts.domain import messages

HOME_REGION = "CN"
HOME_COUNTRY_CODE = 86

# Numbers a person can call but the SMS platform cannot text. Chinese company hotlines
# (400/800) are included: a duty room reached through one is still a way to warn the customer.
_CALLABLE_TYPES = frozenset(
    {
        PhoneNumberType.FIXED_LINE,
        PhoneNumberType.TOLL_FREE,
        PhoneNumberType.SHARED_COST,
        PhoneNumberType.UAN,
        PhoneNumberType.VOIP,
    }
)
# Chinese forms write an extension as "转8001" or "分机8001"; the library only knows "ext".
_EXTENSION_MARK = re.compile(r"\s*(?:转|分机)\s*")
# Most registry numbers are plain mobiles; reading those directly skips the library's general
# parser, which costs as much as the validation itself (a million-account import parses
# well over a million numbers).
_PLAIN_MOBILE = re.compile(r"(?:\+?86|0086)?[\s-]*(1\d\d)[\s-]?(\d{4})[\s-]?(\d{4})")
_VISIBLE_HEAD = 3
_VISIBLE_TAIL = 4


class NumberType(StrEnum):
    MOBILE = "mobile"
    LANDLINE = "landline"
    INVALID = "invalid"


@dataclass(frozen=True, slots=True)
class ParsedPhone:
    """A number as written and, when it is one, its E.164 form and what it can be used for."""

    raw: str
    e164: str | None
    number_type: NumberType
    problem: str = ""

    @property
    def is_valid(self) -> bool:
        return self.number_type is not NumberType.INVALID

    @property
    def key(self) -> str:
        return phone_key(self.raw, self.e164)


def phone_key(raw: str, e164: str | None) -> str:
    """What identifies a number: its E.164 form when valid, else the raw text without blanks."""
    return e164 or "".join(raw.split())


def parse_phone(raw: str) -> ParsedPhone:
    """Classify a number written by a person, as seen from mainland China."""
    text = raw.strip()
    if not text:
        return ParsedPhone(raw, None, NumberType.INVALID, messages.PHONE_EMPTY)
    plain = _PLAIN_MOBILE.fullmatch(text)
    if plain:
        number = PhoneNumber(
            country_code=HOME_COUNTRY_CODE, national_number=int("".join(plain.groups()))
        )
    else:
        try:
            number = phonenumbers.parse(_EXTENSION_MARK.sub(" ext. ", text), HOME_REGION)
        except phonenumbers.NumberParseException:
            return ParsedPhone(raw, None, NumberType.INVALID, messages.PHONE_NOT_A_NUMBER)
    if number.country_code != HOME_COUNTRY_CODE:
        # The SMS platform and the call centre only reach mainland numbers.
        problem = (
            messages.PHONE_NOT_MAINLAND
            if phonenumbers.is_valid_number(number)
            else messages.PHONE_NOT_ASSIGNED
        )
        return ParsedPhone(raw, None, NumberType.INVALID, problem)
    # For a mainland number the type says it all: UNKNOWN is exactly what is_valid_number
    # rejects, and asking both would match the number against the plan twice.
    kind = phonenumbers.number_type(number)
    if kind == PhoneNumberType.UNKNOWN:
        return ParsedPhone(raw, None, NumberType.INVALID, messages.PHONE_NOT_ASSIGNED)
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    if kind == PhoneNumberType.MOBILE:
        return ParsedPhone(raw, e164, NumberType.MOBILE)
    if kind in _CALLABLE_TYPES:
        return ParsedPhone(raw, e164, NumberType.LANDLINE)
    return ParsedPhone(raw, None, NumberType.INVALID, messages.PHONE_NOT_REACHABLE)


def mask_phone(phone: str) -> str:
    """Hide the middle digits as Chinese receipts do: ``+8613800138000`` → ``138****8000``.

    An E.164 mainland number is shown in its national form (a fixed line with its leading 0);
    anything else is masked over the digits it contains.
    """
    digits = _national_digits(phone)
    if len(digits) > _VISIBLE_HEAD + _VISIBLE_TAIL:
        hidden = len(digits) - _VISIBLE_HEAD - _VISIBLE_TAIL
        return digits[:_VISIBLE_HEAD] + "*" * hidden + digits[-_VISIBLE_TAIL:]
    if len(digits) > 2:
        return "*" * (len(digits) - 2) + digits[-2:]
    return "*" * len(digits)


def _national_digits(phone: str) -> str:
    written = phone
    if phone.startswith(f"+{HOME_COUNTRY_CODE}"):
        try:
            number = phonenumbers.parse(phone, HOME_REGION)
        except phonenumbers.NumberParseException:
            pass
        else:
            written = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    return "".join(ch for ch in written if ch.isdigit())
