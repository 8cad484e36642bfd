"""Which customers an outage plan cuts off, and by which device.

A customer is affected when its node is supplied (connected to a ``source`` node through closed
devices) with every device in its normal state, and is no longer supplied once the plan's
operations have been applied, in order, to that normal state. Closing a normally-open tie can
keep customers in supply (转供); they are then not affected.

Only the parts of the network the plan touches are traced: the normal-state islands (feeders,
or feeders already joined) that hold an operated device. Nothing outside them can change supply,
because an island is joined to another only through a device the plan closes.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from services.topology.domain import messages
from services.topology.domain.network import NetworkModel
from shared.events import (
    AffectedAccount,
    FeederScope,
    Operation,
    TraceWarning,
    TransformerScope,
)

NO_EFFECT = "operation_no_effect"
UNKNOWN_DEVICE = "unknown_device"
PARALLEL_SOURCES = "parallel_sources"
NO_CUSTOMERS_AFFECTED = "no_customers_affected"


@dataclass(frozen=True)
class TraceResult:
    """The affected customers of a plan, its scope, and what the reviewer should check."""

    model_version: int
    affected_accounts: list[AffectedAccount]
    transformers: list[TransformerScope]
    feeders: list[FeederScope]
    warnings: list[TraceWarning]


def unknown_devices(model: NetworkModel, operations: Sequence[Operation]) -> list[int]:
    """Positions of the operations whose device the model does not have."""
    return [
        position
        for position, operation in enumerate(operations)
        if model.device_position(operation.device_id) is None
    ]


def trace(model: NetworkModel, operations: Sequence[Operation]) -> TraceResult:
    """Trace ``operations`` on ``model``; operations on unknown devices are skipped and warned."""
    end_state, warnings = _apply(model, operations)
    changed = [e for e, closed in end_state.items() if closed != model.is_normally_closed(e)]

    def closed_after(edge: int) -> bool:
        return end_state.get(edge, model.is_normally_closed(edge))

    sources = _sources_around(model, (v for e in changed for v in model.endpoints(e)))
    before = _supply(model, sources, model.is_normally_closed)
    after = _supply(model, sources, closed_after)
    warnings.extend(_parallel_warnings(model, after.meetings))

    isolating: dict[int, int] = {}
    affected: list[AffectedAccount] = []
    per_area: Counter[int] = Counter()
    per_feeder: Counter[int] = Counter()
    area = _transformer_areas(model, before)
    # In supply order a node's parent on its supply path comes first. The parent of an affected
    # node is itself affected unless the device between them is the one that was opened, so the
    # isolating device is either that device or the parent's.
    for vertex in before.order:
        if vertex in after.feeder:
            continue
        edge = before.parent_edge[vertex]
        isolating[vertex] = (
            edge if not closed_after(edge) else isolating[model.other_end(edge, vertex)]
        )
        accounts = model.accounts_at(vertex)
        if not accounts:
            continue
        feeder = before.feeder[vertex]
        per_feeder[feeder] += len(accounts)
        transformer_area = area[vertex]
        if transformer_area is not None:
            per_area[transformer_area] += len(accounts)
        node_id = model.node_id(vertex)
        device_id = model.device_id(isolating[vertex])
        feeder_id = model.node_id(feeder)
        affected.extend(
            AffectedAccount(
                account_id=account, isolating_device=device_id, node_id=node_id, feeder=feeder_id
            )
            for account in accounts
        )

    if not affected:
        warnings.append(
            TraceWarning(code=NO_CUSTOMERS_AFFECTED, message=messages.NO_CUSTOMERS_AFFECTED)
        )
    affected.sort(key=lambda account: account.account_id)
    return TraceResult(
        model_version=model.version,
        affected_accounts=affected,
        transformers=sorted(
            (
                TransformerScope(
                    node_id=model.node_id(v), name=model.display_name(v), customers=count
                )
                for v, count in per_area.items()
            ),
            key=lambda scope: scope.node_id,
        ),
        feeders=sorted(
            (
                FeederScope(
                    source_node=model.node_id(v), name=model.display_name(v), customers=count
                )
                for v, count in per_feeder.items()
            ),
            key=lambda scope: scope.source_node,
        ),
        warnings=warnings,
    )


def _apply(
    model: NetworkModel, operations: Sequence[Operation]
) -> tuple[dict[int, bool], list[TraceWarning]]:
    """The end state of every operated device (True = closed), and the steps that did nothing."""
    state: dict[int, bool] = {}
    warnings: list[TraceWarning] = []
    unknown: list[str] = []
    for step, operation in enumerate(operations, start=1):
        edge = model.device_position(operation.device_id)
        if edge is None:
            if operation.device_id not in unknown:
                unknown.append(operation.device_id)
            continue
        closing = operation.action == "close"
        if state.get(edge, model.is_normally_closed(edge)) == closing:
            template = messages.NO_EFFECT_CLOSE if closing else messages.NO_EFFECT_OPEN
            warnings.append(
                TraceWarning(
                    code=NO_EFFECT,
                    message=template.format(step=step, device=operation.device_id),
                    elements=[operation.device_id],
                )
            )
        state[edge] = closing
    if unknown:
        warnings.append(
            TraceWarning(
                code=UNKNOWN_DEVICE,
                message=messages.UNKNOWN_DEVICE.format(
                    devices="、".join(unknown), version=model.version
                ),
                elements=unknown,
            )
        )
    return state, warnings


def _sources_around(model: NetworkModel, vertices: Iterable[int]) -> list[int]:
    """The sources of the normal-state islands holding ``vertices``, in vertex order."""
    seen = set(vertices)
    pending = list(seen)
    sources = []
    while pending:
        vertex = pending.pop()
        if model.is_source(vertex):
            sources.append(vertex)
        for edge in model.incident(vertex):
            if model.is_normally_closed(edge):
                other = model.other_end(edge, vertex)
                if other not in seen:
                    seen.add(other)
                    pending.append(other)
    return sorted(sources)


@dataclass
class _Supply:
    """A breadth-first supply tree grown from several sources at once."""

    feeder: dict[int, int] = field(default_factory=dict)  # node → the source that reaches it
    parent_edge: dict[int, int] = field(default_factory=dict)  # node → device towards it
    order: list[int] = field(default_factory=list)
    meetings: list[tuple[int, int]] = field(default_factory=list)  # sources a device joins


def _supply(model: NetworkModel, sources: Sequence[int], closed: Callable[[int], bool]) -> _Supply:
    supply = _Supply()
    queue = deque(sources)
    for source in sources:
        supply.feeder[source] = source
    while queue:
        vertex = queue.popleft()
        supply.order.append(vertex)
        feeder = supply.feeder[vertex]
        for edge in model.incident(vertex):
            if not closed(edge):
                continue
            other = model.other_end(edge, vertex)
            reached_by = supply.feeder.get(other)
            if reached_by is None:
                supply.feeder[other] = feeder
                supply.parent_edge[other] = edge
                queue.append(other)
            elif reached_by != feeder:
                supply.meetings.append((feeder, reached_by))
    return supply


def _transformer_areas(model: NetworkModel, supply: _Supply) -> dict[int, int | None]:
    """Each supplied node's transformer area: the nearest ``transformer_lv`` on its supply path."""
    area: dict[int, int | None] = {}
    for vertex in supply.order:
        if model.is_transformer_area(vertex):
            area[vertex] = vertex
        elif vertex in supply.parent_edge:
            area[vertex] = area[model.other_end(supply.parent_edge[vertex], vertex)]
        else:
            area[vertex] = None
    return area


def _parallel_warnings(
    model: NetworkModel, meetings: Iterable[tuple[int, int]]
) -> list[TraceWarning]:
    """One warning per group of sources that closed devices connect."""
    group: dict[int, int] = {}

    def root(source: int) -> int:
        while group.setdefault(source, source) != source:
            source = group[source]
        return source

    for first, second in meetings:
        group[root(first)] = root(second)
    members: dict[int, list[str]] = {}
    for source in sorted(group):
        members.setdefault(root(source), []).append(model.node_id(source))
    return [
        TraceWarning(
            code=PARALLEL_SOURCES,
            message=messages.PARALLEL_SOURCES.format(sources="、".join(sources)),
            elements=sources,
        )
        for sources in sorted(members.values())
    ]
