"""A message: one notice to one address on one channel, and the rules its states follow.

``status`` is our side of the exchange with the provider::

    queued ──claim──▶ sending ──accepted────────▶ submitted
      ▲                 │ refused (4xx) ───────▶ failed        (permanent, never retried)
      │                 │ 429 / 503 / no conn ─▶ queued again  (backoff; failed at the limit)
      │                 └ timeout, other 5xx ──▶ unknown ──ask──▶ submitted, or queued again
      │                                                           if it was never received
      └──── cancelled (the outage was cancelled, or a newer list replaced it, before it left)

``delivery_status`` is the carrier's report on a submitted message. Reports come at least
once and out of order, so the first final state wins and is never replaced.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from shared.events import OutageDetails


class MessageStatus(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SUBMITTED = "submitted"
    FAILED = "failed"
    CANCELLED = "cancelled"
    UNKNOWN = "unknown"


class DeliveryStatus(StrEnum):
    DELIVERED = "delivered"
    FAILED = "failed"
    EXPIRED = "expired"


class NoticeKind(StrEnum):
    NOTICE = "notice"
    CANCELLATION = "cancellation"


# What a carrier report may say (shared.events.SmsStatus); only these three are final.
FINAL_DELIVERY_STATUSES = frozenset(s.value for s in DeliveryStatus)

# A carrier report about a message in one of these states proves the carrier received it,
# even though our own record of the call is missing or not written yet (a report may overtake
# the commit of the submission, or settle a call that timed out).
SUBMISSION_PROVEN_BY_REPORT = frozenset(
    {MessageStatus.QUEUED, MessageStatus.SENDING, MessageStatus.UNKNOWN, MessageStatus.CANCELLED}
)


def merge_delivery_status(current: DeliveryStatus | None, reported: str) -> DeliveryStatus | None:
    """The delivery status after a report: the first final state wins and never changes.

    ``accepted`` and ``unknown`` are not final and never overwrite anything; a late
    ``delivered`` after ``expired`` is a carrier's afterthought, not a reason to move back.
    """
    if current is not None or reported not in FINAL_DELIVERY_STATUSES:
        return current
    return DeliveryStatus(reported)


def priority_of(kind: NoticeKind) -> int:
    """Lower is sent first: a cancellation on the day must not wait behind other notices."""
    return 0 if kind is NoticeKind.CANCELLATION else 1


@dataclass(frozen=True)
class OutageState:
    """What dispatch knows of an outage: how to word its notices, and whether it is off."""

    outage_id: str
    details: OutageDetails | None
    list_version: int | None
    cancelled_at: datetime | None

    @property
    def cancelled(self) -> bool:
        return self.cancelled_at is not None


@dataclass(frozen=True)
class NewMessage:
    """A message about to be queued (or, if no provider can carry it, recorded as failed)."""

    message_id: str
    outage_id: str
    list_version: int
    notice_kind: NoticeKind
    channel: str
    address: str
    contact_name: str
    account_ids: tuple[str, ...]
    account_names: tuple[str, ...]
    sign_name: str
    text: str
    parts: int
    status: MessageStatus
    last_error: str | None = None


@dataclass(frozen=True)
class Message:
    """A stored message, as the API shows it and the sender sends it."""

    message_id: str
    outage_id: str
    list_version: int
    notice_kind: NoticeKind
    channel: str
    address: str
    contact_name: str
    account_ids: tuple[str, ...]
    account_names: tuple[str, ...]
    sign_name: str
    text: str
    status: MessageStatus
    delivery_status: DeliveryStatus | None
    carrier_stat: str | None
    carrier_err: str | None
    provider_message_id: str | None
    parts: int
    attempts: int
    checks: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None
    delivery_reported_at: datetime | None


@dataclass(frozen=True)
class ClaimedMessage:
    """What a sender needs to make one provider call, and the token that fences its result.

    A claim that outlives its lease may be taken over; the result of the old claim is then
    written nowhere, because every update after the call requires the token still to match.
    """

    message_id: str
    outage_id: str
    list_version: int
    notice_kind: NoticeKind
    channel: str
    address: str
    account_ids: tuple[str, ...]
    sign_name: str
    text: str
    attempts: int
    checks: int
    claim_token: str


@dataclass(frozen=True)
class StatusCount:
    """How many of an outage's messages of one kind are in one state."""

    notice_kind: str
    status: str
    delivery_status: str | None
    count: int


def mask_address(address: str) -> str:
    """``+8613800138000`` → ``138****8000``: enough to recognise a number, not to dial it."""
    digits = address.removeprefix("+86") if address.startswith("+86") else address.lstrip("+")
    if len(digits) <= 7:
        return "*" * len(digits)
    return f"{digits[:3]}{'*' * (len(digits) - 7)}{digits[-4:]}"


def unique_in_order(values: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(values))
