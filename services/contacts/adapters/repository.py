"""Reading and writing the registry and the notification lists, in bulk.

Everything here works on many rows at once: ids are looked up with ``IN`` in chunks (a trace
may name 20,000 accounts, an import a million) and rows are written with Core ``executemany``
in chunks, never as one ORM object per row.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Row, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.contacts.adapters.db import (
    accounts,
    cancelled_outages,
    contacts,
    list_accounts,
    list_contacts,
    list_recipients,
    list_warnings,
    notice_lists,
)
from services.contacts.domain.imports import ContactRecord, ContactUpdate
from services.contacts.domain.listing import (
    DraftList,
    DraftRecipient,
    ListCounts,
    ListEntry,
    ListWarning,
    WarningSource,
)
from services.contacts.domain.phones import NumberType
from services.contacts.domain.registry import (
    Account,
    Category,
    Contact,
    ContactRole,
    ContactStatus,
)
from services.contacts.domain.review import CANCELLABLE_STATUSES, ListStatus, NoticeList
from shared.db import upsert_ignore
from shared.events import (
    AffectedAccount,
    FeederScope,
    OutageCancelled,
    OutageDetails,
    OutageTraced,
    TransformerScope,
)
from shared.timeutil import ensure_aware

# Well below the bind-parameter limits of PostgreSQL (32,767) and SQLite (32,766).
CHUNK_SIZE = 5000

T = TypeVar("T")


def chunked(items: Sequence[T], size: int = CHUNK_SIZE) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class RegistryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def registered_account_ids(self, account_ids: Collection[str]) -> set[str]:
        found: set[str] = set()
        for chunk in chunked(sorted(account_ids)):
            result = await self.session.execute(
                select(accounts.c.account_id).where(accounts.c.account_id.in_(chunk))
            )
            found.update(result.scalars())
        return found

    async def accounts(self, account_ids: Collection[str]) -> dict[str, Account]:
        found: dict[str, Account] = {}
        for chunk in chunked(sorted(account_ids)):
            result = await self.session.execute(
                select(accounts).where(accounts.c.account_id.in_(chunk))
            )
            found.update((row.account_id, _account(row)) for row in result)
        return found

    async def account(self, account_id: str) -> Account | None:
        return (await self.accounts([account_id])).get(account_id)

    async def contacts_of(self, account_ids: Collection[str]) -> dict[str, list[Contact]]:
        """The contacts of each account, in registration order."""
        found: dict[str, list[Contact]] = defaultdict(list)
        for chunk in chunked(sorted(account_ids)):
            result = await self.session.execute(
                select(contacts).where(contacts.c.account_id.in_(chunk)).order_by(contacts.c.id)
            )
            for row in result:
                found[row.account_id].append(_contact(row))
        return dict(found)

    async def add_accounts(self, new: Sequence[Account], now: datetime) -> None:
        for chunk in chunked(new):
            await self.session.execute(
                insert(accounts),
                [
                    {
                        "account_id": a.account_id,
                        **_account_fields(a),
                        "created_at": now,
                        "updated_at": now,
                    }
                    for a in chunk
                ],
            )

    async def update_accounts(self, changed: Sequence[Account], now: datetime) -> None:
        statement = update(accounts).where(accounts.c.account_id == bindparam("key"))
        for chunk in chunked(changed):
            await self.session.execute(
                statement,
                [{"key": a.account_id, **_account_fields(a), "updated_at": now} for a in chunk],
            )

    async def add_contacts(
        self, new: Sequence[tuple[ContactRecord, ContactStatus]], source: str, now: datetime
    ) -> None:
        for chunk in chunked(new):
            await self.session.execute(
                insert(contacts),
                [
                    {
                        "account_id": record.account_id,
                        "role": record.role.value,
                        "name": record.name,
                        "phone_raw": record.phone.raw,
                        "phone_e164": record.phone.e164,
                        "phone_key": record.phone.key,
                        "number_type": record.phone.number_type.value,
                        "status": status.value,
                        "source": source,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for record, status in chunk
                ],
            )

    async def update_contacts(
        self, changed: Sequence[ContactUpdate], source: str, now: datetime
    ) -> None:
        statement = update(contacts).where(contacts.c.id == bindparam("key"))
        for chunk in chunked(changed):
            await self.session.execute(
                statement,
                [
                    {
                        "key": change.contact_id,
                        "name": change.record.name,
                        "phone_raw": change.record.phone.raw,
                        "phone_e164": change.record.phone.e164,
                        "number_type": change.record.phone.number_type.value,
                        "status": change.status.value,
                        "source": source,
                        "updated_at": now,
                    }
                    for change in chunk
                ],
            )


class ListRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def latest(self, outage_id: str) -> NoticeList | None:
        result = await self.session.execute(
            select(notice_lists)
            .where(notice_lists.c.outage_id == outage_id)
            .order_by(notice_lists.c.version.desc())
            .limit(1)
        )
        row = result.first()
        return _notice_list(row) if row is not None else None

    async def version(self, outage_id: str, version: int) -> NoticeList | None:
        result = await self.session.execute(
            select(notice_lists).where(
                notice_lists.c.outage_id == outage_id, notice_lists.c.version == version
            )
        )
        row = result.first()
        return _notice_list(row) if row is not None else None

    async def versions(self, outage_id: str) -> list[tuple[int, ListStatus]]:
        result = await self.session.execute(
            select(notice_lists.c.version, notice_lists.c.status)
            .where(notice_lists.c.outage_id == outage_id)
            .order_by(notice_lists.c.version)
        )
        return [(row.version, ListStatus(row.status)) for row in result]

    async def is_outage_cancelled(self, outage_id: str) -> bool:
        result = await self.session.execute(
            select(cancelled_outages.c.outage_id).where(cancelled_outages.c.outage_id == outage_id)
        )
        return result.first() is not None

    async def record_cancellation(self, event: OutageCancelled, now: datetime) -> None:
        await self.session.execute(
            upsert_ignore(
                self.session,
                cancelled_outages,
                {
                    "outage_id": event.outage_id,
                    "reason": event.reason,
                    "cancelled_by": event.cancelled_by,
                    "cancelled_at": event.cancelled_at,
                    "recorded_at": now,
                },
            )
        )

    async def cancel(self, outage_id: str, reason: str, at: datetime, now: datetime) -> int:
        """Cancel every list version of the outage that still counts; how many were."""
        result = await self.session.execute(
            update(notice_lists)
            .where(
                notice_lists.c.outage_id == outage_id,
                notice_lists.c.status.in_([s.value for s in CANCELLABLE_STATUSES]),
            )
            .values(
                status=ListStatus.CANCELLED.value,
                cancelled_at=at,
                cancellation_reason=reason,
                updated_at=now,
            )
        )
        return int(result.rowcount)  # type: ignore[attr-defined]  # CursorResult at runtime

    async def supersede_drafts(self, outage_id: str, now: datetime) -> None:
        await self.session.execute(
            update(notice_lists)
            .where(
                notice_lists.c.outage_id == outage_id,
                notice_lists.c.status == ListStatus.DRAFT.value,
            )
            .values(status=ListStatus.SUPERSEDED.value, updated_at=now)
        )

    async def add(self, trace: OutageTraced, draft: DraftList, now: datetime) -> int:
        """Store a new draft version and its rows; its id."""
        counts = draft.counts
        list_id: int = (
            await self.session.execute(
                insert(notice_lists)
                .values(
                    outage_id=trace.outage_id,
                    version=trace.trace_version,
                    status=ListStatus.DRAFT.value,
                    details=trace.details.model_dump(mode="json"),
                    planned_by=trace.details.planned_by,
                    model_version=trace.model_version,
                    scope={
                        "transformers": [t.model_dump(mode="json") for t in trace.transformers],
                        "feeders": [f.model_dump(mode="json") for f in trace.feeders],
                    },
                    account_count=counts.accounts,
                    recipient_count=counts.recipients,
                    without_valid_mobile_count=counts.without_valid_mobile,
                    unknown_account_count=counts.unknown_accounts,
                    important_account_count=counts.important_accounts,
                    warning_count=counts.warnings,
                    drafted_at=now,
                    updated_at=now,
                )
                .returning(notice_lists.c.id)
            )
        ).scalar_one()
        await self._insert(list_accounts, [_entry_values(list_id, e) for e in draft.entries])
        await self._insert(
            list_contacts,
            [_contact_values(list_id, c) for e in draft.entries for c in e.contacts],
        )
        await self._insert(
            list_recipients, [_recipient_values(list_id, r) for r in draft.recipients]
        )
        await self._insert(
            list_warnings,
            [_warning_values(list_id, i, w) for i, w in enumerate(draft.warnings)],
        )
        return list_id

    async def approve(
        self, list_id: int, approved_by: str, at: datetime, comment: str | None, digest: str
    ) -> bool:
        """Approve the version if it is still a draft; False if someone else got there first."""
        result = await self.session.execute(
            update(notice_lists)
            .where(notice_lists.c.id == list_id, notice_lists.c.status == ListStatus.DRAFT.value)
            .values(
                status=ListStatus.APPROVED.value,
                approved_by=approved_by,
                approved_at=at,
                approval_comment=comment,
                recipients_sha256=digest,
                updated_at=at,
            )
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]  # CursorResult at runtime

    async def reject(self, list_id: int, rejected_by: str, at: datetime, reason: str) -> bool:
        result = await self.session.execute(
            update(notice_lists)
            .where(notice_lists.c.id == list_id, notice_lists.c.status == ListStatus.DRAFT.value)
            .values(
                status=ListStatus.REJECTED.value,
                rejected_by=rejected_by,
                rejected_at=at,
                rejection_reason=reason,
                updated_at=at,
            )
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]  # CursorResult at runtime

    async def recipients(
        self, list_id: int, *, limit: int | None = None, offset: int = 0
    ) -> list[DraftRecipient]:
        """The SMS recipients of a version, by address."""
        query = (
            select(list_recipients)
            .where(list_recipients.c.list_id == list_id)
            .order_by(list_recipients.c.channel, list_recipients.c.address)
            .offset(offset)
        )
        if limit is not None:
            query = query.limit(limit)
        return [
            DraftRecipient(
                address=row.address,
                contact_name=row.contact_name,
                account_ids=tuple(row.account_ids),
                account_names=tuple(row.account_names),
                contact_ids=tuple(row.contact_ids),
            )
            for row in await self.session.execute(query)
        ]

    async def entries(self, list_id: int, *, limit: int, offset: int) -> list[ListEntry]:
        """A page of the version's accounts, in trace order, with their contacts."""
        rows = (
            await self.session.execute(
                select(list_accounts)
                .where(list_accounts.c.list_id == list_id)
                .order_by(list_accounts.c.position)
                .limit(limit)
                .offset(offset)
            )
        ).all()
        contacts_by_account: dict[str, list[Contact]] = defaultdict(list)
        account_ids = [row.account_id for row in rows]
        for chunk in chunked(account_ids):
            result = await self.session.execute(
                select(list_contacts).where(
                    list_contacts.c.list_id == list_id, list_contacts.c.account_id.in_(chunk)
                )
            )
            for contact_row in result:
                contacts_by_account[contact_row.account_id].append(_contact(contact_row))
        return [_entry(row, contacts_by_account.get(row.account_id, [])) for row in rows]

    async def warnings(self, list_id: int) -> list[ListWarning]:
        result = await self.session.execute(
            select(list_warnings)
            .where(list_warnings.c.list_id == list_id)
            .order_by(list_warnings.c.position)
        )
        return [
            ListWarning(
                code=row.code,
                source=WarningSource(row.source),
                message=row.message,
                account_id=row.account_id,
                elements=tuple(row.elements),
                has_landline=row.has_landline,
            )
            for row in result
        ]

    async def _insert(self, table: Any, rows: list[dict[str, Any]]) -> None:
        for chunk in chunked(rows):
            await self.session.execute(insert(table), chunk)


def _account(row: Row[Any]) -> Account:
    return Account(
        account_id=row.account_id,
        name=row.name,
        node_id=row.node_id,
        voltage_kv=row.voltage_kv,
        category=Category(row.category),
        flags=tuple(row.flags),
    )


def _account_fields(account: Account) -> dict[str, Any]:
    return {
        "name": account.name,
        "node_id": account.node_id,
        "voltage_kv": account.voltage_kv,
        "category": account.category.value,
        "flags": list(account.flags),
    }


def _contact(row: Row[Any]) -> Contact:
    """A registry contact, or a list's snapshot of one (which keeps no source or ``id``)."""
    mapping = row._mapping
    return Contact(
        contact_id=mapping["contact_id"] if "contact_id" in mapping else mapping["id"],
        account_id=row.account_id,
        role=ContactRole(row.role),
        name=row.name,
        phone_raw=row.phone_raw,
        phone_e164=row.phone_e164,
        number_type=NumberType(row.number_type),
        status=ContactStatus(row.status),
        source=mapping.get("source", ""),
        last_verified_at=_aware(mapping.get("last_verified_at")),
    )


def _notice_list(row: Row[Any]) -> NoticeList:
    return NoticeList(
        list_id=row.id,
        outage_id=row.outage_id,
        version=row.version,
        status=ListStatus(row.status),
        details=OutageDetails.model_validate(row.details),
        model_version=row.model_version,
        transformers=tuple(TransformerScope.model_validate(t) for t in row.scope["transformers"]),
        feeders=tuple(FeederScope.model_validate(f) for f in row.scope["feeders"]),
        counts=ListCounts(
            accounts=row.account_count,
            recipients=row.recipient_count,
            without_valid_mobile=row.without_valid_mobile_count,
            unknown_accounts=row.unknown_account_count,
            important_accounts=row.important_account_count,
            warnings=row.warning_count,
        ),
        drafted_at=ensure_aware(row.drafted_at),
        approved_by=row.approved_by,
        approved_at=_aware(row.approved_at),
        approval_comment=row.approval_comment,
        recipients_sha256=row.recipients_sha256,
        rejected_by=row.rejected_by,
        rejected_at=_aware(row.rejected_at),
        rejection_reason=row.rejection_reason,
        cancelled_at=_aware(row.cancelled_at),
        cancellation_reason=row.cancellation_reason,
    )


def _entry_values(list_id: int, entry: ListEntry) -> dict[str, Any]:
    account = entry.account
    return {
        "list_id": list_id,
        "account_id": entry.account_id,
        "position": entry.position,
        "node_id": entry.traced.node_id,
        "isolating_device": entry.traced.isolating_device,
        "feeder": entry.traced.feeder,
        "in_registry": account is not None,
        "name": account.name if account else None,
        "registry_node_id": account.node_id if account else None,
        "voltage_kv": account.voltage_kv if account else None,
        "category": account.category.value if account else None,
        "important": entry.important,
        "has_valid_mobile": entry.has_valid_mobile,
        "has_landline": entry.has_landline,
    }


def _entry(row: Row[Any], own_contacts: Iterable[Contact]) -> ListEntry:
    account = (
        Account(
            account_id=row.account_id,
            name=row.name,
            node_id=row.registry_node_id,
            voltage_kv=row.voltage_kv,
            category=Category(row.category),
        )
        if row.in_registry
        else None
    )
    return ListEntry(
        position=row.position,
        traced=AffectedAccount(
            account_id=row.account_id,
            isolating_device=row.isolating_device,
            node_id=row.node_id,
            feeder=row.feeder,
        ),
        account=account,
        contacts=tuple(own_contacts),
        important=row.important,
    )


def _contact_values(list_id: int, contact: Contact) -> dict[str, Any]:
    return {
        "list_id": list_id,
        "contact_id": contact.contact_id,
        "account_id": contact.account_id,
        "role": contact.role.value,
        "name": contact.name,
        "phone_raw": contact.phone_raw,
        "phone_e164": contact.phone_e164,
        "number_type": contact.number_type.value,
        "status": contact.status.value,
        "can_sms": contact.can_sms,
        "can_call": contact.can_call,
    }


def _recipient_values(list_id: int, recipient: DraftRecipient) -> dict[str, Any]:
    return {
        "list_id": list_id,
        "channel": "sms",
        "address": recipient.address,
        "contact_name": recipient.contact_name,
        "account_ids": list(recipient.account_ids),
        "account_names": list(recipient.account_names),
        "contact_ids": list(recipient.contact_ids),
    }


def _warning_values(list_id: int, position: int, warning: ListWarning) -> dict[str, Any]:
    return {
        "list_id": list_id,
        "position": position,
        "code": warning.code,
        "source": warning.source.value,
        "account_id": warning.account_id,
        "message": warning.message,
        "elements": list(warning.elements),
        "has_landline": warning.has_landline,
    }


def _aware(value: datetime | None) -> datetime | None:
    return ensure_aware(value) if value is not None else None
