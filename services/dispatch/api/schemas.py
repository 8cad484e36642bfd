"""Request and response bodies of the dispatch API."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, Field

from services.dispatch.domain.messages import (
    DeliveryStatus,
    Message,
    MessageStatus,
    NoticeKind,
    StatusCount,
    shown_address,
)
from services.dispatch.domain.timing import LeadTimeCheck
from services.dispatch.usecases import OutageMessages

NOT_YET_REPORTED = "pending"


class MessageRead(BaseModel):
    """One message to one address on one channel, as sent (or as it will be sent)."""

    message_id: str = Field(description="Our id, also sent to the provider.")
    outage_id: str
    list_version: int
    revision: int = Field(description="Reschedules of the outage this message was worded for.")
    notice_kind: NoticeKind
    channel: str
    address: str = Field(
        description="E.164 for sms/voice (masked 138****8000 unless you are a dispatcher); "
        "account id (door slip), transformer area (posted notice), date (newspaper), robot "
        "key (wechat, masked) or topic (app push)."
    )
    contact_name: str
    account_ids: list[str]
    account_names: list[str]
    role: str
    wave: int = Field(description="0: told first; later waves only on escalation.")
    audience: str = Field(description="The channel-policy rule that chose this recipient.")
    location: str = Field(description="Where a door slip is delivered.")
    sign_name: str
    text: str = Field(description="The text as rendered when queued, without the signature.")
    parts: int = Field(description="Billed parts (the provider's count once submitted).")
    status: MessageStatus
    delivery_status: DeliveryStatus | None = Field(
        description="The provider's final report; null until one arrives."
    )
    carrier_stat: str | None
    carrier_err: str | None
    provider_message_id: str | None
    attempts: int = Field(description="Submissions made (a timed-out one included).")
    checks: int = Field(description="Times the provider was asked about an unknown outcome.")
    next_attempt_at: datetime = Field(description="When it is due (or its claim expires).")
    last_error: str | None = Field(description="'<code>: <text>' of the last setback.")
    refers_to: str | None = Field(description="The message this one corrects or follows up.")
    escalation_id: str | None = Field(description="The escalation that released it.")
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None
    delivery_reported_at: datetime | None

    @classmethod
    def from_domain(cls, message: Message, *, reveal_address: bool) -> MessageRead:
        return cls(
            message_id=message.message_id,
            outage_id=message.outage_id,
            list_version=message.list_version,
            revision=message.revision,
            notice_kind=message.notice_kind,
            channel=message.channel,
            address=shown_address(message.channel, message.address, reveal=reveal_address),
            contact_name=message.contact_name,
            account_ids=list(message.account_ids),
            account_names=list(message.account_names),
            role=message.role,
            wave=message.wave,
            audience=message.audience,
            location=message.location,
            sign_name=message.sign_name,
            text=message.text,
            parts=message.parts,
            status=message.status,
            delivery_status=message.delivery_status,
            carrier_stat=message.carrier_stat,
            carrier_err=message.carrier_err,
            provider_message_id=message.provider_message_id,
            attempts=message.attempts,
            checks=message.checks,
            next_attempt_at=message.next_attempt_at,
            last_error=message.last_error,
            refers_to=message.refers_to,
            escalation_id=message.escalation_id,
            created_at=message.created_at,
            updated_at=message.updated_at,
            submitted_at=message.submitted_at,
            delivery_reported_at=message.delivery_reported_at,
        )


class KindSummary(BaseModel):
    """Counts of one kind of message of an outage."""

    notice_kind: NoticeKind
    total: int
    by_status: dict[MessageStatus, int] = Field(description="Every status, zeros included.")
    by_delivery: dict[str, int] = Field(
        description="Submitted messages by provider report: delivered, failed, expired, pending."
    )
    by_channel: dict[str, int] = Field(description="Messages per channel.")


class LeadTimeRead(BaseModel):
    """Whether the first notice comes early enough (planned 7 days, temporary 24 hours…)."""

    required: timedelta = Field(description="What the policy asks for this kind of outage.")
    first_notice_at: datetime = Field(
        description="When the first notice reached a provider, or is due if none did yet."
    )
    starts_at: datetime
    given: timedelta
    met: bool
    short_by: timedelta

    @classmethod
    def from_domain(cls, check: LeadTimeCheck) -> LeadTimeRead:
        return cls(
            required=check.required,
            first_notice_at=check.first_notice_at,
            starts_at=check.starts_at,
            given=check.given,
            met=check.met,
            short_by=check.short_by,
        )


class ScheduleRead(BaseModel):
    notice_kind: str
    revision: int
    due_at: datetime
    status: str = Field(description="pending, done or cancelled.")


class OutageMessagesRead(BaseModel):
    """The messages of an outage, with counts over all of them (not just this page)."""

    outage_id: str
    list_version: int | None = Field(description="Latest approved list version dispatched.")
    revision: int = Field(description="Reschedules so far.")
    cancelled: bool
    cancelled_at: datetime | None
    completed: bool
    completed_at: datetime | None
    lead_time: LeadTimeRead | None = Field(
        description="The legal lead-time check; null before any notice is queued."
    )
    waiting: dict[str, int] = Field(
        description="Queued messages not yet due, by why: daily_cap (the number reached its "
        "carrier's daily cap), call_window, scheduled (first notice, quiet hours, retry)."
    )
    schedules: list[ScheduleRead] = Field(description="Follow-ups due later (reminders).")
    summaries: list[KindSummary]
    total: int = Field(description="Messages matching the filters, over all pages.")
    limit: int
    offset: int
    messages: list[MessageRead]

    @classmethod
    def from_domain(
        cls, view: OutageMessages, *, reveal_address: bool, limit: int, offset: int
    ) -> OutageMessagesRead:
        return cls(
            outage_id=view.outage.outage_id,
            list_version=view.outage.list_version,
            revision=view.outage.revision,
            cancelled=view.outage.cancelled,
            cancelled_at=view.outage.cancelled_at,
            completed=view.outage.completed,
            completed_at=view.outage.completed_at,
            lead_time=LeadTimeRead.from_domain(view.lead_time) if view.lead_time else None,
            waiting=view.waiting,
            schedules=[
                ScheduleRead(notice_kind=kind, revision=revision, due_at=due_at, status=status)
                for kind, revision, due_at, status in view.schedules
            ],
            summaries=summarise(view.counts),
            total=view.matching,
            limit=limit,
            offset=offset,
            messages=[
                MessageRead.from_domain(m, reveal_address=reveal_address) for m in view.messages
            ],
        )


def summarise(counts: list[StatusCount]) -> list[KindSummary]:
    summaries: list[KindSummary] = []
    for kind in NoticeKind:
        rows = [c for c in counts if c.notice_kind == kind.value]
        by_status = {s: 0 for s in MessageStatus}
        by_delivery = {d.value: 0 for d in DeliveryStatus} | {NOT_YET_REPORTED: 0}
        by_channel: dict[str, int] = {}
        for row in rows:
            by_status[MessageStatus(row.status)] += row.count
            by_channel[row.channel] = by_channel.get(row.channel, 0) + row.count
            if row.status == MessageStatus.SUBMITTED.value:
                by_delivery[row.delivery_status or NOT_YET_REPORTED] += row.count
        summaries.append(
            KindSummary(
                notice_kind=kind,
                total=sum(r.count for r in rows),
                by_status=by_status,
                by_delivery=by_delivery,
                by_channel=by_channel,
            )
        )
    return summaries


class ResolveRequest(BaseModel):
    """A dispatcher's word on a message whose outcome the provider cannot tell."""

    sent: bool = Field(
        description="true: it arrived (e.g. it shows in the group); false: send it again."
    )
