"""Changes to registered contacts by people and by field evidence, and their history.

Every change to a contact or an account leaves a history entry naming who made it, when and
why, with the fields before and after: a wrong notice is explained from it months later. A
number entered by a person must be usable; only bulk imports of legacy data may store an
invalid one (flagged, on the worklist).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

from services.contacts.domain import messages
from services.contacts.domain.phones import ParsedPhone, parse_phone
from services.contacts.domain.registry import (
    Account,
    AreaContact,
    CallWindow,
    Contact,
    ContactStatus,
    PreferredChannel,
    RecentChange,
    status_after_failures,
)
from shared.errors import Conflict, InvalidInput

_C = TypeVar("_C", Contact, AreaContact)


class Subject(StrEnum):
    ACCOUNT = "account"
    CONTACT = "contact"
    AREA_CONTACT = "area_contact"


class HistoryAction(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    VERIFIED = "verified"
    UNDELIVERABLE = "undeliverable"
    RETIRED = "retired"
    TRANSFERRED = "transferred"


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    subject: Subject
    subject_id: str
    action: HistoryAction
    actor: str
    reason: str
    at: datetime
    account_id: str | None = None
    area_id: str | None = None
    before: Mapping[str, Any] | None = None
    after: Mapping[str, Any] | None = None


class _Unset:
    """A field the caller did not send, as opposed to one sent empty (which clears it)."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()


@dataclass(frozen=True, slots=True)
class ContactPatch:
    """What a person changes on a contact; fields left UNSET stay as they are."""

    name: str | Any = UNSET
    phone: ParsedPhone | Any = UNSET
    preferred_channel: PreferredChannel | Any | None = UNSET
    call_window: CallWindow | Any | None = UNSET
    status: ContactStatus | Any = UNSET
    verified: bool = False


def require_phone(raw: str, field: str) -> ParsedPhone:
    """A number typed by a person: stored only when it can reach someone."""
    phone = parse_phone(raw)
    if not phone.is_valid:
        raise InvalidInput(
            messages.PHONE_REJECTED.format(phone=raw, reason=phone.problem), field=field
        )
    return phone


def patch_contact(contact: _C, patch: ContactPatch, now: datetime) -> _C:
    """The contact after a person's edit.

    A new number, or a confirmation (``verified``), clears doubts raised by failed deliveries:
    someone has just checked it.
    """
    if not contact.active:
        raise Conflict(messages.CONTACT_RETIRED.format(contact_id=contact.contact_id), field="id")
    changed = contact
    if patch.name is not UNSET:
        changed = replace(changed, name=patch.name)
    if patch.call_window is not UNSET:
        changed = replace(changed, call_window=patch.call_window)
    if patch.preferred_channel is not UNSET and isinstance(changed, Contact):
        changed = replace(changed, preferred_channel=patch.preferred_channel)
    if patch.status is not UNSET:
        if patch.status is not ContactStatus.INVALID and not contact_has_number(changed):
            raise InvalidInput(messages.STATUS_NEEDS_NUMBER, field="status")
        changed = replace(changed, status=patch.status)
    if patch.phone is not UNSET:
        phone: ParsedPhone = patch.phone
        changed = replace(
            changed,
            phone_raw=phone.raw,
            phone_e164=phone.e164,
            number_type=phone.number_type,
        )
    if patch.phone is not UNSET or patch.verified:
        changed = confirm(changed, now)
    return changed


def contact_has_number(contact: Contact | AreaContact) -> bool:
    return contact.phone_e164 is not None


def confirm(contact: _C, now: datetime) -> _C:
    """Someone reached the person on this number (or just entered it): it is valid again."""
    status = ContactStatus.VALID if contact_has_number(contact) else ContactStatus.INVALID
    return replace(contact, status=status, last_verified_at=now, failure_count=0)


def retire(contact: _C, now: datetime) -> _C:
    if not contact.active:
        raise Conflict(messages.CONTACT_RETIRED.format(contact_id=contact.contact_id), field="id")
    return replace(contact, retired_at=now)


def after_failures(contact: _C, consecutive_failures: int, invalid_after: int) -> _C:
    """Delivery kept failing: the number is doubted, then given up on after ``invalid_after``."""
    failures = max(contact.failure_count, consecutive_failures)
    return replace(
        contact,
        status=status_after_failures(contact.status, failures, invalid_after),
        failure_count=failures,
    )


def transferred(account: Account, now: datetime, new_name: str | None) -> Account:
    """The account after a change of owner: flagged until the new owner's contacts are in."""
    return replace(
        account,
        name=new_name or account.name,
        transfer_pending_since=now,
        changed_at=now,
        change=RecentChange.TRANSFERRED,
    )


def contact_fields(contact: Contact | AreaContact) -> dict[str, Any]:
    """The fields a history entry records, as JSON values."""
    fields: dict[str, Any] = {
        "role": contact.role.value,
        "name": contact.name,
        "phone": contact.phone_raw,
        "phone_e164": contact.phone_e164,
        "number_type": contact.number_type.value,
        "status": contact.status.value,
        "call_window": str(contact.call_window) if contact.call_window else None,
        "last_verified_at": _iso(contact.last_verified_at),
        "failure_count": contact.failure_count,
        "retired_at": _iso(contact.retired_at),
    }
    if isinstance(contact, Contact):
        fields["preferred_channel"] = (
            contact.preferred_channel.value if contact.preferred_channel else None
        )
    return fields


def account_fields(account: Account) -> dict[str, Any]:
    return {
        "name": account.name,
        "node_id": account.node_id,
        "voltage_kv": account.voltage_kv,
        "category": account.category.value,
        "flags": list(account.flags),
        "address": account.address,
        "transformer_area": account.transformer_area,
        "importance": account.importance.value,
        "transfer_pending_since": _iso(account.transfer_pending_since),
    }


def difference(
    before: Mapping[str, Any], after: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the fields that changed, before and after."""
    keys = [key for key in after if before.get(key) != after[key]]
    return {key: before.get(key) for key in keys}, {key: after[key] for key in keys}


def contact_entry(
    before: Contact | AreaContact | None,
    after: Contact | AreaContact,
    action: HistoryAction,
    actor: str,
    reason: str,
    at: datetime,
) -> HistoryEntry:
    """The history entry of a contact's creation (``before`` None) or change."""
    new = contact_fields(after)
    old, new = difference(contact_fields(before), new) if before is not None else (None, new)
    if isinstance(after, Contact):
        return HistoryEntry(
            Subject.CONTACT,
            str(after.contact_id),
            action,
            actor,
            reason,
            at,
            account_id=after.account_id,
            before=old,
            after=new,
        )
    return HistoryEntry(
        Subject.AREA_CONTACT,
        str(after.contact_id),
        action,
        actor,
        reason,
        at,
        area_id=after.area_id,
        before=old,
        after=new,
    )


def account_entry(
    before: Account | None,
    after: Account,
    action: HistoryAction,
    actor: str,
    reason: str,
    at: datetime,
) -> HistoryEntry:
    new = account_fields(after)
    old, new = difference(account_fields(before), new) if before is not None else (None, new)
    return HistoryEntry(
        Subject.ACCOUNT,
        after.account_id,
        action,
        actor,
        reason,
        at,
        account_id=after.account_id,
        before=old,
        after=new,
    )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
