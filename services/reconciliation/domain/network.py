"""A snapshot of the network model, traced as the topology service traces it.

Reconciliation judges the model against the meters, so it needs the model's own answer to
"who loses supply when these devices are operated", and the same answer again for the model
with a candidate fix applied. It keeps a copy of the model (the CSV bundle topology exports)
and traces it with the topology tracer's semantics:

* a node is *supplied* when it is connected to a ``source`` node through closed devices;
* an outage applies its operations, in order, to every device's normal state;
* a customer is *affected* (loses supply) when its node is supplied in the normal state and
  not once the operations are applied. Closing a tie can keep it supplied.

Connectivity is one breadth-first search from a virtual vertex joined to every source, done
by igraph over the closed devices, so a trace costs what the network costs, a few milliseconds
at city scale (the model of a city holds tens of thousands of nodes; customers only hang on
them).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from functools import cached_property
from itertools import repeat

import igraph

SOURCE_KIND = "source"
# What :class:`Network` works out from its devices alone, shared by variants that move accounts.
_DEVICE_DERIVED = (
    "ends",
    "sources",
    "incident",
    "tree",
    "section_of",
    "_graph",
    "normally_open",
    "normally_supplied",
)
# Devices a crew can open and close. Lines and transformers are never operated, so nodes joined
# by them always share their supply: they form one section.
SWITCHABLE_KINDS = frozenset({"switch", "breaker", "fuse", "disconnector"})


class Supply(IntEnum):
    """A node's supply during an outage, as the model predicts it."""

    DARK = 0  # not supplied even in the normal state
    ON = 1  # supplied during the outage
    LOST = 2  # supplied in the normal state, not during the outage


@dataclass(frozen=True)
class Device:
    device_id: str
    kind: str
    from_node: str
    to_node: str
    closed: bool
    name: str = ""


@dataclass(frozen=True)
class Operation:
    device_id: str
    action: str  # "open" | "close"


@dataclass(frozen=True)
class Trace:
    """Each node's supply during one outage; index by vertex number of the traced network."""

    states: bytes

    def state(self, vertex: int) -> Supply:
        return Supply(self.states[vertex])

    @cached_property
    def lost(self) -> frozenset[int]:
        return frozenset(v for v, s in enumerate(self.states) if s == Supply.LOST)


@dataclass(frozen=True)
class SupplyTree:
    """Who supplies whom in the normal state: a breadth-first forest from the sources.

    ``parent_edge[v]`` is the device joining ``v`` to the node it is fed from (-1 for a
    source or an unsupplied node); ``root[v]`` the source feeding it (-1 when unsupplied).
    """

    parent_edge: list[int]
    parent: list[int]
    root: list[int]
    order: list[int]  # supplied vertices, parents before children

    @cached_property
    def children(self) -> dict[int, list[int]]:
        out: dict[int, list[int]] = {}
        for vertex in self.order:
            up = self.parent[vertex]
            if up >= 0:
                out.setdefault(up, []).append(vertex)
        return out

    def subtree(self, top: int) -> list[int]:
        """``top`` and every vertex fed through it."""
        children = self.children
        out, stack = [], [top]
        while stack:
            vertex = stack.pop()
            out.append(vertex)
            stack.extend(children.get(vertex, ()))
        return out

    def path_up(self, vertex: int) -> list[int]:
        """The devices from ``vertex`` up to its source, nearest first."""
        edges = []
        while self.parent[vertex] >= 0:
            edges.append(self.parent_edge[vertex])
            vertex = self.parent[vertex]
        return edges


@dataclass
class Network:
    """An immutable network model: nodes, devices, and the node each account is connected at.

    Build it with :meth:`build`; :meth:`with_devices` and :meth:`with_accounts` give variants
    that share everything they do not change.
    """

    version: int | None
    node_ids: list[str]
    node_kinds: list[str]
    node_names: list[str]
    devices: list[Device]
    account_vertex: Mapping[str, int]
    node_index: dict[str, int] = field(init=False)
    device_index: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        self.node_index = {node_id: v for v, node_id in enumerate(self.node_ids)}
        self.device_index = {d.device_id: e for e, d in enumerate(self.devices)}

    @classmethod
    def build(
        cls,
        nodes: Iterable[tuple[str, str, str]],
        devices: Iterable[Device],
        customers: Iterable[tuple[str, str]],
        *,
        version: int | None = None,
    ) -> Network:
        """From ``(node_id, kind, name)``, devices and ``(account_id, node_id)`` rows.

        Devices and customers naming an unknown node are left out: topology exports only what
        its model holds, and a partial snapshot must still be usable.
        """
        ordered = sorted(nodes)
        node_ids = [n[0] for n in ordered]
        index = {node_id: v for v, node_id in enumerate(node_ids)}
        kept = [d for d in devices if d.from_node in index and d.to_node in index]
        kept.sort(key=lambda d: d.device_id)
        accounts = {a: index[n] for a, n in customers if n in index}
        return cls(
            version,
            node_ids,
            [n[1] for n in ordered],
            [n[2] for n in ordered],
            kept,
            accounts,
        )

    # --- variants ------------------------------------------------------------------------------

    def with_devices(self, devices: Sequence[Device]) -> Network:
        return Network(
            self.version,
            self.node_ids,
            self.node_kinds,
            self.node_names,
            list(devices),
            self.account_vertex,
        )

    def with_accounts(self, moves: Mapping[str, int]) -> Network:
        """The accounts in ``moves`` connected at other vertices."""
        accounts = dict(self.account_vertex)
        accounts.update(moves)
        moved = Network(
            self.version, self.node_ids, self.node_kinds, self.node_names, self.devices, accounts
        )
        # Nothing about the devices changed: share what was worked out from them.
        for name in _DEVICE_DERIVED:
            if name in self.__dict__:
                moved.__dict__[name] = self.__dict__[name]
        return moved

    # --- structure -----------------------------------------------------------------------------

    @property
    def vertex_count(self) -> int:
        return len(self.node_ids)

    @cached_property
    def ends(self) -> list[tuple[int, int]]:
        index = self.node_index
        return [(index[d.from_node], index[d.to_node]) for d in self.devices]

    @cached_property
    def sources(self) -> list[int]:
        return [v for v, kind in enumerate(self.node_kinds) if kind == SOURCE_KIND]

    @cached_property
    def incident(self) -> list[list[int]]:
        """The devices at each vertex, whatever their state."""
        out: list[list[int]] = [[] for _ in self.node_ids]
        for edge, (a, b) in enumerate(self.ends):
            out[a].append(edge)
            out[b].append(edge)
        return out

    @cached_property
    def vertex_accounts(self) -> dict[int, list[str]]:
        out: dict[int, list[str]] = {}
        for account, vertex in self.account_vertex.items():
            out.setdefault(vertex, []).append(account)
        for accounts in out.values():
            accounts.sort()
        return out

    def other_end(self, edge: int, vertex: int) -> int:
        a, b = self.ends[edge]
        return b if a == vertex else a

    @cached_property
    def tree(self) -> SupplyTree:
        """The normal-state supply forest (breadth first, so ties between feeders stay open)."""
        n = self.vertex_count
        parent_edge, parent, root = [-1] * n, [-1] * n, [-1] * n
        order: list[int] = []
        queue: deque[int] = deque()
        for source in self.sources:
            if root[source] < 0:
                root[source] = source
                queue.append(source)
        ends, devices, incident = self.ends, self.devices, self.incident
        while queue:
            vertex = queue.popleft()
            order.append(vertex)
            for edge in incident[vertex]:
                if not devices[edge].closed:
                    continue
                a, b = ends[edge]
                other = b if a == vertex else a
                if root[other] < 0:
                    root[other] = root[vertex]
                    parent[other] = vertex
                    parent_edge[other] = edge
                    queue.append(other)
        return SupplyTree(parent_edge, parent, root, order)

    @cached_property
    def section_of(self) -> list[int]:
        """The section of each vertex: the lowest vertex it shares its supply with for good,
        joined to it by lines and transformers only (no device a crew could open)."""
        link = list(range(self.vertex_count))

        def find(v: int) -> int:
            while link[v] != v:
                link[v] = link[link[v]]
                v = link[v]
            return v

        for device, (a, b) in zip(self.devices, self.ends, strict=True):
            if device.kind not in SWITCHABLE_KINDS and device.closed:
                ra, rb = find(a), find(b)
                if ra != rb:
                    link[max(ra, rb)] = min(ra, rb)
        return [find(v) for v in range(self.vertex_count)]

    def hops(self, start: int, limit: int) -> dict[int, int]:
        """Vertices within ``limit`` devices of ``start`` (any state), with their distance."""
        seen = {start: 0}
        frontier = [start]
        incident, ends = self.incident, self.ends
        for distance in range(1, limit + 1):
            nxt = []
            for vertex in frontier:
                for edge in incident[vertex]:
                    a, b = ends[edge]
                    other = b if a == vertex else a
                    if other not in seen:
                        seen[other] = distance
                        nxt.append(other)
            frontier = nxt
            if not frontier:
                break
        return seen

    # --- tracing -------------------------------------------------------------------------------

    @cached_property
    def _graph(self) -> igraph.GraphBase:
        """Every device as an edge (edge number = device number), plus a virtual vertex after
        the last node joined to every source. The C-level graph: ``igraph.Graph`` adds nothing
        used here and costs an import attempt on every copy."""
        n = self.vertex_count
        return igraph.GraphBase(n + 1, [*self.ends, *((n, s) for s in self.sources)])

    def supplied(
        self, open_edges: Iterable[int], extra: Sequence[tuple[int, int]] = ()
    ) -> bytearray:
        """1 for every vertex connected to a source when the devices ``open_edges`` are open,
        every other device is closed, and the closed connections ``extra`` are added."""
        n = self.vertex_count
        graph = self._graph.copy()
        graph.delete_edges(sorted(set(open_edges)))
        if extra:
            graph.add_edges(extra)
        out = bytearray(n + 1)
        deque(map(out.__setitem__, graph.subcomponent(n), repeat(1)), maxlen=0)
        del out[n]
        return out

    @cached_property
    def normally_open(self) -> frozenset[int]:
        return frozenset(e for e, d in enumerate(self.devices) if not d.closed)

    @cached_property
    def normally_supplied(self) -> bytearray:
        return self.supplied(self.normally_open)

    def opened_by(
        self, operations: Sequence[Operation], normal_open: frozenset[int] | None = None
    ) -> set[int]:
        """The devices open once ``operations`` are applied in order to the normal state (or to
        ``normal_open``); operations on devices the model lacks are skipped."""
        opened = set(self.normally_open if normal_open is None else normal_open)
        for operation in operations:
            edge = self.device_index.get(operation.device_id)
            if edge is not None:
                if operation.action == "close":
                    opened.discard(edge)
                else:
                    opened.add(edge)
        return opened

    def normal_supply(
        self, flipped: frozenset[int] = frozenset(), extra: Sequence[tuple[int, int]] = ()
    ) -> bytearray:
        """Who is supplied in the normal state with ``flipped`` devices in their other state and
        the closed connections ``extra`` added (a candidate fix, without building it)."""
        if not flipped and not extra:
            return self.normally_supplied
        return self.supplied(self.normally_open ^ flipped, extra)

    def trace(
        self,
        operations: Sequence[Operation],
        *,
        flipped: frozenset[int] = frozenset(),
        extra: Sequence[tuple[int, int]] = (),
        normal: bytearray | None = None,
    ) -> Trace:
        """Each node's supply during ``operations``, on the model or with a candidate fix
        (``flipped``, ``extra`` as in :meth:`normal_supply`, whose result ``normal`` may be
        passed when tracing many outages against the same fix)."""
        if normal is None:
            normal = self.normal_supply(flipped, extra)
        normal_open = self.normally_open ^ flipped if flipped else self.normally_open
        during = self.supplied(self.opened_by(operations, normal_open), extra)
        return Trace(_combine(normal, during))

    def affected_accounts(self, operations: Sequence[Operation]) -> set[str]:
        """The accounts the model says lose supply: what topology's trace would list."""
        lost = self.trace(operations).lost
        return {a for a, v in self.account_vertex.items() if v in lost}

    def feeders_of(self, vertices: Iterable[int]) -> set[str]:
        """Source node ids that feed ``vertices`` in the normal state."""
        root = self.tree.root
        return {self.node_ids[root[v]] for v in vertices if root[v] >= 0}

    def neighbour_feeders(self, feeders: Iterable[str]) -> set[str]:
        """``feeders`` and those joined to them by a normally-open device (a tie)."""
        root = self.tree.root
        wanted = {self.node_index[f] for f in feeders if f in self.node_index}
        out = set(wanted)
        for device, (a, b) in zip(self.devices, self.ends, strict=True):
            if device.closed or root[a] < 0 or root[b] < 0:
                continue
            if root[a] in wanted:
                out.add(root[b])
            if root[b] in wanted:
                out.add(root[a])
        return {self.node_ids[v] for v in out}


# normal + 2 * during, per vertex: 0 dark, 1 lost, 2 and 3 on.
_STATE_OF = bytes([Supply.DARK, Supply.LOST, Supply.ON, Supply.ON]) + bytes(252)


def _combine(normal: bytearray, during: bytearray) -> bytes:
    """Each vertex's :class:`Supply` from its normal and its during-outage supply (0/1 bytes),
    computed on whole byte strings: a trace at city scale is called thousands of times."""
    n = len(normal)
    if n == 0:
        return b""
    summed = int.from_bytes(normal, "big") + 2 * int.from_bytes(during, "big")
    return summed.to_bytes(n, "big").translate(_STATE_OF)
