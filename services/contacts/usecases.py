"""What the contacts service does; HTTP routes, event handlers and the CLI all call these.

Each use case runs inside a unit of work its caller opened and commits: a route or the CLI
commits its own, an event handler's is committed by the consumer together with the inbox
claim, so a redelivered event changes nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from services.contacts.adapters.repository import ListRepository, RegistryRepository, chunked
from services.contacts.domain import messages
from services.contacts.domain.imports import (
    ContactRecord,
    ImportNote,
    InvalidPhonePolicy,
    NoteCode,
    NoteLog,
    ParsedContacts,
    ParsedCustomers,
    ProblemLog,
    check_contact_accounts,
    plan_account_upsert,
    plan_contact_upsert,
    read_contacts,
    read_customers,
)
from services.contacts.domain.listing import (
    DraftList,
    DraftRecipient,
    ListEntry,
    ListingPolicy,
    ListWarning,
    draft_list,
    recipients_digest,
)
from services.contacts.domain.registry import Account, Contact
from services.contacts.domain.review import (
    ListStatus,
    NoticeList,
    TraceDecision,
    decide_on_trace,
)
from shared.errors import Conflict, InvalidInput, NotFound
from shared.events import ListApproved, OutageCancelled, OutageTraced
from shared.timeutil import utcnow
from shared.uow import UnitOfWork

log = logging.getLogger(__name__)

SOURCE_MAX_LENGTH = 255


@dataclass(frozen=True)
class UploadedCsv:
    filename: str
    content: bytes


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
) -> ImportReport:
    """Check both files completely, then upsert accounts and contacts, or refuse it all."""
    if customers is None and contacts is None:
        raise InvalidInput(messages.IMPORT_NOTHING, field="customers")
    registry = RegistryRepository(uow.session)
    # Reading a large file takes seconds of CPU; in a thread, health checks and consumers of
    # the same process keep being served meanwhile.
    parsed_customers = (
        await asyncio.to_thread(read_customers, customers.content, customers.filename)
        if customers
        else None
    )
    parsed_contacts = (
        await asyncio.to_thread(read_contacts, contacts.content, contacts.filename, invalid_phones)
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

    now = utcnow()
    notes = NoteLog()
    account_tally = Tally()
    contact_tally = Tally()
    if parsed_customers is not None:
        notes.extend(parsed_customers.notes)
        account_tally = await _upsert_accounts(registry, parsed_customers, now)
    if parsed_contacts is not None:
        notes.extend(parsed_contacts.notes)
        contact_tally = await _upsert_contacts(registry, parsed_contacts, notes, now)
    return ImportReport(
        accounts=account_tally,
        contacts=contact_tally,
        invalid_numbers_flagged=parsed_contacts.invalid_flagged if parsed_contacts else 0,
        warnings=notes.kept,
        warning_counts=dict(notes.counts),
    )


async def _upsert_accounts(
    registry: RegistryRepository, parsed: ParsedCustomers, now: datetime
) -> Tally:
    tally = Tally()
    for chunk in chunked(parsed.accounts):
        existing = await registry.accounts([a.account_id for a in chunk])
        changes = plan_account_upsert(chunk, existing, has_flags_column=parsed.has_flags_column)
        await registry.add_accounts(changes.created, now)
        await registry.update_accounts(changes.updated, now)
        tally.created += len(changes.created)
        tally.updated += len(changes.updated)
        tally.unchanged += changes.unchanged
    return tally


async def _upsert_contacts(
    registry: RegistryRepository, parsed: ParsedContacts, notes: NoteLog, now: datetime
) -> Tally:
    source = f"import:{parsed.file}"[:SOURCE_MAX_LENGTH]
    by_account: dict[str, list[ContactRecord]] = defaultdict(list)
    for record in parsed.contacts:
        by_account[record.account_id].append(record)
    tally = Tally()
    not_in_file = 0
    for account_ids in chunked(list(by_account)):
        existing = await registry.contacts_of(account_ids)
        changes = plan_contact_upsert(
            (record for account_id in account_ids for record in by_account[account_id]),
            [contact for account_id in account_ids for contact in existing.get(account_id, [])],
        )
        await registry.add_contacts(changes.created, source, now)
        await registry.update_contacts(changes.updated, source, now)
        tally.created += len(changes.created)
        tally.updated += len(changes.updated)
        tally.unchanged += changes.unchanged
        not_in_file += changes.not_in_file
    if not_in_file:
        notes.add(
            ImportNote(
                NoteCode.CONTACTS_NOT_IN_FILE,
                messages.CONTACTS_KEPT.format(count=not_in_file),
                parsed.file,
            )
        )
    return tally


@dataclass(frozen=True)
class AccountView:
    account: Account
    contacts: list[Contact]


async def get_account(uow: UnitOfWork, account_id: str) -> AccountView:
    registry = RegistryRepository(uow.session)
    account = await registry.account(account_id)
    if account is None:
        raise NotFound(messages.ACCOUNT_NOT_FOUND.format(account_id=account_id), field="account_id")
    own_contacts = (await registry.contacts_of([account_id])).get(account_id, [])
    return AccountView(account, own_contacts)


async def draft_list_for_trace(
    uow: UnitOfWork, trace: OutageTraced, policy: ListingPolicy
) -> DraftList | None:
    """Draft the list of a traced outage as its version ``trace_version``.

    None when the trace yields no new version: it is not newer than the stored ones, or the
    outage was cancelled meanwhile.
    """
    lists = ListRepository(uow.session)
    latest = await lists.latest(trace.outage_id)
    decision = decide_on_trace(
        trace.trace_version,
        latest.version if latest else None,
        outage_cancelled=await lists.is_outage_cancelled(trace.outage_id),
    )
    if decision is not TraceDecision.DRAFT:
        log.info(
            "outage %s trace version %s drafts no list: %s",
            trace.outage_id,
            trace.trace_version,
            decision.value,
        )
        return None
    registry = RegistryRepository(uow.session)
    account_ids = {traced.account_id for traced in trace.affected_accounts}
    accounts = await registry.accounts(account_ids)
    draft = draft_list(
        trace.affected_accounts,
        accounts,
        await registry.contacts_of(accounts.keys()),
        trace.warnings,
        policy,
    )
    now = utcnow()
    await lists.supersede_drafts(trace.outage_id, now)
    await lists.add(trace, draft, now)
    counts = draft.counts
    log.info(
        "outage %s list version %s drafted: %s accounts, %s recipients, %s without a mobile",
        trace.outage_id,
        trace.trace_version,
        counts.accounts,
        counts.recipients,
        counts.without_valid_mobile,
    )
    return draft


async def cancel_outage_lists(uow: UnitOfWork, cancellation: OutageCancelled) -> int:
    """Cancel the outage's lists, and remember the outage so a late trace drafts none."""
    lists = ListRepository(uow.session)
    now = utcnow()
    await lists.record_cancellation(cancellation, now)
    return await lists.cancel(
        cancellation.outage_id, cancellation.reason, cancellation.cancelled_at, now
    )


@dataclass(frozen=True)
class ListView:
    notice_list: NoticeList
    versions: list[tuple[int, ListStatus]]
    warnings: list[ListWarning]
    recipients: list[DraftRecipient]
    entries: list[ListEntry]


async def get_list(
    uow: UnitOfWork, outage_id: str, *, version: int | None, limit: int, offset: int
) -> ListView:
    """The newest (or the given) version of an outage's list, with one page of its rows."""
    lists = ListRepository(uow.session)
    notice_list = await _find_list(lists, outage_id, version)
    return ListView(
        notice_list=notice_list,
        versions=await lists.versions(outage_id),
        warnings=await lists.warnings(notice_list.list_id),
        recipients=await lists.recipients(notice_list.list_id, limit=limit, offset=offset),
        entries=await lists.entries(notice_list.list_id, limit=limit, offset=offset),
    )


async def approve_list(
    uow: UnitOfWork,
    outage_id: str,
    reviewer: str,
    *,
    comment: str | None = None,
    seen_version: int | None = None,
) -> NoticeList:
    """Approve the newest version and announce its recipients (``list.approved``)."""
    lists = ListRepository(uow.session)
    current = await _find_list(lists, outage_id, None)
    current.check_approvable_by(reviewer, seen_version)
    recipients = [r.to_event() for r in await lists.recipients(current.list_id)]
    digest = recipients_digest(recipients)
    now = utcnow()
    if not await lists.approve(current.list_id, reviewer, now, comment, digest):
        raise _decided_meanwhile(outage_id)
    uow.emit(
        ListApproved(
            outage_id=outage_id,
            version=current.version,
            details=current.details,
            approved_by=reviewer,
            approved_at=now,
            account_count=current.counts.accounts,
            recipients=recipients,
            recipients_sha256=digest,
        )
    )
    return replace(
        current,
        status=ListStatus.APPROVED,
        approved_by=reviewer,
        approved_at=now,
        approval_comment=comment,
        recipients_sha256=digest,
    )


async def reject_list(
    uow: UnitOfWork,
    outage_id: str,
    reviewer: str,
    *,
    reason: str,
    seen_version: int | None = None,
) -> NoticeList:
    """Send the newest version back; a new trace of the outage drafts the next one."""
    lists = ListRepository(uow.session)
    current = await _find_list(lists, outage_id, None)
    current.check_rejectable(seen_version)
    now = utcnow()
    if not await lists.reject(current.list_id, reviewer, now, reason):
        raise _decided_meanwhile(outage_id)
    return replace(
        current,
        status=ListStatus.REJECTED,
        rejected_by=reviewer,
        rejected_at=now,
        rejection_reason=reason,
    )


async def _find_list(lists: ListRepository, outage_id: str, version: int | None) -> NoticeList:
    if version is None:
        found = await lists.latest(outage_id)
        if found is None:
            raise NotFound(messages.LIST_NOT_FOUND.format(outage_id=outage_id), field="outage_id")
        return found
    found = await lists.version(outage_id, version)
    if found is None:
        raise NotFound(
            messages.LIST_VERSION_NOT_FOUND.format(outage_id=outage_id, version=version),
            field="version",
        )
    return found


def _decided_meanwhile(outage_id: str) -> Conflict:
    return Conflict(messages.LIST_DECIDED_MEANWHILE.format(outage_id=outage_id), field="status")
