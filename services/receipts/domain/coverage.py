"""Coverage of an outage: who was meant to be told, who was reached, and how fast."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from services.receipts.domain.escalation import EscalationPolicy
from services.receipts.domain.ledger import (
    CANCELLATION,
    NOTICE,
    AccountLedger,
    MessageRecord,
    OutageRecord,
    Submission,
    TaskStatus,
    account_ledgers,
)
from services.receipts.domain.measures import Percentiles, delivery_latencies, percentiles
from services.receipts.domain.status import ReceiptStatus

UNREACHED_SHOWN = 100
SMS = "sms"


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
    kind: str | None
    starts_at: datetime | None
    deadline: datetime | None
    accounts_targeted: int
    recipients: int
    accounts_without_recipient: int
    cancelled_at: datetime | None
    notice: DeliveryTally
    cancellation: DeliveryTally
    by_channel: Mapping[str, DeliveryTally]
    cancellation_by_channel: Mapping[str, DeliveryTally]
    accounts_reached: int
    accounts_reached_by_deadline: int
    accounts_acknowledged: int
    accounts_escalated: int
    accounts_unreachable: int
    accounts_unreached: int
    accounts_unreached_shown: tuple[str, ...]
    accounts_unreached_at_start: int | None
    open_tasks: int
    time_to_delivery: Mapping[str, Percentiles] = field(default_factory=dict)

    @property
    def cancelled(self) -> bool:
        return self.cancelled_at is not None

    @property
    def reachable(self) -> int:
        """Targeted accounts, less those a field visit found no way to tell."""
        return self.accounts_targeted - self.accounts_unreachable


def tally(notices: Iterable[MessageRecord]) -> DeliveryTally:
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


def tally_by_channel(notices: Iterable[MessageRecord]) -> dict[str, DeliveryTally]:
    by_channel: dict[str, list[MessageRecord]] = defaultdict(list)
    for message in notices:
        by_channel[message.channel].append(message)
    return {channel: tally(found) for channel, found in sorted(by_channel.items())}


def reached_before(ledger: AccountLedger, moment: datetime) -> bool:
    return ledger.reached_at is not None and ledger.reached_at <= moment


def compute_coverage(record: OutageRecord, policy: EscalationPolicy, now: datetime) -> Coverage:
    """Coverage of an outage from everything receipts knows about it.

    ``notice`` and ``cancellation`` count SMS, as the carriers' delivery reports tell; every
    channel is counted in ``by_channel`` and ``cancellation_by_channel``. Notices of every list
    version count: a new version reuses what earlier ones already sent.
    Reach is measured against the newest list, so an account dropped from the scope no longer
    counts. Accounts the list knows only by number (``account_count`` larger than the ids it
    names) count as targeted and unreached but cannot be named. ``accounts_unreached_at_start``
    is known once the outage has begun, unless it was cancelled.
    """
    approved = record.approved
    ledgers = account_ledgers(record)
    targeted = max(approved.account_count, len(approved.targeted)) if approved else 0
    notices = record.notices(NOTICE)
    cancellations = record.notices(CANCELLATION)
    reached = [ledger for ledger in ledgers.values() if ledger.reached]
    unreached = sorted(a for a, ledger in ledgers.items() if not ledger.reached)
    timing = record.timing
    deadline = policy.deadline(timing) if timing else None
    started = timing is not None and timing.starts_at <= now and record.cancelled_at is None
    return Coverage(
        outage_id=record.outage_id,
        list_version=approved.version if approved else None,
        kind=timing.kind if timing else None,
        starts_at=timing.starts_at if timing else None,
        deadline=deadline,
        accounts_targeted=targeted,
        recipients=len(approved.entries) if approved else 0,
        accounts_without_recipient=(targeted - len(approved.named_accounts) if approved else 0),
        cancelled_at=record.cancelled_at,
        notice=tally(m for m in notices if m.channel == SMS),
        cancellation=tally(m for m in cancellations if m.channel == SMS),
        by_channel=tally_by_channel(notices),
        cancellation_by_channel=tally_by_channel(cancellations),
        accounts_reached=len(reached),
        accounts_reached_by_deadline=(
            sum(1 for ledger in reached if reached_before(ledger, deadline)) if deadline else 0
        ),
        accounts_acknowledged=sum(1 for ledger in ledgers.values() if ledger.acknowledged_at),
        accounts_escalated=sum(1 for ledger in ledgers.values() if ledger.escalated),
        accounts_unreachable=sum(1 for ledger in ledgers.values() if ledger.unreachable),
        accounts_unreached=targeted - len(reached),
        accounts_unreached_shown=tuple(unreached[:UNREACHED_SHOWN]),
        accounts_unreached_at_start=(
            targeted
            - sum(1 for ledger in reached if timing and reached_before(ledger, timing.starts_at))
            if started
            else None
        ),
        open_tasks=sum(1 for task in record.tasks if task.status is TaskStatus.OPEN),
        time_to_delivery={
            channel: percentiles(values)
            for channel, values in sorted(delivery_latencies(notices).items())
        },
    )


@dataclass(frozen=True)
class CoveragePoint:
    """Accounts reached and acknowledged by ``at``."""

    at: datetime
    reached: int
    acknowledged: int


def coverage_timeline(record: OutageRecord) -> list[CoveragePoint]:
    """The step curve of coverage over time: one point per moment something changed."""
    changes: dict[datetime, list[int]] = defaultdict(lambda: [0, 0])
    for ledger in account_ledgers(record).values():
        if ledger.reached_at is not None:
            changes[ledger.reached_at][0] += 1
        if ledger.acknowledged_at is not None:
            changes[ledger.acknowledged_at][1] += 1
    points: list[CoveragePoint] = []
    reached = acknowledged = 0
    for at in sorted(changes):
        reached += changes[at][0]
        acknowledged += changes[at][1]
        points.append(CoveragePoint(at, reached, acknowledged))
    return points
