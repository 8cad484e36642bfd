"""An outage's notification list: drafted from each trace, reviewed, approved or rejected.

A trace (``outage.traced``) or a re-trace after a model change (``outage.retraced``) drafts a
version with the registry as it is now; the reviewer sees every warning, may add or remove
accounts (each edit audited) and approves it, which announces the recipients
(``list.approved``). Dispatch sends only from the newest approved version: approving a version
supersedes the older approved one.
"""

from __future__ import annotations

import gc
import logging
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime

from services.contacts.adapters.repository import ListRepository, RegistryRepository
from services.contacts.domain import messages
from services.contacts.domain.listing import (
    AreaRegistry,
    DraftList,
    DraftRecipient,
    ListEntry,
    ListWarning,
    Planner,
    Retrace,
    TraceScope,
    account_warnings,
    count,
    draft_list,
    merge_recipients,
    plan_entry,
    recipients_digest,
    to_events,
)
from services.contacts.domain.registry import AreaContact, AreaSubscription
from services.contacts.domain.review import (
    EditAction,
    ListEdit,
    ListStatus,
    NoticeList,
    TraceDecision,
    check_edit,
    decide_on_trace,
)
from services.contacts.usecases import Rules
from shared.errors import Conflict, NotFound
from shared.events import (
    AffectedAccount,
    ListApproved,
    OutageCancelled,
    OutageRescheduled,
    OutageRetraced,
    OutageTraced,
)
from shared.timeutil import utcnow
from shared.uow import UnitOfWork

log = logging.getLogger(__name__)


@contextmanager
def _bulk() -> Iterator[None]:
    """Pause the cyclic garbage collector for the bulk work on a whole list.

    Drafting a 20,000-account list allocates about a million small objects, and every few
    hundred of them the collector would walk the whole heap: that alone tripled the time. The
    work here creates no reference cycles; the collector resumes (and catches up) right after.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


async def draft_list_for_trace(
    uow: UnitOfWork, trace: OutageTraced | OutageRetraced, rules: Rules
) -> DraftList | None:
    """Draft the list of a traced (or re-traced) outage as its version ``trace_version``.

    None when the trace yields no new version: it is not newer than the stored ones, or the
    outage was cancelled meanwhile.
    """
    with _bulk():
        return await _draft(uow, trace, rules)


async def _draft(
    uow: UnitOfWork, trace: OutageTraced | OutageRetraced, rules: Rules
) -> DraftList | None:
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
    affected_ids = {traced.account_id for traced in trace.affected_accounts}
    feeders = sorted({f.source_node for f in trace.feeders})
    previous = await lists.previous_approved(trace.outage_id, feeders)
    retrace = await _retrace(lists, trace)
    # Accounts named only by warnings (dropped by the re-trace, told last time) for their names.
    named = set(previous.accounts) if previous else set()
    if retrace is not None:
        named.update(change.account_id for change in retrace.changes)
    accounts = await registry.accounts(affected_ids | named)
    now = utcnow()
    draft = draft_list(
        TraceScope(
            kind=trace.details.kind,
            starts_at=trace.details.starts_at,
            affected=trace.affected_accounts,
            transformers=[(t.node_id, t.name) for t in trace.transformers],
            feeders=feeders,
            warnings=trace.warnings,
        ),
        accounts,
        await registry.contacts_of(affected_ids & accounts.keys()),
        rules.listing,
        now=now,
        areas=await _areas(registry, [t.node_id for t in trace.transformers]),
        retrace=retrace,
        previous=previous,
    )
    await lists.supersede(trace.outage_id, ListStatus.DRAFT, now)
    await lists.add(
        outage_id=trace.outage_id,
        version=trace.trace_version,
        details=trace.details,
        model_version=trace.model_version,
        transformers=trace.transformers,
        feeders=trace.feeders,
        draft=draft,
        retrace_reason=retrace.reason if retrace else None,
        compared_with=previous,
        now=now,
    )
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


async def _retrace(lists: ListRepository, trace: OutageTraced | OutageRetraced) -> Retrace | None:
    """What a newer trace must tell the reviewer: what it changed, and whether an approved
    version (possibly already sent) is being replaced."""
    approved = [
        v for v, status in await lists.versions(trace.outage_id) if status is ListStatus.APPROVED
    ]
    if isinstance(trace, OutageRetraced):
        return Retrace(
            reason=trace.reason,
            changes=tuple(trace.changes),
            previous_version=approved[-1] if approved else None,
            previous_approved=bool(approved),
        )
    if approved:
        return Retrace(
            reason=messages.RETRACE_DEFAULT_REASON,
            changes=(),
            previous_version=approved[-1],
            previous_approved=True,
        )
    return None


async def _areas(registry: RegistryRepository, node_ids: list[str]) -> AreaRegistry:
    """The area contacts and subscriptions reaching each transformer area node."""
    areas_of = await registry.areas_of_nodes(node_ids)
    area_ids = {area_id for ids in areas_of.values() for area_id in ids}
    if not area_ids:
        return AreaRegistry()
    people = await registry.area_contacts(area_ids)
    subscriptions = await registry.subscriptions(area_ids)
    by_node: dict[str, list[AreaContact]] = defaultdict(list)
    subs_by_node: dict[str, list[AreaSubscription]] = defaultdict(list)
    for node_id, ids in areas_of.items():
        for area_id in ids:
            by_node[node_id].extend(people.get(area_id, []))
            subs_by_node[node_id].extend(subscriptions.get(area_id, []))
    return AreaRegistry(dict(by_node), dict(subs_by_node))


async def cancel_outage_lists(uow: UnitOfWork, cancellation: OutageCancelled) -> int:
    """Cancel the outage's lists, and remember the outage so a late trace drafts none."""
    lists = ListRepository(uow.session)
    now = utcnow()
    await lists.record_cancellation(cancellation, now)
    return await lists.cancel(
        cancellation.outage_id, cancellation.reason, cancellation.cancelled_at, now
    )


async def reschedule_outage_lists(uow: UnitOfWork, event: OutageRescheduled) -> int:
    """A draft awaiting review takes the new times, so its approval announces them; approved
    versions are snapshots and keep theirs (dispatch tells of new times itself)."""
    return await ListRepository(uow.session).update_draft_details(
        event.outage_id, event.details, utcnow()
    )


@dataclass(frozen=True)
class ListView:
    notice_list: NoticeList
    versions: list[tuple[int, ListStatus]]
    warning_counts: list[tuple[str, int]]
    warnings_total: int
    warnings: list[ListWarning]
    recipients: list[DraftRecipient]
    accounts_total: int
    entries: list[ListEntry]
    edits: list[ListEdit]


@dataclass(frozen=True)
class Page:
    limit: int
    offset: int


async def get_list(
    uow: UnitOfWork,
    outage_id: str,
    *,
    version: int | None,
    page: Page,
    warnings_page: Page,
    warning: str | None = None,
) -> ListView:
    """The newest (or the given) version of an outage's list, with pages of its rows.

    ``warning`` narrows the warnings and the accounts to those of one code.
    """
    lists = ListRepository(uow.session)
    notice_list = await _find_list(lists, outage_id, version)
    list_id = notice_list.list_id
    warnings_total, warnings = await lists.warnings(
        list_id, limit=warnings_page.limit, offset=warnings_page.offset, code=warning
    )
    accounts_total, entries = await lists.entries(
        list_id, limit=page.limit, offset=page.offset, warning=warning
    )
    return ListView(
        notice_list=notice_list,
        versions=await lists.versions(outage_id),
        warning_counts=await lists.warning_counts(list_id),
        warnings_total=warnings_total,
        warnings=warnings,
        recipients=await lists.recipients(list_id, limit=page.limit, offset=page.offset),
        accounts_total=accounts_total,
        entries=entries,
        edits=await lists.edits(list_id, notice_list.version),
    )


async def list_index(
    uow: UnitOfWork, *, status: ListStatus | None, page: Page
) -> tuple[int, list[NoticeList]]:
    return await ListRepository(uow.session).index(status, page.limit, page.offset)


async def edit_list(
    uow: UnitOfWork,
    outage_id: str,
    *,
    action: EditAction,
    account_id: str,
    reason: str,
    reviewer: str,
    seen_version: int | None,
    rules: Rules,
) -> tuple[NoticeList, ListEdit]:
    """Add an account to the newest draft or take one off, with a reason; audited.

    The recipients are merged again: a shared electrician's SMS names one account fewer (or
    more), and a phone serving only the removed account is no longer told.
    """
    with _bulk():
        return await _edit(
            uow, outage_id, action, account_id, reason, reviewer, seen_version, rules
        )


async def _edit(
    uow: UnitOfWork,
    outage_id: str,
    action: EditAction,
    account_id: str,
    reason: str,
    reviewer: str,
    seen_version: int | None,
    rules: Rules,
) -> tuple[NoticeList, ListEdit]:
    lists = ListRepository(uow.session)
    current = await _find_list(lists, outage_id, None, lock=True)
    current.check_editable(seen_version)
    entries = await lists.all_entries(current.list_id)
    by_id = {e.account_id: e for e in entries}
    found = by_id.get(account_id)
    check_edit(action, account_id, None if found is None else not found.removed)
    now = utcnow()
    if action is EditAction.REMOVE:
        assert found is not None
        changed = replace(found, removed=True, edited=EditAction.REMOVE.value)
        await lists.delete_account_warnings(current.list_id, account_id)
        raised: list[ListWarning] = []
    elif found is not None:
        # Back on the list as the trace had it.
        changed = replace(found, removed=False, edited=None)
        raised = account_warnings(changed, rules.listing, now)
    else:
        changed, raised = await _added_entry(uow, current, account_id, len(entries), rules, now)
    await lists.add_warnings(
        current.list_id, raised, start=await lists.next_warning_position(current.list_id)
    )
    entries = [changed if e.account_id == account_id else e for e in entries]
    if found is None:
        entries.append(changed)
    await lists.save_entries(current.list_id, entries, changed.position)
    area_plans, outage_plan = await lists.plans(current.list_id)
    recipients = merge_recipients(entries, area_plans, outage_plan, rules.listing)
    await lists.replace_recipients(current.list_id, recipients)
    warnings_total, _ = await lists.warnings(current.list_id, limit=0)
    counts = count(entries, recipients, warnings_total)
    await lists.set_counts(current.list_id, counts, now)
    edit = ListEdit(current.version, action, account_id, reason, reviewer, now)
    await lists.add_edit(current.list_id, edit)
    return replace(current, counts=counts), edit


async def _added_entry(
    uow: UnitOfWork,
    current: NoticeList,
    account_id: str,
    position: int,
    rules: Rules,
    now: datetime,
) -> tuple[ListEntry, list[ListWarning]]:
    """An account the trace missed, planned from the registry as it is now."""
    registry = RegistryRepository(uow.session)
    account = await registry.account(account_id)
    if account is None:
        raise NotFound(messages.ACCOUNT_NOT_FOUND.format(account_id=account_id), field="account_id")
    return plan_entry(
        position,
        AffectedAccount(
            account_id=account_id, isolating_device="", node_id=account.node_id, feeder=""
        ),
        account,
        (await registry.contacts_of([account_id])).get(account_id, []),
        rules.listing,
        Planner(rules.listing.channels, current.details.kind),
        now=now,
        edited=EditAction.ADD.value,
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
    current = await _find_list(lists, outage_id, None, lock=True)
    current.check_approvable_by(reviewer, seen_version)
    with _bulk():
        recipients = to_events(await lists.recipients(current.list_id))
    account_ids = await lists.account_ids(current.list_id)
    digest = recipients_digest(recipients)
    now = utcnow()
    # Exactly one version is in force: the one approved last.
    await lists.supersede(outage_id, ListStatus.APPROVED, now)
    if not await lists.approve(current.list_id, reviewer, now, comment, digest):
        raise _decided_meanwhile(outage_id)
    uow.emit(
        ListApproved(
            outage_id=outage_id,
            version=current.version,
            details=current.details,
            approved_by=reviewer,
            approved_at=now,
            account_count=len(account_ids),
            account_ids=account_ids,
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
    """Send the newest version back to the planner; a new trace of the outage drafts the next."""
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


async def _find_list(
    lists: ListRepository, outage_id: str, version: int | None, *, lock: bool = False
) -> NoticeList:
    if version is None:
        found = await lists.latest(outage_id, lock=lock)
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
