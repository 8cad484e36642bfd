"""The contact registry: accounts (用户) and the people to reach about each of them.

An account may have several contacts in different roles (the paper asks to widen them beyond
the electrical contact to the legal representative and the billing contact), and one person's
phone may be the contact of several accounts, like an electrician serving small firms.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from services.contacts.domain.phones import NumberType, phone_key


class Category(StrEnum):
    RESIDENTIAL = "residential"
    COMMERCIAL = "commercial"
    INDUSTRIAL = "industrial"
    IMPORTANT = "important"


class ContactRole(StrEnum):
    """Why the person is registered; the electrical contact is the one told first."""

    ELECTRICAL = "electrical"
    LEGAL = "legal"
    BILLING = "billing"
    OTHER = "other"


ROLE_PRIORITY = {role: rank for rank, role in enumerate(ContactRole)}


class ContactStatus(StrEnum):
    """``suspect``: the number looked fine but field evidence (e.g. failed delivery) doubts it."""

    VALID = "valid"
    SUSPECT = "suspect"
    INVALID = "invalid"


# A suspect number is still tried: a notice that may not arrive beats no notice at all, and the
# reviewer sees the doubt in the list.
USABLE_STATUSES = frozenset({ContactStatus.VALID, ContactStatus.SUSPECT})


@dataclass(frozen=True, slots=True)
class Account:
    account_id: str
    name: str
    node_id: str
    voltage_kv: float
    category: Category
    flags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Contact:
    contact_id: int
    account_id: str
    role: ContactRole
    name: str
    phone_raw: str
    phone_e164: str | None
    number_type: NumberType
    status: ContactStatus
    source: str = ""
    last_verified_at: datetime | None = None

    @property
    def can_sms(self) -> bool:
        return self.number_type is NumberType.MOBILE and self.status in USABLE_STATUSES

    @property
    def can_call(self) -> bool:
        return self.number_type is not NumberType.INVALID and self.status in USABLE_STATUSES

    @property
    def is_usable_landline(self) -> bool:
        return self.number_type is NumberType.LANDLINE and self.can_call

    @property
    def key(self) -> ContactKey:
        return ContactKey(self.account_id, self.role, phone_key(self.phone_raw, self.phone_e164))


@dataclass(frozen=True, slots=True)
class ContactKey:
    """What makes two contact rows the same contact: re-importing one must not add another."""

    account_id: str
    role: ContactRole
    phone_key: str
