"""Reads and writes of outages and messages, inside the caller's transaction.

Every state change after a provider call is a conditional update: it names the state (and the
claim token) it expects, and reports whether it applied. Two writers racing over one message
(a sender and a delivery report, or a sender whose claim expired and the one that took over)
therefore never both apply, and the loser learns it instead of overwriting.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.dispatch.adapters.db import messages, outages
from services.dispatch.domain.audience import Addressee
from services.dispatch.domain.messages import (
    ClaimedMessage,
    DeliveryStatus,
    Message,
    MessageStatus,
    NewMessage,
    NoticeKind,
    OutageState,
    StatusCount,
    priority_of,
)
from shared.db import upsert_ignore
from shared.events import ListApproved, OutageCancelled, OutageDetails
from shared.timeutil import ensure_aware

# Rows per INSERT: PostgreSQL allows 32767 bound parameters per statement.
_INSERT_CHUNK = 500


def _aware(value: datetime | None) -> datetime | None:
    return ensure_aware(value) if value is not None else None


def _to_message(row: Any) -> Message:
    return Message(
        message_id=row.message_id,
        outage_id=row.outage_id,
        list_version=row.list_version,
        notice_kind=NoticeKind(row.notice_kind),
        channel=row.channel,
        address=row.address,
        contact_name=row.contact_name,
        account_ids=tuple(row.account_ids),
        account_names=tuple(row.account_names),
        sign_name=row.sign_name,
        text=row.text,
        status=MessageStatus(row.status),
        delivery_status=DeliveryStatus(row.delivery_status) if row.delivery_status else None,
        carrier_stat=row.carrier_stat,
        carrier_err=row.carrier_err,
        provider_message_id=row.provider_message_id,
        parts=row.parts,
        attempts=row.attempts,
        checks=row.checks,
        next_attempt_at=ensure_aware(row.next_attempt_at),
        last_error=row.last_error,
        created_at=ensure_aware(row.created_at),
        updated_at=ensure_aware(row.updated_at),
        submitted_at=_aware(row.submitted_at),
        delivery_reported_at=_aware(row.delivery_reported_at),
    )


def _to_outage(row: Any) -> OutageState:
    details = None
    if row.kind is not None:
        details = OutageDetails(
            kind=row.kind,
            starts_at=ensure_aware(row.starts_at),
            ends_at=ensure_aware(row.ends_at),
            work=row.work,
            area=row.area,
            planned_by=row.planned_by,
        )
    return OutageState(
        outage_id=row.outage_id,
        details=details,
        list_version=row.list_version,
        cancelled_at=_aware(row.cancelled_at),
    )


class DispatchRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # Outages

    async def lock_outage(self, outage_id: str, now: datetime) -> OutageState:
        """The outage, created if unknown, locked until commit.

        Approving a list, cancelling and recording a submission all decide from the
        outage's state; the lock makes them take turns per outage, so a cancellation can
        never slip between a check and the write that depended on it. (On SQLite every
        writing transaction already takes the database lock.)
        """
        await self.session.execute(
            upsert_ignore(
                self.session,
                outages,
                {"outage_id": outage_id, "created_at": now, "updated_at": now},
            )
        )
        query = select(outages).where(outages.c.outage_id == outage_id).with_for_update()
        return _to_outage((await self.session.execute(query)).one())

    async def read_outage_shared(self, outage_id: str) -> OutageState | None:
        """The outage, read-locked: many submissions may record at once, but not during a
        cancellation of the same outage."""
        query = select(outages).where(outages.c.outage_id == outage_id).with_for_update(read=True)
        row = (await self.session.execute(query)).one_or_none()
        return _to_outage(row) if row is not None else None

    async def read_outage(self, outage_id: str) -> OutageState | None:
        row = (
            await self.session.execute(select(outages).where(outages.c.outage_id == outage_id))
        ).one_or_none()
        return _to_outage(row) if row is not None else None

    async def store_approved_list(self, event: ListApproved, now: datetime) -> None:
        details = event.details
        await self.session.execute(
            update(outages)
            .where(outages.c.outage_id == event.outage_id)
            .values(
                kind=details.kind,
                starts_at=details.starts_at,
                ends_at=details.ends_at,
                work=details.work,
                area=details.area,
                planned_by=details.planned_by,
                list_version=event.version,
                approved_by=event.approved_by,
                updated_at=now,
            )
        )

    async def mark_cancelled(self, event: OutageCancelled, now: datetime) -> None:
        await self.session.execute(
            update(outages)
            .where(outages.c.outage_id == event.outage_id, outages.c.cancelled_at.is_(None))
            .values(
                cancelled_at=event.cancelled_at,
                cancelled_by=event.cancelled_by,
                cancel_reason=event.reason,
                updated_at=now,
            )
        )

    # Queueing

    async def insert_messages(self, new: Sequence[NewMessage], now: datetime) -> list[str]:
        """Insert the messages whose idempotency key is free; return the ids inserted."""
        inserted: list[str] = []
        rows = [
            {
                "message_id": m.message_id,
                "outage_id": m.outage_id,
                "list_version": m.list_version,
                "notice_kind": m.notice_kind.value,
                "channel": m.channel,
                "address": m.address,
                "contact_name": m.contact_name,
                "account_ids": list(m.account_ids),
                "account_names": list(m.account_names),
                "sign_name": m.sign_name,
                "text": m.text,
                "status": m.status.value,
                "parts": m.parts,
                "priority": priority_of(m.notice_kind),
                "attempts": 0,
                "checks": 0,
                "next_attempt_at": now,
                "last_error": m.last_error,
                "created_at": now,
                "updated_at": now,
            }
            for m in new
        ]
        for start in range(0, len(rows), _INSERT_CHUNK):
            statement = upsert_ignore(self.session, messages, rows[start : start + _INSERT_CHUNK])
            result = await self.session.execute(statement.returning(messages.c.message_id))
            inserted.extend(result.scalars())
        return inserted

    async def cancel_queued_notices(
        self, outage_id: str, reason: str, now: datetime, *, below_version: int | None = None
    ) -> int:
        """Cancel the outage's notices still waiting to be sent; return how many."""
        conditions = [
            messages.c.outage_id == outage_id,
            messages.c.status == MessageStatus.QUEUED.value,
            messages.c.notice_kind == NoticeKind.NOTICE.value,
        ]
        if below_version is not None:
            conditions.append(messages.c.list_version < below_version)
        result = await self.session.execute(
            update(messages)
            .where(*conditions)
            .values(status=MessageStatus.CANCELLED.value, last_error=reason, updated_at=now)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]  # CursorResult at runtime

    async def notices_in(
        self,
        outage_id: str,
        statuses: Collection[MessageStatus],
        *,
        channel: str | None = None,
        address: str | None = None,
    ) -> list[Addressee]:
        """The outage's notices in the given states, as their addressees."""
        query = select(
            messages.c.channel,
            messages.c.address,
            messages.c.contact_name,
            messages.c.account_ids,
            messages.c.account_names,
        ).where(
            messages.c.outage_id == outage_id,
            messages.c.notice_kind == NoticeKind.NOTICE.value,
            messages.c.status.in_([s.value for s in statuses]),
        )
        if channel is not None and address is not None:
            query = query.where(messages.c.channel == channel, messages.c.address == address)
        rows = (await self.session.execute(query.order_by(messages.c.created_at))).all()
        return [
            Addressee(
                channel=r.channel,
                address=r.address,
                contact_name=r.contact_name,
                account_ids=tuple(r.account_ids),
                account_names=tuple(r.account_names),
            )
            for r in rows
        ]

    # Claiming

    async def _claim(
        self,
        statuses: Collection[MessageStatus],
        now: datetime,
        limit: int,
    ) -> list[Any]:
        query = (
            select(messages, outages.c.cancelled_at.label("outage_cancelled_at"))
            .join(outages, outages.c.outage_id == messages.c.outage_id)
            .where(
                messages.c.status.in_([s.value for s in statuses]),
                messages.c.next_attempt_at <= now,
            )
            .order_by(messages.c.priority, messages.c.next_attempt_at)
            .limit(limit)
            # Replicas claim side by side on PostgreSQL: each skips the rows another is
            # claiming instead of waiting for them, and none claims a row twice. (SQLite has
            # no row locks; its writers take turns on the whole database.)
            .with_for_update(skip_locked=True, of=messages)
        )
        return list((await self.session.execute(query)).all())

    @staticmethod
    def _claimed(row: Any, token: str, *, attempts: int, checks: int) -> ClaimedMessage:
        return ClaimedMessage(
            message_id=row.message_id,
            outage_id=row.outage_id,
            list_version=row.list_version,
            notice_kind=NoticeKind(row.notice_kind),
            channel=row.channel,
            address=row.address,
            account_ids=tuple(row.account_ids),
            sign_name=row.sign_name,
            text=row.text,
            attempts=attempts,
            checks=checks,
            claim_token=token,
        )

    async def claim_for_sending(
        self, now: datetime, limit: int, lease_s: float, claimer: str, cancelled_reason: str
    ) -> list[ClaimedMessage]:
        """Move due ``queued`` messages to ``sending`` and return them.

        A notice of an outage cancelled meanwhile is cancelled here instead: the cancellation
        may have committed after the message was last looked at (a retry that was waiting).
        Cancellation messages are sent whatever the outage's state, since that is their point.
        """
        rows = await self._claim([MessageStatus.QUEUED], now, limit)
        stopped = {
            r.message_id
            for r in rows
            if r.outage_cancelled_at is not None and r.notice_kind == NoticeKind.NOTICE.value
        }
        if stopped:
            await self.session.execute(
                update(messages)
                .where(messages.c.message_id.in_(stopped))
                .values(
                    status=MessageStatus.CANCELLED.value,
                    last_error=cancelled_reason,
                    updated_at=now,
                )
            )
        taken = [r for r in rows if r.message_id not in stopped]
        if not taken:
            return []
        # One token for the batch: it only has to tell this claim from any later one.
        token = str(uuid.uuid4())
        await self.session.execute(
            update(messages)
            .where(messages.c.message_id.in_([r.message_id for r in taken]))
            .values(
                status=MessageStatus.SENDING.value,
                attempts=messages.c.attempts + 1,
                claim_token=token,
                claimed_by=claimer,
                next_attempt_at=now + timedelta(seconds=lease_s),
                updated_at=now,
            )
        )
        return [self._claimed(r, token, attempts=r.attempts + 1, checks=r.checks) for r in taken]

    async def claim_for_checking(
        self, now: datetime, limit: int, lease_s: float, claimer: str
    ) -> list[ClaimedMessage]:
        """Take due ``unknown`` messages, and ``sending`` ones whose claim expired (their sender
        crashed or stalled mid-call), to ask the provider what became of them."""
        rows = await self._claim([MessageStatus.UNKNOWN, MessageStatus.SENDING], now, limit)
        if not rows:
            return []
        abandoned = [r.message_id for r in rows if r.status == MessageStatus.SENDING.value]
        if abandoned:
            await self.session.execute(
                update(messages)
                .where(messages.c.message_id.in_(abandoned))
                .values(last_error="claim expired during the provider call")
            )
        token = str(uuid.uuid4())
        await self.session.execute(
            update(messages)
            .where(messages.c.message_id.in_([r.message_id for r in rows]))
            .values(
                status=MessageStatus.UNKNOWN.value,
                checks=messages.c.checks + 1,
                claim_token=token,
                claimed_by=claimer,
                next_attempt_at=now + timedelta(seconds=lease_s),
                updated_at=now,
            )
        )
        return [self._claimed(r, token, attempts=r.attempts, checks=r.checks + 1) for r in rows]

    async def expire_claims_of(self, claimer: str, now: datetime) -> int:
        """End the leases ``claimer`` holds on messages in ``sending``; return how many.

        Called when ``claimer`` starts: whatever it was sending when it last stopped is
        abandoned, and waiting out the lease would only delay settling it.
        """
        result = await self.session.execute(
            update(messages)
            .where(
                messages.c.status == MessageStatus.SENDING.value,
                messages.c.claimed_by == claimer,
            )
            .values(next_attempt_at=now, updated_at=now)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]  # CursorResult at runtime

    # Outcomes

    async def mark_submitted(
        self,
        message_id: str,
        *,
        provider_message_id: str,
        parts: int,
        now: datetime,
        claim_token: str | None = None,
        from_statuses: Iterable[MessageStatus] = (MessageStatus.SENDING, MessageStatus.UNKNOWN),
    ) -> bool:
        conditions = [
            messages.c.message_id == message_id,
            messages.c.status.in_([s.value for s in from_statuses]),
        ]
        if claim_token is not None:
            conditions.append(messages.c.claim_token == claim_token)
        result = await self.session.execute(
            update(messages)
            .where(*conditions)
            .values(
                status=MessageStatus.SUBMITTED.value,
                provider_message_id=provider_message_id,
                parts=parts,
                submitted_at=now,
                claim_token=None,
                last_error=None,
                updated_at=now,
            )
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]  # CursorResult at runtime

    async def _settle_claim(
        self, message_id: str, claim_token: str, now: datetime, values: dict[str, Any]
    ) -> bool:
        result = await self.session.execute(
            update(messages)
            .where(
                messages.c.message_id == message_id,
                messages.c.claim_token == claim_token,
                messages.c.status.in_([MessageStatus.SENDING.value, MessageStatus.UNKNOWN.value]),
            )
            .values(updated_at=now, **values)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]  # CursorResult at runtime

    async def mark_failed(
        self, message_id: str, claim_token: str, reason: str, now: datetime
    ) -> bool:
        return await self._settle_claim(
            message_id,
            claim_token,
            now,
            {"status": MessageStatus.FAILED.value, "last_error": reason, "claim_token": None},
        )

    async def requeue(
        self, message_id: str, claim_token: str, at: datetime, reason: str, now: datetime
    ) -> bool:
        return await self._settle_claim(
            message_id,
            claim_token,
            now,
            {
                "status": MessageStatus.QUEUED.value,
                "next_attempt_at": at,
                "last_error": reason,
                "claim_token": None,
            },
        )

    async def await_check(
        self, message_id: str, claim_token: str, at: datetime, reason: str, now: datetime
    ) -> bool:
        # The token stays: only the sender that holds it may record what the check finds,
        # until the claim is taken over for the next check.
        return await self._settle_claim(
            message_id,
            claim_token,
            now,
            {"status": MessageStatus.UNKNOWN.value, "next_attempt_at": at, "last_error": reason},
        )

    async def record_delivery(
        self,
        message_id: str,
        *,
        delivery_status: DeliveryStatus | None,
        carrier_stat: str,
        carrier_err: str,
        reported_at: datetime,
        now: datetime,
    ) -> None:
        await self.session.execute(
            update(messages)
            .where(messages.c.message_id == message_id)
            .values(
                delivery_status=delivery_status.value if delivery_status else None,
                carrier_stat=carrier_stat,
                carrier_err=carrier_err,
                delivery_reported_at=reported_at,
                updated_at=now,
            )
        )

    # Reading

    async def get_message(self, message_id: str, *, for_update: bool = False) -> Message | None:
        query = select(messages).where(messages.c.message_id == message_id)
        if for_update:
            query = query.with_for_update()
        row = (await self.session.execute(query)).one_or_none()
        return _to_message(row) if row is not None else None

    async def list_messages(
        self,
        outage_id: str,
        *,
        status: MessageStatus | None,
        notice_kind: NoticeKind | None,
        limit: int,
        offset: int,
    ) -> list[Message]:
        query = select(messages).where(messages.c.outage_id == outage_id)
        if status is not None:
            query = query.where(messages.c.status == status.value)
        if notice_kind is not None:
            query = query.where(messages.c.notice_kind == notice_kind.value)
        query = (
            query.order_by(messages.c.notice_kind.desc(), messages.c.created_at, messages.c.address)
            .limit(limit)
            .offset(offset)
        )
        return [_to_message(r) for r in (await self.session.execute(query)).all()]

    async def count_messages(self, outage_id: str) -> list[StatusCount]:
        query = (
            select(
                messages.c.notice_kind,
                messages.c.status,
                messages.c.delivery_status,
                func.count().label("n"),
            )
            .where(messages.c.outage_id == outage_id)
            .group_by(messages.c.notice_kind, messages.c.status, messages.c.delivery_status)
        )
        return [
            StatusCount(r.notice_kind, r.status, r.delivery_status, int(r.n))
            for r in (await self.session.execute(query)).all()
        ]
