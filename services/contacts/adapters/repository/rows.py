"""Rows and JSON shared by the repositories: chunking, the row encoder, and the registry's
columns and converters."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import datetime, time
from typing import Any, TypeVar

from sqlalchemy import Row

from services.contacts.adapters.db import accounts, contacts
from services.contacts.domain.imports import FLAG_SEPARATOR
from services.contacts.domain.phones import NumberType
from services.contacts.domain.registry import (
    Account,
    AreaContact,
    AreaRole,
    CallWindow,
    Category,
    Contact,
    ContactRole,
    ContactStatus,
    Importance,
    PreferredChannel,
    RecentChange,
)
from shared.timeutil import ensure_aware

# Well below the bind-parameter limits of PostgreSQL (32,767) and SQLite (32,766).
CHUNK_SIZE = 5000
USABLE = (ContactStatus.VALID.value, ContactStatus.SUSPECT.value)

T = TypeVar("T")


def chunked(items: Sequence[T], size: int = CHUNK_SIZE) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _json_default(value: object) -> str:
    # Call windows are written as people write them (08:00-20:00), times in ISO 8601.
    if isinstance(value, CallWindow):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {value!r}")


# One encoder for every row: json.dumps with options builds a new encoder per call, which is
# most of the cost of encoding 20,000 small rows.
dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=_json_default).encode

# Enum members by value, looked up for every row read: a dict is several times faster than
# calling the enum.
CATEGORIES = {m.value: m for m in Category}
IMPORTANCES = {m.value: m for m in Importance}
ROLES = {m.value: m for m in ContactRole}
NUMBER_TYPES = {m.value: m for m in NumberType}
STATUSES = {m.value: m for m in ContactStatus}
CHANNELS = {m.value: m for m in PreferredChannel}
CHANGES = {m.value: m for m in RecentChange}


def value_of(member: Any) -> Any:
    return member.value if member is not None else None


def window_fields(window: CallWindow | None) -> dict[str, time | None]:
    return {
        "call_earliest": window.earliest if window else None,
        "call_latest": window.latest if window else None,
    }


def call_window_of(earliest: time | None, latest: time | None) -> CallWindow | None:
    if earliest is None or latest is None:
        return None
    return CallWindow(earliest, latest)


def reachable_fields(contact: Contact | AreaContact) -> dict[str, Any]:
    return {
        "name": contact.name,
        "phone_raw": contact.phone_raw,
        "phone_e164": contact.phone_e164,
        "number_type": contact.number_type.value,
        "status": contact.status.value,
        "source": contact.source,
        "last_verified_at": contact.last_verified_at,
        **window_fields(contact.call_window),
        "retired_at": contact.retired_at,
        "failure_count": contact.failure_count,
    }


# The columns a domain object is read from, in the order the converters below expect.
ACCOUNT_COLUMNS = (
    accounts.c.account_id,
    accounts.c.name,
    accounts.c.node_id,
    accounts.c.voltage_kv,
    accounts.c.category,
    accounts.c.flags,
    accounts.c.address,
    accounts.c.transformer_area,
    accounts.c.importance,
    accounts.c.transfer_pending_since,
    accounts.c.changed_at,
    accounts.c.change,
)
CONTACT_COLUMNS = (
    contacts.c.id,
    contacts.c.account_id,
    contacts.c.role,
    contacts.c.name,
    contacts.c.phone_raw,
    contacts.c.phone_e164,
    contacts.c.number_type,
    contacts.c.status,
    contacts.c.source,
    contacts.c.last_verified_at,
    contacts.c.preferred_channel,
    contacts.c.call_earliest,
    contacts.c.call_latest,
    contacts.c.retired_at,
    contacts.c.failure_count,
)


def account_of(row: Sequence[Any]) -> Account:
    (
        account_id,
        name,
        node_id,
        voltage_kv,
        category,
        flags,
        address,
        area,
        importance,
        pending,
        changed_at,
        change,
    ) = row[:12]
    return Account(
        account_id,
        name,
        node_id,
        voltage_kv,
        CATEGORIES[category],
        tuple(flags.split(FLAG_SEPARATOR)) if flags else (),
        address,
        area,
        IMPORTANCES[importance],
        aware(pending),
        aware(changed_at),
        CHANGES[change] if change else None,
    )


def account_fields(account: Account) -> dict[str, Any]:
    return {
        "name": account.name,
        "node_id": account.node_id,
        "voltage_kv": account.voltage_kv,
        "category": account.category.value,
        "flags": FLAG_SEPARATOR.join(account.flags),
        "address": account.address,
        "transformer_area": account.transformer_area,
        "importance": account.importance.value,
        "transfer_pending_since": account.transfer_pending_since,
        "changed_at": account.changed_at,
        "change": value_of(account.change),
    }


def contact_of(row: Sequence[Any]) -> Contact:
    (
        contact_id,
        account_id,
        role,
        name,
        raw,
        e164,
        number_type,
        status,
        source,
        verified,
        preferred,
        earliest,
        latest,
        retired,
        failures,
    ) = row[:15]
    return Contact(
        contact_id,
        account_id,
        ROLES[role],
        name,
        raw,
        e164,
        NUMBER_TYPES[number_type],
        STATUSES[status],
        source,
        aware(verified),
        CHANNELS[preferred] if preferred else None,
        call_window_of(earliest, latest),
        aware(retired),
        failures,
    )


def area_contact_of(row: Row[Any]) -> AreaContact:
    return AreaContact(
        contact_id=row.id,
        area_id=row.area_id,
        role=AreaRole(row.role),
        name=row.name,
        phone_raw=row.phone_raw,
        phone_e164=row.phone_e164,
        number_type=NumberType(row.number_type),
        status=ContactStatus(row.status),
        source=row.source,
        last_verified_at=aware(row.last_verified_at),
        call_window=call_window_of(row.call_earliest, row.call_latest),
        retired_at=aware(row.retired_at),
        failure_count=row.failure_count,
    )


def aware(value: datetime | None) -> datetime | None:
    return ensure_aware(value) if value is not None else None


def moment(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value is not None else None
