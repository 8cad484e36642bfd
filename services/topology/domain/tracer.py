"""Which customers an outage plan cuts off, and by which device.

A customer is affected when its node is supplied (connected to a ``source`` node through closed
devices) with every device in its normal state, and is no longer supplied once the plan's
operations have been applied, in order, to that normal state. Closing a normally-open tie can
keep customers in supply (转供); they are then not affected.

The trace works on the normal-state supply forest (:mod:`supply`) and costs what the touched
feeders cost, not what the city costs. Opening a tree device cuts off its subtree: an interval
of preorder positions. The cut-off pieces of the trees (fragments) are then joined through the
devices that are closed in the end state but are not tree devices: ties the plan closes, and
devices closing a loop in the normal state. A fragment joined, directly or through other
fragments, to the uncut part of a sourced tree is still supplied; the customers of the other
fragments are affected, and the device that isolates them is the one that cut their fragment
off, the nearest opened device on their supply path.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from itertools import chain

from services.topology.domain import messages
from services.topology.domain.grid import Grid
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
class AffectedNode:
    """The accounts of one node a plan cuts off, the device that isolates them, their feeder."""

    node_id: str
    isolating_device: str
    feeder: str
    account_ids: list[str]


@dataclass(frozen=True)
class TraceResult:
    """The affected customers of a plan, its scope, and what the reviewer should check.

    Accounts are kept per node, as the trace finds them; the per-account list the events and
    the API carry is built on first use. ``scope`` holds the supply trees (by root vertex of
    the traced model) the trace went through, to pick the checks' findings that concern it.
    """

    model_version: int
    nodes: list[AffectedNode]
    transformers: list[TransformerScope]
    feeders: list[FeederScope]
    warnings: list[TraceWarning]
    scope: frozenset[int] = field(default=frozenset())

    @property
    def affected_count(self) -> int:
        return sum(len(node.account_ids) for node in self.nodes)

    @cached_property
    def account_ids(self) -> list[str]:
        return sorted(chain.from_iterable(node.account_ids for node in self.nodes))

    @cached_property
    def account_nodes(self) -> dict[str, str]:
        return {account: node.node_id for node in self.nodes for account in node.account_ids}

    @cached_property
    def affected_accounts(self) -> list[AffectedAccount]:
        accounts = [
            AffectedAccount(
                account_id=account,
                isolating_device=node.isolating_device,
                node_id=node.node_id,
                feeder=node.feeder,
            )
            for node in self.nodes
            for account in node.account_ids
        ]
        accounts.sort(key=lambda account: account.account_id)
        return accounts

    def with_warnings(self, extra: Sequence[TraceWarning]) -> TraceResult:
        return replace(self, warnings=[*self.warnings, *extra]) if extra else self


def unknown_devices(model: NetworkModel, operations: Sequence[Operation]) -> list[int]:
    """Positions of the operations whose device the model does not have."""
    return [
        position
        for position, operation in enumerate(operations)
        if model.device_position(operation.device_id) is None
    ]


def trace(model: NetworkModel, operations: Sequence[Operation]) -> TraceResult:
    """Trace ``operations`` on ``model``; operations on unknown devices are skipped and warned."""
    grid, forest = model.grid, model.forest
    end_state, warnings = _apply(grid, operations, model.version)
    trees, tree_of, pos, size = forest.trees, forest.tree_of, forest.pos, forest.size
    parent_edge, normally_closed = forest.parent_edge, grid.closed

    def closed_after(edge: int) -> bool:
        state = end_state.get(edge)
        return bool(normally_closed[edge]) if state is None else state

    # Tree devices open at the end cut their subtree off: the child end of each, per tree,
    # in preorder. Ties closed at the end may join pieces of trees.
    cuts: dict[int, list[int]] = {}
    closing: list[int] = []
    for edge, closed in end_state.items():
        if closed:
            if not normally_closed[edge]:
                closing.append(edge)
            continue
        start, end = grid.endpoints(edge)
        child = end if parent_edge[end] == edge else start if parent_edge[start] == edge else -1
        if child >= 0:
            cuts.setdefault(tree_of[child], []).append(child)
    for children in cuts.values():
        children.sort(key=pos.__getitem__)

    def fragment(vertex: int) -> int:
        """The top of the piece of its tree the vertex stays in: the deepest cut above it."""
        top = tree_of[vertex]
        p = pos[vertex]
        for child in cuts.get(top, ()):
            at = pos[child]
            if at > p:
                break
            if p < at + size[child]:
                top = child
        return top

    def ranges(top: int) -> list[tuple[int, int]]:
        """The preorder intervals of a fragment: its subtree less the fragments cut below."""
        low, high = pos[top], pos[top] + size[top]
        out, cursor = [], low
        for child in cuts.get(tree_of[top], ()):
            at = pos[child]
            if at <= low or at < cursor:
                continue
            if at >= high:
                break
            if at > cursor:
                out.append((cursor, at))
            cursor = at + size[child]
        if cursor < high:
            out.append((cursor, high))
        return out

    link: dict[int, int] = {}

    def find(top: int) -> int:
        while link.get(top, top) != top:
            top = link[top]
        return top

    def join(first: int, second: int) -> None:
        a, b = find(first), find(second)
        if a != b:
            link[a] = b

    pending = [child for children in cuts.values() for child in children]
    for edge in closing:
        a, b = (fragment(v) for v in grid.endpoints(edge))
        join(a, b)
        pending += (a, b)
    explored: set[int] = set()
    while pending:
        top = pending.pop()
        if top in explored:
            continue
        explored.add(top)
        tree = trees[tree_of[top]]
        for low, high in ranges(top):
            for p in tree.nontree_positions_between(low, high):
                vertex = tree.order[p]
                for edge in tree.nontree[vertex]:
                    if closed_after(edge):
                        other = fragment(grid.other_end(edge, vertex))
                        join(top, other)
                        if other not in explored:
                            pending.append(other)

    supplied: dict[int, list[int]] = {}
    for top in explored:
        if top == tree_of[top] and trees[top].sourced:
            supplied.setdefault(find(top), []).append(top)
    warnings.extend(_parallel_warnings(model, supplied.values()))

    node_ids, area = grid.node_ids, forest.area
    nodes: list[AffectedNode] = []
    per_area: Counter[int] = Counter()
    per_feeder: Counter[int] = Counter()
    for root, children in cuts.items():
        tree = trees[root]
        if not tree.sourced:
            continue  # never supplied, so not cut off by the plan
        feeder = node_ids[root]
        for child in children:
            if find(child) in supplied:
                continue
            isolating = grid.device_ids[parent_edge[child]]
            for low, high in ranges(child):
                for p in tree.customer_positions_between(low, high):
                    vertex = tree.order[p]
                    accounts = tree.accounts_between(p, p + 1)
                    nodes.append(AffectedNode(node_ids[vertex], isolating, feeder, accounts))
                    per_feeder[root] += len(accounts)
                    if area[vertex] >= 0:
                        per_area[area[vertex]] += len(accounts)

    if not nodes:
        warnings.append(
            TraceWarning(code=NO_CUSTOMERS_AFFECTED, message=messages.NO_CUSTOMERS_AFFECTED)
        )
    scope = {tree_of[top] for top in explored}
    scope.update(tree_of[v] for edge in end_state for v in grid.endpoints(edge))
    return TraceResult(
        model_version=model.version,
        nodes=nodes,
        transformers=sorted(
            (
                TransformerScope(node_id=node_ids[v], name=grid.display_name(v), customers=count)
                for v, count in per_area.items()
            ),
            key=lambda scope: scope.node_id,
        ),
        feeders=sorted(
            (
                FeederScope(source_node=node_ids[v], name=grid.display_name(v), customers=count)
                for v, count in per_feeder.items()
            ),
            key=lambda scope: scope.source_node,
        ),
        warnings=warnings,
        scope=frozenset(scope),
    )


def _apply(
    grid: Grid, operations: Sequence[Operation], version: int
) -> tuple[dict[int, bool], list[TraceWarning]]:
    """The end state of every operated device (True = closed), and the steps that did nothing."""
    state: dict[int, bool] = {}
    warnings: list[TraceWarning] = []
    unknown: list[str] = []
    for step, operation in enumerate(operations, start=1):
        edge = grid.device_index.get(operation.device_id)
        if edge is None:
            if operation.device_id not in unknown:
                unknown.append(operation.device_id)
            continue
        closing = operation.action == "close"
        if state.get(edge, bool(grid.closed[edge])) == closing:
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
                message=messages.UNKNOWN_DEVICE.format(devices="、".join(unknown), version=version),
                elements=unknown,
            )
        )
    return state, warnings


def _parallel_warnings(model: NetworkModel, groups: Iterable[list[int]]) -> list[TraceWarning]:
    """One warning per group of sources the end state joins that the normal state keeps apart.

    Sources the normal state already parallels are a finding of the checks, not of the plan.
    """
    trees, node_ids = model.forest.trees, model.grid.node_ids
    found = []
    for sources in groups:
        if len({trees[source].group for source in sources}) > 1:
            found.append(sorted(node_ids[source] for source in sources))
    return [
        TraceWarning(
            code=PARALLEL_SOURCES,
            message=messages.PARALLEL_SOURCES.format(sources="、".join(sources)),
            elements=sources,
        )
        for sources in sorted(found)
    ]
