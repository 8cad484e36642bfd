"""An outage plan and its life: planned, traced (and traced again while its notices have not
gone out), rescheduled, completed, or cancelled.

::

    planned ──trace──▶ traced ──complete──▶ completed
       │  ╲              │ ▲ retrace (model changed, start still ahead)
       │   ╲             │ └─┘
       └────┴─cancel─────┴──▶ cancelled          reschedule: planned or traced, not after

Each change returns the event that announces it, so the caller emits exactly what happened.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from services.topology.domain import messages
from services.topology.domain.tracer import TraceResult
from shared.errors import Conflict, InvalidInput
from shared.events import (
    AccountChange,
    FeederScope,
    Operation,
    OutageCancelled,
    OutageCompleted,
    OutageDetails,
    OutagePlanned,
    OutageRescheduled,
    OutageRetraced,
    OutageTraced,
    TraceWarning,
    TransformerScope,
)
from shared.events.catalog import OutageKind
from shared.timeutil import local

LEAD_TIME_SHORT = "lead_time_short"

# Minimum notice per kind of outage: a week for planned work, a day for temporary work, none
# when there is no time (faults, shedding). The service settings can change them.
DEFAULT_LEAD_TIMES: dict[OutageKind, timedelta] = {
    "planned": timedelta(days=7),
    "relocation": timedelta(days=7),
    "temporary": timedelta(hours=24),
    "orderly_use": timedelta(hours=24),
    "emergency": timedelta(0),
    "load_shedding": timedelta(0),
}


class OutageStatus(StrEnum):
    PLANNED = "planned"
    TRACED = "traced"
    CANCELLED = "cancelled"
    COMPLETED = "completed"


@dataclass(frozen=True)
class TraceSummary:
    """What the last trace found, without the account list (that travels in the events)."""

    model_version: int
    trace_version: int
    traced_at: datetime
    affected_accounts: int
    transformers: list[TransformerScope]
    feeders: list[FeederScope]
    warnings: list[TraceWarning]


@dataclass(frozen=True)
class Cancellation:
    reason: str
    cancelled_by: str
    cancelled_at: datetime


@dataclass(frozen=True)
class Completion:
    completed_by: str
    completed_at: datetime


@dataclass(frozen=True)
class Reschedule:
    previous_starts_at: datetime
    previous_ends_at: datetime
    reason: str
    rescheduled_by: str
    rescheduled_at: datetime


@dataclass
class Outage:
    id: str
    kind: OutageKind
    starts_at: datetime
    ends_at: datetime
    work: str
    area: str
    planned_by: str
    planned_at: datetime
    operations: list[Operation]
    status: OutageStatus = OutageStatus.PLANNED
    plan_warnings: list[TraceWarning] = field(default_factory=list)
    trace: TraceSummary | None = None
    # account → node of the last trace: what a retrace is compared with.
    affected: dict[str, str] = field(default_factory=dict)
    reschedules: list[Reschedule] = field(default_factory=list)
    cancellation: Cancellation | None = None
    completion: Completion | None = None

    @classmethod
    def plan(
        cls,
        *,
        outage_id: str,
        kind: OutageKind,
        starts_at: datetime,
        ends_at: datetime,
        work: str,
        area: str,
        operations: list[Operation],
        planned_by: str,
        planned_at: datetime,
        lead_times: Mapping[OutageKind, timedelta] = DEFAULT_LEAD_TIMES,
    ) -> tuple[Outage, OutagePlanned]:
        """A new plan and its ``outage.planned``; times are kept in UTC.

        A start closer than the kind's minimum lead time is accepted, with a
        ``lead_time_short`` warning that every trace of the outage carries.
        """
        _check_times(starts_at, ends_at)
        outage = cls(
            id=outage_id,
            kind=kind,
            starts_at=starts_at.astimezone(UTC),
            ends_at=ends_at.astimezone(UTC),
            work=work,
            area=area,
            planned_by=planned_by,
            planned_at=planned_at,
            operations=list(operations),
            plan_warnings=_lead_time_warnings(kind, starts_at, planned_at, lead_times),
        )
        planned = OutagePlanned(
            outage_id=outage.id, details=outage.details, operations=outage.operations
        )
        return outage, planned

    @property
    def details(self) -> OutageDetails:
        return OutageDetails(
            kind=self.kind,
            starts_at=self.starts_at,
            ends_at=self.ends_at,
            work=self.work,
            area=self.area,
            planned_by=self.planned_by,
        )

    def awaits_notice(self, now: datetime) -> bool:
        """Traced, neither cancelled nor completed, and still ahead: its notices have not gone
        out yet, so a change of the model must reach its list."""
        return self.status is OutageStatus.TRACED and self.starts_at > now

    def record_trace(self, result: TraceResult, traced_at: datetime) -> OutageTraced | None:
        """Keep the first trace and return ``outage.traced``; None when there is nothing to
        trace any more (the plan was cancelled meanwhile, or already traced)."""
        if self.status is not OutageStatus.PLANNED:
            return None
        self.status = OutageStatus.TRACED
        warnings = self._keep(result, traced_at, trace_version=1)
        return OutageTraced(
            outage_id=self.id,
            details=self.details,
            model_version=result.model_version,
            trace_version=1,
            affected_accounts=result.affected_accounts,
            transformers=result.transformers,
            feeders=result.feeders,
            warnings=warnings,
        )

    def record_retrace(
        self, result: TraceResult, traced_at: datetime, reason: str
    ) -> OutageRetraced | None:
        """Keep a trace on a newer model; ``outage.retraced`` when it adds or removes accounts.

        A trace that finds the same accounts only moves the outage to the new model version:
        the list already confirmed stays right, and nobody has to approve it again.
        """
        assert self.trace is not None
        previous = self.affected
        now_affected = result.account_nodes
        changes = [
            AccountChange(account_id=account, change="removed", node_id=node)
            for account, node in previous.items()
            if account not in now_affected
        ] + [
            AccountChange(account_id=account, change="added", node_id=node)
            for account, node in now_affected.items()
            if account not in previous
        ]
        if not changes:
            self.trace = replace(self.trace, model_version=result.model_version)
            return None
        changes.sort(key=lambda change: (change.account_id, change.change))
        version = self.trace.trace_version + 1
        warnings = self._keep(result, traced_at, trace_version=version)
        return OutageRetraced(
            outage_id=self.id,
            details=self.details,
            model_version=result.model_version,
            trace_version=version,
            affected_accounts=result.affected_accounts,
            transformers=result.transformers,
            feeders=result.feeders,
            warnings=warnings,
            changes=changes,
            reason=reason,
        )

    def _keep(
        self, result: TraceResult, traced_at: datetime, trace_version: int
    ) -> list[TraceWarning]:
        warnings = [*self.plan_warnings, *result.warnings]
        self.trace = TraceSummary(
            model_version=result.model_version,
            trace_version=trace_version,
            traced_at=traced_at,
            affected_accounts=result.affected_count,
            transformers=result.transformers,
            feeders=result.feeders,
            warnings=warnings,
        )
        self.affected = result.account_nodes
        return warnings

    def reschedule(
        self,
        starts_at: datetime,
        ends_at: datetime,
        reason: str,
        rescheduled_by: str,
        now: datetime,
        lead_times: Mapping[OutageKind, timedelta] = DEFAULT_LEAD_TIMES,
    ) -> OutageRescheduled:
        """New times (a reschedule, or an extension once the work has begun).

        Not after a cancellation or completion. Once the outage has begun only its end can
        move. A new start is checked against the lead time again, as of now.
        """
        self._require_open()
        _check_times(starts_at, ends_at)
        starts_at, ends_at = starts_at.astimezone(UTC), ends_at.astimezone(UTC)
        if (starts_at, ends_at) == (self.starts_at, self.ends_at):
            raise InvalidInput(messages.RESCHEDULE_UNCHANGED, field="starts_at")
        if ends_at <= now:
            raise InvalidInput(messages.RESCHEDULE_END_PASSED, field="ends_at")
        if starts_at != self.starts_at:
            if self.starts_at <= now:
                raise Conflict(
                    messages.OUTAGE_STARTED_KEEP_START.format(outage_id=self.id),
                    field="starts_at",
                )
            if starts_at <= now:
                raise InvalidInput(messages.RESCHEDULE_START_PASSED, field="starts_at")
            self.plan_warnings = [
                *(w for w in self.plan_warnings if w.code != LEAD_TIME_SHORT),
                *_lead_time_warnings(self.kind, starts_at, now, lead_times),
            ]
        previous = Reschedule(self.starts_at, self.ends_at, reason, rescheduled_by, now)
        self.reschedules.append(previous)
        self.starts_at, self.ends_at = starts_at, ends_at
        return OutageRescheduled(
            outage_id=self.id,
            details=self.details,
            previous_starts_at=previous.previous_starts_at,
            previous_ends_at=previous.previous_ends_at,
            reason=reason,
            rescheduled_by=rescheduled_by,
            rescheduled_at=now,
        )

    def complete(self, completed_by: str, now: datetime) -> OutageCompleted:
        """The work ended and supply is back: only once the outage has begun."""
        self._require_open()
        if now < self.starts_at:
            raise Conflict(messages.OUTAGE_NOT_STARTED.format(outage_id=self.id))
        self.status = OutageStatus.COMPLETED
        self.completion = Completion(completed_by, now)
        return OutageCompleted(outage_id=self.id, completed_by=completed_by, completed_at=now)

    def cancel(self, reason: str, cancelled_by: str, cancelled_at: datetime) -> OutageCancelled:
        self._require_open()
        self.status = OutageStatus.CANCELLED
        self.cancellation = Cancellation(reason, cancelled_by, cancelled_at)
        return OutageCancelled(
            outage_id=self.id, reason=reason, cancelled_by=cancelled_by, cancelled_at=cancelled_at
        )

    def _require_open(self) -> None:
        if self.status is OutageStatus.CANCELLED:
            raise Conflict(messages.OUTAGE_ALREADY_CANCELLED.format(outage_id=self.id))
        if self.status is OutageStatus.COMPLETED:
            raise Conflict(messages.OUTAGE_ALREADY_COMPLETED.format(outage_id=self.id))


def new_outage_id(starts_at: datetime, timezone: str) -> str:
    """``OUT-<local start date>-<4 hex digits>``, e.g. ``OUT-20261128-3F9A``."""
    return f"OUT-{local(starts_at, timezone):%Y%m%d}-{secrets.token_hex(2).upper()}"


def _check_times(starts_at: datetime, ends_at: datetime) -> None:
    for name, moment in (("starts_at", starts_at), ("ends_at", ends_at)):
        if moment.tzinfo is None:
            raise InvalidInput(messages.TIME_WITHOUT_OFFSET.format(field=name), field=name)
    if ends_at <= starts_at:
        raise InvalidInput(messages.END_NOT_AFTER_START, field="ends_at")


def _lead_time_warnings(
    kind: OutageKind,
    starts_at: datetime,
    registered_at: datetime,
    lead_times: Mapping[OutageKind, timedelta],
) -> list[TraceWarning]:
    required = lead_times.get(kind, timedelta(0))
    ahead = starts_at - registered_at
    if required <= timedelta(0) or ahead >= required:
        return []
    return [
        TraceWarning(
            code=LEAD_TIME_SHORT,
            message=messages.LEAD_TIME_SHORT.format(
                kind=messages.KIND_NAMES[kind],
                required=_duration(required),
                actual=_duration(max(ahead, timedelta(0))),
            ),
        )
    ]


def _duration(span: timedelta) -> str:
    """``7 天``, ``6 天 23 小时`` from two days up; ``24 小时``, ``20 小时`` below (notice rules
    speak of hours there); minutes only under an hour."""
    minutes = int(span.total_seconds()) // 60
    hours, minutes = divmod(minutes, 60)
    if hours == 0:
        return messages.MINUTES.format(minutes=minutes)
    if hours < 48:
        return messages.HOURS.format(hours=hours)
    days, hours = divmod(hours, 24)
    text = messages.DAYS.format(days=days)
    return f"{text} {messages.HOURS.format(hours=hours)}" if hours else text
