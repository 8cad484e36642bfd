"""Reads and writes of the receipts tables, in the session of the caller's unit of work."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, delete, exists, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from services.receipts.adapters.db import (
    acknowledgements,
    approved_lists,
    call_reports,
    cancellations,
    complaints,
    deliveries,
    escalations,
    notices,
    number_health,
    outages,
    receipts,
    replies,
    tasks,
    traced_accounts,
)
from services.receipts.domain.evidence import ComplaintLine, ReplyLine, ReportLine
from services.receipts.domain.feedback import NumberHealth
from services.receipts.domain.ledger import (
    NOTICE,
    AckRecord,
    ApprovedList,
    EscalationRecord,
    ListEntry,
    MessageRecord,
    OutageRecord,
    OutageTiming,
    Submission,
    TaskKind,
    TaskOutcome,
    TaskRecord,
    TaskStatus,
)
from services.receipts.domain.measures import ComplaintFact
from services.receipts.domain.status import FINAL_STATUSES, ReceiptStatus
from shared.db import upsert_ignore
from shared.timeutil import ensure_aware, utcnow

# ``next_check_at`` of an outage something happened to: due at any clock the worker runs on.
DUE_NOW = datetime(2000, 1, 1, tzinfo=UTC)


def _aware(moment: datetime | None) -> datetime | None:
    return ensure_aware(moment) if moment is not None else None


@dataclass(frozen=True)
class OutageRow:
    """Receipts' own record of an outage's plan and state."""

    outage_id: str
    timing: OutageTiming | None
    work: str
    area: str
    planned_by: str
    operations: list[dict[str, str]] | None
    trace_version: int
    rescheduled_at: datetime | None
    completed_at: datetime | None


@dataclass(frozen=True)
class SentNotice:
    """A notice to a phone, for matching a reply to what it answers."""

    message_id: str
    outage_id: str
    notice_kind: str
    channel: str
    account_ids: tuple[str, ...]
    sent_at: datetime


@dataclass(frozen=True)
class UnfedOutcome:
    """A final delivery state not yet fed back to its number's health."""

    message_id: str
    address: str
    channel: str
    account_ids: tuple[str, ...]
    status: ReceiptStatus
    stat: str
    err: str


class ReceiptsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # Delivery reports and states.

    async def add_receipts(self, rows: list[dict[str, Any]]) -> set[str]:
        """Insert the receipts not stored yet; return the report keys that were new."""
        return await self._insert_new(receipts, rows, receipts.c.report_key)

    async def add_call_reports(self, rows: list[dict[str, Any]]) -> set[str]:
        """Insert the call results not stored yet; return the report keys that were new."""
        return await self._insert_new(call_reports, rows, call_reports.c.report_key)

    async def create_deliveries(self, rows: list[dict[str, Any]]) -> set[str]:
        """Insert delivery states for messages that have none; return their message ids."""
        return await self._insert_new(deliveries, rows, deliveries.c.message_id)

    async def lock_deliveries(self, message_ids: Collection[str]) -> dict[str, ReceiptStatus]:
        """Current delivery states, locked until commit so concurrent reports apply in turn."""
        if not message_ids:
            return {}
        query = (
            select(deliveries.c.message_id, deliveries.c.status)
            .where(deliveries.c.message_id.in_(message_ids))
            .order_by(deliveries.c.message_id)
            .with_for_update()
        )
        rows = (await self.session.execute(query)).all()
        return {row.message_id: ReceiptStatus(row.status) for row in rows}

    async def update_delivery(self, message_id: str, values: dict[str, Any]) -> None:
        await self.session.execute(
            update(deliveries).where(deliveries.c.message_id == message_id).values(values)
        )

    async def outage_ids(self, message_ids: Collection[str]) -> dict[str, str]:
        """The outage of each message whose notice is known."""
        if not message_ids:
            return {}
        query = select(notices.c.message_id, notices.c.outage_id).where(
            notices.c.message_id.in_(message_ids)
        )
        return {row.message_id: row.outage_id for row in (await self.session.execute(query))}

    async def notice(self, message_id: str) -> SentNotice | None:
        query = select(notices).where(notices.c.message_id == message_id)
        row = (await self.session.execute(query)).first()
        if row is None:
            return None
        return SentNotice(
            message_id=row.message_id,
            outage_id=row.outage_id,
            notice_kind=row.notice_kind,
            channel=row.channel,
            account_ids=tuple(row.account_ids),
            sent_at=ensure_aware(row.sent_at or row.failed_at or row.recorded_at),
        )

    async def notices_of(self, outage_id: str, channel: str, address: str) -> list[str]:
        """Message ids of the outage's notices to ``address`` on ``channel``."""
        query = select(notices.c.message_id).where(
            notices.c.outage_id == outage_id,
            notices.c.channel == channel,
            notices.c.address == address,
        )
        return list((await self.session.execute(query)).scalars())

    # Notices, lists, outages.

    async def add_notice(self, row: dict[str, Any]) -> bool:
        """Insert a notice; False if one with this message id is already stored."""
        return bool(await self._insert_new(notices, [row], notices.c.message_id))

    async def update_notice(self, message_id: str, values: dict[str, Any]) -> None:
        await self.session.execute(
            update(notices).where(notices.c.message_id == message_id).values(values)
        )

    async def add_approved_list(self, row: dict[str, Any]) -> None:
        await self.session.execute(upsert_ignore(self.session, approved_lists, row))

    async def add_cancellation(self, row: dict[str, Any]) -> None:
        await self.session.execute(upsert_ignore(self.session, cancellations, row))

    async def ensure_outage(self, outage_id: str) -> None:
        """Create receipts' record of an outage the first time any event names it."""
        row: dict[str, Any] = {
            "outage_id": outage_id,
            "kind": None,
            "starts_at": None,
            "ends_at": None,
            "work": "",
            "area": "",
            "planned_by": "",
            "operations": None,
            "feeders": {},
            "trace_version": 0,
            "rescheduled_at": None,
            "completed_at": None,
            "next_check_at": None,
            "updated_at": utcnow(),
        }
        await self.session.execute(upsert_ignore(self.session, outages, row))

    async def lock_outage(self, outage_id: str) -> OutageRow | None:
        query = select(outages).where(outages.c.outage_id == outage_id).with_for_update()
        row = (await self.session.execute(query)).first()
        return _outage_row(row) if row is not None else None

    async def update_outage(self, outage_id: str, values: dict[str, Any]) -> None:
        await self.session.execute(
            update(outages)
            .where(outages.c.outage_id == outage_id)
            .values({**values, "updated_at": utcnow()})
        )

    async def mark_due(self, outage_ids: Collection[str]) -> None:
        """Have the escalation worker look at these outages at its next round."""
        if not outage_ids:
            return
        await self.session.execute(
            update(outages)
            .where(outages.c.outage_id.in_(sorted(outage_ids)))
            .values(next_check_at=DUE_NOW)
        )

    async def replace_trace(self, outage_id: str, rows: list[dict[str, Any]]) -> None:
        await self.session.execute(
            delete(traced_accounts).where(traced_accounts.c.outage_id == outage_id)
        )
        if rows:
            await self.session.execute(traced_accounts.insert(), rows)

    async def outage(self, outage_id: str) -> OutageRow | None:
        query = select(outages).where(outages.c.outage_id == outage_id)
        row = (await self.session.execute(query)).first()
        return _outage_row(row) if row is not None else None

    async def outage_known(self, outage_id: str) -> bool:
        """Whether any list, notice or cancellation of ``outage_id`` has reached us."""
        query = select(
            or_(
                exists().where(approved_lists.c.outage_id == outage_id),
                exists().where(notices.c.outage_id == outage_id),
                exists().where(cancellations.c.outage_id == outage_id),
            )
        )
        return bool((await self.session.execute(query)).scalar())

    async def traced(self, outage_id: str, account_id: str) -> bool:
        query = select(
            exists().where(
                traced_accounts.c.outage_id == outage_id,
                traced_accounts.c.account_id == account_id,
            )
        )
        return bool((await self.session.execute(query)).scalar())

    async def outages_starting(self, since: datetime, until: datetime) -> list[str]:
        query = (
            select(outages.c.outage_id)
            .where(outages.c.starts_at >= since, outages.c.starts_at < until)
            .order_by(outages.c.starts_at, outages.c.outage_id)
        )
        return list((await self.session.execute(query)).scalars())

    async def due_outages(self, now: datetime, limit: int) -> list[str]:
        query = (
            select(outages.c.outage_id)
            .where(outages.c.next_check_at <= now)
            .order_by(outages.c.next_check_at, outages.c.outage_id)
            .limit(limit)
        )
        return list((await self.session.execute(query)).scalars())

    async def claim_due_outage(self, outage_id: str, now: datetime) -> bool:
        """Lock a due outage for this worker; False if it is no longer due or another has it."""
        query = (
            select(outages.c.outage_id)
            .where(outages.c.outage_id == outage_id, outages.c.next_check_at <= now)
            .with_for_update(skip_locked=True)
        )
        return (await self.session.execute(query)).first() is not None

    # The whole record of outages.

    async def outage_record(self, outage_id: str) -> OutageRecord:
        return (await self.outage_records([outage_id]))[outage_id]

    async def outage_records(self, outage_ids: Sequence[str]) -> dict[str, OutageRecord]:
        """Everything known about each outage, with a few queries for all of them."""
        ids = sorted(set(outage_ids))
        if not ids:
            return {}
        rows = {
            row.outage_id: _outage_row(row)
            for row in await self.session.execute(
                select(outages).where(outages.c.outage_id.in_(ids))
            )
        }
        cancelled = {
            row.outage_id: (ensure_aware(row.cancelled_at), row.reason)
            for row in await self.session.execute(
                select(cancellations).where(cancellations.c.outage_id.in_(ids))
            )
        }
        lists = await self._newest_lists(ids)
        messages = await self._messages(ids)
        acks = await self._acks(ids)
        task_records = await self._tasks(ids)
        steps = await self._escalations(ids)
        feeders = await self._feeders(ids)
        records: dict[str, OutageRecord] = {}
        for outage_id in ids:
            row = rows.get(outage_id)
            cancellation = cancelled.get(outage_id)
            records[outage_id] = OutageRecord(
                outage_id=outage_id,
                timing=row.timing if row else None,
                cancelled_at=cancellation[0] if cancellation else None,
                cancel_reason=cancellation[1] if cancellation else "",
                completed_at=row.completed_at if row else None,
                rescheduled_at=row.rescheduled_at if row else None,
                planned_by=row.planned_by if row else "",
                work=row.work if row else "",
                area=row.area if row else "",
                approved=lists.get(outage_id),
                messages=tuple(messages.get(outage_id, ())),
                acks=tuple(acks.get(outage_id, ())),
                tasks=tuple(task_records.get(outage_id, ())),
                escalations=tuple(steps.get(outage_id, ())),
                feeders=feeders.get(outage_id, {}),
            )
        return records

    async def _newest_lists(self, ids: list[str]) -> dict[str, ApprovedList]:
        newest = (
            select(approved_lists.c.outage_id, func.max(approved_lists.c.version).label("v"))
            .where(approved_lists.c.outage_id.in_(ids))
            .group_by(approved_lists.c.outage_id)
            .subquery()
        )
        query = select(approved_lists).join(
            newest,
            and_(
                approved_lists.c.outage_id == newest.c.outage_id,
                approved_lists.c.version == newest.c.v,
            ),
        )
        found: dict[str, ApprovedList] = {}
        for row in await self.session.execute(query):
            found[row.outage_id] = ApprovedList(
                version=row.version,
                approved_at=ensure_aware(row.approved_at),
                account_count=row.account_count,
                account_ids=frozenset(row.account_ids),
                entries=tuple(_entry(entry) for entry in row.entries),
            )
        return found

    async def _messages(self, ids: list[str]) -> dict[str, list[MessageRecord]]:
        query = (
            select(
                notices,
                deliveries.c.status,
                deliveries.c.carrier_stat,
                deliveries.c.carrier_err,
                deliveries.c.done_at,
                deliveries.c.updated_at,
            )
            .select_from(
                notices.outerjoin(deliveries, deliveries.c.message_id == notices.c.message_id)
            )
            .where(notices.c.outage_id.in_(ids))
            .order_by(notices.c.outage_id, notices.c.message_id)
        )
        found: dict[str, list[MessageRecord]] = defaultdict(list)
        for row in await self.session.execute(query):
            submission = Submission(row.submission)
            found[row.outage_id].append(
                MessageRecord(
                    message_id=row.message_id,
                    notice_kind=row.notice_kind,
                    channel=row.channel,
                    address=row.address,
                    account_ids=tuple(row.account_ids),
                    submission=submission,
                    delivery=ReceiptStatus(row.status) if row.status else None,
                    stat=row.carrier_stat or "",
                    err=row.carrier_err or "",
                    sent_at=_aware(row.sent_at if submission is Submission.SENT else row.failed_at),
                    settled_at=_aware(row.done_at or row.updated_at),
                    failure_reason=row.failure_reason or "",
                )
            )
        return found

    async def _acks(self, ids: list[str]) -> dict[str, list[AckRecord]]:
        outage = func.coalesce(acknowledgements.c.outage_id, notices.c.outage_id)
        query = (
            select(
                acknowledgements,
                notices.c.outage_id.label("notice_outage_id"),
                notices.c.account_ids.label("notice_account_ids"),
                notices.c.notice_kind,
            )
            .select_from(
                acknowledgements.outerjoin(
                    notices, notices.c.message_id == acknowledgements.c.message_id
                )
            )
            .where(outage.in_(ids))
            .order_by(acknowledgements.c.id)
        )
        found: dict[str, list[AckRecord]] = defaultdict(list)
        for row in await self.session.execute(query):
            outage_id = row.outage_id or row.notice_outage_id
            found[outage_id].append(
                AckRecord(
                    outage_id=outage_id,
                    account_ids=tuple(row.account_ids or row.notice_account_ids or ()),
                    channel=row.channel,
                    via=row.via,
                    at=ensure_aware(row.acknowledged_at),
                    message_id=row.message_id,
                    notice_kind=row.notice_kind or NOTICE,
                    address=row.address,
                )
            )
        return found

    async def _tasks(self, ids: list[str]) -> dict[str, list[TaskRecord]]:
        query = (
            select(tasks)
            .where(tasks.c.outage_id.in_(ids))
            .order_by(tasks.c.created_at, tasks.c.task_id)
        )
        found: dict[str, list[TaskRecord]] = defaultdict(list)
        for row in await self.session.execute(query):
            found[row.outage_id].append(_task(row))
        return found

    async def _escalations(self, ids: list[str]) -> dict[str, list[EscalationRecord]]:
        query = (
            select(escalations)
            .where(escalations.c.outage_id.in_(ids))
            .order_by(escalations.c.requested_at, escalations.c.account_id, escalations.c.step)
        )
        found: dict[str, list[EscalationRecord]] = defaultdict(list)
        for row in await self.session.execute(query):
            found[row.outage_id].append(
                EscalationRecord(
                    account_id=row.account_id,
                    step=row.step,
                    wave=row.wave,
                    requested_at=ensure_aware(row.requested_at),
                    reason=row.reason,
                )
            )
        return found

    async def _feeders(self, ids: list[str]) -> dict[str, dict[str, str]]:
        names = {
            row.outage_id: row.feeders or {}
            for row in await self.session.execute(
                select(outages.c.outage_id, outages.c.feeders).where(outages.c.outage_id.in_(ids))
            )
        }
        query = select(
            traced_accounts.c.outage_id, traced_accounts.c.account_id, traced_accounts.c.feeder
        ).where(traced_accounts.c.outage_id.in_(ids))
        found: dict[str, dict[str, str]] = defaultdict(dict)
        for row in await self.session.execute(query):
            found[row.outage_id][row.account_id] = names.get(row.outage_id, {}).get(
                row.feeder, row.feeder
            )
        return found

    # Escalation and the worklist.

    async def add_escalations(self, rows: list[dict[str, Any]]) -> set[tuple[str, int]]:
        """Record escalation steps; return the (account, step) pairs that were new."""
        if not rows:
            return set()
        statement = _insert_ignoring(self.session, escalations).returning(
            escalations.c.account_id, escalations.c.step
        )
        return {(row.account_id, row.step) for row in await self.session.execute(statement, rows)}

    async def add_task(self, row: dict[str, Any]) -> bool:
        """Put a task on the worklist; False if one with its key is there already."""
        return bool(await self._insert_new(tasks, [row], tasks.c.task_key))

    async def task(self, task_id: str, *, lock: bool = False) -> TaskRecord | None:
        query = select(tasks).where(tasks.c.task_id == task_id)
        if lock:
            query = query.with_for_update()
        row = (await self.session.execute(query)).first()
        return _task(row) if row is not None else None

    async def task_outage(self, task_id: str) -> str | None:
        query = select(tasks.c.outage_id).where(tasks.c.task_id == task_id)
        return (await self.session.execute(query)).scalar()

    async def close_task(self, task_id: str, values: dict[str, Any]) -> None:
        await self.session.execute(update(tasks).where(tasks.c.task_id == task_id).values(values))

    async def open_tasks_of(self, outage_id: str, kind: TaskKind, subject: str) -> list[TaskRecord]:
        query = select(tasks).where(
            tasks.c.outage_id == outage_id,
            tasks.c.kind == kind.value,
            tasks.c.subject == subject,
            tasks.c.status == TaskStatus.OPEN.value,
        )
        return [_task(row) for row in await self.session.execute(query)]

    async def cancel_open_tasks(
        self, outage_id: str, note: str, now: datetime, *, keep_kind: str | None = None
    ) -> None:
        """Call off the open tasks of an outage (but those for notices of ``keep_kind``)."""
        condition = and_(tasks.c.outage_id == outage_id, tasks.c.status == TaskStatus.OPEN.value)
        if keep_kind is not None:
            condition = and_(condition, tasks.c.notice_kind != keep_kind)
        await self.session.execute(
            update(tasks)
            .where(condition)
            .values(status=TaskStatus.CANCELLED.value, note=note, closed_at=now)
        )

    async def worklist(
        self,
        *,
        status: TaskStatus | None,
        outage_id: str | None,
        kind: TaskKind | None,
        limit: int,
    ) -> list[dict[str, Any]]:
        query = (
            select(
                tasks,
                outages.c.kind.label("outage_kind"),
                outages.c.starts_at,
                outages.c.ends_at,
                outages.c.work,
                outages.c.area,
            )
            .select_from(tasks.outerjoin(outages, outages.c.outage_id == tasks.c.outage_id))
            .order_by(tasks.c.due_at.is_(None), tasks.c.due_at, tasks.c.created_at)
            .limit(limit)
        )
        if status is not None:
            query = query.where(tasks.c.status == status.value)
        if outage_id is not None:
            query = query.where(tasks.c.outage_id == outage_id)
        if kind is not None:
            query = query.where(tasks.c.kind == kind.value)
        return [dict(row._mapping) for row in await self.session.execute(query)]

    async def task_row(self, task_id: str) -> dict[str, Any] | None:
        rows = await self.session.execute(
            select(
                tasks,
                outages.c.kind.label("outage_kind"),
                outages.c.starts_at,
                outages.c.ends_at,
                outages.c.work,
                outages.c.area,
            )
            .select_from(tasks.outerjoin(outages, outages.c.outage_id == tasks.c.outage_id))
            .where(tasks.c.task_id == task_id)
        )
        row = rows.first()
        return dict(row._mapping) if row is not None else None

    # Acknowledgements.

    async def add_acknowledgements(self, rows: list[dict[str, Any]]) -> set[str]:
        """Store acknowledgements not stored yet; return the keys that were new."""
        return await self._insert_new(acknowledgements, rows, acknowledgements.c.ack_key)

    async def unannounced_acknowledgements(self, limit: int) -> list[dict[str, Any]]:
        """Acknowledgements not yet published whose notice (and so outage) is known."""
        query = (
            select(
                acknowledgements.c.id,
                acknowledgements.c.message_id,
                acknowledgements.c.channel,
                acknowledgements.c.via,
                acknowledgements.c.acknowledged_at,
                func.coalesce(acknowledgements.c.outage_id, notices.c.outage_id).label("outage_id"),
                acknowledgements.c.account_ids,
                notices.c.account_ids.label("notice_account_ids"),
            )
            .select_from(
                acknowledgements.outerjoin(
                    notices, notices.c.message_id == acknowledgements.c.message_id
                )
            )
            .where(
                acknowledgements.c.announced_at.is_(None),
                or_(acknowledgements.c.outage_id.is_not(None), notices.c.outage_id.is_not(None)),
            )
            .order_by(acknowledgements.c.id)
            .limit(limit)
        )
        return [dict(row._mapping) for row in await self.session.execute(query)]

    async def claim_announcements(self, ids: Collection[int], now: datetime) -> set[int]:
        """Mark acknowledgements announced; return those this transaction claimed."""
        if not ids:
            return set()
        statement = (
            update(acknowledgements)
            .where(
                acknowledgements.c.id.in_(sorted(ids)), acknowledgements.c.announced_at.is_(None)
            )
            .values(announced_at=now)
            .returning(acknowledgements.c.id)
        )
        return set((await self.session.execute(statement)).scalars())

    # Replies.

    async def add_reply(self, row: dict[str, Any]) -> bool:
        return bool(await self._insert_new(replies, [row], replies.c.reply_key))

    async def notices_to(self, address: str, channels: Collection[str]) -> list[SentNotice]:
        """Notices sent to ``address`` on the given channels, newest first."""
        query = (
            select(notices)
            .where(
                notices.c.address == address,
                notices.c.channel.in_(sorted(channels)),
                notices.c.submission == Submission.SENT.value,
            )
            .order_by(notices.c.sent_at.desc(), notices.c.message_id)
        )
        return [
            SentNotice(
                message_id=row.message_id,
                outage_id=row.outage_id,
                notice_kind=row.notice_kind,
                channel=row.channel,
                account_ids=tuple(row.account_ids),
                sent_at=ensure_aware(row.sent_at or row.recorded_at),
            )
            for row in await self.session.execute(query)
        ]

    async def list_replies(
        self, *, outage_id: str | None, intent: str | None, limit: int
    ) -> list[dict[str, Any]]:
        query = select(replies).order_by(replies.c.received_at.desc(), replies.c.id.desc())
        if intent is not None:
            query = query.where(replies.c.intent == intent)
        rows = [dict(row._mapping) for row in await self.session.execute(query)]
        # Matched outages are a JSON list; filtering them in SQL differs per database, and
        # replies are few next to reports.
        if outage_id is not None:
            rows = [row for row in rows if outage_id in row["outage_ids"]]
        return rows[:limit]

    async def replies_from(self, masked_phones: Collection[str]) -> list[ReplyLine]:
        if not masked_phones:
            return []
        query = (
            select(replies)
            .where(replies.c.phone_masked.in_(sorted(masked_phones)))
            .order_by(replies.c.received_at)
        )
        return [
            ReplyLine(ensure_aware(row.received_at), row.text, tuple(row.message_ids))
            for row in await self.session.execute(query)
        ]

    # Feedback to the contact registry.

    async def unfed_outcomes(self, limit: int) -> list[UnfedOutcome]:
        """Final delivery states of phone notices not fed back yet, oldest first."""
        query = (
            select(
                deliveries.c.message_id,
                deliveries.c.status,
                deliveries.c.carrier_stat,
                deliveries.c.carrier_err,
                notices.c.address,
                notices.c.channel,
                notices.c.account_ids,
            )
            .select_from(deliveries.join(notices, notices.c.message_id == deliveries.c.message_id))
            .where(
                deliveries.c.status.in_(sorted(s.value for s in FINAL_STATUSES)),
                notices.c.channel.in_(["sms", "voice"]),
                or_(
                    deliveries.c.feedback_status.is_(None),
                    deliveries.c.feedback_status != deliveries.c.status,
                ),
            )
            .order_by(deliveries.c.updated_at, deliveries.c.message_id)
            .limit(limit)
        )
        return [
            UnfedOutcome(
                message_id=row.message_id,
                address=row.address,
                channel=row.channel,
                account_ids=tuple(row.account_ids),
                status=ReceiptStatus(row.status),
                stat=row.carrier_stat,
                err=row.carrier_err,
            )
            for row in await self.session.execute(query)
        ]

    async def claim_feedback(self, message_id: str, status: ReceiptStatus) -> bool:
        """Mark a state fed back; False if another worker did so first."""
        statement = (
            update(deliveries)
            .where(
                deliveries.c.message_id == message_id,
                deliveries.c.status == status.value,
                or_(
                    deliveries.c.feedback_status.is_(None),
                    deliveries.c.feedback_status != status.value,
                ),
            )
            .values(feedback_status=status.value)
            .returning(deliveries.c.message_id)
        )
        return (await self.session.execute(statement)).first() is not None

    async def number_health(self, address: str) -> NumberHealth:
        query = select(number_health).where(number_health.c.address == address).with_for_update()
        row = (await self.session.execute(query)).first()
        if row is None:
            return NumberHealth()
        return NumberHealth(row.consecutive_failures, row.last_reason)

    async def save_number_health(self, address: str, health: NumberHealth) -> None:
        values = {
            "consecutive_failures": health.consecutive_failures,
            "last_reason": health.last_reason,
            "updated_at": utcnow(),
        }
        await self.session.execute(
            upsert_ignore(self.session, number_health, {"address": address, **values})
        )
        await self.session.execute(
            update(number_health).where(number_health.c.address == address).values(values)
        )

    # Complaints.

    async def add_complaint(self, row: dict[str, Any]) -> bool:
        return bool(await self._insert_new(complaints, [row], complaints.c.work_order_id))

    async def complaint(
        self, *, complaint_id: str | None = None, work_order_id: str | None = None
    ) -> dict[str, Any] | None:
        query = select(complaints)
        if complaint_id is not None:
            query = query.where(complaints.c.complaint_id == complaint_id)
        if work_order_id is not None:
            query = query.where(complaints.c.work_order_id == work_order_id)
        row = (await self.session.execute(query)).first()
        return dict(row._mapping) if row is not None else None

    async def list_complaints(
        self, *, outage_id: str | None, cause: str | None, limit: int
    ) -> list[dict[str, Any]]:
        query = (
            select(complaints)
            .order_by(complaints.c.received_at.desc(), complaints.c.complaint_id)
            .limit(limit)
        )
        if outage_id is not None:
            query = query.where(complaints.c.outage_id == outage_id)
        if cause is not None:
            query = query.where(complaints.c.cause == cause)
        return [dict(row._mapping) for row in await self.session.execute(query)]

    async def complaint_facts(self, outage_ids: Collection[str]) -> list[ComplaintFact]:
        if not outage_ids:
            return []
        query = select(complaints.c.outage_id, complaints.c.account_id, complaints.c.cause).where(
            complaints.c.outage_id.in_(sorted(outage_ids))
        )
        return [
            ComplaintFact(row.outage_id, row.account_id, row.cause)
            for row in await self.session.execute(query)
        ]

    async def complaint_lines(self, outage_id: str, account_id: str) -> list[ComplaintLine]:
        query = (
            select(complaints)
            .where(complaints.c.outage_id == outage_id, complaints.c.account_id == account_id)
            .order_by(complaints.c.received_at)
        )
        return [
            ComplaintLine(ensure_aware(row.received_at), row.complaint_type, row.detail)
            for row in await self.session.execute(query)
        ]

    # Evidence.

    async def report_lines(self, message_ids: Collection[str]) -> list[ReportLine]:
        """Every stored carrier receipt and call result of these messages."""
        if not message_ids:
            return []
        ids = sorted(message_ids)
        lines = [
            ReportLine(
                message_id=row.message_id,
                at=ensure_aware(row.done_at or row.received_at),
                status=row.status,
                stat=row.carrier_stat,
                err=row.carrier_err,
                reason=row.reason_zh,
            )
            for row in await self.session.execute(
                select(receipts).where(receipts.c.message_id.in_(ids)).order_by(receipts.c.id)
            )
        ]
        lines.extend(
            ReportLine(
                message_id=row.message_id,
                at=ensure_aware(row.at),
                status="",
                stat=row.outcome,
                call=True,
            )
            for row in await self.session.execute(
                select(call_reports)
                .where(call_reports.c.message_id.in_(ids))
                .order_by(call_reports.c.id)
            )
        )
        return lines

    async def _insert_new(
        self, table: Any, rows: list[dict[str, Any]], key_column: Any
    ) -> set[str]:
        """``INSERT … ON CONFLICT DO NOTHING RETURNING key`` for many rows.

        The rows go as parameters of one cached statement (SQLAlchemy batches them into
        multi-row inserts itself) rather than as literal VALUES, which would be compiled anew
        for every batch: at a thousand reports a push, compiling dominated ingestion.
        """
        if not rows:
            return set()
        statement = _insert_ignoring(self.session, table).returning(key_column)
        if len(rows) == 1:
            return set((await self.session.execute(statement.values(rows[0]))).scalars())
        return set((await self.session.execute(statement, rows)).scalars())


def _insert_ignoring(session: AsyncSession, table: Any) -> Any:
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    return sqlite.insert(table).on_conflict_do_nothing()


def _outage_row(row: Any) -> OutageRow:
    timing = None
    if row.kind is not None and row.starts_at is not None and row.ends_at is not None:
        timing = OutageTiming(row.kind, ensure_aware(row.starts_at), ensure_aware(row.ends_at))
    return OutageRow(
        outage_id=row.outage_id,
        timing=timing,
        work=row.work,
        area=row.area,
        planned_by=row.planned_by,
        operations=row.operations,
        trace_version=row.trace_version,
        rescheduled_at=_aware(row.rescheduled_at),
        completed_at=_aware(row.completed_at),
    )


def _entry(data: dict[str, Any]) -> ListEntry:
    return ListEntry(
        channel=data["channel"],
        address=data["address"],
        account_ids=tuple(data["account_ids"]),
        account_names=tuple(data.get("account_names", ())),
        contact_name=data.get("contact_name", ""),
        role=data.get("role", ""),
        wave=int(data.get("wave", 0)),
    )


def _task(row: Any) -> TaskRecord:
    return TaskRecord(
        task_id=row.task_id,
        kind=TaskKind(row.kind),
        account_ids=tuple(row.account_ids),
        subject=row.subject,
        status=TaskStatus(row.status),
        created_at=ensure_aware(row.created_at),
        due_at=_aware(row.due_at),
        notice_kind=row.notice_kind,
        message_id=row.message_id,
        outcome=TaskOutcome(row.outcome) if row.outcome else None,
        completed_at=_aware(row.completed_at),
        signer=row.signer,
        photo_ref=row.photo_ref,
        note=row.note,
        closed_by=row.closed_by,
        reason=row.reason,
    )


def entries_json(entries: Iterable[ListEntry]) -> list[dict[str, Any]]:
    return [
        {
            "channel": e.channel,
            "address": e.address,
            "account_ids": list(e.account_ids),
            "account_names": list(e.account_names),
            "contact_name": e.contact_name,
            "role": e.role,
            "wave": e.wave,
        }
        for e in entries
    ]
