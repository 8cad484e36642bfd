"""Bulk import and export of the registry as CSV.

An import is all or nothing and idempotent (see :mod:`services.contacts.domain.imports`); what
it writes is recorded in the change history like any other edit, invalid numbers it keeps
(flag mode) go on the maintenance worklist, and an account awaiting its new owner's contacts
since a transfer is released when the file brings them. An export writes the same columns an
import reads, so exporting and importing the result changes nothing.
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, BinaryIO

from services.contacts.adapters.repository import (
    MaintenanceRepository,
    RegistryRepository,
    chunked,
)
from services.contacts.domain import maintenance, messages
from services.contacts.domain.changes import HistoryAction, account_entry, contact_entry
from services.contacts.domain.imports import (
    CONTACT_COLUMNS,
    CUSTOMER_COLUMNS,
    OPTIONAL_CONTACT_COLUMNS,
    OPTIONAL_CUSTOMER_COLUMNS,
    ContactRecord,
    ImportNote,
    InvalidPhonePolicy,
    NoteCode,
    NoteLog,
    ParsedContacts,
    ParsedCustomers,
    ProblemLog,
    check_contact_accounts,
    contact_row,
    customer_row,
    plan_account_upsert,
    plan_contact_upsert,
    read_contacts,
    read_customers,
)
from services.contacts.domain.phones import NumberType
from services.contacts.usecases import Rules
from services.contacts.usecases.registry import release_transfers
from shared.errors import InvalidInput
from shared.timeutil import utcnow
from shared.uow import UnitOfWork

SOURCE_MAX_LENGTH = 255


@dataclass(frozen=True)
class UploadedCsv:
    """An uploaded (or local) CSV file; read as a stream, so it must be seekable."""

    filename: str
    file: BinaryIO


@dataclass
class Tally:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass(frozen=True)
class ImportReport:
    accounts: Tally
    contacts: Tally
    invalid_numbers_flagged: int
    warnings: list[ImportNote]
    warning_counts: dict[str, int]


class ImportRejected(InvalidInput):
    """An import refused as a whole; ``errors`` holds the first problems, in file order."""

    def __init__(self, problems: ProblemLog) -> None:
        first = problems.kept[0]
        super().__init__(
            messages.IMPORT_REJECTED.format(count=problems.count),
            field=first.field,
            file=first.file,
            row=first.row,
            errors=[
                {"file": p.file, "row": p.row, "field": p.field, "message": p.message}
                for p in problems.kept
            ],
        )
        self.error_count = problems.count

    def body(self) -> dict[str, Any]:
        return super().body() | {"error_count": self.error_count}


async def import_registry(
    uow: UnitOfWork,
    *,
    customers: UploadedCsv | None,
    contacts: UploadedCsv | None,
    invalid_phones: InvalidPhonePolicy,
    actor: str,
    rules: Rules,
) -> ImportReport:
    """Check both files completely, then upsert accounts and contacts, or refuse it all."""
    if customers is None and contacts is None:
        raise InvalidInput(messages.IMPORT_NOTHING, field="customers")
    registry = RegistryRepository(uow.session)
    now = utcnow()
    # Reading a large file takes seconds of CPU; in a thread, health checks and consumers of
    # the same process keep being served meanwhile.
    parsed_customers = (
        await asyncio.to_thread(read_customers, customers.file, customers.filename)
        if customers
        else None
    )
    parsed_contacts = (
        await asyncio.to_thread(
            read_contacts,
            contacts.file,
            contacts.filename,
            invalid_phones,
            tz=rules.timezone,
            now=now,
        )
        if contacts
        else None
    )
    if parsed_contacts is not None:
        named = parsed_customers.named_account_ids if parsed_customers else set()
        elsewhere = parsed_contacts.account_ids - named
        registered = await registry.registered_account_ids(elsewhere) if elsewhere else set()
        check_contact_accounts(parsed_contacts, named | registered)
    problems = ProblemLog()
    for parsed in (parsed_customers, parsed_contacts):
        if parsed is not None:
            problems.extend(parsed.problems)
    if problems.count:
        raise ImportRejected(problems)

    notes = NoteLog()
    account_tally = Tally()
    contact_tally = Tally()
    if parsed_customers is not None:
        notes.extend(parsed_customers.notes)
        account_tally = await _upsert_accounts(registry, parsed_customers, actor, now)
    if parsed_contacts is not None:
        notes.extend(parsed_contacts.notes)
        contact_tally = await _upsert_contacts(uow, parsed_contacts, notes, actor, now)
    return ImportReport(
        accounts=account_tally,
        contacts=contact_tally,
        invalid_numbers_flagged=parsed_contacts.invalid_flagged if parsed_contacts else 0,
        warnings=notes.kept,
        warning_counts=dict(notes.counts),
    )


async def _upsert_accounts(
    registry: RegistryRepository, parsed: ParsedCustomers, actor: str, now: datetime
) -> Tally:
    tally = Tally()
    reason = f"import:{parsed.file}"
    for chunk in chunked(parsed.accounts):
        existing = await registry.accounts([a.account_id for a in chunk])
        changes = plan_account_upsert(chunk, existing, columns=parsed.columns, now=now)
        await registry.add_accounts(changes.created, now)
        await registry.update_accounts([u.after for u in changes.updated], now)
        await registry.add_history(
            [
                account_entry(None, a, HistoryAction.CREATED, actor, reason, now)
                for a in changes.created
            ]
            + [
                account_entry(u.before, u.after, HistoryAction.UPDATED, actor, reason, now)
                for u in changes.updated
            ]
        )
        tally.created += len(changes.created)
        tally.updated += len(changes.updated)
        tally.unchanged += changes.unchanged
    return tally


async def _upsert_contacts(
    uow: UnitOfWork, parsed: ParsedContacts, notes: NoteLog, actor: str, now: datetime
) -> Tally:
    registry = RegistryRepository(uow.session)
    source = f"import:{parsed.file}"[:SOURCE_MAX_LENGTH]
    by_account: dict[str, list[ContactRecord]] = defaultdict(list)
    for record in parsed.contacts:
        by_account[record.account_id].append(record)
    tally = Tally()
    not_in_file = retired_in_file = 0
    invalid_items: list[maintenance.WorkItem] = []
    with_new_contacts: set[str] = set()
    for account_ids in chunked(list(by_account)):
        existing = await registry.contacts_of(account_ids, include_retired=True)
        changes = plan_contact_upsert(
            (record for account_id in account_ids for record in by_account[account_id]),
            [contact for account_id in account_ids for contact in existing.get(account_id, [])],
            columns=parsed.columns,
        )
        created = await registry.add_contacts(changes.created, source, now)
        await registry.update_contacts([u.after for u in changes.updated], now)
        await registry.add_history(
            [contact_entry(None, c, HistoryAction.CREATED, actor, source, now) for c in created]
            + [
                contact_entry(u.before, u.after, HistoryAction.UPDATED, actor, source, now)
                for u in changes.updated
            ]
        )
        invalid_items.extend(
            maintenance.invalid_number(
                account_id=c.account_id,
                area_id=None,
                contact_id=c.contact_id,
                phone_raw=c.phone_raw,
            )
            for c in created
            if c.number_type is NumberType.INVALID
        )
        with_new_contacts.update(c.account_id for c in created)
        tally.created += len(changes.created)
        tally.updated += len(changes.updated)
        tally.unchanged += changes.unchanged
        not_in_file += changes.not_in_file
        retired_in_file += changes.retired_in_file
    # Legacy numbers kept in flag mode are never silent: each is a worklist item at once.
    await MaintenanceRepository(uow.session).open_items(invalid_items, actor, now)
    await release_transfers(uow, with_new_contacts, actor, now)
    if not_in_file:
        notes.add(
            ImportNote(
                NoteCode.CONTACTS_NOT_IN_FILE,
                messages.CONTACTS_KEPT.format(count=not_in_file),
                parsed.file,
            )
        )
    if retired_in_file:
        notes.add(
            ImportNote(
                NoteCode.RETIRED_CONTACTS_IN_FILE,
                messages.RETIRED_CONTACTS_IN_FILE.format(count=retired_in_file),
                parsed.file,
            )
        )
    return tally


async def export_customers(uow: UnitOfWork) -> AsyncIterator[str]:
    """``customers.csv`` with every column an import reads, in account id order."""
    yield _csv_lines([[*CUSTOMER_COLUMNS, *OPTIONAL_CUSTOMER_COLUMNS]], bom=True)
    async for batch in RegistryRepository(uow.session).export_accounts():
        yield _csv_lines(customer_row(a) for a in batch)


async def export_contacts(uow: UnitOfWork, rules: Rules) -> AsyncIterator[str]:
    """``contacts.csv`` of every active contact, in registration order."""
    yield _csv_lines([[*CONTACT_COLUMNS, *OPTIONAL_CONTACT_COLUMNS]], bom=True)
    async for batch in RegistryRepository(uow.session).export_contacts():
        yield _csv_lines(contact_row(c, rules.timezone) for c in batch)


def _csv_lines(rows: Any, *, bom: bool = False) -> str:
    # A BOM makes Excel, which most operators open these files with, read UTF-8 Chinese right.
    buffer = io.StringIO()
    if bom:
        buffer.write("\ufeff")
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()
