"""Request and response bodies of the topology API."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from services.topology.adapters.repository import HistoryEntry
from services.topology.domain.bundle import (
    CUSTOMER_CATEGORIES,
    DEVICE_KINDS,
    ID_MAX_LENGTH,
    KIND_MAX_LENGTH,
    NAME_MAX_LENGTH,
)
from services.topology.domain.changes import ChangeRequest, Origin
from services.topology.domain.discrepancies import (
    Discrepancy,
    DiscrepancyOrigin,
    Observation,
    ObservationKind,
)
from services.topology.domain.network import ChangeKind
from services.topology.domain.outage import Outage, OutageStatus
from services.topology.domain.tracer import TraceResult
from services.topology.usecases import discrepancies, model, outages
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

Id = Annotated[str, Field(min_length=1, max_length=ID_MAX_LENGTH)]
Name = Annotated[str, Field(max_length=NAME_MAX_LENGTH)]
Reason = Annotated[str, Field(min_length=1, max_length=500, examples=["巡线发现用户已改接"])]
Ticket = Annotated[str, Field(default="", max_length=100, examples=["PMS-2026-11-0381"])]
NormalState = Literal["closed", "open"]
DeviceKind = Literal["line", "switch", "breaker", "fuse", "disconnector", "transformer"]
Category = Literal["residential", "commercial", "industrial", "important"]

assert set(DeviceKind.__args__) == set(DEVICE_KINDS)  # type: ignore[attr-defined]
assert set(Category.__args__) == set(CUSTOMER_CATEGORIES)  # type: ignore[attr-defined]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# --- outages and traces -----------------------------------------------------------------------


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

    def to_command(self) -> outages.PlanOutage:
        return outages.PlanOutage(
            outage_id=self.id,
            kind=self.kind,
            starts_at=self.starts_at,
            ends_at=self.ends_at,
            work=self.work,
            area=self.area,
            operations=self.operations,
        )


class OutageReschedule(_In):
    starts_at: AwareDatetime = Field(description="New start, with a UTC offset.")
    ends_at: AwareDatetime = Field(description="New end, with a UTC offset; after starts_at.")
    reason: str = Field(min_length=1, max_length=500, examples=["天气原因，改期至下周"])


class TraceRequest(_In):
    """Switching operations to trace without registering anything."""

    operations: list[Operation] = Field(min_length=1)


class OutageCancel(_In):
    reason: str = Field(min_length=1, max_length=500, examples=["雷雨天气，检修改期"])


class TraceRead(BaseModel):
    """Who the operations cut off, by which device, and what to check."""

    model_version: int
    elapsed_ms: float = Field(
        description="Time the trace and the checks of the touched feeders took in the service."
    )
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
    trace_version: int = Field(description="1 for the first trace, +1 for each retrace.")
    traced_at: datetime
    affected_accounts: int = Field(description="How many accounts the trace found affected.")
    transformers: list[TransformerScope]
    feeders: list[FeederScope]
    warnings: list[TraceWarning]


class CancellationRead(BaseModel):
    reason: str
    cancelled_by: str
    cancelled_at: datetime


class CompletionRead(BaseModel):
    completed_by: str
    completed_at: datetime


class RescheduleRead(BaseModel):
    previous_starts_at: datetime
    previous_ends_at: datetime
    reason: str
    rescheduled_by: str
    rescheduled_at: datetime


class OutageRead(BaseModel):
    """An outage plan and where it stands; times in the service's local time zone."""

    id: str
    status: OutageStatus
    details: OutageDetailsRead
    planned_at: datetime
    operations: list[Operation]
    warnings: list[TraceWarning] = Field(
        description="What the plan itself should make the planner check, e.g. "
        "`lead_time_short`; every trace of the outage carries them too."
    )
    trace: TraceSummaryRead | None = Field(description="Present once the outage is traced.")
    reschedules: list[RescheduleRead]
    cancellation: CancellationRead | None
    completion: CompletionRead | None

    @classmethod
    def of(cls, outage: Outage, timezone: str) -> OutageRead:
        trace, cancellation, completion = outage.trace, outage.cancellation, outage.completion
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
            warnings=outage.plan_warnings,
            trace=None
            if trace is None
            else TraceSummaryRead(
                model_version=trace.model_version,
                trace_version=trace.trace_version,
                traced_at=local(trace.traced_at, timezone),
                affected_accounts=trace.affected_accounts,
                transformers=trace.transformers,
                feeders=trace.feeders,
                warnings=trace.warnings,
            ),
            reschedules=[
                RescheduleRead(
                    previous_starts_at=local(r.previous_starts_at, timezone),
                    previous_ends_at=local(r.previous_ends_at, timezone),
                    reason=r.reason,
                    rescheduled_by=r.rescheduled_by,
                    rescheduled_at=local(r.rescheduled_at, timezone),
                )
                for r in outage.reschedules
            ],
            cancellation=None
            if cancellation is None
            else CancellationRead(
                reason=cancellation.reason,
                cancelled_by=cancellation.cancelled_by,
                cancelled_at=local(cancellation.cancelled_at, timezone),
            ),
            completion=None
            if completion is None
            else CompletionRead(
                completed_by=completion.completed_by,
                completed_at=local(completion.completed_at, timezone),
            ),
        )


# --- the network model ------------------------------------------------------------------------


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
    def of(cls, summary: model.NetworkSummary, timezone: str) -> NetworkSummaryRead:
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


class _Change(_In):
    reason: Reason
    origin: Origin = Field(description="The process that found the change.")
    ticket: Ticket

    def _request(self, change: str, element_id: str, /, **values: Any) -> ChangeRequest:
        return ChangeRequest(
            ChangeKind(change), element_id, values, self.reason, self.origin, self.ticket
        )


class NodeAdd(_Change):
    """A new node, e.g. the pole or transformer area of a new connection."""

    kind: Literal["node_add"]
    node_id: Id
    node_kind: str = Field(min_length=1, max_length=KIND_MAX_LENGTH, examples=["pole"])
    name: Name = ""

    def to_request(self) -> ChangeRequest:
        return self._request(self.kind, self.node_id, kind=self.node_kind, name=self.name)


class NodeRename(_Change):
    kind: Literal["node_rename"]
    node_id: Id
    name: Name

    def to_request(self) -> ChangeRequest:
        return self._request(self.kind, self.node_id, name=self.name)


class DeviceAdd(_Change):
    kind: Literal["device_add"]
    device_id: Id
    device_kind: DeviceKind
    from_node: Id
    to_node: Id
    normal_state: NormalState
    name: Name = ""

    def to_request(self) -> ChangeRequest:
        return self._request(
            self.kind,
            self.device_id,
            kind=self.device_kind,
            from_node=self.from_node,
            to_node=self.to_node,
            normal_state=self.normal_state,
            name=self.name,
        )


class DeviceRemove(_Change):
    kind: Literal["device_remove"]
    device_id: Id

    def to_request(self) -> ChangeRequest:
        return self._request(self.kind, self.device_id)


class DeviceState(_Change):
    """A new normal state, e.g. a tie found closed in the field that the model had open."""

    kind: Literal["device_state"]
    device_id: Id
    normal_state: NormalState

    def to_request(self) -> ChangeRequest:
        return self._request(self.kind, self.device_id, normal_state=self.normal_state)


class CustomerNew(_Change):
    kind: Literal["customer_new"]
    account_id: Id
    name: str = Field(min_length=1, max_length=NAME_MAX_LENGTH)
    node_id: Id
    voltage_kv: float = Field(gt=0, allow_inf_nan=False)
    category: Category

    def to_request(self) -> ChangeRequest:
        return self._request(
            self.kind,
            self.account_id,
            name=self.name,
            node_id=self.node_id,
            voltage_kv=self.voltage_kv,
            category=self.category,
        )


class CustomerClose(_Change):
    kind: Literal["customer_close"]
    account_id: Id

    def to_request(self) -> ChangeRequest:
        return self._request(self.kind, self.account_id)


class CustomerMove(_Change):
    kind: Literal["customer_move"]
    account_id: Id
    node_id: Id = Field(description="The node the customer is connected at from now on.")

    def to_request(self) -> ChangeRequest:
        return self._request(self.kind, self.account_id, node_id=self.node_id)


Change = Annotated[
    NodeAdd
    | NodeRename
    | DeviceAdd
    | DeviceRemove
    | DeviceState
    | CustomerNew
    | CustomerClose
    | CustomerMove,
    Field(discriminator="kind"),
]


class ChangeBatchCreate(_In):
    """Changes applied together or not at all, in order, under one new model version."""

    changes: list[Change] = Field(min_length=1, max_length=10_000)
    resolves: list[str] = Field(
        default_factory=list,
        max_length=1000,
        description="Discrepancies this batch fixes. Those observed on site close by "
        "themselves once the model agrees; a complaint's must be named here.",
    )

    def to_command(self) -> model.ChangeBatch:
        return model.ChangeBatch(
            changes=[change.to_request() for change in self.changes], resolves=self.resolves
        )


class AppliedChangeRead(BaseModel):
    change_id: int
    kind: ChangeKind
    element_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class ChangeBatchRead(BaseModel):
    """A change batch as applied."""

    batch_id: str
    model_version: int
    author: str
    changed_at: datetime
    changes: list[AppliedChangeRead]
    closed_discrepancies: list[str]

    @classmethod
    def of(cls, applied: model.AppliedBatch, author: str, timezone: str) -> ChangeBatchRead:
        return cls(
            batch_id=applied.batch_id,
            model_version=applied.model.version,
            author=author,
            changed_at=local(applied.changed_at, timezone),
            changes=[
                AppliedChangeRead(
                    change_id=change_id,
                    kind=item.change.kind,
                    element_id=item.change.element_id,
                    before=None if item.change.before is None else dict(item.change.before),
                    after=None if item.change.after is None else dict(item.change.after),
                )
                for change_id, item in zip(applied.change_ids, applied.changes, strict=True)
            ],
            closed_discrepancies=[d.id for d in applied.closed],
        )


class HistoryEntryRead(BaseModel):
    change_id: int
    model_version: int
    batch_id: str
    kind: ChangeKind
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    reason: str
    origin: str
    ticket: str
    author: str
    changed_at: datetime

    @classmethod
    def of(cls, entry: HistoryEntry, timezone: str) -> HistoryEntryRead:
        return cls(
            change_id=entry.change_id,
            model_version=entry.model_version,
            batch_id=entry.batch_id,
            kind=ChangeKind(entry.kind),
            before=entry.before,
            after=entry.after,
            reason=entry.reason,
            origin=entry.origin,
            ticket=entry.ticket,
            author=entry.author,
            changed_at=local(entry.changed_at, timezone),
        )


class HistoryRead(BaseModel):
    """One element's changes, newest first, and what the model holds for it now."""

    element_type: Literal["customer", "device", "node"]
    element_id: str
    current: dict[str, Any] | None = Field(description="None once removed, or never known.")
    changes: list[HistoryEntryRead]
    imported_at: datetime | None = Field(
        description="When the bundle the model grew from was imported."
    )
    imported_by: str | None

    @classmethod
    def of(cls, history: model.ElementHistory, timezone: str) -> HistoryRead:
        return cls(
            element_type=history.element_type,
            element_id=history.element_id,
            current=None if history.current is None else dict(history.current),
            changes=[HistoryEntryRead.of(entry, timezone) for entry in history.changes],
            imported_at=None
            if history.imported_at is None
            else local(history.imported_at, timezone),
            imported_by=history.imported_by,
        )


class FindingRead(BaseModel):
    code: str
    message: str
    elements: list[str]
    feeders: list[str] = Field(description="Source node ids of the feeders it concerns.")


class ChecksRead(BaseModel):
    """The back-office check of the model."""

    model_version: int
    checked_at: datetime
    total: int
    counts: dict[str, int] = Field(description="Findings per code.")
    findings: list[FindingRead] = Field(description="The first `limit` findings.")

    @classmethod
    def of(
        cls, report: model.CheckReport, code: str | None, limit: int, timezone: str
    ) -> ChecksRead:
        found = [f for f in report.findings if code is None or f.code == code]
        return cls(
            model_version=report.model_version,
            checked_at=local(report.checked_at, timezone),
            total=len(found),
            counts=dict(sorted(Counter(f.code for f in report.findings).items())),
            findings=[
                FindingRead(
                    code=f.code,
                    message=f.message,
                    elements=list(f.elements),
                    feeders=list(f.feeders),
                )
                for f in found[:limit]
            ],
        )


# --- spot checks and discrepancies ---------------------------------------------------------


class CustomerNodeSeen(_In):
    """The customer is connected (fed) at this node."""

    kind: Literal["customer_node"]
    account_id: Id
    node_id: Id

    def observation(self) -> Observation:
        return Observation(ObservationKind.CUSTOMER_NODE, self.account_id, self.node_id)


class CustomerAbsentSeen(_In):
    """There is no such customer on site."""

    kind: Literal["customer_absent"]
    account_id: Id

    def observation(self) -> Observation:
        return Observation(ObservationKind.CUSTOMER_ABSENT, self.account_id)


class DeviceStateSeen(_In):
    """The device is in this state in normal operation."""

    kind: Literal["device_state"]
    device_id: Id
    normal_state: NormalState

    def observation(self) -> Observation:
        return Observation(ObservationKind.DEVICE_STATE, self.device_id, self.normal_state)


class DeviceAbsentSeen(_In):
    kind: Literal["device_absent"]
    device_id: Id

    def observation(self) -> Observation:
        return Observation(ObservationKind.DEVICE_ABSENT, self.device_id)


class NodeNameSeen(_In):
    """The node carries this name on site (nameplate, pole number)."""

    kind: Literal["node_name"]
    node_id: Id
    name: str = Field(min_length=1, max_length=NAME_MAX_LENGTH)

    def observation(self) -> Observation:
        return Observation(ObservationKind.NODE_NAME, self.node_id, self.name)


Seen = Annotated[
    CustomerNodeSeen | CustomerAbsentSeen | DeviceStateSeen | DeviceAbsentSeen | NodeNameSeen,
    Field(discriminator="kind"),
]


class SpotCheckCreate(_In):
    """What field staff found, element by element."""

    checked_at: AwareDatetime = Field(description="When the check was done on site.")
    ticket: Ticket
    note: str = Field(default="", max_length=2000)
    observations: list[Seen] = Field(min_length=1, max_length=5000)

    def to_command(self) -> discrepancies.SpotCheck:
        return discrepancies.SpotCheck(
            checked_at=self.checked_at,
            ticket=self.ticket,
            note=self.note,
            observations=[seen.observation() for seen in self.observations],
        )


class ProvenanceRead(BaseModel):
    """The last change of the element before the discrepancy was found: the process that let
    it through (``kind`` import: it came in with the imported bundle)."""

    model_version: int
    change_id: int | None
    batch_id: str | None
    kind: str
    author: str
    origin: str
    ticket: str
    reason: str
    at: datetime


class DiscrepancyRead(BaseModel):
    id: str
    origin: DiscrepancyOrigin
    status: Literal["open", "closed"]
    element_type: str
    element_id: str
    observation: str | None = Field(description="What was observed on site, if anything.")
    observed: str | None
    modelled: str | None = Field(description="What the model said; None: it lacked the element.")
    detail: str
    opened_by: str
    opened_at: datetime
    source_id: str = Field(description="The spot check or complaint that found it.")
    outage_id: str | None
    caused_by: ProvenanceRead | None
    closed_by_batch: str | None
    closed_at: datetime | None

    @classmethod
    def of(cls, d: Discrepancy, timezone: str) -> DiscrepancyRead:
        caused = d.caused_by
        return cls(
            id=d.id,
            origin=d.origin,
            status="open" if d.is_open else "closed",
            element_type=d.element_type,
            element_id=d.element_id,
            observation=None if d.observation is None else d.observation.kind.value,
            observed=None if d.observation is None else d.observation.value,
            modelled=d.modelled,
            detail=d.detail,
            opened_by=d.opened_by,
            opened_at=local(d.opened_at, timezone),
            source_id=d.source_id,
            outage_id=d.outage_id,
            caused_by=None
            if caused is None
            else ProvenanceRead(
                model_version=caused.model_version,
                change_id=caused.change_id,
                batch_id=caused.batch_id,
                kind=caused.kind,
                author=caused.author,
                origin=caused.origin,
                ticket=caused.ticket,
                reason=caused.reason,
                at=local(caused.at, timezone),
            ),
            closed_by_batch=None if d.closure is None else d.closure.batch_id,
            closed_at=None if d.closure is None else local(d.closure.closed_at, timezone),
        )


class ObservationRead(BaseModel):
    kind: ObservationKind
    element_id: str
    value: str
    agrees: bool
    modelled: str | None
    discrepancy_id: str | None
    already_open: bool = Field(description="The discrepancy was open already; none was added.")


class SpotCheckRead(BaseModel):
    spot_check_id: str
    model_version: int
    discrepancies_opened: int
    observations: list[ObservationRead]

    @classmethod
    def of(cls, result: discrepancies.SpotCheckResult) -> SpotCheckRead:
        return cls(
            spot_check_id=result.spot_check_id,
            model_version=result.model_version,
            discrepancies_opened=sum(
                1 for r in result.results if r.discrepancy is not None and not r.already_open
            ),
            observations=[
                ObservationRead(
                    kind=r.observation.kind,
                    element_id=r.observation.element_id,
                    value=r.observation.value,
                    agrees=r.agrees,
                    modelled=r.modelled,
                    discrepancy_id=None if r.discrepancy is None else r.discrepancy.id,
                    already_open=r.already_open,
                )
                for r in result.results
            ],
        )


class ErrorRead(BaseModel):
    """An error; ``field``, ``file`` and ``row`` say what to fix, ``errors`` lists every case."""

    error: str
    detail: str
    field: str | None = None
    file: str | None = None
    row: int | None = None
    errors: list[dict[str, object]] = Field(default_factory=list)
