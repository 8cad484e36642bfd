"""Reads and writes of outages, messages, schedules and counters, in the caller's transaction.

Every state change after a provider call is a conditional update: it names the state (and the
claim token) it expects, and reports whether it applied. Two writers racing over one message
(a sender and a delivery report, or a sender whose claim expired and the one that took over)
therefore never both apply, and the loser learns it instead of overwriting.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Integer,
    SmallInteger,
    String,
    Text,
    bindparam,
    case,
    cast,
    func,
    literal,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from services.dispatch.adapters.db import daily_counts, escalations, messages, outages, schedules
from services.dispatch.domain.audience import Addressee
from services.dispatch.domain.gating import DueMessage
from services.dispatch.domain.messages import (
    ANNOUNCING,
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
from shared.events import (
    ListApproved,
    OutageCancelled,
    OutageCompleted,
    OutageDetails,
    OutageRescheduled,
)
from shared.timeutil import ensure_aware

# Rows per INSERT: PostgreSQL allows 32767 bound parameters per statement.
_INSERT_CHUNK = 500
# Rows per INSERT … SELECT FROM unnest(arrays): one parameter per column, any length.
_UNNEST_CHUNK = 10_000
# JSON columns travel as text arrays and are cast back in the statement.
_JSON_COLUMNS = frozenset({"account_ids", "account_names"})


def _array_type(name: str) -> Any:
    """The element type of the array carrying column ``name`` in an unnest insert."""
    if name in _JSON_COLUMNS:
        return Text
    column_type = messages.c[name].type
    return DateTime(timezone=True) if isinstance(column_type, DateTime) else column_type


# Ids per IN (…) list.
_ID_CHUNK = 1000


def _aware(value: datetime | None) -> datetime | None:
    return ensure_aware(value) if value is not None else None


def _time(value: str | None) -> time | None:
    return time.fromisoformat(value) if value else None


def _details(value: str) -> OutageDetails:
    return OutageDetails.model_validate_json(value)


def _one_of_ids(column: Any, ids: Sequence[str], postgres: bool) -> Any:
    """``column IN (ids)``; on PostgreSQL ``= ANY(:array)``: one parameter, whatever the
    count, so the statement is compiled once instead of a bind per id."""
    if postgres:
        return column == func.any(bindparam("ids", list(ids), type_=ARRAY(String)))
    return column.in_(ids)


def _chunks(values: Sequence[Any], size: int = _ID_CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _to_message(row: Any) -> Message:
    return Message(
        message_id=row.message_id,
        outage_id=row.outage_id,
        list_version=row.list_version,
        revision=row.revision,
        notice_kind=NoticeKind(row.notice_kind),
        channel=row.channel,
        address=row.address,
        contact_name=row.contact_name,
        account_ids=tuple(row.account_ids),
        account_names=tuple(row.account_names),
        role=row.role,
        wave=row.wave,
        audience=row.audience,
        location=row.location,
        details=_details(row.details),
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
        refers_to=row.refers_to,
        escalation_id=row.escalation_id,
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
            district=row.district or "",
            planned_by=row.planned_by,
        )
    return OutageState(
        outage_id=row.outage_id,
        details=details,
        list_version=row.list_version,
        revision=row.revision or 0,
        cancelled_at=_aware(row.cancelled_at),
        completed_at=_aware(row.completed_at),
        first_approved_at=_aware(row.first_approved_at),
        cancel_reason=row.cancel_reason,
        reschedule_reason=row.reschedule_reason,
        previous_starts_at=_aware(row.previous_starts_at),
        previous_ends_at=_aware(row.previous_ends_at),
    )


def _to_addressee(row: Any) -> Addressee:
    return Addressee(
        channel=row.channel,
        address=row.address,
        contact_name=row.contact_name,
        account_ids=tuple(row.account_ids),
        account_names=tuple(row.account_names),
        role=row.role,
        wave=row.wave,
        audience=row.audience,
        location=row.location,
    )


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
        revision=row.revision,
        parts=row.parts,
    )


@dataclass(frozen=True)
class Settlement:
    """What to write on one claimed message after its call (see ``settle``)."""

    message_id: str
    claim_token: str
    status: MessageStatus
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    provider_message_id: str | None = None
    parts: int | None = None
    refund_attempt: bool = False


@dataclass(frozen=True)
class ScheduleEntry:
    outage_id: str
    notice_kind: NoticeKind
    revision: int
    due_at: datetime


class DispatchRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @property
    def _postgres(self) -> bool:
        return self.session.bind is not None and self.session.bind.dialect.name == "postgresql"

    # Outages

    async def lock_outage(self, outage_id: str, now: datetime) -> OutageState:
        """The outage, created if unknown, locked until commit.

        Approving a list, cancelling, rescheduling, escalating and recording a submission all
        decide from the outage's state; the lock makes them take turns per outage, so a
        cancellation can never slip between a check and the write that depended on it. (On
        SQLite every writing transaction already takes the database lock.)
        """
        await self.session.execute(
            upsert_ignore(
                self.session,
                outages,
                {"outage_id": outage_id, "revision": 0, "created_at": now, "updated_at": now},
            )
        )
        query = select(outages).where(outages.c.outage_id == outage_id).with_for_update()
        return _to_outage((await self.session.execute(query)).one())

    async def read_outages_shared(self, outage_ids: Collection[str]) -> dict[str, OutageState]:
        """The outages, read-locked: many submissions may record at once, but not during a
        cancellation or reschedule of the same outage."""
        query = (
            select(outages)
            .where(outages.c.outage_id.in_(sorted(outage_ids)))
            .order_by(outages.c.outage_id)
            .with_for_update(read=True)
        )
        rows = (await self.session.execute(query)).all()
        return {row.outage_id: _to_outage(row) for row in rows}

    async def read_outage(self, outage_id: str) -> OutageState | None:
        row = (
            await self.session.execute(select(outages).where(outages.c.outage_id == outage_id))
        ).one_or_none()
        return _to_outage(row) if row is not None else None

    async def store_approved_list(self, event: ListApproved, now: datetime) -> None:
        """Record the list's version and details; a reschedule's details are kept, since a
        list approved with the times it replaced must not undo it."""
        details = event.details
        await self.session.execute(
            update(outages)
            .where(outages.c.outage_id == event.outage_id)
            .values(
                list_version=event.version,
                approved_by=event.approved_by,
                first_approved_at=func.coalesce(outages.c.first_approved_at, now),
                updated_at=now,
            )
        )
        await self.session.execute(
            update(outages)
            .where(outages.c.outage_id == event.outage_id, outages.c.revision == 0)
            .values(
                kind=details.kind,
                starts_at=details.starts_at,
                ends_at=details.ends_at,
                work=details.work,
                area=details.area,
                district=details.district,
                planned_by=details.planned_by,
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

    async def store_reschedule(
        self, event: OutageRescheduled, revision: int, now: datetime
    ) -> None:
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
                district=details.district,
                planned_by=details.planned_by,
                revision=revision,
                previous_starts_at=event.previous_starts_at,
                previous_ends_at=event.previous_ends_at,
                reschedule_reason=event.reason,
                updated_at=now,
            )
        )

    async def mark_completed(self, event: OutageCompleted, now: datetime) -> None:
        await self.session.execute(
            update(outages)
            .where(outages.c.outage_id == event.outage_id, outages.c.completed_at.is_(None))
            .values(
                completed_at=event.completed_at, completed_by=event.completed_by, updated_at=now
            )
        )

    # Queueing

    def _json(self, value: list[str]) -> Any:
        # PostgreSQL's unnest insert carries JSON as text; SQLite's JSON type serialises.
        return json.dumps(value, ensure_ascii=False) if self._postgres else value

    async def insert_messages(self, new: Sequence[NewMessage], now: datetime) -> list[str]:
        """Insert the messages whose idempotency key is free; return the ids inserted."""
        inserted: list[str] = []
        details_json: dict[int, str] = {}
        rows = []
        for m in new:
            # One outage's messages share their details object: serialise it once.
            dumped = details_json.get(id(m.details))
            if dumped is None:
                dumped = details_json[id(m.details)] = m.details.model_dump_json()
            rows.append(
                {
                    "message_id": m.message_id,
                    "outage_id": m.outage_id,
                    "list_version": m.list_version,
                    "revision": m.revision,
                    "notice_kind": m.notice_kind.value,
                    "channel": m.channel,
                    "address": m.address,
                    "contact_name": m.contact_name,
                    "account_ids": self._json(list(m.account_ids)),
                    "account_names": self._json(list(m.account_names)),
                    "role": m.role,
                    "wave": m.wave,
                    "audience": m.audience,
                    "location": m.location,
                    "details": dumped,
                    "sign_name": m.sign_name,
                    "text": m.text,
                    "status": m.status.value,
                    "parts": m.parts,
                    "priority": priority_of(m.notice_kind),
                    "quiet": m.quiet,
                    "call_earliest": m.call_earliest.isoformat() if m.call_earliest else None,
                    "call_latest": m.call_latest.isoformat() if m.call_latest else None,
                    "attempts": 0,
                    "checks": 0,
                    "next_attempt_at": m.due_at,
                    "last_error": m.last_error,
                    "refers_to": m.refers_to,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        if self._postgres:
            for start in range(0, len(rows), _UNNEST_CHUNK):
                inserted.extend(await self._insert_unnest(rows[start : start + _UNNEST_CHUNK]))
            return inserted
        # executemany, which SQLAlchemy batches into multi-row INSERTs ("insertmanyvalues")
        # without compiling a bind parameter per value as .values([...]) does.
        statement = (
            sqlite.insert(messages).on_conflict_do_nothing().returning(messages.c.message_id)
        )
        for start in range(0, len(rows), _INSERT_CHUNK):
            result = await self.session.execute(statement, rows[start : start + _INSERT_CHUNK])
            inserted.extend(result.scalars())
        return inserted

    async def _insert_unnest(self, rows: list[dict[str, Any]]) -> list[str]:
        """PostgreSQL: ``INSERT … SELECT FROM unnest(arrays) ON CONFLICT DO NOTHING``.

        One statement per chunk whatever its size: each column travels as one array, so the
        statement compiles once and the driver encodes the arrays in C.
        """
        names = list(rows[0])
        source = (
            func.unnest(
                *(
                    bindparam(f"a_{name}", [r[name] for r in rows], type_=ARRAY(_array_type(name)))
                    for name in names
                )
            )
            .table_valued(*names)
            .render_derived(name="new_messages")
        )
        columns = [
            cast(source.c[name], JSON) if name in _JSON_COLUMNS else source.c[name]
            for name in names
        ]
        statement = (
            postgresql.insert(messages)
            .from_select(names, select(*columns))
            .on_conflict_do_nothing()
            .returning(messages.c.message_id)
        )
        return list((await self.session.execute(statement)).scalars())

    async def cancel_unsent(
        self,
        outage_id: str,
        reason: str,
        now: datetime,
        *,
        kinds: Collection[NoticeKind],
        below_version: int | None = None,
        below_revision: int | None = None,
    ) -> list[Message]:
        """Cancel the outage's messages of ``kinds`` not yet handed over (held or queued);
        return them as they were."""
        conditions = [
            messages.c.outage_id == outage_id,
            messages.c.status.in_([MessageStatus.HELD.value, MessageStatus.QUEUED.value]),
            messages.c.notice_kind.in_([k.value for k in kinds]),
        ]
        if below_version is not None:
            conditions.append(messages.c.list_version < below_version)
        if below_revision is not None:
            conditions.append(messages.c.revision < below_revision)
        found = (await self.session.execute(select(messages).where(*conditions))).all()
        if not found:
            return []
        ids = [row.message_id for row in found]
        for chunk in _chunks(ids):
            await self.session.execute(
                update(messages)
                .where(messages.c.message_id.in_(chunk))
                .values(status=MessageStatus.CANCELLED.value, last_error=reason, updated_at=now)
            )
        return [_to_message(row) for row in found]

    async def addressees(
        self,
        outage_id: str,
        *,
        kinds: Collection[NoticeKind],
        statuses: Collection[MessageStatus],
        channel: str | None = None,
        address: str | None = None,
    ) -> list[Addressee]:
        """The addressees of the outage's messages of some kinds in some states."""
        query = select(
            messages.c.channel,
            messages.c.address,
            messages.c.contact_name,
            messages.c.account_ids,
            messages.c.account_names,
            messages.c.role,
            messages.c.wave,
            messages.c.audience,
            messages.c.location,
        ).where(
            messages.c.outage_id == outage_id,
            messages.c.notice_kind.in_([k.value for k in kinds]),
            messages.c.status.in_([s.value for s in statuses]),
        )
        if channel is not None and address is not None:
            query = query.where(messages.c.channel == channel, messages.c.address == address)
        rows = (await self.session.execute(query.order_by(messages.c.created_at))).all()
        return [_to_addressee(r) for r in rows]

    async def first_message_ids(
        self, outage_id: str, kinds: Collection[NoticeKind]
    ) -> dict[tuple[str, str], str]:
        """Per (channel, address), the earliest message of ``kinds``: what a correction
        refers to."""
        query = (
            select(messages.c.channel, messages.c.address, messages.c.message_id)
            .where(
                messages.c.outage_id == outage_id,
                messages.c.notice_kind.in_([k.value for k in kinds]),
                messages.c.status == MessageStatus.SUBMITTED.value,
            )
            .order_by(messages.c.created_at.desc())
        )
        found: dict[tuple[str, str], str] = {}
        for row in (await self.session.execute(query)).all():
            found[(row.channel, row.address)] = row.message_id
        return found

    async def last_told(self, outage_id: str) -> dict[tuple[str, str], OutageDetails]:
        """Per (channel, address), the outage as the latest announcement that reached it
        worded it: what a correction tells that person has changed."""
        query = (
            select(messages.c.channel, messages.c.address, messages.c.details)
            .where(
                messages.c.outage_id == outage_id,
                messages.c.notice_kind.in_([k.value for k in ANNOUNCING]),
                messages.c.status == MessageStatus.SUBMITTED.value,
            )
            .order_by(messages.c.revision, messages.c.created_at)
        )
        found: dict[tuple[str, str], str] = {}
        for row in (await self.session.execute(query)).all():
            found[(row.channel, row.address)] = row.details
        # One outage has few wordings: parse each once.
        parsed = {text: _details(text) for text in set(found.values())}
        return {key: parsed[text] for key, text in found.items()}

    async def find_by_key(
        self,
        outage_id: str,
        list_version: int,
        kind: NoticeKind,
        revision: int,
        channel: str,
        address: str,
    ) -> Message | None:
        query = select(messages).where(
            messages.c.outage_id == outage_id,
            messages.c.list_version == list_version,
            messages.c.notice_kind == kind.value,
            messages.c.revision == revision,
            messages.c.channel == channel,
            messages.c.address == address,
        )
        row = (await self.session.execute(query)).one_or_none()
        return _to_message(row) if row is not None else None

    async def release_held(
        self, message_id: str, escalation_id: str, due_at: datetime, now: datetime
    ) -> bool:
        """A held (later-wave) message becomes due, on an escalation's request."""
        result = await self.session.execute(
            update(messages)
            .where(
                messages.c.message_id == message_id,
                messages.c.status == MessageStatus.HELD.value,
            )
            .values(
                status=MessageStatus.QUEUED.value,
                escalation_id=escalation_id,
                next_attempt_at=due_at,
                updated_at=now,
            )
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]  # CursorResult at runtime

    # Claiming

    async def select_due(
        self,
        statuses: Collection[MessageStatus],
        now: datetime,
        limit: int,
        *,
        channels: Collection[str],
        quiet_now: bool,
    ) -> list[Any]:
        """Due messages of ``statuses`` on ``channels``, most urgent first, row-locked.

        During quiet hours the messages they hold back are not selected at all.
        """
        conditions = [
            messages.c.status.in_([s.value for s in statuses]),
            messages.c.next_attempt_at <= now,
            messages.c.channel.in_(sorted(channels)),
        ]
        if quiet_now:
            conditions.append(messages.c.quiet.is_(False))
        query = (
            select(
                messages,
                outages.c.cancelled_at.label("outage_cancelled_at"),
                outages.c.completed_at.label("outage_completed_at"),
                outages.c.revision.label("outage_revision"),
            )
            .join(outages, outages.c.outage_id == messages.c.outage_id)
            .where(*conditions)
            .order_by(messages.c.priority, messages.c.next_attempt_at)
            .limit(limit)
            # Replicas claim side by side on PostgreSQL: each skips the rows another is
            # claiming instead of waiting for them, and none claims a row twice. (SQLite has
            # no row locks; its writers take turns on the whole database.)
            .with_for_update(skip_locked=True, of=messages)
        )
        return list((await self.session.execute(query)).all())

    @staticmethod
    def due_message(row: Any) -> DueMessage:
        return DueMessage(
            message_id=row.message_id,
            notice_kind=NoticeKind(row.notice_kind),
            channel=row.channel,
            address=row.address,
            call_earliest=_time(row.call_earliest),
            call_latest=_time(row.call_latest),
            outage_cancelled=row.outage_cancelled_at is not None,
            outage_completed=row.outage_completed_at is not None,
            stale=row.revision < (row.outage_revision or 0),
        )

    @staticmethod
    def addressee_of(row: Any) -> Addressee:
        """Who a selected message was for, to word it anew."""
        return Addressee(
            channel=row.channel,
            address=row.address,
            contact_name=row.contact_name,
            account_ids=tuple(row.account_ids),
            account_names=tuple(row.account_names),
            role=row.role,
            wave=row.wave,
            audience=row.audience,
            location=row.location,
            call_earliest=_time(row.call_earliest),
            call_latest=_time(row.call_latest),
        )

    async def stop(self, reasons: Mapping[str, str], now: datetime) -> None:
        """Cancel messages that must not go out, each with its reason."""
        if not reasons:
            return
        await self.session.execute(
            update(messages)
            .where(messages.c.message_id == bindparam("b_id"))
            .values(
                status=MessageStatus.CANCELLED.value,
                last_error=bindparam("b_reason"),
                updated_at=now,
            ),
            [{"b_id": i, "b_reason": r} for i, r in reasons.items()],
        )

    async def defer(self, deferrals: Mapping[str, tuple[datetime, str]], now: datetime) -> None:
        """Move messages to a later time, saying why (a call window, a daily cap)."""
        if not deferrals:
            return
        await self.session.execute(
            update(messages)
            .where(messages.c.message_id == bindparam("b_id"))
            .values(
                next_attempt_at=bindparam("b_at"), last_error=bindparam("b_reason"), updated_at=now
            ),
            [{"b_id": i, "b_at": at, "b_reason": r} for i, (at, r) in deferrals.items()],
        )

    async def mark_sending(
        self, rows: Sequence[Any], now: datetime, lease_s: float, claimer: str
    ) -> list[ClaimedMessage]:
        if not rows:
            return []
        # One token for the batch: it only has to tell this claim from any later one.
        token = str(uuid.uuid4())
        for chunk in _chunks([r.message_id for r in rows]):
            await self.session.execute(
                update(messages)
                .where(_one_of_ids(messages.c.message_id, chunk, self._postgres))
                .values(
                    status=MessageStatus.SENDING.value,
                    attempts=messages.c.attempts + 1,
                    claim_token=token,
                    claimed_by=claimer,
                    next_attempt_at=now + timedelta(seconds=lease_s),
                    updated_at=now,
                )
            )
        return [_claimed(r, token, attempts=r.attempts + 1, checks=r.checks) for r in rows]

    async def mark_checking(
        self, rows: Sequence[Any], now: datetime, lease_s: float, claimer: str
    ) -> list[ClaimedMessage]:
        """Take ``unknown`` messages, and ``sending`` ones whose claim expired (their sender
        crashed or stalled mid-call), to ask the provider what became of them."""
        if not rows:
            return []
        abandoned = [r.message_id for r in rows if r.status == MessageStatus.SENDING.value]
        for chunk in _chunks(abandoned):
            await self.session.execute(
                update(messages)
                .where(messages.c.message_id.in_(chunk))
                .values(last_error="claim expired during the provider call")
            )
        token = str(uuid.uuid4())
        for chunk in _chunks([r.message_id for r in rows]):
            await self.session.execute(
                update(messages)
                .where(messages.c.message_id.in_(chunk))
                .values(
                    status=MessageStatus.UNKNOWN.value,
                    checks=messages.c.checks + 1,
                    claim_token=token,
                    claimed_by=claimer,
                    next_attempt_at=now + timedelta(seconds=lease_s),
                    updated_at=now,
                )
            )
        return [_claimed(r, token, attempts=r.attempts, checks=r.checks + 1) for r in rows]

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

    # Per-number daily counts

    async def sent_today(
        self, channel_addresses: Collection[tuple[str, str]], day: date
    ) -> dict[tuple[str, str], int]:
        found: dict[tuple[str, str], int] = {}
        by_channel: dict[str, list[str]] = {}
        for channel, address in channel_addresses:
            by_channel.setdefault(channel, []).append(address)
        for channel, addresses in by_channel.items():
            for chunk in _chunks(sorted(set(addresses))):
                query = select(daily_counts.c.address, daily_counts.c.count.label("n")).where(
                    daily_counts.c.channel == channel,
                    daily_counts.c.day == day,
                    daily_counts.c.address.in_(chunk),
                )
                for row in (await self.session.execute(query)).all():
                    found[(channel, row.address)] = int(row.n)
        return found

    async def add_to_today(self, counted: Mapping[tuple[str, str], int], day: date) -> None:
        rows = [
            {"channel": c, "address": a, "day": day, "count": n} for (c, a), n in counted.items()
        ]
        dialect = postgresql if self._postgres else sqlite
        for start in range(0, len(rows), _INSERT_CHUNK):
            statement = dialect.insert(daily_counts).values(rows[start : start + _INSERT_CHUNK])
            statement = statement.on_conflict_do_update(
                index_elements=["channel", "address", "day"],
                set_={"count": daily_counts.c.count + statement.excluded.count},
            )
            await self.session.execute(statement)

    # Outcomes

    async def settle(self, settlements: Sequence[Settlement], now: datetime) -> set[str]:
        """Write the outcome of calls whose claims still hold; return the ids written.

        Fenced per row by the claim's token and state, so a claim lost meanwhile (taken over
        after its lease ran out, or settled by a delivery report) is left as the other writer
        left it. An ``unknown`` message keeps its token: only the sender holding it may
        record what the check finds, until the claim is taken over for the next check.
        """
        if not settlements:
            return set()
        if self._postgres:
            return await self._settle_unnest(settlements, now)
        return await self._settle_each(settlements, now)

    @staticmethod
    def _settled_values(v: Mapping[str, Any], now: datetime) -> dict[str, Any]:
        """The columns an outcome sets, from the outcome's fields ``v`` (columns of a row
        source, or bind parameters of an executemany)."""
        return {
            "status": v["v_status"],
            "provider_message_id": func.coalesce(v["v_pid"], messages.c.provider_message_id),
            "parts": func.coalesce(v["v_parts"], messages.c.parts),
            "submitted_at": case(
                (v["v_status"] == MessageStatus.SUBMITTED.value, now),
                else_=messages.c.submitted_at,
            ),
            "claim_token": case(
                (v["v_status"] == MessageStatus.UNKNOWN.value, messages.c.claim_token),
                else_=None,
            ),
            "next_attempt_at": func.coalesce(v["v_at"], messages.c.next_attempt_at),
            "last_error": v["v_error"],
            "attempts": messages.c.attempts - v["v_refund"],
            "updated_at": now,
        }

    async def _settle_unnest(self, settlements: Sequence[Settlement], now: datetime) -> set[str]:
        # One statement per batch whatever its size: the outcomes travel as arrays, so the
        # statement compiles once and is cached, unlike a VALUES list of a bind per value.
        source = (
            func.unnest(
                bindparam("ids", type_=ARRAY(String)),
                bindparam("tokens", type_=ARRAY(String)),
                bindparam("statuses", type_=ARRAY(String)),
                bindparam("pids", type_=ARRAY(String)),
                bindparam("parts", type_=ARRAY(SmallInteger)),
                bindparam("ats", type_=ARRAY(DateTime(timezone=True))),
                bindparam("errors", type_=ARRAY(Text)),
                bindparam("refunds", type_=ARRAY(Integer)),
            )
            .table_valued(
                "v_id", "v_token", "v_status", "v_pid", "v_parts", "v_at", "v_error", "v_refund"
            )
            .render_derived(name="outcomes")
        )
        statement = (
            update(messages)
            .where(
                messages.c.message_id == source.c.v_id,
                messages.c.claim_token == source.c.v_token,
                messages.c.status.in_([MessageStatus.SENDING.value, MessageStatus.UNKNOWN.value]),
            )
            .values(self._settled_values({column.key: column for column in source.c}, now))
            .returning(messages.c.message_id)
        )
        params = {
            "ids": [s.message_id for s in settlements],
            "tokens": [s.claim_token for s in settlements],
            "statuses": [s.status.value for s in settlements],
            "pids": [s.provider_message_id for s in settlements],
            "parts": [s.parts for s in settlements],
            "ats": [s.next_attempt_at for s in settlements],
            "errors": [s.last_error for s in settlements],
            "refunds": [int(s.refund_attempt) for s in settlements],
        }
        return set((await self.session.execute(statement, params)).scalars())

    async def _settle_each(self, settlements: Sequence[Settlement], now: datetime) -> set[str]:
        # SQLite: the writer holds the whole database (BEGIN IMMEDIATE), so the claims read
        # here cannot change before the updates; executemany runs in the driver, in C.
        held: set[str] = set()
        tokens = {s.message_id: s.claim_token for s in settlements}
        for chunk in _chunks(sorted(tokens)):
            query = select(messages.c.message_id, messages.c.claim_token).where(
                messages.c.message_id.in_(chunk),
                messages.c.status.in_([MessageStatus.SENDING.value, MessageStatus.UNKNOWN.value]),
            )
            held.update(
                row.message_id
                for row in (await self.session.execute(query)).all()
                if row.claim_token == tokens[row.message_id]
            )
        rows = [
            {
                "b_id": s.message_id,
                "v_status": s.status.value,
                "v_pid": s.provider_message_id,
                "v_parts": s.parts,
                "v_at": s.next_attempt_at,
                "v_error": s.last_error,
                "v_refund": int(s.refund_attempt),
            }
            for s in settlements
            if s.message_id in held
        ]
        if rows:
            params = {
                "v_status": bindparam("v_status", type_=String),
                "v_pid": bindparam("v_pid", type_=String),
                "v_parts": bindparam("v_parts", type_=SmallInteger),
                "v_at": bindparam("v_at", type_=DateTime(timezone=True)),
                "v_error": bindparam("v_error", type_=Text),
                "v_refund": bindparam("v_refund", type_=Integer),
            }
            values = self._settled_values(params, now)
            await self.session.execute(
                update(messages).where(messages.c.message_id == bindparam("b_id")).values(values),
                rows,
            )
        return held

    async def mark_submitted_by_report(
        self,
        message_id: str,
        *,
        provider_message_id: str,
        from_statuses: Iterable[MessageStatus],
        now: datetime,
    ) -> bool:
        """A delivery report proves the provider received the message: record it as
        submitted whatever claim holds it."""
        result = await self.session.execute(
            update(messages)
            .where(
                messages.c.message_id == message_id,
                messages.c.status.in_([s.value for s in from_statuses]),
            )
            .values(
                status=MessageStatus.SUBMITTED.value,
                provider_message_id=provider_message_id,
                submitted_at=now,
                claim_token=None,
                last_error=None,
                updated_at=now,
            )
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]  # CursorResult at runtime

    async def resolve(self, message_id: str, *, sent: bool, note: str, now: datetime) -> bool:
        """A dispatcher settles an unresolved message: it did arrive, or send it again."""
        values: dict[str, Any] = {"last_error": note, "updated_at": now, "claim_token": None}
        if sent:
            values |= {"status": MessageStatus.SUBMITTED.value, "submitted_at": now}
        else:
            values |= {"status": MessageStatus.QUEUED.value, "next_attempt_at": now}
        result = await self.session.execute(
            update(messages)
            .where(
                messages.c.message_id == message_id,
                messages.c.status == MessageStatus.UNRESOLVED.value,
            )
            .values(values)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]  # CursorResult at runtime

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

    # Schedules

    async def schedule(
        self, outage_id: str, kind: NoticeKind, revision: int, due_at: datetime, now: datetime
    ) -> None:
        await self.session.execute(
            upsert_ignore(
                self.session,
                schedules,
                {
                    "outage_id": outage_id,
                    "notice_kind": kind.value,
                    "revision": revision,
                    "due_at": due_at,
                    "status": "pending",
                    "created_at": now,
                    "updated_at": now,
                },
            )
        )

    async def cancel_schedules(self, outage_id: str, note: str, now: datetime) -> int:
        result = await self.session.execute(
            update(schedules)
            .where(schedules.c.outage_id == outage_id, schedules.c.status == "pending")
            .values(status="cancelled", note=note, updated_at=now)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]  # CursorResult at runtime

    async def due_schedules(self, now: datetime, limit: int) -> list[ScheduleEntry]:
        query = (
            select(schedules)
            .where(schedules.c.status == "pending", schedules.c.due_at <= now)
            .order_by(schedules.c.due_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [
            ScheduleEntry(
                r.outage_id, NoticeKind(r.notice_kind), r.revision, ensure_aware(r.due_at)
            )
            for r in (await self.session.execute(query)).all()
        ]

    async def finish_schedule(self, entry: ScheduleEntry, note: str, now: datetime) -> None:
        await self.session.execute(
            update(schedules)
            .where(
                schedules.c.outage_id == entry.outage_id,
                schedules.c.notice_kind == entry.notice_kind.value,
                schedules.c.revision == entry.revision,
            )
            .values(status="done", note=note, updated_at=now)
        )

    async def schedules_of(self, outage_id: str) -> list[Any]:
        query = (
            select(schedules).where(schedules.c.outage_id == outage_id).order_by(schedules.c.due_at)
        )
        return list((await self.session.execute(query)).all())

    # Escalations

    async def record_escalation(
        self,
        escalation_id: str,
        outage_id: str,
        channel: str,
        address: str,
        step: int,
        now: datetime,
    ) -> bool:
        """Note an escalation request; False if its id was seen before."""
        result = await self.session.execute(
            upsert_ignore(
                self.session,
                escalations,
                {
                    "escalation_id": escalation_id,
                    "outage_id": outage_id,
                    "channel": channel,
                    "address": address,
                    "step": step,
                    "outcome": "received",
                    "received_at": now,
                },
            )
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]  # CursorResult at runtime

    async def escalation_outcome(
        self, escalation_id: str, outcome: str, message_id: str | None
    ) -> None:
        await self.session.execute(
            update(escalations)
            .where(escalations.c.escalation_id == escalation_id)
            .values(outcome=outcome, message_id=message_id)
        )

    # Reading

    async def get_message(self, message_id: str) -> Message | None:
        query = select(messages).where(messages.c.message_id == message_id)
        row = (await self.session.execute(query)).one_or_none()
        return _to_message(row) if row is not None else None

    async def list_messages(
        self,
        outage_id: str,
        *,
        status: MessageStatus | None,
        notice_kind: NoticeKind | None,
        channel: str | None,
        limit: int,
        offset: int,
    ) -> list[Message]:
        query = select(messages).where(messages.c.outage_id == outage_id)
        if status is not None:
            query = query.where(messages.c.status == status.value)
        if notice_kind is not None:
            query = query.where(messages.c.notice_kind == notice_kind.value)
        if channel is not None:
            query = query.where(messages.c.channel == channel)
        query = (
            query.order_by(
                messages.c.priority, messages.c.created_at, messages.c.channel, messages.c.address
            )
            .limit(limit)
            .offset(offset)
        )
        return [_to_message(r) for r in (await self.session.execute(query)).all()]

    async def count_messages(self, outage_id: str) -> list[StatusCount]:
        query = (
            select(
                messages.c.notice_kind,
                messages.c.channel,
                messages.c.status,
                messages.c.delivery_status,
                func.count().label("n"),
            )
            .where(messages.c.outage_id == outage_id)
            .group_by(
                messages.c.notice_kind,
                messages.c.channel,
                messages.c.status,
                messages.c.delivery_status,
            )
        )
        return [
            StatusCount(r.notice_kind, r.channel, r.status, r.delivery_status, int(r.n))
            for r in (await self.session.execute(query)).all()
        ]

    async def count_waiting(self, outage_id: str, now: datetime) -> dict[str, int]:
        """Queued messages not due yet, by why they wait (daily_cap, call_window,
        scheduled)."""
        reason = func.coalesce(func.substr(messages.c.last_error, 1, 11), literal(""))
        query = (
            select(reason.label("reason"), func.count().label("n"))
            .where(
                messages.c.outage_id == outage_id,
                messages.c.status == MessageStatus.QUEUED.value,
                messages.c.next_attempt_at > now,
            )
            .group_by(reason)
        )
        waiting: dict[str, int] = {}
        for row in (await self.session.execute(query)).all():
            code = str(row.reason).split(":", 1)[0]
            key = code if code in ("daily_cap", "call_window", "paced") else "scheduled"
            waiting[key] = waiting.get(key, 0) + int(row.n)
        return waiting

    async def first_submitted_at(self, outage_id: str) -> datetime | None:
        query = select(func.min(messages.c.submitted_at)).where(
            messages.c.outage_id == outage_id,
            messages.c.notice_kind == NoticeKind.NOTICE.value,
            messages.c.wave == 0,
        )
        return _aware((await self.session.execute(query)).scalar_one_or_none())

    async def first_due_at(self, outage_id: str) -> datetime | None:
        query = select(func.min(messages.c.next_attempt_at)).where(
            messages.c.outage_id == outage_id,
            messages.c.notice_kind == NoticeKind.NOTICE.value,
            messages.c.status == MessageStatus.QUEUED.value,
        )
        return _aware((await self.session.execute(query)).scalar_one_or_none())

    async def printed(
        self,
        *,
        channel: str,
        outage_id: str | None = None,
        address: str | None = None,
    ) -> list[Message]:
        """Messages on a printed channel that were handed over, in print order."""
        query = select(messages).where(
            messages.c.channel == channel,
            messages.c.status == MessageStatus.SUBMITTED.value,
        )
        if outage_id is not None:
            query = query.where(messages.c.outage_id == outage_id)
        if address is not None:
            query = query.where(messages.c.address == address)
        query = query.order_by(messages.c.address, messages.c.revision, messages.c.created_at)
        return [_to_message(r) for r in (await self.session.execute(query)).all()]
