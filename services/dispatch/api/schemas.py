"""Response bodies of the dispatch API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from services.dispatch.domain.messages import (
    DeliveryStatus,
    Message,
    MessageStatus,
    NoticeKind,
    StatusCount,
    mask_address,
)
from services.dispatch.usecases import OutageMessages

NOT_YET_REPORTED = "pending"


class MessageRead(BaseModel):
    """One notice to one address, as sent (or as it will be sent)."""

    message_id: str = Field(description="Our id, also sent to the provider.")
    outage_id: str
    list_version: int
    notice_kind: NoticeKind
    channel: str
    address: str = Field(description="E.164; masked (138****8000) unless you are a dispatcher.")
    contact_name: str
    account_ids: list[str]
    account_names: list[str]
    sign_name: str
    text: str = Field(description="The text as rendered when queued, without the signature.")
    parts: int = Field(description="Billed parts (the provider's count once submitted).")
    status: MessageStatus
    delivery_status: DeliveryStatus | None = Field(
        description="The carrier's final report; null until one arrives."
    )
    carrier_stat: str | None
    carrier_err: str | None
    provider_message_id: str | None
    attempts: int = Field(description="Submissions made (a timed-out one included).")
    checks: int = Field(description="Times the provider was asked about an unknown outcome.")
    next_attempt_at: datetime
    last_error: str | None
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
            notice_kind=message.notice_kind,
            channel=message.channel,
            address=message.address if reveal_address else mask_address(message.address),
            contact_name=message.contact_name,
            account_ids=list(message.account_ids),
            account_names=list(message.account_names),
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
            created_at=message.created_at,
            updated_at=message.updated_at,
            submitted_at=message.submitted_at,
            delivery_reported_at=message.delivery_reported_at,
        )


class KindSummary(BaseModel):
    """Counts of one kind of notice of an outage."""

    notice_kind: NoticeKind
    total: int
    by_status: dict[MessageStatus, int] = Field(description="Every status, zeros included.")
    by_delivery: dict[str, int] = Field(
        description="Submitted messages by carrier report: delivered, failed, expired, pending."
    )


class OutageMessagesRead(BaseModel):
    """The messages of an outage, with counts over all of them (not just this page)."""

    outage_id: str
    list_version: int | None = Field(description="Latest approved list version dispatched.")
    cancelled: bool
    cancelled_at: datetime | None
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
            cancelled=view.outage.cancelled,
            cancelled_at=view.outage.cancelled_at,
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
        for row in rows:
            by_status[MessageStatus(row.status)] += row.count
            if row.status == MessageStatus.SUBMITTED.value:
                by_delivery[row.delivery_status or NOT_YET_REPORTED] += row.count
        summaries.append(
            KindSummary(
                notice_kind=kind,
                total=sum(r.count for r in rows),
                by_status=by_status,
                by_delivery=by_delivery,
            )
        )
    return summaries
