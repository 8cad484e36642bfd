"""Request and response bodies of the topology API."""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from services.topology import usecases
from services.topology.domain.bundle import ID_MAX_LENGTH
from services.topology.domain.outage import Outage, OutageStatus
from services.topology.domain.tracer import TraceResult
from shared.events import (
    AffectedAccount,
    FeederScope,
    Operation,
    TraceWarning,
    TransformerScope,
)
from shared.events.catalog import OutageKind
from shared.timeutil import local

OUTAGE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class OutageCreate(_In):
    """An outage plan: when, why, and the switching operations that cut the supply."""

    id: str | None = Field(
        default=None,
        min_length=1,
        max_length=ID_MAX_LENGTH,
        pattern=OUTAGE_ID_PATTERN,
        description="The plan's id; generated as OUT-<local start date>-<4 hex> when absent.",
        examples=["OUT-20261128-3F9A"],
    )
    kind: OutageKind
    starts_at: AwareDatetime = Field(description="With a UTC offset, e.g. +08:00.")
    ends_at: AwareDatetime = Field(description="With a UTC offset; after starts_at.")
    work: str = Field(min_length=1, max_length=500, examples=["10kV东12线线路检修"])
    area: str = Field(default="", max_length=500, examples=["东12线#17杆以后沿线"])
    operations: list[Operation] = Field(
        min_length=1, description="Applied in order to the normal state of the network."
    )

    def to_command(self) -> usecases.PlanOutage:
        return usecases.PlanOutage(
            outage_id=self.id,
            kind=self.kind,
            starts_at=self.starts_at,
            ends_at=self.ends_at,
            work=self.work,
            area=self.area,
            operations=self.operations,
        )


class TraceRequest(_In):
    """Switching operations to trace without registering anything."""

    operations: list[Operation] = Field(min_length=1)


class OutageCancel(_In):
    reason: str = Field(min_length=1, max_length=500, examples=["雷雨天气，检修改期"])


class TraceRead(BaseModel):
    """Who the operations cut off, by which device, and what to check."""

    model_version: int
    elapsed_ms: float = Field(description="Time the trace itself took inside the service.")
    affected_accounts: list[AffectedAccount]
    transformers: list[TransformerScope]
    feeders: list[FeederScope]
    warnings: list[TraceWarning]

    @classmethod
    def of(cls, result: TraceResult, elapsed_ms: float) -> TraceRead:
        return cls(
            model_version=result.model_version,
            elapsed_ms=elapsed_ms,
            affected_accounts=result.affected_accounts,
            transformers=result.transformers,
            feeders=result.feeders,
            warnings=result.warnings,
        )


class OutageDetailsRead(BaseModel):
    kind: OutageKind
    starts_at: datetime
    ends_at: datetime
    work: str
    area: str
    planned_by: str


class TraceSummaryRead(BaseModel):
    model_version: int
    traced_at: datetime
    affected_accounts: int = Field(description="How many accounts the trace found affected.")
    transformers: list[TransformerScope]
    feeders: list[FeederScope]
    warnings: list[TraceWarning]


class CancellationRead(BaseModel):
    reason: str
    cancelled_by: str
    cancelled_at: datetime


class OutageRead(BaseModel):
    """An outage plan and where it stands; times in the service's local time zone."""

    id: str
    status: OutageStatus
    details: OutageDetailsRead
    planned_at: datetime
    operations: list[Operation]
    trace: TraceSummaryRead | None = Field(description="Present once the outage is traced.")
    cancellation: CancellationRead | None

    @classmethod
    def of(cls, outage: Outage, timezone: str) -> OutageRead:
        trace, cancellation = outage.trace, outage.cancellation
        return cls(
            id=outage.id,
            status=outage.status,
            details=OutageDetailsRead(
                kind=outage.kind,
                starts_at=local(outage.starts_at, timezone),
                ends_at=local(outage.ends_at, timezone),
                work=outage.work,
                area=outage.area,
                planned_by=outage.planned_by,
            ),
            planned_at=local(outage.planned_at, timezone),
            operations=outage.operations,
            trace=None
            if trace is None
            else TraceSummaryRead(
                model_version=trace.model_version,
                traced_at=local(trace.traced_at, timezone),
                affected_accounts=trace.affected_accounts,
                transformers=trace.transformers,
                feeders=trace.feeders,
                warnings=trace.warnings,
            ),
            cancellation=None
            if cancellation is None
            else CancellationRead(
                reason=cancellation.reason,
                cancelled_by=cancellation.cancelled_by,
                cancelled_at=local(cancellation.cancelled_at, timezone),
            ),
        )


class NetworkImportRead(BaseModel):
    """The model an import created."""

    model_version: int
    nodes: int
    devices: int
    customers: int


class NetworkSummaryRead(BaseModel):
    """The current network model, and whom each source supplies in the normal state."""

    model_version: int = Field(description="0 until the first import.")
    imported_at: datetime | None
    imported_by: str | None
    nodes: int
    devices: int
    normally_open_devices: int
    customers: int
    unsupplied_customers: int = Field(
        description="Customers no source reaches in the normal state: a model to correct."
    )
    feeders: list[FeederScope] = Field(
        description="Each source node with the customers it supplies in the normal state."
    )

    @classmethod
    def of(cls, summary: usecases.NetworkSummary, timezone: str) -> NetworkSummaryRead:
        return cls(
            model_version=summary.model_version,
            imported_at=None
            if summary.imported_at is None
            else local(summary.imported_at, timezone),
            imported_by=summary.imported_by,
            nodes=summary.nodes,
            devices=summary.devices,
            normally_open_devices=summary.normally_open_devices,
            customers=summary.customers,
            unsupplied_customers=summary.unsupplied_customers,
            feeders=summary.feeders,
        )


class ErrorRead(BaseModel):
    """An error; ``field``, ``file`` and ``row`` say what to fix, ``errors`` lists every case."""

    error: str
    detail: str
    field: str | None = None
    file: str | None = None
    row: int | None = None
    errors: list[dict[str, object]] = Field(default_factory=list)
