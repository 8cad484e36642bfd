"""The back-office check of the network model, run on demand and before every trace.

Each finding names the elements at fault and the supply trees (feeders, or islands) it
concerns, so that the findings on the feeders an outage touches travel with its trace as
warnings for the reviewer. What a tree holds by itself (duplicate names, transformers without
customers, loops, the extent of an island) is worked out once per tree and kept with it; what
depends on other trees or on the date is worked out when asked.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from services.topology.domain import messages
from services.topology.domain.network import NetworkModel
from services.topology.domain.supply import Tree
from shared.events import TraceWarning

ISLAND = "island"
SOURCES_PARALLELED = "sources_paralleled"
CLOSED_LOOP = "closed_loop"
MISSING_NODE = "missing_node"
DUPLICATE_NAME = "duplicate_name"
EMPTY_TRANSFORMER = "empty_transformer"
BUSY_BRANCH_CHANGED = "busy_branch_changed"
FindingCode = Literal[
    "island",
    "sources_paralleled",
    "closed_loop",
    "missing_node",
    "duplicate_name",
    "empty_transformer",
    "busy_branch_changed",
]


@dataclass(frozen=True)
class CheckPolicy:
    """Thresholds of the checks (from the service settings)."""

    busy_branch_customers: int = 500
    recent_change_days: int = 30
    listed_elements: int = 20


@dataclass(frozen=True)
class Finding:
    """Something in the model that does not look like the field, and the feeders (source
    node ids) it concerns."""

    code: str
    message: str
    elements: tuple[str, ...]
    feeders: tuple[str, ...]

    def warning(self) -> TraceWarning:
        return TraceWarning(code=self.code, message=self.message, elements=list(self.elements))


def findings(
    model: NetworkModel,
    policy: CheckPolicy,
    now: datetime,
    scope: Iterable[int] | None = None,
) -> list[Finding]:
    """The findings on the trees in ``scope`` (root vertices), or on the whole model.

    A scope also takes in the islands next to it and the trees its trees are paralleled
    with, since those concern the customers it supplies.
    """
    trees = model.forest.trees
    roots = sorted(trees) if scope is None else sorted(set(scope) & trees.keys())
    wanted = set(roots)
    found: list[Finding] = []
    islands: set[int] = set()
    for root in roots:
        tree = trees[root]
        found.extend(_own_findings(model, tree, policy))
        if tree.sourced:
            islands.update(
                other
                for other in _neighbour_trees(model, tree, closed=False)
                if not trees[other].sourced
            )
        else:
            islands.add(root)
    for root in sorted(islands - wanted) if scope is not None else ():
        found.extend(_own_findings(model, trees[root], policy))
    for root in sorted(islands | {r for r in roots if not trees[r].sourced}):
        found.append(_island(model, trees[root], policy))
    found.extend(_paralleled(model, roots, policy))
    found.extend(_missing_nodes(model, wanted if scope is not None else None, policy))
    found.extend(_busy_branches(model, wanted if scope is not None else None, policy, now))
    return found


def scope_warnings(
    model: NetworkModel, scope: Iterable[int], policy: CheckPolicy, now: datetime
) -> list[TraceWarning]:
    """The findings on an outage's scope, as warnings for its reviewer."""
    return [finding.warning() for finding in findings(model, policy, now, scope)]


def _own_findings(model: NetworkModel, tree: Tree, policy: CheckPolicy) -> list[Finding]:
    cached = tree.findings
    if isinstance(cached, list):
        return cached
    found = [
        *_duplicate_names(model, tree, policy),
        *_empty_transformers(model, tree, policy),
        *_loops(model, tree, policy),
    ]
    tree.findings = found
    return found


def _feeders(model: NetworkModel, roots: Iterable[int]) -> tuple[str, ...]:
    trees, node_ids = model.forest.trees, model.grid.node_ids
    return tuple(sorted(node_ids[r] for r in roots if r in trees and trees[r].sourced))


def _listed(ids: Sequence[str], policy: CheckPolicy) -> tuple[tuple[str, ...], str]:
    """The first ids, and how the message names them (with a count when cut short)."""
    shown = tuple(ids[: policy.listed_elements])
    text = "、".join(shown)
    if len(ids) > len(shown):
        text = messages.AND_MORE.format(listed=text, total=len(ids))
    return shown, text


def _tree_name(model: NetworkModel, tree: Tree) -> str:
    return model.grid.display_name(tree.root)


def _duplicate_names(model: NetworkModel, tree: Tree, policy: CheckPolicy) -> list[Finding]:
    grid, forest = model.grid, model.forest
    by_node_name: dict[str, list[str]] = {}
    by_device_name: dict[str, list[str]] = {}
    devices: set[int] = set()
    for vertex in tree.order:
        name = grid.node_names[vertex]
        if name:
            by_node_name.setdefault(name, []).append(grid.node_ids[vertex])
        if forest.parent_edge[vertex] >= 0:
            devices.add(forest.parent_edge[vertex])
        devices.update(tree.nontree.get(vertex, ()))
    for edge in sorted(devices):
        name = grid.device_names[edge]
        if name:
            by_device_name.setdefault(name, []).append(grid.device_ids[edge])
    found = []
    for what, names in (("节点", by_node_name), ("设备", by_device_name)):
        for name, ids in sorted(names.items()):
            if len(ids) < 2:
                continue
            shown, text = _listed(sorted(ids), policy)
            found.append(
                Finding(
                    code=DUPLICATE_NAME,
                    message=messages.CHECK_DUPLICATE_NAME.format(
                        feeder=_tree_name(model, tree), what=what, name=name, ids=text
                    ),
                    elements=shown,
                    feeders=_feeders(model, (tree.root,)),
                )
            )
    return found


def _empty_transformers(model: NetworkModel, tree: Tree, policy: CheckPolicy) -> list[Finding]:
    grid, forest = model.grid, model.forest
    empty = [
        vertex
        for vertex in tree.order
        if grid.is_transformer_area(vertex) and forest.subtree_customers(vertex) == 0
    ]
    return [
        Finding(
            code=EMPTY_TRANSFORMER,
            message=messages.CHECK_EMPTY_TRANSFORMER.format(
                feeder=_tree_name(model, tree),
                node=grid.node_ids[vertex],
                name=grid.display_name(vertex),
            ),
            elements=(grid.node_ids[vertex],),
            feeders=_feeders(model, (tree.root,)),
        )
        for vertex in empty
    ]


def _loops(model: NetworkModel, tree: Tree, policy: CheckPolicy) -> list[Finding]:
    """Closed devices that close a loop inside one tree (a feeder run as a ring)."""
    grid, tree_of = model.grid, model.forest.tree_of
    chords = sorted(
        {
            edge
            for vertex, edges in tree.nontree.items()
            for edge in edges
            if grid.closed[edge] and tree_of[grid.other_end(edge, vertex)] == tree.root
        }
    )
    if not chords:
        return []
    shown, text = _listed([grid.device_ids[e] for e in chords], policy)
    return [
        Finding(
            code=CLOSED_LOOP,
            message=messages.CHECK_CLOSED_LOOP.format(feeder=_tree_name(model, tree), devices=text),
            elements=shown,
            feeders=_feeders(model, (tree.root,)),
        )
    ]


def _neighbour_trees(model: NetworkModel, tree: Tree, *, closed: bool) -> set[int]:
    """Other trees a device at this tree reaches: closed ones, or any."""
    grid, tree_of = model.grid, model.forest.tree_of
    found = set()
    for vertex, edges in tree.nontree.items():
        for edge in edges:
            if closed and not grid.closed[edge]:
                continue
            other = tree_of[grid.other_end(edge, vertex)]
            if other != tree.root:
                found.add(other)
    return found


def _island(model: NetworkModel, tree: Tree, policy: CheckPolicy) -> Finding:
    grid, trees = model.grid, model.forest.trees
    neighbours = {r for r in _neighbour_trees(model, tree, closed=False) if trees[r].sourced}
    shown, text = _listed([grid.node_ids[v] for v in tree.order], policy)
    next_to = "、".join(
        grid.display_name(r) for r in sorted(neighbours, key=grid.node_ids.__getitem__)
    )
    return Finding(
        code=ISLAND,
        message=messages.CHECK_ISLAND.format(
            nodes=text,
            customers=tree.customers,
            next_to=messages.CHECK_ISLAND_NEXT_TO.format(feeders=next_to) if next_to else "",
        ),
        elements=shown,
        feeders=_feeders(model, neighbours),
    )


def _paralleled(model: NetworkModel, roots: Sequence[int], policy: CheckPolicy) -> list[Finding]:
    """One finding per group of sources the normal state already parallels."""
    grid, trees = model.grid, model.forest.trees
    seen: set[int] = set()
    found = []
    for root in roots:
        tree = trees[root]
        if not tree.sourced or tree.group in seen:
            continue
        members, pending = {root}, [root]
        while pending:
            for other in _neighbour_trees(model, trees[pending.pop()], closed=True):
                if other not in members and trees[other].sourced:
                    members.add(other)
                    pending.append(other)
        seen.add(tree.group)
        if len(members) < 2:
            continue
        tree_of = model.forest.tree_of
        joining = sorted(
            {
                edge
                for member in members
                for vertex, edges in trees[member].nontree.items()
                for edge in edges
                if grid.closed[edge] and tree_of[grid.other_end(edge, vertex)] != member
            }
        )
        sources = sorted(grid.node_ids[m] for m in members)
        shown, devices = _listed([grid.device_ids[e] for e in joining], policy)
        found.append(
            Finding(
                code=SOURCES_PARALLELED,
                message=messages.CHECK_SOURCES_PARALLELED.format(
                    sources="、".join(sources), devices=devices
                ),
                elements=tuple(sources) + shown,
                feeders=_feeders(model, members),
            )
        )
    return found


def _missing_nodes(
    model: NetworkModel, wanted: set[int] | None, policy: CheckPolicy
) -> list[Finding]:
    """Stored devices and customers naming a node the model lacks.

    A device whose other end exists concerns that end's tree; a customer concerns no tree
    (its node is the missing one), so it is reported by the whole-model check only.
    """
    grid, tree_of = model.grid, model.forest.tree_of
    found = []
    for device_id, record in sorted(model.dangling.devices.items()):
        trees = frozenset(
            tree_of[grid.node_index[node]]
            for node in (record["from_node"], record["to_node"])
            if node in grid.node_index
        )
        if wanted is not None and not trees & wanted:
            continue
        missing = [n for n in (record["from_node"], record["to_node"]) if n not in grid.node_index]
        found.append(
            Finding(
                code=MISSING_NODE,
                message=messages.CHECK_DEVICE_MISSING_NODE.format(
                    device=device_id, nodes="、".join(missing)
                ),
                elements=(device_id, *missing),
                feeders=_feeders(model, trees),
            )
        )
    if wanted is None:
        for account, node in sorted(model.dangling.customers.items()):
            found.append(
                Finding(
                    code=MISSING_NODE,
                    message=messages.CHECK_CUSTOMER_MISSING_NODE.format(account=account, node=node),
                    elements=(account, node),
                    feeders=(),
                )
            )
    return found


def _busy_branches(
    model: NetworkModel, wanted: set[int] | None, policy: CheckPolicy, now: datetime
) -> list[Finding]:
    """Branch nodes carrying many customers whose node or devices changed recently: the
    places where a wrong change costs the most notices."""
    grid, forest = model.grid, model.forest
    since = now - timedelta(days=policy.recent_change_days)
    found = []
    for vertex, touch in sorted(model.touches.items()):
        if touch.at < since or vertex >= len(forest.tree_of):
            continue
        root = forest.tree_of[vertex]
        if wanted is not None and root not in wanted:
            continue
        customers = forest.subtree_customers(vertex)
        if customers < policy.busy_branch_customers or sum(1 for _ in forest.children(vertex)) < 2:
            continue
        found.append(
            Finding(
                code=BUSY_BRANCH_CHANGED,
                message=messages.CHECK_BUSY_BRANCH_CHANGED.format(
                    node=grid.node_ids[vertex],
                    name=grid.display_name(vertex),
                    customers=customers,
                    batch=touch.batch_id,
                ),
                elements=(grid.node_ids[vertex],),
                feeders=_feeders(model, (root,)),
            )
        )
    return found
