"""The network model in memory: nodes as graph vertices, devices as edges, customers at nodes.

A city has millions of nodes and devices, so the model keeps flat arrays indexed by vertex and
edge number rather than an object per element: only sources and transformer areas keep their
names, which is all a trace reports. Vertices and edges are numbered in id order, so a model
built from an import and one loaded from the database number them alike, and every replica
breaks ties in a meshed network the same way.
"""

from __future__ import annotations

from array import array
from collections import Counter
from dataclasses import dataclass
from functools import cached_property

import igraph

from services.topology.domain import messages
from shared.events import FeederScope

SOURCE_KIND = "source"
TRANSFORMER_AREA_KIND = "transformer_lv"

_OTHER, _SOURCE, _TRANSFORMER_AREA = 0, 1, 2
_ROLES = {SOURCE_KIND: _SOURCE, TRANSFORMER_AREA_KIND: _TRANSFORMER_AREA}


class RowRejected(ValueError):
    """A row that contradicts the rows before it: a duplicate id or an unknown node."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class NormalSupply:
    """Who each source supplies with every device in its normal state."""

    feeders: list[FeederScope]
    unsupplied_customers: int


class NetworkModel:
    """An immutable network: topology, normal device states and where customers connect."""

    def __init__(
        self,
        *,
        version: int,
        node_ids: list[str],
        roles: bytes,
        names: dict[int, str],
        device_ids: list[str],
        ends: array[int],
        normally_closed: bytes,
        customer_start: array[int],
        accounts: list[str],
    ) -> None:
        self.version = version
        self._node_ids = node_ids
        self._roles = roles
        self._names = names
        self._device_ids = device_ids
        self._device_index = {device_id: e for e, device_id in enumerate(device_ids)}
        self._ends = ends
        self._normally_closed = normally_closed
        self._customer_start = customer_start
        self._accounts = accounts
        self.sources = tuple(v for v, role in enumerate(roles) if role == _SOURCE)
        self._graph = igraph.Graph(
            n=len(node_ids), edges=list(zip(ends[0::2], ends[1::2], strict=True))
        )

    @classmethod
    def empty(cls) -> NetworkModel:
        """The model before the first import (version 0)."""
        return NetworkBuilder().build(version=0)

    @property
    def node_count(self) -> int:
        return len(self._node_ids)

    @property
    def device_count(self) -> int:
        return len(self._device_ids)

    @property
    def customer_count(self) -> int:
        return len(self._accounts)

    @property
    def normally_open_count(self) -> int:
        return self._normally_closed.count(0)

    def device_position(self, device_id: str) -> int | None:
        """The edge number of a device, None if the model has no such device."""
        return self._device_index.get(device_id)

    def device_id(self, edge: int) -> str:
        return self._device_ids[edge]

    def node_id(self, vertex: int) -> str:
        return self._node_ids[vertex]

    def display_name(self, vertex: int) -> str:
        """The name of a source or transformer area, or its id when it has none."""
        return self._names.get(vertex) or self._node_ids[vertex]

    def is_source(self, vertex: int) -> bool:
        return self._roles[vertex] == _SOURCE

    def is_transformer_area(self, vertex: int) -> bool:
        return self._roles[vertex] == _TRANSFORMER_AREA

    def is_normally_closed(self, edge: int) -> bool:
        return bool(self._normally_closed[edge])

    def endpoints(self, edge: int) -> tuple[int, int]:
        return self._ends[2 * edge], self._ends[2 * edge + 1]

    def other_end(self, edge: int, vertex: int) -> int:
        first = self._ends[2 * edge]
        return self._ends[2 * edge + 1] if first == vertex else first

    def incident(self, vertex: int) -> list[int]:
        """The devices connected to a node, whatever their state."""
        edges: list[int] = self._graph.incident(vertex)
        return edges

    def accounts_at(self, vertex: int) -> list[str]:
        return self._accounts[self._customer_start[vertex] : self._customer_start[vertex + 1]]

    @cached_property
    def normal_supply(self) -> NormalSupply:
        """Customers per source with every device in its normal state (whole network).

        Sources that the normal state already connects (a meshed or mis-modelled feeder) share
        one group of customers, and each reports the whole group.
        """
        closed_edges = [e for e, closed in enumerate(self._normally_closed) if closed]
        normal = self._graph.subgraph_edges(closed_edges, delete_vertices=False)
        membership: list[int] = normal.connected_components().membership
        customers_in: Counter[int] = Counter()
        start = self._customer_start
        for vertex, group in enumerate(membership):
            count = start[vertex + 1] - start[vertex]
            if count:
                customers_in[group] += count
        fed_groups = {membership[source] for source in self.sources}
        supplied = sum(customers_in[group] for group in fed_groups)
        feeders = [
            FeederScope(
                source_node=self._node_ids[source],
                name=self.display_name(source),
                customers=customers_in[membership[source]],
            )
            for source in self.sources
        ]
        return NormalSupply(feeders=feeders, unsupplied_customers=self.customer_count - supplied)


class NetworkBuilder:
    """Collects nodes, then devices, then customers, and builds the :class:`NetworkModel`.

    It refuses what would make the model ambiguous (a duplicate id, a device or customer on an
    unknown node) with :class:`RowRejected`, so an import can name the row at fault.
    """

    def __init__(self) -> None:
        self._node_index: dict[str, int] = {}
        self._node_ids: list[str] = []
        self._roles = bytearray()
        self._names: dict[int, str] = {}
        self._device_index: dict[str, int] = {}
        self._device_ids: list[str] = []
        self._ends: array[int] = array("i")
        self._normally_closed = bytearray()
        self._account_ids: set[str] = set()
        self._accounts: list[str] = []
        self._customer_vertex: array[int] = array("i")

    @property
    def node_count(self) -> int:
        return len(self._node_ids)

    @property
    def device_count(self) -> int:
        return len(self._device_ids)

    @property
    def customer_count(self) -> int:
        return len(self._accounts)

    def add_node(self, node_id: str, kind: str, name: str) -> None:
        if node_id in self._node_index:
            raise RowRejected("node_id", messages.DUPLICATE_ID.format(value=node_id))
        vertex = len(self._node_ids)
        self._node_index[node_id] = vertex
        self._node_ids.append(node_id)
        role = _ROLES.get(kind, _OTHER)
        self._roles.append(role)
        if role != _OTHER and name:
            self._names[vertex] = name

    def add_device(
        self, device_id: str, from_node: str, to_node: str, *, normally_closed: bool
    ) -> None:
        if device_id in self._device_index:
            raise RowRejected("device_id", messages.DUPLICATE_ID.format(value=device_id))
        start = self._vertex("from_node", from_node)
        end = self._vertex("to_node", to_node)
        if start == end:
            raise RowRejected("to_node", messages.SAME_NODE_TWICE.format(value=to_node))
        self._device_index[device_id] = len(self._device_ids)
        self._device_ids.append(device_id)
        self._ends.extend((start, end))
        self._normally_closed.append(1 if normally_closed else 0)

    def add_customer(self, account_id: str, node_id: str) -> None:
        if account_id in self._account_ids:
            raise RowRejected("account_id", messages.DUPLICATE_ID.format(value=account_id))
        vertex = self._vertex("node_id", node_id)
        self._account_ids.add(account_id)
        self._accounts.append(account_id)
        self._customer_vertex.append(vertex)

    def _vertex(self, field: str, node_id: str) -> int:
        vertex = self._node_index.get(node_id)
        if vertex is None:
            raise RowRejected(field, messages.UNKNOWN_NODE.format(value=node_id))
        return vertex

    def build(self, version: int) -> NetworkModel:
        """Renumber everything in id order and freeze it into a model of ``version``."""
        node_ids = self._node_ids
        node_order = sorted(range(len(node_ids)), key=node_ids.__getitem__)
        renumbered = array("i", bytes(4 * len(node_ids)))
        for new, old in enumerate(node_order):
            renumbered[old] = new

        device_ids = self._device_ids
        device_order = sorted(range(len(device_ids)), key=device_ids.__getitem__)
        ends: array[int] = array("i")
        for old in device_order:
            ends.extend((renumbered[self._ends[2 * old]], renumbered[self._ends[2 * old + 1]]))

        # Customers grouped by vertex (counting sort): vertex v's accounts are
        # accounts[start[v]:start[v + 1]].
        start: array[int] = array("i", bytes(4 * (len(node_ids) + 1)))
        vertices = [renumbered[old] for old in self._customer_vertex]
        for vertex in vertices:
            start[vertex + 1] += 1
        for vertex in range(len(node_ids)):
            start[vertex + 1] += start[vertex]
        slot = array("i", start)
        accounts = [""] * len(vertices)
        for account, vertex in zip(self._accounts, vertices, strict=True):
            accounts[slot[vertex]] = account
            slot[vertex] += 1

        return NetworkModel(
            version=version,
            node_ids=[node_ids[old] for old in node_order],
            roles=bytes(self._roles[old] for old in node_order),
            names={renumbered[old]: name for old, name in self._names.items()},
            device_ids=[device_ids[old] for old in device_order],
            ends=ends,
            normally_closed=bytes(self._normally_closed[old] for old in device_order),
            customer_start=start,
            accounts=accounts,
        )
