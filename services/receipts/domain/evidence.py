"""The evidence pack of one account: was the customer told, how, and in time?

When a customer complains, or a regulator asks, the utility must show every notice sent to the
account on every channel, to whom and when, each receipt, call result, reply, signature and
escalation, and the lead time achieved: from the first confirmed delivery to the start of the
outage, against the lead time the rules require for its kind (7 days for planned work, 24
hours for temporary work). Addresses are masked: the pack may leave the utility.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from services.receipts.domain import messages
from services.receipts.domain.ledger import (
    ListEntry,
    OutageRecord,
    Submission,
    account_ledgers,
)
from services.receipts.domain.reports import mask_phone

PHONE_CHANNELS = frozenset({"sms", "voice"})


class EventKind(StrEnum):
    SENT = "sent"
    REFUSED = "refused"
    RECEIPT = "receipt"
    CALL = "call"
    REPLY = "reply"
    ACKNOWLEDGED = "acknowledged"
    ESCALATED = "escalated"
    TASK_CREATED = "task_created"
    TASK_CLOSED = "task_closed"
    CANCELLED = "cancelled"
    COMPLAINT = "complaint"


@dataclass(frozen=True)
class ReportLine:
    """A stored carrier receipt or call result of one of the account's notices."""

    message_id: str
    at: datetime
    status: str
    stat: str
    err: str = ""
    reason: str = ""
    call: bool = False


@dataclass(frozen=True)
class ReplyLine:
    at: datetime
    text: str
    message_ids: tuple[str, ...]


@dataclass(frozen=True)
class ComplaintLine:
    at: datetime
    complaint_type: str
    detail: str


@dataclass(frozen=True)
class ContactLine:
    role: str
    name: str
    channel: str
    address: str
    wave: int


@dataclass(frozen=True)
class EvidenceEvent:
    at: datetime
    kind: EventKind
    channel: str
    summary: str
    message_id: str | None = None


@dataclass(frozen=True)
class EvidencePack:
    outage_id: str
    account_id: str
    account_name: str
    feeder: str
    outage_kind: str | None
    work: str
    area: str
    starts_at: datetime | None
    ends_at: datetime | None
    deadline: datetime | None
    cancelled_at: datetime | None
    list_version: int | None
    contacts: tuple[ContactLine, ...]
    events: tuple[EvidenceEvent, ...]
    first_sent_at: datetime | None
    first_confirmed_at: datetime | None
    confirmed_channel: str | None
    acknowledged_at: datetime | None
    required_lead: timedelta | None

    @property
    def lead_time(self) -> timedelta | None:
        """From the first confirmed delivery to the start of the outage."""
        if self.first_confirmed_at is None or self.starts_at is None:
            return None
        return self.starts_at - self.first_confirmed_at

    @property
    def in_time(self) -> bool | None:
        """Whether the lead time met the rule (None: not reached, or no rule known)."""
        lead = self.lead_time
        if lead is None or self.required_lead is None:
            return None
        return lead >= self.required_lead


def masked(channel: str, address: str) -> str:
    return mask_phone(address) if channel in PHONE_CHANNELS else address


def _to(entry: ListEntry | None, channel: str, address: str) -> str:
    shown = masked(channel, address)
    if entry is None or not entry.contact_name:
        return shown
    role = messages.ROLES.get(entry.role, entry.role)
    return f"{entry.contact_name}（{role}）{shown}" if role else f"{entry.contact_name} {shown}"


def build_evidence(
    record: OutageRecord,
    account_id: str,
    *,
    reports: Iterable[ReportLine],
    replies: Iterable[ReplyLine],
    complaints: Iterable[ComplaintLine],
    deadline: datetime | None,
    required_leads: Mapping[str, timedelta],
) -> EvidencePack:
    """Everything the record shows about telling ``account_id`` of ``record``'s outage."""
    approved = record.approved
    entries = {e.key: e for e in approved.entries} if approved else {}
    ledger = account_ledgers(record).get(account_id)
    events: list[EvidenceEvent] = []
    mine = [m for m in record.messages if account_id in m.account_ids]
    own_ids = {m.message_id for m in mine}
    channel_of = {m.message_id: m.channel for m in mine}
    for message in mine:
        entry = entries.get((message.channel, message.address))
        channel = messages.CHANNELS.get(message.channel, message.channel)
        if message.sent_at is None:
            continue
        if message.submission is Submission.FAILED:
            summary = messages.EVIDENCE_EVENTS["refused"].format(
                channel=channel, reason=message.failure_reason
            )
            kind = EventKind.REFUSED
        else:
            summary = messages.EVIDENCE_EVENTS["sent"].format(
                notice_kind=messages.NOTICE_KINDS.get(message.notice_kind, message.notice_kind),
                channel=channel,
                to=_to(entry, message.channel, message.address),
            )
            kind = EventKind.SENT
        events.append(
            EvidenceEvent(message.sent_at, kind, message.channel, summary, message.message_id)
        )
    for line in reports:
        if line.message_id not in own_ids:
            continue
        channel = channel_of[line.message_id]
        if line.call:
            summary = messages.EVIDENCE_EVENTS["call"].format(
                outcome=messages.CALL_OUTCOMES.get(line.stat, line.stat)
            )
            kind = EventKind.CALL
        else:
            summary = messages.EVIDENCE_EVENTS["receipt"].format(
                channel=messages.CHANNELS.get(channel, channel),
                status=messages.RECEIPT_STATUSES.get(line.status, line.status),
                stat=line.stat,
                err=f" {line.err}" if line.err else "",
                reason=line.reason,
            )
            kind = EventKind.RECEIPT
        events.append(EvidenceEvent(line.at, kind, channel, summary, line.message_id))
    for reply in replies:
        if not own_ids.intersection(reply.message_ids):
            continue
        summary = messages.EVIDENCE_EVENTS["reply"].format(text=reply.text)
        events.append(EvidenceEvent(reply.at, EventKind.REPLY, "sms", summary))
    for ack in record.acks:
        if account_id not in ack.account_ids:
            continue
        summary = messages.EVIDENCE_EVENTS["acknowledged"].format(
            via=messages.VIAS.get(ack.via, ack.via)
        )
        events.append(
            EvidenceEvent(ack.at, EventKind.ACKNOWLEDGED, ack.channel, summary, ack.message_id)
        )
    for escalation in record.escalations:
        if escalation.account_id != account_id:
            continue
        summary = messages.EVIDENCE_EVENTS["escalated"].format(
            step=escalation.step,
            reason=messages.ESCALATION_REASONS.get(escalation.reason, escalation.reason),
        )
        channel = "visit" if escalation.wave is None else ""
        events.append(EvidenceEvent(escalation.requested_at, EventKind.ESCALATED, channel, summary))
    for task in record.tasks:
        if account_id not in task.account_ids:
            continue
        title = messages.TASK_TITLES[task.kind.value].format(account=account_id, area=task.subject)
        events.append(
            EvidenceEvent(
                task.created_at,
                EventKind.TASK_CREATED,
                task.kind.value,
                messages.EVIDENCE_EVENTS["task_created"].format(title=title),
                task.message_id,
            )
        )
        if task.completed_at is not None and task.outcome is not None:
            summary = messages.EVIDENCE_EVENTS["task_closed"].format(
                outcome=messages.TASK_OUTCOMES.get(task.outcome, task.outcome),
                signer=f"，签收人 {task.signer}" if task.signer else "",
                photo=f"，照片 {task.photo_ref}" if task.photo_ref else "",
            )
            events.append(
                EvidenceEvent(
                    task.completed_at,
                    EventKind.TASK_CLOSED,
                    task.kind.value,
                    summary,
                    task.message_id,
                )
            )
    if record.cancelled_at is not None:
        events.append(
            EvidenceEvent(
                record.cancelled_at,
                EventKind.CANCELLED,
                "",
                messages.EVIDENCE_EVENTS["cancelled"].format(reason=record.cancel_reason),
            )
        )
    for complaint in complaints:
        summary = messages.EVIDENCE_EVENTS["complaint"].format(
            type=messages.COMPLAINT_TYPES.get(complaint.complaint_type, complaint.complaint_type),
            detail=complaint.detail,
        )
        events.append(EvidenceEvent(complaint.at, EventKind.COMPLAINT, "", summary))
    events.sort(key=lambda e: (e.at, list(EventKind).index(e.kind)))

    timing = record.timing
    first = ledger.first_confirmation if ledger else None
    sent_times = [m.sent_at for m in mine if m.sent_at and m.submission is Submission.SENT]
    account_entries = approved.entries_by_account.get(account_id, ()) if approved else ()
    return EvidencePack(
        outage_id=record.outage_id,
        account_id=account_id,
        account_name=approved.account_name(account_id) if approved else "",
        feeder=record.feeders.get(account_id, ""),
        outage_kind=timing.kind if timing else None,
        work=record.work,
        area=record.area,
        starts_at=timing.starts_at if timing else None,
        ends_at=timing.ends_at if timing else None,
        deadline=deadline,
        cancelled_at=record.cancelled_at,
        list_version=approved.version if approved else None,
        contacts=tuple(
            ContactLine(e.role, e.contact_name, e.channel, masked(e.channel, e.address), e.wave)
            for e in sorted(account_entries, key=lambda e: (e.wave, e.channel, e.address))
        ),
        events=tuple(events),
        first_sent_at=min(sent_times, default=None),
        first_confirmed_at=first.at if first else None,
        confirmed_channel=first.channel if first else None,
        acknowledged_at=ledger.acknowledged_at if ledger else None,
        required_lead=required_leads.get(timing.kind) if timing else None,
    )
