"""A message: one notice to one address on one channel, and the rules its states follow.

``status`` is our side of the exchange with the provider::

    held ──escalation asks──▶ queued      (later waves: approved, sent only on request)
    queued ──claim──▶ sending ──accepted────────▶ submitted
      ▲                 │ refused (4xx) ───────▶ failed        (permanent, never retried)
      │                 │ 429 / 503 / no conn ─▶ queued again  (backoff; failed at the limit)
      │                 └ timeout, other 5xx ──▶ unknown ──ask──▶ submitted, or queued again
      │                                            │              if it was never received
      │                                            └ provider cannot be asked ─▶ unresolved
      └──── cancelled (the outage was cancelled, rescheduled, or a newer list replaced it,
                       before it left)

``unresolved`` waits for a dispatcher: the provider (a WeChat Work robot) has no status query,
and only a person may decide to send again. ``delivery_status`` is the provider's report on a
submitted message. Reports come at least once and out of order, so the first final state wins.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time
from enum import StrEnum

from shared.events import OutageDetails


class MessageStatus(StrEnum):
    HELD = "held"
    QUEUED = "queued"
    SENDING = "sending"
    SUBMITTED = "submitted"
    FAILED = "failed"
    CANCELLED = "cancelled"
    UNKNOWN = "unknown"
    UNRESOLVED = "unresolved"


class DeliveryStatus(StrEnum):
    DELIVERED = "delivered"
    FAILED = "failed"
    EXPIRED = "expired"


class NoticeKind(StrEnum):
    """What a message says about its outage (the outage's own kind is ``details.kind``)."""

    NOTICE = "notice"
    REMINDER = "reminder"
    CANCELLATION = "cancellation"
    RESCHEDULE = "reschedule"
    RESTORATION = "restoration"


# Messages that announce the outage: whoever got one is owed its corrections.
ANNOUNCING = frozenset({NoticeKind.NOTICE, NoticeKind.REMINDER, NoticeKind.RESCHEDULE})
# Corrections of an earlier message: they go out whatever the outage's state.
CORRECTIONS = frozenset({NoticeKind.CANCELLATION, NoticeKind.RESCHEDULE})

PHONE_CHANNELS = frozenset({"sms", "voice"})
PRINT_CHANNELS = frozenset({"door_slip", "posted_notice", "newspaper"})
WEBHOOK_CHANNELS = frozenset({"wechat", "app_push"})
ALL_CHANNELS = PHONE_CHANNELS | PRINT_CHANNELS | WEBHOOK_CHANNELS

# Printed documents announce and correct; reminders and restorations are not printed.
PRINTED_KINDS = frozenset({NoticeKind.NOTICE, NoticeKind.CANCELLATION, NoticeKind.RESCHEDULE})


def kinds_carried(channel: str) -> frozenset[NoticeKind]:
    return PRINTED_KINDS if channel in PRINT_CHANNELS else frozenset(NoticeKind)


# What a carrier report may say (shared.events.SmsStatus); only these three are final.
FINAL_DELIVERY_STATUSES = frozenset(s.value for s in DeliveryStatus)

# A carrier report about a message in one of these states proves the carrier received it,
# even though our own record of the call is missing or not written yet (a report may overtake
# the commit of the submission, or settle a call that timed out).
SUBMISSION_PROVEN_BY_REPORT = frozenset(
    {
        MessageStatus.QUEUED,
        MessageStatus.SENDING,
        MessageStatus.UNKNOWN,
        MessageStatus.UNRESOLVED,
        MessageStatus.CANCELLED,
    }
)

# Not sent yet and never will be unless something changes: stopped by a cancellation.
UNSENT = frozenset({MessageStatus.HELD, MessageStatus.QUEUED})
# Reached the provider or may have: the people they address count as told.
TOLD_OR_MAYBE_TOLD = frozenset(
    {
        MessageStatus.SENDING,
        MessageStatus.UNKNOWN,
        MessageStatus.UNRESOLVED,
        MessageStatus.SUBMITTED,
    }
)
# Still moving: the outage view counts these as open.
OPEN_STATUSES = frozenset({MessageStatus.QUEUED, MessageStatus.SENDING, MessageStatus.UNKNOWN})


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
    if kind in CORRECTIONS:
        return 0
    return 1 if kind is NoticeKind.NOTICE else 2


@dataclass(frozen=True)
class OutageState:
    """What dispatch knows of an outage: how to word its notices, and what became of it.

    ``revision`` counts the reschedules: every message carries the revision it was worded
    for, so a notice of old times that reaches someone after a reschedule is followed by the
    new time.
    """

    outage_id: str
    details: OutageDetails | None
    list_version: int | None
    revision: int
    cancelled_at: datetime | None
    completed_at: datetime | None = None
    first_approved_at: datetime | None = None
    cancel_reason: str | None = None
    reschedule_reason: str | None = None
    previous_starts_at: datetime | None = None
    previous_ends_at: datetime | None = None

    @property
    def cancelled(self) -> bool:
        return self.cancelled_at is not None

    @property
    def completed(self) -> bool:
        return self.completed_at is not None


@dataclass(frozen=True)
class NewMessage:
    """A message about to be stored (queued, held for escalation, or failed at once)."""

    message_id: str
    outage_id: str
    list_version: int
    revision: int
    notice_kind: NoticeKind
    channel: str
    address: str
    contact_name: str
    account_ids: tuple[str, ...]
    account_names: tuple[str, ...]
    role: str
    wave: int
    audience: str
    location: str
    details: OutageDetails
    sign_name: str
    text: str
    parts: int
    status: MessageStatus
    due_at: datetime
    quiet: bool
    last_error: str | None = None
    refers_to: str | None = None
    call_earliest: time | None = None
    call_latest: time | None = None


@dataclass(frozen=True)
class Message:
    """A stored message, as the API shows it, the sender sends it and documents print it."""

    message_id: str
    outage_id: str
    list_version: int
    revision: int
    notice_kind: NoticeKind
    channel: str
    address: str
    contact_name: str
    account_ids: tuple[str, ...]
    account_names: tuple[str, ...]
    role: str
    wave: int
    audience: str
    location: str
    details: OutageDetails
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
    refers_to: str | None
    escalation_id: str | None
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
    revision: int = 0
    parts: int = 1


@dataclass(frozen=True)
class StatusCount:
    """How many of an outage's messages of one kind on one channel are in one state."""

    notice_kind: str
    channel: str
    status: str
    delivery_status: str | None
    count: int


def mask_address(address: str) -> str:
    """``+8613800138000`` → ``138****8000``: enough to recognise a number, not to dial it."""
    digits = address.removeprefix("+86") if address.startswith("+86") else address.lstrip("+")
    if len(digits) <= 7:
        return "*" * len(digits)
    return f"{digits[:3]}{'*' * (len(digits) - 7)}{digits[-4:]}"


def is_phone(channel: str) -> bool:
    return channel in PHONE_CHANNELS


def shown_address(channel: str, address: str, *, reveal: bool) -> str:
    """Phone numbers are masked for those who may not dial them; other addresses are not
    personal (an account id, a transformer area, a date) except robot keys, which are
    secrets of the group and are masked too."""
    if reveal or channel in PRINT_CHANNELS or channel == "app_push":
        return address
    return mask_address(address)


def unique_in_order(values: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(values))
