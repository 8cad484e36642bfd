"""The contact registry: accounts (用户), the people to reach about each, and area contacts.

An account may have several contacts in different roles (the paper asks to widen them beyond
the electrical contact to the legal representative and the billing contact), and one person's
phone may be the contact of several accounts, like an electrician serving small firms.

Area contacts are not customers: the property management office of a residential compound, the
residents' or village committee. They post the notice where the customers live and confirm it.
An area is a transformer area (台区) or a compound spanning several of them.

A contact is never deleted: one that no longer answers for the account is *retired* (kept with
its history, never used again), so that who was told what stays explainable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time
from enum import StrEnum

from services.contacts.domain import messages
from services.contacts.domain.phones import NumberType, ParsedPhone, phone_key


class Category(StrEnum):
    RESIDENTIAL = "residential"
    COMMERCIAL = "commercial"
    INDUSTRIAL = "industrial"
    IMPORTANT = "important"


class Importance(StrEnum):
    """The grades of important power customers (重要电力用户, GB/T 29328): hospitals, water works,
    gas, traffic control… Any grade but ``normal`` must be called before an outage."""

    NORMAL = "normal"
    TEMPORARY = "temporary"
    SECOND = "second"
    FIRST = "first"
    SPECIAL = "special"


class ContactRole(StrEnum):
    """Why the person is registered; the electrical contact is the one told first."""

    ELECTRICAL = "electrical"
    LEGAL = "legal"
    BILLING = "billing"
    OTHER = "other"


ROLE_PRIORITY = {role: rank for rank, role in enumerate(ContactRole)}


class AreaRole(StrEnum):
    PROPERTY_MANAGEMENT = "property_management"
    RESIDENTS_COMMITTEE = "residents_committee"
    VILLAGE_COMMITTEE = "village_committee"
    OTHER = "other"


class AreaKind(StrEnum):
    TRANSFORMER_AREA = "transformer_area"
    COMPOUND = "compound"


class ContactStatus(StrEnum):
    """``suspect``: the number looked fine but field evidence (e.g. failed delivery) doubts it."""

    VALID = "valid"
    SUSPECT = "suspect"
    INVALID = "invalid"


class PreferredChannel(StrEnum):
    """What a person asked to be reached by, among what a phone number can carry."""

    SMS = "sms"
    VOICE = "voice"


class SubscriptionChannel(StrEnum):
    WECHAT = "wechat"
    APP_PUSH = "app_push"


class RecentChange(StrEnum):
    """What made an account worth a second look on the next list."""

    MOVED = "moved"
    RENAMED = "renamed"
    TRANSFERRED = "transferred"


# A suspect number is still tried: a notice that may not arrive beats no notice at all, and the
# reviewer sees the doubt in the list.
USABLE_STATUSES = frozenset({ContactStatus.VALID, ContactStatus.SUSPECT})

_WINDOW = re.compile(r"\s*(\d{1,2}):(\d{2})\s*[-–~至]\s*(\d{1,2}):(\d{2})\s*")


@dataclass(frozen=True, slots=True)
class CallWindow:
    """The local times of day between which a person may be called or texted."""

    earliest: time
    latest: time

    def __post_init__(self) -> None:
        if self.earliest >= self.latest:
            raise ValueError(messages.CALL_WINDOW_ORDER)

    @classmethod
    def parse(cls, text: str) -> CallWindow:
        """``08:00-20:00`` (also ``8:00~20:00``, ``08:00至20:00``); ValueError says why not."""
        match = _WINDOW.fullmatch(text)
        if match is None:
            raise ValueError(messages.CALL_WINDOW_FORMAT.format(value=text))
        hour1, minute1, hour2, minute2 = (int(part) for part in match.groups())
        try:
            earliest, latest = time(hour1, minute1), time(hour2, minute2)
        except ValueError:
            raise ValueError(messages.CALL_WINDOW_FORMAT.format(value=text)) from None
        return cls(earliest, latest)

    def __str__(self) -> str:
        return f"{self.earliest:%H:%M}-{self.latest:%H:%M}"


class _Reachable:
    """What a registered phone can be used for; shared by account and area contacts."""

    __slots__ = ()
    number_type: NumberType
    status: ContactStatus
    phone_raw: str
    phone_e164: str | None
    retired_at: datetime | None

    @property
    def active(self) -> bool:
        return self.retired_at is None

    @property
    def usable(self) -> bool:
        return self.active and self.status in USABLE_STATUSES

    @property
    def can_sms(self) -> bool:
        return self.number_type is NumberType.MOBILE and self.usable

    @property
    def can_call(self) -> bool:
        return self.number_type is not NumberType.INVALID and self.usable

    @property
    def is_usable_landline(self) -> bool:
        return self.number_type is NumberType.LANDLINE and self.can_call

    @property
    def phone_key(self) -> str:
        return phone_key(self.phone_raw, self.phone_e164)


@dataclass(frozen=True, slots=True)
class Account:
    account_id: str
    name: str
    node_id: str
    voltage_kv: float
    category: Category
    flags: tuple[str, ...] = ()
    address: str = ""
    # The transformer area (台区) node the customer is supplied from; empty for high-voltage
    # customers, and where the registry does not know it (the traced node stands in).
    transformer_area: str = ""
    importance: Importance = Importance.NORMAL
    # Set by an ownership transfer, cleared when the new owner's first contact is registered.
    transfer_pending_since: datetime | None = None
    changed_at: datetime | None = None
    change: RecentChange | None = None

    @property
    def important(self) -> bool:
        """Important by grade or category; the channel policy adds high-voltage customers."""
        return self.importance is not Importance.NORMAL or self.category is Category.IMPORTANT

    @property
    def registered_fields(self) -> tuple[object, ...]:
        """What an import writes; equal tuples mean re-importing the row changes nothing."""
        return (
            self.name,
            self.node_id,
            self.voltage_kv,
            self.category,
            self.flags,
            self.address,
            self.transformer_area,
            self.importance,
        )


@dataclass(frozen=True, slots=True)
class Contact(_Reachable):
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
    preferred_channel: PreferredChannel | None = None
    call_window: CallWindow | None = None
    retired_at: datetime | None = None
    failure_count: int = 0

    @property
    def key(self) -> ContactKey:
        return ContactKey(self.account_id, self.role, self.phone_key)


@dataclass(frozen=True, slots=True)
class ContactKey:
    """What makes two contact rows the same contact: re-importing one must not add another."""

    account_id: str
    role: ContactRole
    phone_key: str


@dataclass(frozen=True, slots=True)
class Area:
    area_id: str
    name: str
    kind: AreaKind
    node_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AreaContact(_Reachable):
    contact_id: int
    area_id: str
    role: AreaRole
    name: str
    phone_raw: str
    phone_e164: str | None
    number_type: NumberType
    status: ContactStatus
    source: str = ""
    last_verified_at: datetime | None = None
    call_window: CallWindow | None = None
    retired_at: datetime | None = None
    failure_count: int = 0


@dataclass(frozen=True, slots=True)
class AreaSubscription:
    """A WeChat Work group robot or an app topic that wants an area's notices."""

    subscription_id: int
    area_id: str
    channel: SubscriptionChannel
    address: str
    name: str = ""


def status_after_failures(
    current: ContactStatus, consecutive_failures: int, invalid_after: int
) -> ContactStatus:
    """A number that keeps failing is doubted, then given up on; an invalid one stays so."""
    if current is ContactStatus.INVALID or consecutive_failures >= invalid_after:
        return ContactStatus.INVALID
    return ContactStatus.SUSPECT


def fresh_status(phone: ParsedPhone) -> ContactStatus:
    """The status of a number a person has just entered or confirmed."""
    return ContactStatus.VALID if phone.is_valid else ContactStatus.INVALID
