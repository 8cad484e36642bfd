"""Coverage of an outage: who was meant to be told, and who the carriers say was told."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from services.receipts.domain.status import ReceiptStatus

NOTICE = "notice"
CANCELLATION = "cancellation"
UNREACHED_SHOWN = 100


class Submission(StrEnum):
    """Whether dispatch handed a notice to the carrier or the carrier refused it outright."""

    SENT = "sent"
    FAILED = "failed"


@dataclass(frozen=True)
class TargetList:
    """The newest approved notification list of an outage."""

    version: int
    account_count: int
    recipients: int
    account_ids: frozenset[str]


@dataclass(frozen=True)
class NoticeOutcome:
    """One notice of an outage and the carrier's latest word on it (None: no receipt yet)."""

    message_id: str
    notice_kind: str
    account_ids: tuple[str, ...]
    submission: Submission
    delivery: ReceiptStatus | None


@dataclass(frozen=True)
class DeliveryTally:
    sent: int = 0
    delivered: int = 0
    failed: int = 0
    expired: int = 0
    pending: int = 0
    failed_at_submission: int = 0


@dataclass(frozen=True)
class Coverage:
    outage_id: str
    list_version: int | None
    accounts_targeted: int
    recipients: int
    accounts_without_recipient: int
    cancelled_at: datetime | None
    notice: DeliveryTally
    cancellation: DeliveryTally
    accounts_reached: int
    accounts_unreached: int
    accounts_unreached_shown: tuple[str, ...]

    @property
    def cancelled(self) -> bool:
        return self.cancelled_at is not None


def tally(notices: Iterable[NoticeOutcome]) -> DeliveryTally:
    """Count notices by outcome; ``pending`` is sent with no final receipt yet."""
    sent = delivered = failed = expired = failed_at_submission = 0
    for notice in notices:
        if notice.submission is Submission.FAILED:
            failed_at_submission += 1
            continue
        sent += 1
        if notice.delivery is ReceiptStatus.DELIVERED:
            delivered += 1
        elif notice.delivery is ReceiptStatus.FAILED:
            failed += 1
        elif notice.delivery is ReceiptStatus.EXPIRED:
            expired += 1
    return DeliveryTally(
        sent=sent,
        delivered=delivered,
        failed=failed,
        expired=expired,
        pending=sent - delivered - failed - expired,
        failed_at_submission=failed_at_submission,
    )


def compute_coverage(
    outage_id: str,
    targets: TargetList | None,
    notices: Iterable[NoticeOutcome],
    cancelled_at: datetime | None,
) -> Coverage:
    """Coverage of ``outage_id`` from its newest list, its notices and their receipts.

    Notices of every list version count: a new version reuses what earlier ones already sent.
    An account is reached when a delivered outage notice (not a cancellation) names it, and
    reach is measured against the newest list, so an account dropped from the scope no longer
    counts. Accounts without any valid number never appear on a recipient, so the list knows
    them only by number (``account_count``); they count as targeted and unreached but cannot
    be named.
    """
    by_kind: dict[str, list[NoticeOutcome]] = {NOTICE: [], CANCELLATION: []}
    for notice in notices:
        by_kind.setdefault(notice.notice_kind, []).append(notice)
    reached = {
        account_id
        for notice in by_kind[NOTICE]
        if notice.submission is Submission.SENT and notice.delivery is ReceiptStatus.DELIVERED
        for account_id in notice.account_ids
    }
    named = targets.account_ids if targets else frozenset[str]()
    targeted = max(targets.account_count, len(named)) if targets else 0
    unreached_named = sorted(named - reached)
    reached_targeted = len(named & reached)
    return Coverage(
        outage_id=outage_id,
        list_version=targets.version if targets else None,
        accounts_targeted=targeted,
        recipients=targets.recipients if targets else 0,
        accounts_without_recipient=targeted - len(named),
        cancelled_at=cancelled_at,
        notice=tally(by_kind[NOTICE]),
        cancellation=tally(by_kind[CANCELLATION]),
        accounts_reached=reached_targeted,
        accounts_unreached=targeted - reached_targeted,
        accounts_unreached_shown=tuple(unreached_named[:UNREACHED_SHOWN]),
    )
