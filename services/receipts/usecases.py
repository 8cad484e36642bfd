"""The receipts service layer: the routes, the event handlers and the worker all call these.

Each function works inside the caller's open unit of work and leaves the commit to it, so a
report's receipt row, the notice's new delivery state and the events it causes are committed
together or not at all. (Filing a complaint is the one exception: it asks the topology service
between two short transactions, so that no transaction waits on another service.)
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from services.receipts.adapters.repository import (
    DUE_NOW,
    ReceiptsRepository,
    SentNotice,
    entries_json,
)
from services.receipts.domain import messages
from services.receipts.domain.calls import CallReport
from services.receipts.domain.complaints import (
    Classification,
    ComplaintType,
    Finding,
    classify,
)
from services.receipts.domain.coverage import (
    Coverage,
    CoveragePoint,
    compute_coverage,
    coverage_timeline,
)
from services.receipts.domain.escalation import (
    CheckPosting,
    Escalate,
    EscalationPolicy,
    Visit,
    group_requests,
    plan_outage,
)
from services.receipts.domain.evidence import EvidencePack, build_evidence, masked
from services.receipts.domain.feedback import judge, signal_of
from services.receipts.domain.ledger import (
    CANCELLATION,
    NOTICE,
    AccountLedger,
    ListEntry,
    OutageRecord,
    Submission,
    TaskKind,
    TaskOutcome,
    TaskRecord,
    TaskStatus,
    account_ledgers,
)
from services.receipts.domain.measures import GroupBy, GroupFigures, build_report
from services.receipts.domain.replies import Reply, ReplyIntent
from services.receipts.domain.reports import (
    CarrierReport,
    StatusReport,
    in_carrier_order,
    mask_phone,
    settle,
)
from services.receipts.domain.status import ReceiptStatus
from services.receipts.domain.worklist import FieldReport, TaskClosing, check_closing
from shared.errors import InvalidInput, NotFound
from shared.events import (
    ComplaintClassified,
    ContactUndeliverable,
    EscalationRequested,
    ListApproved,
    NoticeAcknowledged,
    NoticeFailed,
    NoticeSent,
    OutageCancelled,
    OutageCompleted,
    OutagePlanned,
    OutageRescheduled,
    OutageRetraced,
    OutageTraced,
    Recipient,
    SmsDelivered,
)
from shared.events.catalog import OutageDetails
from shared.timeutil import utcnow
from shared.uow import UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)

PHONE_CHANNELS = ("sms", "voice")
POSTED_NOTICE = "posted_notice"
DOOR_SLIP = "door_slip"
AREA_ROLE = "area"
# Rounds of escalation of one outage in one go: each may reveal that the next rung is known
# to fail already (the same number), which a ladder of a few waves never exceeds.
MAX_ROUNDS = 8
# States that may call for the next rung at once.
_FAILURES = frozenset({ReceiptStatus.FAILED, ReceiptStatus.EXPIRED})


@dataclass(frozen=True)
class ReportIntake:
    """What became of a batch: new reports stored and applied, and repeats absorbed."""

    accepted: int
    duplicates: int


# Delivery reports, call results and replies.


async def record_delivery_reports(
    reports: Sequence[CarrierReport], uow: UnitOfWork
) -> ReportIntake:
    """Store the reports not seen before, advance their notices, emit one ``sms.delivered`` each.

    Carriers push a batch again when our answer is lost, so a report already stored changes
    nothing and emits nothing. A report may come before dispatch's ``notice.sent`` (the carrier
    can be faster than the outbox relay); its state is kept by message id and joined to the
    notice when that arrives. A failure brings its outage's escalation check forward.
    """
    repository = ReceiptsRepository(uow.session)
    unique = {report.key: report for report in reports}
    received_at = utcnow()
    # Every batch takes its row locks in one order (receipts by key, then delivery states by
    # message id), so concurrent pushes wait for one another instead of deadlocking, and each
    # applies its reports to the state the other left behind.
    stored = await repository.add_receipts(
        [_receipt_row(unique[key], received_at) for key in sorted(unique)]
    )
    new = [report for report in in_carrier_order(list(unique.values())) if report.key in stored]
    by_message: dict[str, list[CarrierReport]] = {}
    for report in new:
        by_message.setdefault(report.message_id, []).append(report)
    await _advance_deliveries(repository, by_message)

    outage_of = await repository.outage_ids(list(by_message))
    await repository.mark_due(
        {
            outage_of[r.message_id]
            for r in new
            if r.status in _FAILURES and r.message_id in outage_of
        }
    )
    for report in new:
        uow.emit(
            SmsDelivered(
                message_id=report.message_id,
                provider_message_id=report.provider_message_id,
                outage_id=outage_of.get(report.message_id),
                status=report.status.value,
                carrier_stat=report.stat,
                carrier_err=report.err,
                done_at=report.done_at,
            )
        )
    intake = ReportIntake(accepted=len(new), duplicates=len(reports) - len(new))
    log.info(
        "delivery reports: %d new, %d duplicates, %d messages, %d without a known notice",
        intake.accepted,
        intake.duplicates,
        len(by_message),
        len(set(by_message) - set(outage_of)),
    )
    return intake


async def record_call_reports(calls: Sequence[CallReport], uow: UnitOfWork) -> ReportIntake:
    """Store new call results, advance their notices, and acknowledge confirmed calls.

    An answered call is a delivery; a keypress confirms the notice was heard. Results come
    again or out of order like SMS receipts and are applied the same way.
    """
    repository = ReceiptsRepository(uow.session)
    unique = {call.key: call for call in calls}
    received_at = utcnow()
    stored = await repository.add_call_reports(
        [
            {
                "report_key": key,
                "message_id": unique[key].message_id,
                "outcome": unique[key].outcome.value,
                "at": unique[key].at,
                "received_at": received_at,
            }
            for key in sorted(unique)
        ]
    )
    new = in_carrier_order([call for key, call in unique.items() if key in stored])
    by_message: dict[str, list[CallReport]] = {}
    for call in new:
        by_message.setdefault(call.message_id, []).append(call)
    await _advance_deliveries(repository, by_message)

    outage_of = await repository.outage_ids(list(by_message))
    await repository.mark_due(
        {
            outage_of[c.message_id]
            for c in new
            if c.status in _FAILURES and c.message_id in outage_of
        }
    )
    confirmed = [call for call in new if call.acknowledged]
    await repository.add_acknowledgements(
        [
            _ack_row(
                key=f"call:{call.message_id}",
                outage_id=None,
                message_id=call.message_id,
                account_ids=None,
                channel="voice",
                via="voice_keypress",
                at=call.at,
            )
            for call in confirmed
        ]
    )
    if confirmed:
        await announce_acknowledgements(uow, limit=len(confirmed) + 100)
    return ReportIntake(accepted=len(new), duplicates=len(calls) - len(new))


@dataclass(frozen=True)
class ReplyIntake:
    accepted: int
    duplicates: int
    acknowledged: int


async def record_replies(replies: Sequence[Reply], uow: UnitOfWork) -> ReplyIntake:
    """Store customers' replies; those that acknowledge mark the notices they answer.

    A reply answers the newest notice its phone was sent for each outage that has not yet
    ended. From an area contact (台区联系人) it also confirms the postings of that area. Other
    replies are kept for the operators (``GET /v1/replies``).
    """
    repository = ReceiptsRepository(uow.session)
    accepted = duplicates = acknowledged = 0
    for reply in replies:
        answered = await _answered_notices(repository, reply)
        intent = reply.intent
        stored = await repository.add_reply(
            {
                "reply_key": reply.key,
                "phone_masked": mask_phone(reply.phone),
                "text": reply.text,
                "intent": intent.value,
                "received_at": reply.received_at,
                "outage_ids": sorted({n.outage_id for n in answered}),
                "message_ids": [n.message_id for n in answered],
                "account_ids": sorted({a for n in answered for a in n.account_ids}),
                "recorded_at": utcnow(),
            }
        )
        if not stored:
            duplicates += 1
            continue
        accepted += 1
        if intent is not ReplyIntent.ACKNOWLEDGE:
            continue
        acknowledged += 1
        await repository.add_acknowledgements(
            [
                _ack_row(
                    key=f"reply:{reply.key}:{notice.message_id}",
                    outage_id=notice.outage_id,
                    message_id=notice.message_id,
                    account_ids=list(notice.account_ids),
                    channel=notice.channel,
                    via="sms_reply",
                    at=reply.received_at,
                    actor=mask_phone(reply.phone),
                )
                for notice in answered
            ]
        )
        for outage_id in sorted({n.outage_id for n in answered}):
            record = await repository.outage_record(outage_id)
            for area in _postings_of_area_contact(record, reply.phone):
                await _confirm_posting(
                    repository,
                    record,
                    area,
                    at=reply.received_at,
                    actor=mask_phone(reply.phone),
                    photo_ref="",
                )
    await announce_acknowledgements(uow, limit=10_000)
    return ReplyIntake(accepted, duplicates, acknowledged)


async def _answered_notices(repository: ReceiptsRepository, reply: Reply) -> list[SentNotice]:
    """The newest SMS to the reply's phone per outage that had not ended when it came."""
    newest: dict[str, SentNotice] = {}
    for notice in await repository.notices_to(reply.phone, ["sms"]):
        if notice.outage_id in newest or notice.sent_at > reply.received_at:
            continue
        outage = await repository.outage(notice.outage_id)
        if outage is not None and (
            outage.completed_at is not None
            or (outage.timing is not None and outage.timing.ends_at <= reply.received_at)
        ):
            continue
        newest[notice.outage_id] = notice
    return [newest[outage_id] for outage_id in sorted(newest)]


def _postings_of_area_contact(record: OutageRecord, phone: str) -> list[ListEntry]:
    """The posted notices an area contact with ``phone`` looks after in this outage."""
    if record.approved is None:
        return []
    areas = {
        account_id
        for entry in record.approved.entries
        if entry.role == AREA_ROLE and entry.address == phone and entry.channel in PHONE_CHANNELS
        for account_id in entry.account_ids
    }
    return [
        entry
        for entry in record.approved.entries
        if entry.channel == POSTED_NOTICE and areas.intersection(entry.account_ids)
    ]


async def announce_acknowledgements(uow: UnitOfWork, *, limit: int) -> int:
    """Publish ``notice.acknowledged`` for acknowledgements whose outage is known by now.

    Most are announced as they are recorded; a call confirmed before its ``notice.sent``
    arrived waits for the notice, and the worker announces it then. Claiming each row before
    emitting means concurrent callers never announce one twice.
    """
    repository = ReceiptsRepository(uow.session)
    pending = await repository.unannounced_acknowledgements(limit)
    claimed = await repository.claim_announcements([row["id"] for row in pending], utcnow())
    for row in pending:
        if row["id"] not in claimed:
            continue
        uow.emit(
            NoticeAcknowledged(
                outage_id=row["outage_id"],
                message_id=row["message_id"],
                account_ids=list(row["account_ids"] or row["notice_account_ids"] or []),
                channel=row["channel"],
                via=row["via"],
                acknowledged_at=row["acknowledged_at"],
            )
        )
    return len(claimed)


# What the other services tell us.


async def record_outage_planned(event: OutagePlanned, uow: UnitOfWork) -> None:
    """Remember the plan: its times and the switching operations (for what-if traces)."""
    repository = ReceiptsRepository(uow.session)
    await repository.ensure_outage(event.outage_id)
    current = await repository.lock_outage(event.outage_id)
    values: dict[str, Any] = {
        "operations": [operation.model_dump() for operation in event.operations]
    }
    if current is not None and current.rescheduled_at is None:
        values.update(_details(event.details))
    await repository.update_outage(event.outage_id, values)


async def record_outage_traced(event: OutageTraced | OutageRetraced, uow: UnitOfWork) -> None:
    """Remember who the trace found affected and their feeders; a newer trace replaces it."""
    repository = ReceiptsRepository(uow.session)
    await repository.ensure_outage(event.outage_id)
    current = await repository.lock_outage(event.outage_id)
    if current is not None and current.trace_version >= event.trace_version:
        return
    values: dict[str, Any] = {
        "trace_version": event.trace_version,
        "feeders": {feeder.source_node: feeder.name for feeder in event.feeders},
    }
    if current is None or current.rescheduled_at is None:
        values.update(_details(event.details))
    await repository.update_outage(event.outage_id, values)
    await repository.replace_trace(
        event.outage_id,
        [
            {
                "outage_id": event.outage_id,
                "account_id": account.account_id,
                "feeder": account.feeder,
                "node_id": account.node_id,
                "isolating_device": account.isolating_device,
            }
            for account in {a.account_id: a for a in event.affected_accounts}.values()
        ],
    )


async def record_outage_rescheduled(event: OutageRescheduled, uow: UnitOfWork) -> None:
    """New times move the deadline; the latest reschedule stands, whatever the arrival order."""
    repository = ReceiptsRepository(uow.session)
    await repository.ensure_outage(event.outage_id)
    current = await repository.lock_outage(event.outage_id)
    if (
        current is not None
        and current.rescheduled_at is not None
        and current.rescheduled_at >= event.rescheduled_at
    ):
        return
    await repository.update_outage(
        event.outage_id,
        {
            **_details(event.details),
            "rescheduled_at": event.rescheduled_at,
            "next_check_at": DUE_NOW,
        },
    )


async def record_outage_completed(event: OutageCompleted, uow: UnitOfWork) -> None:
    """The work is over: nothing escalates any more and open field tasks are called off."""
    repository = ReceiptsRepository(uow.session)
    await repository.ensure_outage(event.outage_id)
    await repository.update_outage(
        event.outage_id, {"completed_at": event.completed_at, "next_check_at": None}
    )
    await repository.cancel_open_tasks(
        event.outage_id, messages.TASK_COMPLETED_OUTAGE, event.completed_at
    )


async def record_notice_sent(event: NoticeSent, uow: UnitOfWork, policy: EscalationPolicy) -> None:
    """Remember a notice handed to a provider; receipts already stored for it now count.

    A door slip is a printed notice for field staff to deliver, so it goes on the worklist.
    """
    repository = ReceiptsRepository(uow.session)
    details = {
        "outage_id": event.outage_id,
        "notice_kind": event.notice_kind,
        "channel": event.channel,
        "address": event.address,
        "account_ids": list(event.account_ids),
        "list_version": event.list_version,
        "submission": Submission.SENT.value,
        "provider_message_id": event.provider_message_id,
        "parts": event.parts,
        "sent_at": event.sent_at,
        "failed_at": None,
        "failure_reason": None,
    }
    if not await repository.add_notice(
        {"message_id": event.message_id, **details, "recorded_at": utcnow()}
    ):
        # Stored before as failed at submission, or this very notice again: that the carrier
        # took the message is the stronger fact, and writing the same values twice is harmless.
        await repository.update_notice(event.message_id, details)
    await repository.ensure_outage(event.outage_id)
    await repository.mark_due([event.outage_id])
    if event.channel == DOOR_SLIP:
        record = await repository.outage_record(event.outage_id)
        await _add_task(
            repository,
            record,
            policy,
            kind=TaskKind.DOOR_SLIP,
            key=f"door_slip:{event.message_id}",
            subject=event.address,
            account_ids=list(event.account_ids),
            created_at=event.sent_at,
            notice_kind=event.notice_kind,
            message_id=event.message_id,
            reason="",
        )


async def record_notice_failed(event: NoticeFailed, uow: UnitOfWork) -> None:
    """Remember a notice the provider refused at submission (it never reached anyone)."""
    repository = ReceiptsRepository(uow.session)
    # A notice stored as sent stays sent: the carrier had it, so its receipts decide.
    await repository.add_notice(
        {
            "message_id": event.message_id,
            "outage_id": event.outage_id,
            "notice_kind": event.notice_kind,
            "channel": event.channel,
            "address": event.address,
            "account_ids": list(event.account_ids),
            "list_version": event.list_version,
            "submission": Submission.FAILED.value,
            "provider_message_id": None,
            "parts": None,
            "sent_at": None,
            "failed_at": event.failed_at,
            "failure_reason": event.reason,
            "recorded_at": utcnow(),
        }
    )
    await repository.ensure_outage(event.outage_id)
    await repository.mark_due([event.outage_id])


async def record_list_approved(event: ListApproved, uow: UnitOfWork) -> None:
    """Remember who a version of the list targets and through whom; the newest one counts."""
    repository = ReceiptsRepository(uow.session)
    entries = [
        ListEntry(
            channel=r.channel,
            address=r.address,
            account_ids=tuple(r.account_ids),
            account_names=tuple(r.account_names),
            contact_name=r.contact_name,
            role=r.role,
            wave=r.wave,
        )
        for r in event.recipients
    ]
    every_account = sorted(
        set(event.account_ids) | {a for entry in entries for a in entry.account_ids}
    )
    await repository.add_approved_list(
        {
            "outage_id": event.outage_id,
            "version": event.version,
            "account_count": event.account_count,
            "recipients": len(event.recipients),
            "account_ids": every_account,
            "entries": entries_json(entries),
            "approved_by": event.approved_by,
            "approved_at": event.approved_at,
            "recorded_at": utcnow(),
        }
    )
    await repository.ensure_outage(event.outage_id)
    current = await repository.lock_outage(event.outage_id)
    values: dict[str, Any] = {"next_check_at": DUE_NOW}
    if current is not None and current.rescheduled_at is None:
        values.update(_details(event.details))
    await repository.update_outage(event.outage_id, values)


async def record_outage_cancelled(event: OutageCancelled, uow: UnitOfWork) -> None:
    """Remember that the outage was called off (the first cancellation stands).

    Nothing escalates any more, and open field tasks are called off, except the delivery of
    cancellation slips: those who were told in person must be told in person that it is off.
    """
    repository = ReceiptsRepository(uow.session)
    await repository.add_cancellation(
        {
            "outage_id": event.outage_id,
            "reason": event.reason,
            "cancelled_by": event.cancelled_by,
            "cancelled_at": event.cancelled_at,
            "recorded_at": utcnow(),
        }
    )
    await repository.ensure_outage(event.outage_id)
    await repository.update_outage(event.outage_id, {"next_check_at": None})
    await repository.cancel_open_tasks(
        event.outage_id,
        messages.TASK_CANCELLED_OUTAGE,
        event.cancelled_at,
        keep_kind=CANCELLATION,
    )


def _details(details: OutageDetails) -> dict[str, Any]:
    return {
        "kind": details.kind,
        "starts_at": details.starts_at,
        "ends_at": details.ends_at,
        "work": details.work,
        "area": details.area,
        "planned_by": details.planned_by,
        "next_check_at": DUE_NOW,
    }


# Escalation (the worker).


async def escalate_outage(
    outage_id: str, policy: EscalationPolicy, now: datetime, uow: UnitOfWork
) -> int:
    """Take every escalation of the outage due at ``now``; return how many were taken.

    Escalation steps and tasks are stored under keys that make a repeat a no-op, and events
    are emitted only for what was new, so two workers (or one restarted) never escalate an
    account twice. The outage is then scheduled for its next escalation point.
    """
    repository = ReceiptsRepository(uow.session)
    if not await repository.claim_due_outage(outage_id, now):
        return 0
    taken = 0
    next_check_at: datetime | None = None
    for _ in range(MAX_ROUNDS):
        record = await repository.outage_record(outage_id)
        plan = plan_outage(record, policy, now)
        next_check_at = plan.next_check_at
        if not plan.actions:
            break
        taken += await _apply(repository, uow, record, policy, plan.actions, now)
    await repository.update_outage(outage_id, {"next_check_at": next_check_at})
    return taken


async def _apply(
    repository: ReceiptsRepository,
    uow: UnitOfWork,
    record: OutageRecord,
    policy: EscalationPolicy,
    actions: Sequence[Escalate | Visit | CheckPosting],
    now: datetime,
) -> int:
    steps = [a for a in actions if isinstance(a, Escalate | Visit)]
    new = await repository.add_escalations(
        [
            {
                "outage_id": record.outage_id,
                "account_id": action.account_id,
                "step": action.step,
                "wave": action.wave if isinstance(action, Escalate) else None,
                "reason": action.reason.value,
                "requested_at": now,
            }
            for action in steps
        ]
    )
    taken = 0
    escalated = [a for a in actions if isinstance(a, Escalate) and (a.account_id, a.step) in new]
    for spec in group_requests(record.outage_id, escalated):
        uow.emit(
            EscalationRequested(
                outage_id=record.outage_id,
                escalation_id=spec.escalation_id,
                account_ids=list(spec.recipient.account_ids),
                recipient=_recipient(spec.recipient),
                step=spec.step,
                reason=messages.ESCALATION_REASONS[spec.reason],
            )
        )
    taken += len(escalated)
    for action in actions:
        if isinstance(action, Visit) and (action.account_id, action.step) in new:
            taken += await _add_task(
                repository,
                record,
                policy,
                kind=TaskKind.VISIT,
                key=f"visit:{record.outage_id}:{action.account_id}",
                subject=action.account_id,
                account_ids=[action.account_id],
                created_at=now,
                reason=action.reason.value,
            )
        elif isinstance(action, CheckPosting):
            taken += await _add_task(
                repository,
                record,
                policy,
                kind=TaskKind.POSTING,
                key=f"posting:{record.outage_id}:{action.area_node}",
                subject=action.area_node,
                account_ids=list(action.account_ids),
                created_at=now,
                message_id=action.message_id,
                reason=action.reason.value,
            )
    log.info("outage %s: %d escalations taken", record.outage_id, taken)
    return taken


def _recipient(entry: ListEntry) -> Recipient:
    return Recipient(
        channel=entry.channel,
        address=entry.address,
        contact_name=entry.contact_name,
        account_ids=list(entry.account_ids),
        account_names=list(entry.account_names),
        role=entry.role,
        wave=entry.wave,
    )


async def _add_task(
    repository: ReceiptsRepository,
    record: OutageRecord,
    policy: EscalationPolicy,
    *,
    kind: TaskKind,
    key: str,
    subject: str,
    account_ids: list[str],
    created_at: datetime,
    reason: str,
    notice_kind: str = NOTICE,
    message_id: str | None = None,
) -> int:
    timing = record.timing
    if timing is None:
        due_at = None
    elif notice_kind == CANCELLATION:
        due_at = timing.starts_at
    else:
        due_at = policy.deadline(timing)
    approved = record.approved
    added = await repository.add_task(
        {
            "task_id": str(uuid.uuid4()),
            "task_key": key,
            "outage_id": record.outage_id,
            "kind": kind.value,
            "notice_kind": notice_kind,
            "message_id": message_id,
            "subject": subject,
            "account_ids": account_ids,
            "account_names": [approved.account_name(a) if approved else "" for a in account_ids],
            "reason": reason,
            "created_at": created_at,
            "due_at": due_at,
            "status": TaskStatus.OPEN.value,
            "outcome": None,
            "completed_at": None,
            "signer": "",
            "photo_ref": "",
            "note": "",
            "closed_by": "",
            "closed_at": None,
        }
    )
    return int(added)


async def feed_back_numbers(uow: UnitOfWork, *, threshold: int, limit: int) -> int:
    """Fold new final delivery states into each number's health; report failing numbers.

    Each state is claimed before it is counted, so concurrent workers count it once; a state
    that later moves on (expired, then delivered) is counted again in its new form.
    """
    repository = ReceiptsRepository(uow.session)
    fed = 0
    for outcome in await repository.unfed_outcomes(limit):
        if not await repository.claim_feedback(outcome.message_id, outcome.status):
            continue
        fed += 1
        health = await repository.number_health(outcome.address)
        reason = " ".join(part for part in (outcome.stat, outcome.err) if part)
        verdict = judge(
            health, signal_of(outcome.channel, outcome.status, outcome.stat), reason, threshold
        )
        await repository.save_number_health(outcome.address, verdict.health)
        if verdict.report:
            uow.emit(
                ContactUndeliverable(
                    address=outcome.address,
                    account_ids=list(outcome.account_ids),
                    consecutive_failures=verdict.health.consecutive_failures,
                    last_reason=verdict.health.last_reason,
                    reported_at=utcnow(),
                )
            )
    return fed


# Field work.


async def close_task(
    task_id: str, closing: TaskClosing, closed_by: str, now: datetime, uow: UnitOfWork
) -> TaskRecord:
    """Close a worklist task with its outcome; a signed slip also acknowledges the notice."""
    repository = ReceiptsRepository(uow.session)
    task = await repository.task(task_id, lock=True)
    if task is None:
        raise NotFound(f"no task {task_id!r} on the worklist", field="task_id")
    if check_closing(task, closing, now):
        return task
    await repository.close_task(
        task_id,
        {
            "status": TaskStatus.CLOSED.value,
            "outcome": closing.outcome.value,
            "completed_at": closing.at,
            "signer": closing.signer.strip(),
            "photo_ref": closing.photo_ref,
            "note": closing.note,
            "closed_by": closed_by,
            "closed_at": now,
        },
    )
    outage_id = await repository.task_outage(task_id)
    assert outage_id is not None  # the task was just read
    record = await repository.outage_record(outage_id)
    if task.kind is TaskKind.POSTING:
        if closing.outcome is TaskOutcome.POSTED:
            await _confirm_posting(
                repository,
                record,
                _posting_entry(record, task.subject, task.account_ids),
                at=closing.at,
                actor=closed_by,
                photo_ref=closing.photo_ref,
            )
    else:
        if task.message_id is not None:
            await _advance_deliveries(
                repository,
                {task.message_id: [FieldReport(task.message_id, closing.outcome, closing.at)]},
            )
        if closing.outcome is TaskOutcome.SIGNED:
            await repository.add_acknowledgements(
                [
                    _ack_row(
                        key=f"task:{task_id}",
                        outage_id=outage_id,
                        message_id=task.message_id,
                        account_ids=list(task.account_ids),
                        channel=DOOR_SLIP,
                        via="signed_slip",
                        at=closing.at,
                        actor=closing.signer.strip(),
                        photo_ref=closing.photo_ref,
                    )
                ]
            )
    await repository.mark_due([outage_id])
    await announce_acknowledgements(uow, limit=100)
    closed = await repository.task(task_id)
    assert closed is not None
    return closed


async def confirm_posting(
    outage_id: str,
    area_node: str,
    *,
    at: datetime,
    actor: str,
    photo_ref: str,
    now: datetime,
    uow: UnitOfWork,
) -> None:
    """Record that the notice of a transformer area is up, as field staff confirm it."""
    if at > now + timedelta(minutes=5):
        raise InvalidInput("the time of the posting is in the future", field="at")
    repository = ReceiptsRepository(uow.session)
    record = await repository.outage_record(outage_id)
    if record.approved is None:
        raise NotFound(f"outage {outage_id!r} has no approved list here", field="outage_id")
    entries = [
        e for e in record.approved.entries if e.channel == POSTED_NOTICE and e.address == area_node
    ]
    if not entries:
        raise NotFound(
            f"outage {outage_id!r} has no posted notice for area {area_node!r}",
            field="area_node",
        )
    await _confirm_posting(repository, record, entries[0], at=at, actor=actor, photo_ref=photo_ref)
    await repository.mark_due([outage_id])
    await announce_acknowledgements(uow, limit=100)


def _posting_entry(record: OutageRecord, area_node: str, account_ids: Sequence[str]) -> ListEntry:
    if record.approved is not None:
        for entry in record.approved.entries:
            if entry.channel == POSTED_NOTICE and entry.address == area_node:
                return entry
    return ListEntry(POSTED_NOTICE, area_node, tuple(account_ids))


async def _confirm_posting(
    repository: ReceiptsRepository,
    record: OutageRecord,
    entry: ListEntry,
    *,
    at: datetime,
    actor: str,
    photo_ref: str,
) -> None:
    """A posting is up: its notices count as delivered, its open check task is done."""
    message_ids = await repository.notices_of(record.outage_id, POSTED_NOTICE, entry.address)
    await _advance_deliveries(
        repository,
        {m: [FieldReport(m, TaskOutcome.POSTED, at)] for m in message_ids},
    )
    await repository.add_acknowledgements(
        [
            _ack_row(
                key=f"posting:{record.outage_id}:{entry.address}",
                outage_id=record.outage_id,
                message_id=message_ids[0] if message_ids else None,
                account_ids=list(entry.account_ids),
                channel=POSTED_NOTICE,
                via="posting_confirmed",
                at=at,
                address=entry.address,
                actor=actor,
                photo_ref=photo_ref,
            )
        ]
    )
    for task in await repository.open_tasks_of(record.outage_id, TaskKind.POSTING, entry.address):
        await repository.close_task(
            task.task_id,
            {
                "status": TaskStatus.CLOSED.value,
                "outcome": TaskOutcome.POSTED.value,
                "completed_at": at,
                "photo_ref": photo_ref,
                "closed_by": actor,
                "closed_at": utcnow(),
            },
        )


# Complaints.


class TopologyPort(Protocol):
    async def affected_accounts(self, operations: Sequence[dict[str, Any]]) -> set[str] | None: ...


@dataclass(frozen=True)
class ComplaintFiling:
    work_order_id: str
    outage_id: str
    account_id: str
    complaint_type: ComplaintType
    received_at: datetime
    text: str


# Findings that a what-if trace on today's model refines.
_ASK_TOPOLOGY = frozenset({Finding.NOT_ON_LIST, Finding.ON_LIST_NO_OUTAGE})


async def file_complaint(
    filing: ComplaintFiling,
    filed_by: str,
    uow_factory: UnitOfWorkFactory,
    topology: TopologyPort | None,
    now: datetime,
) -> tuple[dict[str, Any], bool]:
    """Classify a complaint work order against the record; emit ``complaint.classified``.

    Returns the stored complaint and whether it is new: a work order filed again (the
    customer-service system retrying) returns the first classification unchanged.
    """
    async with uow_factory() as uow:
        repository = ReceiptsRepository(uow.session)
        existing = await repository.complaint(work_order_id=filing.work_order_id)
        if existing is not None:
            return existing, False
        if not await repository.outage_known(filing.outage_id):
            raise NotFound(
                f"outage {filing.outage_id!r} has no approved list, notice or cancellation here",
                field="outage_id",
            )
        record = await repository.outage_record(filing.outage_id)
        outage = await repository.outage(filing.outage_id)
    classification = classify(
        filing.complaint_type, filing.account_id, record, what_if_affected=None
    )
    what_if: bool | None = None
    if classification.finding in _ASK_TOPOLOGY and topology and outage and outage.operations:
        affected = await topology.affected_accounts(outage.operations)
        if affected is not None:
            what_if = filing.account_id in affected
            classification = classify(
                filing.complaint_type, filing.account_id, record, what_if_affected=what_if
            )
    async with uow_factory() as uow:
        repository = ReceiptsRepository(uow.session)
        row = _complaint_row(filing, classification, what_if, filed_by, now)
        if not await repository.add_complaint(row):
            # Filed concurrently by a retry: the first one stands.
            existing = await repository.complaint(work_order_id=filing.work_order_id)
            assert existing is not None
            return existing, False
        uow.emit(
            ComplaintClassified(
                complaint_id=row["complaint_id"],
                outage_id=filing.outage_id,
                account_id=filing.account_id,
                complaint_type=filing.complaint_type.value,
                cause=classification.cause.value,
                detail=classification.detail,
                classified_at=now,
            )
        )
        await uow.commit()
    return row, True


def _complaint_row(
    filing: ComplaintFiling,
    classification: Classification,
    what_if: bool | None,
    filed_by: str,
    now: datetime,
) -> dict[str, Any]:
    return {
        "complaint_id": str(uuid.uuid4()),
        "work_order_id": filing.work_order_id,
        "outage_id": filing.outage_id,
        "account_id": filing.account_id,
        "complaint_type": filing.complaint_type.value,
        "text": filing.text,
        "received_at": filing.received_at,
        "cause": classification.cause.value,
        "finding": classification.finding.value,
        "detail": classification.detail,
        "what_if_affected": what_if,
        "filed_by": filed_by,
        "classified_at": now,
    }


# Reading.


async def _known_record(outage_id: str, repository: ReceiptsRepository) -> OutageRecord:
    if not await repository.outage_known(outage_id):
        raise NotFound(
            f"outage {outage_id!r} has no approved list, notice or cancellation here",
            field="outage_id",
        )
    return await repository.outage_record(outage_id)


async def outage_coverage(
    outage_id: str, policy: EscalationPolicy, now: datetime, uow: UnitOfWork
) -> Coverage:
    """How many of the outage's accounts were reached, acknowledged, escalated, and how fast."""
    record = await _known_record(outage_id, ReceiptsRepository(uow.session))
    return compute_coverage(record, policy, now)


@dataclass(frozen=True)
class AccountCoverage:
    ledger: AccountLedger
    account_name: str
    feeder: str


async def coverage_by_account(outage_id: str, uow: UnitOfWork) -> list[AccountCoverage]:
    """One line per targeted account: reached when and how, acknowledged, escalated."""
    record = await _known_record(outage_id, ReceiptsRepository(uow.session))
    approved = record.approved
    return [
        AccountCoverage(
            ledger=ledger,
            account_name=approved.account_name(account_id) if approved else "",
            feeder=record.feeders.get(account_id, ""),
        )
        for account_id, ledger in account_ledgers(record).items()
    ]


async def outage_timeline(
    outage_id: str, uow: UnitOfWork
) -> tuple[OutageRecord, list[CoveragePoint]]:
    record = await _known_record(outage_id, ReceiptsRepository(uow.session))
    return record, coverage_timeline(record)


async def account_evidence(
    outage_id: str,
    account_id: str,
    policy: EscalationPolicy,
    required_leads: dict[str, timedelta],
    uow: UnitOfWork,
) -> EvidencePack:
    """The evidence pack of one account of one outage."""
    repository = ReceiptsRepository(uow.session)
    record = await _known_record(outage_id, repository)
    mine = [m for m in record.messages if account_id in m.account_ids]
    if account_id not in record.targeted and not mine:
        raise NotFound(
            f"account {account_id!r} is neither on the list of outage {outage_id!r} nor "
            "named by any of its notices",
            field="account_id",
        )
    phones = {masked(m.channel, m.address) for m in mine if m.channel == "sms"}
    return build_evidence(
        record,
        account_id,
        reports=await repository.report_lines([m.message_id for m in mine]),
        replies=await repository.replies_from(phones),
        complaints=await repository.complaint_lines(outage_id, account_id),
        deadline=policy.deadline(record.timing) if record.timing else None,
        required_leads=required_leads,
    )


async def report(
    since: datetime, until: datetime, group_by: GroupBy, now: datetime, uow: UnitOfWork
) -> list[GroupFigures]:
    """Measures over the outages starting in ``[since, until)``, grouped."""
    repository = ReceiptsRepository(uow.session)
    outage_ids = await repository.outages_starting(since, until)
    records = await repository.outage_records(outage_ids)
    facts = await repository.complaint_facts(outage_ids)
    return build_report(records.values(), facts, group_by, now)


async def worklist(
    *,
    status: TaskStatus | None,
    outage_id: str | None,
    kind: TaskKind | None,
    limit: int,
    uow: UnitOfWork,
) -> list[dict[str, Any]]:
    return await ReceiptsRepository(uow.session).worklist(
        status=status, outage_id=outage_id, kind=kind, limit=limit
    )


async def task_view(task_id: str, uow: UnitOfWork) -> dict[str, Any]:
    row = await ReceiptsRepository(uow.session).task_row(task_id)
    if row is None:
        raise NotFound(f"no task {task_id!r} on the worklist", field="task_id")
    return row


async def list_replies(
    *, outage_id: str | None, intent: ReplyIntent | None, limit: int, uow: UnitOfWork
) -> list[dict[str, Any]]:
    return await ReceiptsRepository(uow.session).list_replies(
        outage_id=outage_id, intent=intent.value if intent else None, limit=limit
    )


async def list_complaints(
    *, outage_id: str | None, cause: str | None, limit: int, uow: UnitOfWork
) -> list[dict[str, Any]]:
    return await ReceiptsRepository(uow.session).list_complaints(
        outage_id=outage_id, cause=cause, limit=limit
    )


async def get_complaint(complaint_id: str, uow: UnitOfWork) -> dict[str, Any]:
    row = await ReceiptsRepository(uow.session).complaint(complaint_id=complaint_id)
    if row is None:
        raise NotFound(f"no complaint {complaint_id!r}", field="complaint_id")
    return row


# Helpers.


async def _advance_deliveries(
    repository: ReceiptsRepository, by_message: dict[str, list[Any]]
) -> None:
    """Apply each message's new reports to its delivery state, creating the state if needed."""
    first_states: list[dict[str, Any]] = []
    for message_id in sorted(by_message):
        state, decisive = settle(None, by_message[message_id])
        if state is not None and decisive is not None:
            first_states.append(
                {"message_id": message_id, "status": state.value, **_described_by(decisive)}
            )
    created = await repository.create_deliveries(first_states)
    # A state that already existed (or that a concurrent batch just created) is read under a
    # row lock, so that it is advanced from its latest value.
    current = await repository.lock_deliveries(sorted(set(by_message) - created))
    for message_id, status in current.items():
        state, decisive = settle(status, by_message[message_id])
        if state is not None and decisive is not None:
            await repository.update_delivery(
                message_id, {"status": state.value, **_described_by(decisive)}
            )


def _receipt_row(report: CarrierReport, received_at: datetime) -> dict[str, Any]:
    outcome = report.outcome
    return {
        "report_key": report.key,
        "message_id": report.message_id,
        "provider_message_id": report.provider_message_id,
        "phone_masked": mask_phone(report.phone),
        "carrier_stat": report.stat,
        "carrier_err": report.err,
        "status": outcome.status.value,
        "reason_zh": outcome.reason_zh,
        "reason_en": outcome.reason_en,
        "submitted_at": report.submitted_at,
        "done_at": report.done_at,
        "received_at": received_at,
    }


def _described_by(report: StatusReport) -> dict[str, Any]:
    """The columns of a delivery state that say which report set it."""
    return {
        "provider_message_id": report.provider_message_id,
        "carrier_stat": report.stat,
        "carrier_err": report.err,
        "done_at": report.done_at,
        "updated_at": utcnow(),
    }


def _ack_row(
    *,
    key: str,
    outage_id: str | None,
    message_id: str | None,
    account_ids: list[str] | None,
    channel: str,
    via: str,
    at: datetime,
    address: str = "",
    actor: str = "",
    photo_ref: str = "",
) -> dict[str, Any]:
    return {
        "ack_key": key,
        "outage_id": outage_id,
        "message_id": message_id,
        "account_ids": account_ids,
        "channel": channel,
        "via": via,
        "address": address,
        "actor": actor,
        "photo_ref": photo_ref,
        "acknowledged_at": at,
        "announced_at": None,
        "recorded_at": utcnow(),
    }
