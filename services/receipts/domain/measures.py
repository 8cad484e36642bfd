"""The measures that tell a utility whether its notices work, over many outages.

Figures are counted per account, so that an outage crossing two feeders counts on each for its
own accounts, and grouped by feeder (from the trace), outage kind or team (the planner who
registered the outage). Complaints are counted per 1,000 accounts notified, i.e. on the
approved lists: the customers the utility set out to tell.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from services.receipts.domain.ledger import (
    NOTICE,
    MessageRecord,
    OutageRecord,
    account_ledgers,
)

CAUSES = ("model_or_trace", "contact", "delivery", "customer_side", "unclassified")


class GroupBy(StrEnum):
    FEEDER = "feeder"
    KIND = "kind"
    TEAM = "team"


@dataclass(frozen=True)
class Percentiles:
    """Nearest-rank percentiles of a sample (None when it is empty)."""

    count: int
    p50: float | None
    p90: float | None
    p99: float | None


def percentile(ordered: Sequence[float], p: float) -> float:
    """The nearest-rank ``p``-th percentile of ``ordered`` (ascending, not empty)."""
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def percentiles(values: Iterable[float]) -> Percentiles:
    ordered = sorted(values)
    if not ordered:
        return Percentiles(0, None, None, None)
    return Percentiles(
        len(ordered), percentile(ordered, 50), percentile(ordered, 90), percentile(ordered, 99)
    )


def delivery_latencies(messages: Iterable[MessageRecord]) -> dict[str, list[float]]:
    """Seconds from hand-over to confirmed delivery, per channel, of delivered notices."""
    found: dict[str, list[float]] = defaultdict(list)
    for message in messages:
        if message.confirmed and message.sent_at and message.settled_at:
            seconds = (message.settled_at - message.sent_at).total_seconds()
            found[message.channel].append(max(seconds, 0.0))
    return dict(found)


@dataclass(frozen=True)
class ComplaintFact:
    outage_id: str
    account_id: str
    cause: str


@dataclass(frozen=True)
class GroupFigures:
    group: str
    outages: int
    accounts_targeted: int
    accounts_reached: int
    accounts_acknowledged: int
    accounts_escalated: int
    outages_started: int
    accounts_unreached_at_start: int
    complaints: Mapping[str, int]
    complaints_per_1000: Mapping[str, float]
    time_to_delivery: Mapping[str, Percentiles] = field(default_factory=dict)

    @property
    def reached_share(self) -> float | None:
        return self.accounts_reached / self.accounts_targeted if self.accounts_targeted else None


@dataclass
class _Group:
    outages: set[str] = field(default_factory=set)
    started: set[str] = field(default_factory=set)
    targeted: int = 0
    reached: int = 0
    acknowledged: int = 0
    escalated: int = 0
    unreached_at_start: int = 0
    complaints: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CAUSES, 0))
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))


def group_of(record: OutageRecord, account_id: str, group_by: GroupBy) -> str:
    """The group an account of an outage falls in ("" when the record does not say)."""
    if group_by is GroupBy.FEEDER:
        return record.feeders.get(account_id, "")
    if group_by is GroupBy.KIND:
        return record.timing.kind if record.timing else ""
    return record.planned_by


def build_report(
    records: Iterable[OutageRecord],
    complaints: Iterable[ComplaintFact],
    group_by: GroupBy,
    now: datetime,
) -> list[GroupFigures]:
    """Figures per group, in group order.

    ``accounts_unreached_at_start`` counts, over outages that have begun and were not
    cancelled, the accounts with no confirmed delivery before the start.
    """
    groups: dict[str, _Group] = defaultdict(_Group)
    by_outage: dict[str, OutageRecord] = {}
    for record in records:
        by_outage[record.outage_id] = record
        timing = record.timing
        started = timing is not None and timing.starts_at <= now and record.cancelled_at is None
        for account_id, ledger in account_ledgers(record).items():
            group = groups[group_of(record, account_id, group_by)]
            group.outages.add(record.outage_id)
            group.targeted += 1
            group.reached += ledger.reached
            group.acknowledged += ledger.acknowledged_at is not None
            group.escalated += ledger.escalated
            if started and timing is not None:
                group.started.add(record.outage_id)
                reached_at = ledger.reached_at
                group.unreached_at_start += reached_at is None or reached_at > timing.starts_at
        for message in record.notices(NOTICE):
            if not (message.confirmed and message.sent_at and message.settled_at):
                continue
            seconds = max((message.settled_at - message.sent_at).total_seconds(), 0.0)
            for name in sorted({group_of(record, a, group_by) for a in message.account_ids}):
                groups[name].latencies[message.channel].append(seconds)
    for complaint in complaints:
        owner = by_outage.get(complaint.outage_id)
        if owner is None:
            continue
        group = groups[group_of(owner, complaint.account_id, group_by)]
        group.outages.add(owner.outage_id)
        group.complaints[complaint.cause] = group.complaints.get(complaint.cause, 0) + 1

    figures: list[GroupFigures] = []
    for name in sorted(groups):
        group = groups[name]
        figures.append(
            GroupFigures(
                group=name,
                outages=len(group.outages),
                accounts_targeted=group.targeted,
                accounts_reached=group.reached,
                accounts_acknowledged=group.acknowledged,
                accounts_escalated=group.escalated,
                outages_started=len(group.started),
                accounts_unreached_at_start=group.unreached_at_start,
                complaints=dict(group.complaints),
                complaints_per_1000={
                    cause: round(count * 1000 / group.targeted, 2) if group.targeted else 0.0
                    for cause, count in group.complaints.items()
                },
                time_to_delivery={
                    channel: percentiles(values)
                    for channel, values in sorted(group.latencies.items())
                },
            )
        )
    return figures
