"""The elements of a network model: nodes as graph vertices, devices as graph edges.

A city has hundreds of thousands of nodes and devices, so they live in flat lists and arrays
indexed by vertex and edge number rather than in an object each. The adjacency is an igraph
graph. A removed device keeps its edge number (igraph renumbers edges on deletion) and is only
marked absent, so numbers handed out stay valid for the life of the process.

A grid is never changed once a model holds it: a change batch works on :meth:`Grid.copy`.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable
from typing import Any

import igraph

SOURCE_KIND = "source"
TRANSFORMER_AREA_KIND = "transformer_lv"
NORMAL_STATES = ("closed", "open")

_OTHER, _SOURCE, _TRANSFORMER_AREA = 0, 1, 2
_ROLES = {SOURCE_KIND: _SOURCE, TRANSFORMER_AREA_KIND: _TRANSFORMER_AREA}


class Grid:
    """Nodes and devices: ids, kinds, names, device ends and normal states, and adjacency.

    ``id_ordered`` holds while vertex and edge numbers follow the ids (a grid built from a
    whole bundle). Searches that must break ties the same way on every replica compare
    numbers then, and ids once a change batch has appended elements out of order.
    """

    def __init__(
        self,
        *,
        node_ids: list[str],
        node_kinds: list[str],
        node_names: list[str],
        device_ids: list[str],
        device_kinds: list[str],
        device_names: list[str],
        ends: array[int],
        closed: bytearray,
        present: bytearray,
        graph: igraph.Graph | None = None,
        id_ordered: bool = True,
    ) -> None:
        self.node_ids = node_ids
        self.node_kinds = node_kinds
        self.node_names = node_names
        self.node_index = {node_id: v for v, node_id in enumerate(node_ids)}
        self.roles = bytearray(_ROLES.get(kind, _OTHER) for kind in node_kinds)
        self.device_ids = device_ids
        self.device_kinds = device_kinds
        self.device_names = device_names
        self.device_index = {device_id: e for e, device_id in enumerate(device_ids) if present[e]}
        self.ends = ends
        self.closed = closed
        self.present = present
        self.graph = graph or igraph.Graph(
            n=len(node_ids), edges=list(zip(ends[0::2], ends[1::2], strict=True))
        )
        self.id_ordered = id_ordered
        self._pending_vertices = 0
        self._pending_edges: list[tuple[int, int]] = []

    # --- reading -------------------------------------------------------------------------

    @property
    def vertex_count(self) -> int:
        return len(self.node_ids)

    @property
    def edge_count(self) -> int:
        return len(self.device_ids)

    @property
    def device_count(self) -> int:
        """Devices present in the model (removed ones excluded)."""
        return len(self.device_index)

    @property
    def normally_open_count(self) -> int:
        return sum(1 for e in self.device_index.values() if not self.closed[e])

    def is_source(self, vertex: int) -> bool:
        return self.roles[vertex] == _SOURCE

    def is_transformer_area(self, vertex: int) -> bool:
        return self.roles[vertex] == _TRANSFORMER_AREA

    def endpoints(self, edge: int) -> tuple[int, int]:
        return self.ends[2 * edge], self.ends[2 * edge + 1]

    def other_end(self, edge: int, vertex: int) -> int:
        first = self.ends[2 * edge]
        return self.ends[2 * edge + 1] if first == vertex else first

    def incident(self, vertex: int) -> list[int]:
        """The devices present at a node, whatever their state."""
        present = self.present
        return [e for e in self.graph.incident(vertex) if present[e]]

    def display_name(self, vertex: int) -> str:
        return self.node_names[vertex] or self.node_ids[vertex]

    def state(self, edge: int) -> str:
        return "closed" if self.closed[edge] else "open"

    def vertex_key(self) -> Callable[[int], Any]:
        """Orders vertices by node id; plain numbers do while they follow the ids."""
        return _identity if self.id_ordered else self.node_ids.__getitem__

    def edge_key(self) -> Callable[[int], Any]:
        return _identity if self.id_ordered else self.device_ids.__getitem__

    def device_record(self, edge: int) -> dict[str, str]:
        """A device as the devices table holds it."""
        start, end = self.endpoints(edge)
        return {
            "kind": self.device_kinds[edge],
            "from_node": self.node_ids[start],
            "to_node": self.node_ids[end],
            "normal_state": self.state(edge),
            "name": self.device_names[edge],
        }

    # --- building a changed copy ----------------------------------------------------------

    def copy(self) -> Grid:
        """A copy to change; the graph is shared until :meth:`seal` adds to it."""
        twin = Grid.__new__(Grid)
        twin.node_ids = list(self.node_ids)
        twin.node_kinds = list(self.node_kinds)
        twin.node_names = list(self.node_names)
        twin.node_index = dict(self.node_index)
        twin.roles = bytearray(self.roles)
        twin.device_ids = list(self.device_ids)
        twin.device_kinds = list(self.device_kinds)
        twin.device_names = list(self.device_names)
        twin.device_index = dict(self.device_index)
        twin.ends = array("i", self.ends)
        twin.closed = bytearray(self.closed)
        twin.present = bytearray(self.present)
        twin.graph = self.graph
        twin.id_ordered = self.id_ordered
        twin._pending_vertices = 0
        twin._pending_edges = []
        return twin

    def add_node(self, node_id: str, kind: str, name: str) -> int:
        vertex = len(self.node_ids)
        self.node_ids.append(node_id)
        self.node_kinds.append(kind)
        self.node_names.append(name)
        self.node_index[node_id] = vertex
        self.roles.append(_ROLES.get(kind, _OTHER))
        self._pending_vertices += 1
        self.id_ordered = False
        return vertex

    def add_device(
        self, device_id: str, kind: str, start: int, end: int, *, closed: bool, name: str
    ) -> int:
        edge = len(self.device_ids)
        self.device_ids.append(device_id)
        self.device_kinds.append(kind)
        self.device_names.append(name)
        self.device_index[device_id] = edge
        self.ends.extend((start, end))
        self.closed.append(1 if closed else 0)
        self.present.append(1)
        self._pending_edges.append((start, end))
        self.id_ordered = False
        return edge

    def remove_device(self, edge: int) -> None:
        self.present[edge] = 0
        del self.device_index[self.device_ids[edge]]

    def seal(self) -> None:
        """Add the new nodes and devices to a copy of the graph, in one pass over it."""
        if not self._pending_vertices and not self._pending_edges:
            return
        graph = self.graph.copy()
        if self._pending_vertices:
            graph.add_vertices(self._pending_vertices)
        if self._pending_edges:
            graph.add_edges(self._pending_edges)
        self.graph = graph
        self._pending_vertices = 0
        self._pending_edges = []


def _identity(value: int) -> int:
    return value


def closed_neighbours(grid: Grid, vertex: int) -> Iterable[tuple[int, int]]:
    """``(edge, other vertex)`` for each present closed device at ``vertex``."""
    closed, present, ends = grid.closed, grid.present, grid.ends
    for edge in grid.graph.incident(vertex):
        if present[edge] and closed[edge]:
            first = ends[2 * edge]
            yield edge, ends[2 * edge + 1] if first == vertex else first
