"""An outage plan and its life: planned, then traced, or cancelled at any time.

Each change returns the event that announces it, so the caller emits exactly what happened.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from services.topology.domain import messages
from services.topology.domain.tracer import TraceResult
from shared.errors import Conflict, InvalidInput
from shared.events import (
    FeederScope,
    Operation,
    OutageCancelled,
    OutageDetails,
    OutagePlanned,
    OutageTraced,
    TraceWarning,
    TransformerScope,
)
from shared.events.catalog import OutageKind
from shared.timeutil import local

TRACE_VERSION = 1


class OutageStatus(StrEnum):
    PLANNED = "planned"
    TRACED = "traced"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class TraceSummary:
    """What the trace found, without the account list (that travels in ``outage.traced``)."""

    model_version: int
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
    trace: TraceSummary | None = None
    cancellation: Cancellation | None = None

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
    ) -> tuple[Outage, OutagePlanned]:
        """A new plan and its ``outage.planned``; times are kept in UTC."""
        for name, moment in (("starts_at", starts_at), ("ends_at", ends_at)):
            if moment.tzinfo is None:
                raise InvalidInput(messages.TIME_WITHOUT_OFFSET.format(field=name), field=name)
        if ends_at <= starts_at:
            raise InvalidInput(messages.END_NOT_AFTER_START, field="ends_at")
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

    def record_trace(self, result: TraceResult, traced_at: datetime) -> OutageTraced | None:
        """Keep the trace summary and return ``outage.traced``; None when there is nothing to
        trace any more (the plan was cancelled meanwhile, or already traced)."""
        if self.status is not OutageStatus.PLANNED:
            return None
        self.status = OutageStatus.TRACED
        self.trace = TraceSummary(
            model_version=result.model_version,
            traced_at=traced_at,
            affected_accounts=len(result.affected_accounts),
            transformers=result.transformers,
            feeders=result.feeders,
            warnings=result.warnings,
        )
        return OutageTraced(
            outage_id=self.id,
            details=self.details,
            model_version=result.model_version,
            trace_version=TRACE_VERSION,
            affected_accounts=result.affected_accounts,
            transformers=result.transformers,
            feeders=result.feeders,
            warnings=result.warnings,
        )

    def cancel(self, reason: str, cancelled_by: str, cancelled_at: datetime) -> OutageCancelled:
        if self.status is OutageStatus.CANCELLED:
            raise Conflict(messages.OUTAGE_ALREADY_CANCELLED.format(outage_id=self.id))
        self.status = OutageStatus.CANCELLED
        self.cancellation = Cancellation(reason, cancelled_by, cancelled_at)
        return OutageCancelled(
            outage_id=self.id, reason=reason, cancelled_by=cancelled_by, cancelled_at=cancelled_at
        )


def new_outage_id(starts_at: datetime, timezone: str) -> str:
    """``OUT-<local start date>-<4 hex digits>``, e.g. ``OUT-20261128-3F9A``."""
    return f"OUT-{local(starts_at, timezone):%Y%m%d}-{secrets.token_hex(2).upper()}"
