"""The maintenance worklist: contacts to call, visit or fix before the next outage needs them.

The paper asks for routine upkeep rather than campaigns: drop invalid contacts, add valid ones,
and follow every business change. Items come from three places: a periodic scan of the
registry (accounts without a usable mobile, numbers not verified for a long time, one number
serving many accounts, invalid numbers, transfers without new contacts), delivery feedback
(numbers the carrier keeps failing) and complaints traced to a contact. Each item is opened
once (a second finding of the same thing while it is open adds nothing), assigned to someone,
and closed with what they did, which updates the registry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from services.contacts.domain import messages
from services.contacts.domain.registry import (
    AreaRole,
    CallWindow,
    ContactRole,
    PreferredChannel,
)
from shared.errors import Conflict, InvalidInput


class ItemKind(StrEnum):
    NO_VALID_MOBILE = "no_valid_mobile"
    UNVERIFIED = "unverified"
    SHARED_NUMBER = "shared_number"
    INVALID_NUMBER = "invalid_number"
    UNDELIVERABLE = "undeliverable"
    TRANSFER_PENDING = "transfer_pending"
    COMPLAINT = "complaint"


# Kinds the scan finds from the registry alone; an open one whose condition is gone is closed
# as resolved. Delivery failures and complaints are reports of events, closed only by people.
SCANNED_KINDS = frozenset(
    {
        ItemKind.NO_VALID_MOBILE,
        ItemKind.UNVERIFIED,
        ItemKind.SHARED_NUMBER,
        ItemKind.INVALID_NUMBER,
        ItemKind.TRANSFER_PENDING,
    }
)


class ItemStatus(StrEnum):
    OPEN = "open"
    ASSIGNED = "assigned"
    CLOSED = "closed"


class Outcome(StrEnum):
    CALLED = "called"
    VISITED = "visited"
    NUMBER_FIXED = "number_fixed"
    CONTACT_ADDED = "contact_added"
    CONTACT_REMOVED = "contact_removed"
    # Set by the scan only: the condition went away through another change.
    RESOLVED = "resolved"


@dataclass(frozen=True, slots=True)
class MaintenancePolicy:
    unverified_after: timedelta = timedelta(days=365)
    shared_number_accounts: int = 5
    # A closed item is not reopened by a scan within this time: someone just looked at it.
    quiet_after_closing: timedelta = timedelta(days=90)


@dataclass(frozen=True, slots=True)
class WorkItem:
    """A finding to put on the worklist; ``key`` identifies it while it is open."""

    kind: ItemKind
    key: str
    detail: str
    account_id: str | None = None
    area_id: str | None = None
    contact_id: int | None = None
    area_contact_id: int | None = None
    phone: str | None = None
    account_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class MaintenanceItem:
    item_id: int
    kind: ItemKind
    status: ItemStatus
    key: str
    detail: str
    opened_at: datetime
    opened_by: str
    account_id: str | None = None
    area_id: str | None = None
    contact_id: int | None = None
    area_contact_id: int | None = None
    phone: str | None = None
    account_ids: tuple[str, ...] = ()
    assignee: str | None = None
    assigned_at: datetime | None = None
    closed_at: datetime | None = None
    closed_by: str | None = None
    outcome: Outcome | None = None
    note: str | None = None

    def check_open(self) -> None:
        if self.status is ItemStatus.CLOSED:
            raise Conflict(messages.ITEM_CLOSED.format(item_id=self.item_id), field="status")


@dataclass(frozen=True, slots=True)
class Closing:
    """What the person closing an item did, with what the registry needs to record it."""

    outcome: Outcome
    note: str = ""
    contact_id: int | None = None
    phone: str | None = None
    role: str | None = None
    name: str = ""
    preferred_channel: PreferredChannel | None = None
    call_window: CallWindow | None = None


def check_closing(item: MaintenanceItem, closing: Closing) -> None:
    """Refuse a closing that lacks what its outcome must write to the registry."""
    item.check_open()
    outcome = closing.outcome
    if outcome is Outcome.RESOLVED:
        raise InvalidInput(messages.OUTCOME_SYSTEM_ONLY, field="outcome")
    target = closing.contact_id or item.contact_id or item.area_contact_id
    if outcome in (Outcome.NUMBER_FIXED, Outcome.CONTACT_ADDED) and not closing.phone:
        raise InvalidInput(messages.CLOSING_NEEDS_PHONE, field="phone")
    if outcome in (Outcome.NUMBER_FIXED, Outcome.CONTACT_REMOVED) and target is None:
        raise InvalidInput(messages.CLOSING_NEEDS_CONTACT, field="contact_id")
    if outcome is Outcome.CONTACT_ADDED:
        if item.account_id is None and item.area_id is None:
            raise InvalidInput(messages.CLOSING_NO_ACCOUNT, field="outcome")
        roles = (
            {r.value for r in ContactRole}
            if item.account_id is not None
            else {r.value for r in AreaRole}
        )
        if closing.role not in roles:
            raise InvalidInput(
                messages.VALUE_NOT_ALLOWED.format(
                    column="role", value=closing.role or "", allowed="|".join(sorted(roles))
                ),
                field="role",
            )


def no_valid_mobile(account_id: str, name: str) -> WorkItem:
    return WorkItem(
        ItemKind.NO_VALID_MOBILE,
        f"{ItemKind.NO_VALID_MOBILE}:{account_id}",
        messages.ITEM_NO_VALID_MOBILE.format(account_id=account_id, name=name),
        account_id=account_id,
    )


def unverified(
    *,
    account_id: str | None,
    area_id: str | None,
    contact_id: int,
    name: str,
    phone: str,
    since: datetime,
    area_contact: bool = False,
) -> WorkItem:
    prefix = "a" if area_contact else "c"
    return WorkItem(
        ItemKind.UNVERIFIED,
        f"{ItemKind.UNVERIFIED}:{prefix}{contact_id}",
        messages.ITEM_UNVERIFIED.format(
            owner=account_id or area_id,
            name=name,
            since=f"{since:%Y-%m-%d}",
        ),
        account_id=account_id,
        area_id=area_id,
        contact_id=None if area_contact else contact_id,
        area_contact_id=contact_id if area_contact else None,
        phone=phone,
    )


def shared_number(phone: str, account_ids: tuple[str, ...]) -> WorkItem:
    return WorkItem(
        ItemKind.SHARED_NUMBER,
        f"{ItemKind.SHARED_NUMBER}:{phone}",
        messages.ITEM_SHARED_NUMBER.format(count=len(account_ids)),
        phone=phone,
        account_ids=account_ids,
    )


def invalid_number(
    *,
    account_id: str | None,
    area_id: str | None,
    contact_id: int,
    phone_raw: str,
    area_contact: bool = False,
) -> WorkItem:
    prefix = "a" if area_contact else "c"
    return WorkItem(
        ItemKind.INVALID_NUMBER,
        f"{ItemKind.INVALID_NUMBER}:{prefix}{contact_id}",
        messages.ITEM_INVALID_NUMBER.format(owner=account_id or area_id, phone=phone_raw),
        account_id=account_id,
        area_id=area_id,
        contact_id=None if area_contact else contact_id,
        area_contact_id=contact_id if area_contact else None,
        phone=phone_raw,
    )


def undeliverable(
    *,
    account_id: str | None,
    area_id: str | None,
    contact_id: int,
    phone: str,
    failures: int,
    reason: str,
    area_contact: bool = False,
) -> WorkItem:
    prefix = "a" if area_contact else "c"
    return WorkItem(
        ItemKind.UNDELIVERABLE,
        f"{ItemKind.UNDELIVERABLE}:{prefix}{contact_id}",
        messages.ITEM_UNDELIVERABLE.format(
            owner=account_id or area_id, failures=failures, reason=reason
        ),
        account_id=account_id,
        area_id=area_id,
        contact_id=None if area_contact else contact_id,
        area_contact_id=contact_id if area_contact else None,
        phone=phone,
    )


def transfer_pending(account_id: str, name: str, since: datetime) -> WorkItem:
    return WorkItem(
        ItemKind.TRANSFER_PENDING,
        f"{ItemKind.TRANSFER_PENDING}:{account_id}",
        messages.ITEM_TRANSFER_PENDING.format(
            account_id=account_id, name=name, since=f"{since:%Y-%m-%d}"
        ),
        account_id=account_id,
    )


def complaint(complaint_id: str, account_id: str, outage_id: str, detail: str) -> WorkItem:
    return WorkItem(
        ItemKind.COMPLAINT,
        f"{ItemKind.COMPLAINT}:{complaint_id}",
        messages.ITEM_COMPLAINT.format(outage_id=outage_id, detail=detail),
        account_id=account_id,
    )
