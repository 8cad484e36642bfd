"""Random planned outages on a generated city, and the whole-graph networkx trace they are
checked against.

A plan opens 1–3 normally-closed switching devices (sectionalising and ring-main-unit
switches, branch fuses and disconnectors, feeder breakers) on one feeder, and some plans also
close a tie of that feeder to transfer load (转供). Plans are drawn from ``random.Random(seed)``
and the model's elements, so the same network and seed give the same plans.

The baseline is what one writes without the supply forest: apply the end state to the whole
graph, find what the sources reach (networkx connected components over the whole city), and
call affected every customer supplied before and not after. Its normal-state supply is worked
out once and not charged to the traces.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from random import Random

import networkx as nx

from services.topology.domain.network import NetworkModel
from shared.events import Operation

SWITCHING_KINDS = ("switch", "breaker", "fuse", "disconnector")
TIE_SHARE = 0.3


@dataclass(frozen=True)
class Plan:
    operations: list[Operation]
    closes_tie: bool


def random_plans(model: NetworkModel, count: int, seed: int) -> list[Plan]:
    """``count`` plans on ``model``: 1–3 opened switching devices of one feeder, and in about
    a third of them a tie of that feeder closed first."""
    rng = Random(seed)
    grid, forest = model.grid, model.forest
    by_feeder: dict[int, list[int]] = {}
    for edge in range(grid.edge_count):
        if grid.present[edge] and grid.closed[edge] and grid.device_kinds[edge] in SWITCHING_KINDS:
            root = forest.tree_of[grid.endpoints(edge)[0]]
            if forest.trees[root].sourced:
                by_feeder.setdefault(root, []).append(edge)
    feeders = sorted(by_feeder)
    plans = []
    for _ in range(count):
        root = rng.choice(feeders)
        opened = rng.sample(by_feeder[root], min(rng.randint(1, 3), len(by_feeder[root])))
        operations = []
        ties = sorted(
            {
                edge
                for edges in forest.trees[root].nontree.values()
                for edge in edges
                if not grid.closed[edge]
            }
        )
        closes_tie = bool(ties) and rng.random() < TIE_SHARE
        if closes_tie:
            operations.append(
                Operation(device_id=grid.device_ids[rng.choice(ties)], action="close")
            )
        operations += [Operation(device_id=grid.device_ids[e], action="open") for e in opened]
        plans.append(Plan(operations, closes_tie))
    return plans


class NetworkxTrace:
    """The whole-graph trace: a networkx multigraph of the bundle, the normal-state supply
    computed once, and per plan the components of the whole end-state graph."""

    def __init__(self, bundle: Path) -> None:
        self.graph = nx.MultiGraph()
        self.sources: list[str] = []
        self.closed: dict[str, bool] = {}
        self.ends: dict[str, tuple[str, str]] = {}
        self.customers: dict[str, list[str]] = {}
        for row in _rows(bundle / "nodes.csv"):
            self.graph.add_node(row["node_id"])
            if row["kind"] == "source":
                self.sources.append(row["node_id"])
        for row in _rows(bundle / "devices.csv"):
            device = row["device_id"]
            self.ends[device] = (row["from_node"], row["to_node"])
            self.closed[device] = row["normal_state"] == "closed"
            self.graph.add_edge(row["from_node"], row["to_node"], key=device)
        for row in _rows(bundle / "customers.csv"):
            self.customers.setdefault(row["node_id"], []).append(row["account_id"])
        self.before = self._supplied(self.closed)

    def _supplied(self, closed: dict[str, bool]) -> set[str]:
        view = nx.subgraph_view(self.graph, filter_edge=lambda _a, _b, key: closed[key])
        supplied: set[str] = set()
        sources = set(self.sources)
        for component in nx.connected_components(view):
            if not sources.isdisjoint(component):
                supplied |= component
        return supplied

    def affected(self, operations: list[Operation]) -> set[str]:
        end = dict(self.closed)
        for operation in operations:
            end[operation.device_id] = operation.action == "close"
        after = self._supplied(end)
        return {account for node in self.before - after for account in self.customers.get(node, ())}


def _rows(path: Path) -> Iterator[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as file:
        yield from csv.DictReader(file)
