"""The network model of one version: its elements (:mod:`grid`), who supplies whom in the
normal state (:mod:`supply`), and how a change batch turns it into the next version.

A model never changes once built. :meth:`NetworkModel.with_changes` builds the next version
from this one, copying the element lists (cheap next to reading them again) and regrowing only
the supply trees the batch touched, so a change batch at city scale costs milliseconds and a
trace running against the old version is never disturbed.

Elements are numbered in id order when a model is built from a whole bundle, so a model built
from an import and one loaded from the database number them alike, and so does every replica.
"""

from __future__ import annotations

import bisect
from array import array
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from services.topology.domain import messages
from services.topology.domain.grid import Grid
from services.topology.domain.supply import SupplyForest, build_forest
from shared.events import FeederScope

Record = Mapping[str, Any]


class ChangeKind(StrEnum):
    """What a change does to one element; ``element_type`` says which table it lives in."""

    NODE_ADD = "node_add"
    NODE_RENAME = "node_rename"
    DEVICE_ADD = "device_add"
    DEVICE_REMOVE = "device_remove"
    DEVICE_STATE = "device_state"
    CUSTOMER_NEW = "customer_new"
    CUSTOMER_CLOSE = "customer_close"
    CUSTOMER_MOVE = "customer_move"

    @property
    def element_type(self) -> str:
        return self.value.split("_", 1)[0]


@dataclass(frozen=True)
class ElementChange:
    """One element before and after a change, as its table row holds it (None: absent).

    Node rows are ``{kind, name}``; device rows ``{kind, from_node, to_node, normal_state,
    name}``; customer rows ``{name, node_id, voltage_kv, category}``. The history keeps them,
    and a replica catching up on a batch applies them, so the two never disagree.
    """

    kind: ChangeKind
    element_id: str
    before: Record | None
    after: Record | None


@dataclass(frozen=True)
class Touch:
    """The last change batch that touched a node, or a device at it."""

    at: datetime
    batch_id: str


class RowRejected(ValueError):
    """A row that contradicts the rows before it: a duplicate id or an unknown node."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Dangling:
    """Stored devices and customers that name a node the model lacks, left out of the graph.

    An import never stores such rows, but a database edited by hand, or restored in part,
    can hold them; the model loads anyway and the checks report them. A change batch that
    adds the missing node brings them back in.
    """

    devices: Mapping[str, Record] = field(default_factory=dict)
    customers: Mapping[str, str] = field(default_factory=dict)  # account → missing node

    def __bool__(self) -> bool:
        return bool(self.devices or self.customers)


@dataclass(frozen=True)
class NormalSupply:
    """Who each source supplies with every device in its normal state."""

    feeders: list[FeederScope]
    unsupplied_customers: int


class NetworkModel:
    """An immutable network: elements, the normal-state supply forest, and what was left out."""

    def __init__(
        self,
        *,
        version: int,
        grid: Grid,
        forest: SupplyForest,
        dangling: Dangling | None = None,
        touches: Mapping[int, Touch] | None = None,
    ) -> None:
        self.version = version
        self.grid = grid
        self.forest = forest
        self.dangling = dangling or Dangling()
        self.touches: Mapping[int, Touch] = touches or {}
        self.customer_count = forest.customer_count

    @classmethod
    def empty(cls) -> NetworkModel:
        """The model before the first import (version 0)."""
        return NetworkBuilder().build(version=0)

    @property
    def node_count(self) -> int:
        return self.grid.vertex_count

    @property
    def device_count(self) -> int:
        return self.grid.device_count

    @property
    def normally_open_count(self) -> int:
        return self.grid.normally_open_count

    def device_position(self, device_id: str) -> int | None:
        """The edge number of a device, None if the model has no such device."""
        return self.grid.device_index.get(device_id)

    def node_position(self, node_id: str) -> int | None:
        return self.grid.node_index.get(node_id)

    def accounts_at(self, vertex: int) -> list[str]:
        return self.forest.accounts_at(vertex)

    def feeder_of(self, vertex: int) -> int | None:
        """The source that supplies the vertex in the normal state, None on an island."""
        tree = self.forest.tree(vertex)
        return tree.root if tree.sourced else None

    @property
    def normal_supply(self) -> NormalSupply:
        """Customers per source with every device in its normal state.

        Sources that the normal state already parallels split their customers by which one
        reaches them first; the checks report the parallel.
        """
        grid, trees = self.grid, self.forest.trees
        feeders = sorted(
            (
                FeederScope(
                    source_node=grid.node_ids[tree.root],
                    name=grid.display_name(tree.root),
                    customers=tree.customers,
                )
                for tree in trees.values()
                if tree.sourced
            ),
            key=lambda scope: scope.source_node,
        )
        islands = sum(tree.customers for tree in trees.values() if not tree.sourced)
        return NormalSupply(
            feeders=feeders, unsupplied_customers=islands + len(self.dangling.customers)
        )

    def with_changes(
        self, changes: Sequence[ElementChange], *, version: int, touch: Touch
    ) -> NetworkModel:
        """The next version: this one with ``changes`` applied in order.

        The changes were checked against this model when the batch was accepted (or are read
        back from the history), so they apply without further checks.
        """
        grid = self.grid.copy()
        forest = self.forest
        dangling_devices = dict(self.dangling.devices)
        dangling_customers = dict(self.dangling.customers)
        edited: dict[int, list[str]] = {}
        dirty: set[int] = set()
        touched: set[int] = set()

        def accounts(vertex: int) -> list[str]:
            if vertex not in edited:
                edited[vertex] = forest.accounts_at(vertex) if vertex < len(forest.tree_of) else []
            dirty.add(vertex)
            return edited[vertex]

        def place(account: str, node_id: str) -> None:
            vertex = grid.node_index.get(node_id)
            if vertex is None:
                dangling_customers[account] = node_id
            else:
                bisect.insort(accounts(vertex), account)

        def lift(account: str, node_id: str) -> None:
            vertex = grid.node_index.get(node_id)
            if vertex is None:
                dangling_customers.pop(account, None)
            else:
                accounts(vertex).remove(account)

        def add_device(device_id: str, record: Record) -> None:
            start = grid.node_index.get(record["from_node"])
            end = grid.node_index.get(record["to_node"])
            if start is None or end is None:
                dangling_devices[device_id] = record
                return
            grid.add_device(
                device_id,
                record["kind"],
                start,
                end,
                closed=record["normal_state"] == "closed",
                name=record["name"],
            )
            dirty.update((start, end))
            touched.update((start, end))

        for change in changes:
            kind, element, before, after = (
                change.kind,
                change.element_id,
                change.before,
                change.after,
            )
            if kind is ChangeKind.NODE_ADD:
                assert after is not None
                vertex = grid.add_node(element, after["kind"], after["name"])
                dirty.add(vertex)
                touched.add(vertex)
                # Rows that were waiting for this node come back into the graph.
                for device_id, record in list(dangling_devices.items()):
                    if element in (record["from_node"], record["to_node"]):
                        del dangling_devices[device_id]
                        add_device(device_id, record)
                for account, node_id in list(dangling_customers.items()):
                    if node_id == element:
                        del dangling_customers[account]
                        place(account, node_id)
            elif kind is ChangeKind.NODE_RENAME:
                assert after is not None
                vertex = grid.node_index[element]
                grid.node_names[vertex] = after["name"]
                dirty.add(vertex)
                touched.add(vertex)
            elif kind is ChangeKind.DEVICE_ADD:
                assert after is not None
                add_device(element, after)
            elif kind is ChangeKind.DEVICE_REMOVE:
                edge = grid.device_index.get(element)
                if edge is None:
                    dangling_devices.pop(element, None)
                    continue
                grid.remove_device(edge)
                dirty.update(grid.endpoints(edge))
                touched.update(grid.endpoints(edge))
            elif kind is ChangeKind.DEVICE_STATE:
                assert after is not None
                edge = grid.device_index.get(element)
                if edge is None:
                    dangling_devices[element] = after
                    continue
                grid.closed[edge] = 1 if after["normal_state"] == "closed" else 0
                dirty.update(grid.endpoints(edge))
                touched.update(grid.endpoints(edge))
            elif kind is ChangeKind.CUSTOMER_NEW:
                assert after is not None
                place(element, after["node_id"])
            elif kind is ChangeKind.CUSTOMER_CLOSE:
                assert before is not None
                lift(element, before["node_id"])
            else:
                assert before is not None
                assert after is not None
                lift(element, before["node_id"])
                place(element, after["node_id"])

        grid.seal()
        known = len(forest.tree_of)

        def accounts_after(vertex: int) -> list[str]:
            if vertex in edited:
                return edited[vertex]
            return forest.accounts_at(vertex) if vertex < known else []

        touches = dict(self.touches)
        touches.update((vertex, touch) for vertex in touched)
        return NetworkModel(
            version=version,
            grid=grid,
            forest=forest.rebuilt(grid, dirty, accounts_after),
            dangling=Dangling(dangling_devices, dangling_customers),
            touches=touches,
        )

    def with_touches(self, touches: Iterable[tuple[str, Touch]]) -> NetworkModel:
        """This model knowing when nodes were last touched by a change batch (at loading)."""
        recorded = dict(self.touches)
        for node_id, touch in touches:
            vertex = self.grid.node_index.get(node_id)
            if vertex is not None and (vertex not in recorded or recorded[vertex].at < touch.at):
                recorded[vertex] = touch
        return NetworkModel(
            version=self.version,
            grid=self.grid,
            forest=self.forest,
            dangling=self.dangling,
            touches=recorded,
        )


class NetworkBuilder:
    """Collects nodes, then devices, then customers, and builds the :class:`NetworkModel`.

    Strict (an import): it refuses what would make the model ambiguous, a duplicate id or a
    device or customer on an unknown node, with :class:`RowRejected`, so the import can name
    the row at fault. Lenient (loading stored rows): a reference to a missing node is kept
    aside in :class:`Dangling` for the checks to report.
    """

    def __init__(self, *, strict: bool = True) -> None:
        self.strict = strict
        self._node_index: dict[str, int] = {}
        self._node_ids: list[str] = []
        self._node_kinds: list[str] = []
        self._node_names: list[str] = []
        self._device_index: dict[str, int] = {}
        self._device_ids: list[str] = []
        self._device_kinds: list[str] = []
        self._device_names: list[str] = []
        self._ends: array[int] = array("i")
        self._closed = bytearray()
        self._account_ids: set[str] = set()
        self._accounts: list[str] = []
        self._customer_vertex: array[int] = array("i")
        self._dangling_devices: dict[str, Record] = {}
        self._dangling_customers: dict[str, str] = {}

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
        self._node_index[node_id] = len(self._node_ids)
        self._node_ids.append(node_id)
        self._node_kinds.append(kind)
        self._node_names.append(name)

    def add_device(
        self,
        device_id: str,
        from_node: str,
        to_node: str,
        *,
        normally_closed: bool,
        kind: str,
        name: str,
    ) -> None:
        if device_id in self._device_index:
            raise RowRejected("device_id", messages.DUPLICATE_ID.format(value=device_id))
        start = self._node_index.get(from_node)
        end = self._node_index.get(to_node)
        if start is None or end is None:
            if self.strict:
                field, missing = ("from_node", from_node) if start is None else ("to_node", to_node)
                raise RowRejected(field, messages.UNKNOWN_NODE.format(value=missing))
            self._dangling_devices[device_id] = {
                "kind": kind,
                "from_node": from_node,
                "to_node": to_node,
                "normal_state": "closed" if normally_closed else "open",
                "name": name,
            }
            return
        if start == end:
            raise RowRejected("to_node", messages.SAME_NODE_TWICE.format(value=to_node))
        self._device_index[device_id] = len(self._device_ids)
        self._device_ids.append(device_id)
        self._device_kinds.append(kind)
        self._device_names.append(name)
        self._ends.extend((start, end))
        self._closed.append(1 if normally_closed else 0)

    def add_customer(self, account_id: str, node_id: str) -> None:
        if account_id in self._account_ids:
            raise RowRejected("account_id", messages.DUPLICATE_ID.format(value=account_id))
        vertex = self._node_index.get(node_id)
        if vertex is None:
            if self.strict:
                raise RowRejected("node_id", messages.UNKNOWN_NODE.format(value=node_id))
            self._dangling_customers[account_id] = node_id
            return
        self._account_ids.add(account_id)
        self._accounts.append(account_id)
        self._customer_vertex.append(vertex)

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
        grid = Grid(
            node_ids=[node_ids[old] for old in node_order],
            node_kinds=[self._node_kinds[old] for old in node_order],
            node_names=[self._node_names[old] for old in node_order],
            device_ids=[device_ids[old] for old in device_order],
            device_kinds=[self._device_kinds[old] for old in device_order],
            device_names=[self._device_names[old] for old in device_order],
            ends=ends,
            closed=bytearray(self._closed[old] for old in device_order),
            present=bytearray(b"\x01" * len(device_ids)),
        )

        at_vertex: dict[int, list[str]] = {}
        for account, vertex in zip(self._accounts, self._customer_vertex, strict=True):
            at_vertex.setdefault(renumbered[vertex], []).append(account)
        for accounts in at_vertex.values():
            accounts.sort()
        no_accounts: list[str] = []
        forest = build_forest(grid, lambda vertex: at_vertex.get(vertex, no_accounts))
        return NetworkModel(
            version=version,
            grid=grid,
            forest=forest,
            dangling=Dangling(self._dangling_devices, self._dangling_customers),
        )
