"""Meter-event simulator: what the smart meters of the *field* network report during an outage.

The network model (a CSV bundle, as ``tools.network_gen`` writes it) is what the utility
believes; the field is that model with injected errors, as found in real life:

* ``WrongTransformer``: a customer recorded on one transformer area is connected to another
  nearby (the 户变关系 is wrong);
* ``BoundaryMoved``: a switch the model has closed is open in the field and a tie the model has
  open is closed, so the part of the feeder behind the switch is fed from the next feeder (a
  wrong normal state);
* ``MissingTie``: the same, through a connection the model does not have at all (a tie built and
  never entered).

Given an outage (its operations and window), :func:`simulate` traces the field network with the
topology tracer's semantics, implemented here on its own with igraph (a node is supplied when a
``source`` reaches it through closed devices; an account loses supply when its node is supplied
in the normal state and not once the operations are applied), and emits the events the meters
would send: a power-off ("last gasp") at the start and a power-on at the end for those that
lost supply, and, for the meters of the feeders around the outage that kept it, the "power
present" answer of the metering system's status check. Some meters never report (the same ones
in every outage), some last gasps are lost, and some events arrive twice.

Meter ids follow the default mapping of the reconciliation service: ``M`` and the account id
without its one-letter prefix (account ``A00000042`` has meter ``M00000042``).

CLI: ``python -m tools.meter_sim BUNDLE_DIR --open D00000123 --starts 2026-11-28T08:00+08:00
--ends 2026-11-28T17:00+08:00 [--wrong-transformers N] [--boundary-moves N] [--missing-ties N]
[--seed S] [--format csv|json]`` prints the events (and the injected errors on stderr).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import cached_property
from pathlib import Path
from random import Random
from typing import Any

import igraph

SOURCE_SYSTEM = "用电信息采集系统"
SWITCHABLE = frozenset({"switch", "breaker", "fuse", "disconnector"})
CSV_HEADER = ("meter_id", "account_id", "event", "cause", "occurred_at", "source_system")


# --- the network ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeviceRow:
    device_id: str
    kind: str
    from_node: str
    to_node: str
    closed: bool
    name: str = ""


@dataclass(frozen=True)
class Grid:
    """A network as the CSV bundle holds it: nodes, devices and where each account hangs."""

    nodes: tuple[tuple[str, str, str], ...]  # (node_id, kind, name)
    devices: tuple[DeviceRow, ...]
    customers: tuple[tuple[str, str], ...]  # (account_id, node_id)

    @classmethod
    def read(cls, directory: Path) -> Grid:
        with (directory / "nodes.csv").open(encoding="utf-8-sig") as f:
            nodes = tuple((r["node_id"], r["kind"], r["name"]) for r in csv.DictReader(f))
        with (directory / "devices.csv").open(encoding="utf-8-sig") as f:
            devices = tuple(
                DeviceRow(
                    r["device_id"],
                    r["kind"],
                    r["from_node"],
                    r["to_node"],
                    r["normal_state"] == "closed",
                    r["name"],
                )
                for r in csv.DictReader(f)
            )
        with (directory / "customers.csv").open(encoding="utf-8-sig") as f:
            customers = tuple((r["account_id"], r["node_id"]) for r in csv.DictReader(f))
        return cls(nodes, devices, customers)

    def csv_files(self) -> dict[str, str]:
        """The bundle as ``{file name: CSV text}`` (what topology's export serves)."""
        out = {}
        for name, header, rows in (
            ("nodes.csv", ("node_id", "kind", "name"), self.nodes),
            (
                "devices.csv",
                ("device_id", "kind", "from_node", "to_node", "normal_state", "name"),
                [
                    (d.device_id, d.kind, d.from_node, d.to_node, _state(d.closed), d.name)
                    for d in self.devices
                ],
            ),
            ("customers.csv", ("account_id", "node_id"), self.customers),
        ):
            buffer = io.StringIO()
            writer = csv.writer(buffer, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(rows)
            out[name] = buffer.getvalue()
        return out

    # --- structure (igraph) ---------------------------------------------------------------

    @cached_property
    def index(self) -> dict[str, int]:
        return {node[0]: v for v, node in enumerate(self.nodes)}

    @cached_property
    def device_index(self) -> dict[str, int]:
        return {d.device_id: e for e, d in enumerate(self.devices)}

    @cached_property
    def sources(self) -> list[int]:
        return [v for v, node in enumerate(self.nodes) if node[1] == "source"]

    @cached_property
    def ends(self) -> list[tuple[int, int]]:
        return [(self.index[d.from_node], self.index[d.to_node]) for d in self.devices]

    def _closed_graph(self, closed: Sequence[bool]) -> igraph.Graph:
        n = len(self.nodes)
        edges = [ends for ends, c in zip(self.ends, closed, strict=True) if c]
        edges += [(n, s) for s in self.sources]
        return igraph.Graph(n=n + 1, edges=edges)

    def supplied(self, closed: Sequence[bool]) -> set[int]:
        n = len(self.nodes)
        return {v for v in self._closed_graph(closed).subcomponent(n) if v < n}

    @cached_property
    def served_nodes(self) -> set[str]:
        """Nodes with customers on them."""
        return {node for _account, node in self.customers}

    @cached_property
    def normal(self) -> list[bool]:
        return [d.closed for d in self.devices]

    @cached_property
    def normally_supplied(self) -> set[int]:
        return self.supplied(self.normal)

    def lost_nodes(self, operations: Iterable[tuple[str, str]]) -> set[int]:
        """Nodes supplied normally and not once ``(device_id, "open"|"close")`` are applied."""
        closed = list(self.normal)
        for device_id, action in operations:
            edge = self.device_index.get(device_id)
            if edge is not None:
                closed[edge] = action == "close"
        return self.normally_supplied - self.supplied(closed)

    def lost_accounts(self, operations: Iterable[tuple[str, str]]) -> set[str]:
        lost = {self.nodes[v][0] for v in self.lost_nodes(operations)}
        return {account for account, node in self.customers if node in lost}

    @cached_property
    def feeder_of(self) -> dict[str, str]:
        """Node id → the source node that supplies it normally (breadth first from sources)."""
        n = len(self.nodes)
        graph = self._closed_graph(self.normal)
        order, _layers, parents = graph.bfs(n)
        root: dict[int, int] = {}
        for vertex in order:
            if vertex == n:
                continue
            up = parents[vertex]
            root[vertex] = vertex if up == n else root[up]
        return {self.nodes[v][0]: self.nodes[r][0] for v, r in root.items()}

    @cached_property
    def parent_device(self) -> dict[str, int]:
        """Node id → the device it is fed through in the normal state."""
        n = len(self.nodes)
        graph = self._closed_graph(self.normal)
        order, _layers, parents = graph.bfs(n)
        by_pair: dict[tuple[int, int], int] = {}
        for edge, (a, b) in enumerate(self.ends):
            if self.devices[edge].closed:
                by_pair.setdefault((a, b), edge)
                by_pair.setdefault((b, a), edge)
        out = {}
        for vertex in order:
            up = parents[vertex]
            if vertex != n and up not in (n, vertex) and up >= 0:
                out[self.nodes[vertex][0]] = by_pair[(up, vertex)]
        return out

    def below(self, device_id: str) -> set[str]:
        """Node ids fed through ``device_id`` in the normal state."""
        edge = self.device_index[device_id]
        a, b = self.ends[edge]
        parent = self.parent_device
        top = b if parent.get(self.nodes[b][0]) == edge else a
        children: dict[str, list[str]] = {}
        for node, device in parent.items():
            x, y = self.ends[device]
            up = self.nodes[x][0] if self.nodes[y][0] == node else self.nodes[y][0]
            children.setdefault(up, []).append(node)
        out, stack = set(), [self.nodes[top][0]]
        while stack:
            node = stack.pop()
            out.add(node)
            stack.extend(children.get(node, ()))
        return out

    @cached_property
    def _neighbours(self) -> dict[int, list[int]]:
        out: dict[int, list[int]] = {}
        for a, b in self.ends:
            out.setdefault(a, []).append(b)
            out.setdefault(b, []).append(a)
        return out

    def hops(self, node_id: str, limit: int) -> dict[str, int]:
        """Nodes within ``limit`` devices of ``node_id`` (any state), with their distance."""
        start = self.index[node_id]
        seen = {start: 0}
        frontier = [start]
        for distance in range(1, limit + 1):
            following = []
            for vertex in frontier:
                for other in self._neighbours.get(vertex, ()):
                    if other not in seen:
                        seen[other] = distance
                        following.append(other)
            frontier = following
        return {self.nodes[v][0]: d for v, d in seen.items()}

    def with_devices(self, devices: Iterable[DeviceRow]) -> Grid:
        return replace(self, devices=tuple(devices))


def _state(closed: bool) -> str:
    return "closed" if closed else "open"


# --- injected errors ---------------------------------------------------------------------------


@dataclass(frozen=True)
class WrongTransformer:
    account_id: str
    model_node: str
    field_node: str


@dataclass(frozen=True)
class BoundaryMoved:
    switch_id: str  # closed in the model, open in the field
    tie_id: str  # open in the model, closed in the field


@dataclass(frozen=True)
class MissingTie:
    switch_id: str  # closed in the model, open in the field
    from_node: str  # the new connection, closed in the field, absent from the model
    to_node: str

    @property
    def device_id(self) -> str:
        return f"FIELD-{self.from_node}-{self.to_node}"


InjectedError = WrongTransformer | BoundaryMoved | MissingTie


def with_error(grid: Grid, error: InjectedError) -> Grid:
    """``grid`` (the model) as the field has it for ``error``."""
    if isinstance(error, WrongTransformer):
        customers = tuple(
            (a, error.field_node if a == error.account_id else n) for a, n in grid.customers
        )
        return replace(grid, customers=customers)
    devices = [
        replace(d, closed=False) if d.device_id == error.switch_id else d for d in grid.devices
    ]
    if isinstance(error, BoundaryMoved):
        devices = [replace(d, closed=True) if d.device_id == error.tie_id else d for d in devices]
    else:
        devices.append(
            DeviceRow(error.device_id, "line", error.from_node, error.to_node, True, "新建联络线")
        )
    return grid.with_devices(devices)


@dataclass(frozen=True)
class FieldTruth:
    """The model, the injected errors, and the field network they make."""

    model: Grid
    errors: tuple[InjectedError, ...]

    @cached_property
    def grid(self) -> Grid:
        grid = self.model
        for error in self.errors:
            grid = with_error(grid, error)
        return grid

    def without(self, error: InjectedError) -> FieldTruth:
        return FieldTruth(self.model, tuple(e for e in self.errors if e != error))

    @cached_property
    def _undone(self) -> dict[InjectedError, Grid]:
        return {}

    def exposes(self, error: InjectedError, operations: Sequence[tuple[str, str]]) -> bool:
        """Whether an outage's effect in the field depends on ``error``: it would notice it."""
        grid = self.grid
        lost = {grid.nodes[v][0] for v in grid.lost_nodes(operations)}
        if isinstance(error, WrongTransformer):
            # Moving a customer changes no supply: only where that customer is.
            return (error.field_node in lost) != (error.model_node in lost)
        if error not in self._undone:
            self._undone[error] = self.without(error).grid
        undone = self._undone[error]
        other = {undone.nodes[v][0] for v in undone.lost_nodes(operations)}
        served = grid.served_nodes
        return bool((lost ^ other) & served)


def inject_errors(
    model: Grid,
    *,
    wrong_transformers: int = 0,
    boundary_moves: int = 0,
    missing_ties: int = 0,
    seed: int = 7,
    near_hops: int = 6,
    feeders: Iterable[str] | None = None,
) -> FieldTruth:
    """Pick errors at random (deterministically for ``seed``), each on a different part of the
    network so that they do not mask one another. ``feeders`` limits them to those feeders."""
    rng = Random(seed)
    feeder_of = model.feeder_of
    allowed = set(feeders) if feeders is not None else None
    kinds = {node[0]: node[1] for node in model.nodes}
    errors: list[InjectedError] = []
    used_feeders: set[str] = set()
    customers = [
        (a, n)
        for a, n in model.customers
        if kinds[n] == "transformer_lv" and (allowed is None or feeder_of.get(n) in allowed)
    ]
    rng.shuffle(customers)
    areas = sorted(
        n
        for n, k in kinds.items()
        if k == "transformer_lv" and (allowed is None or feeder_of.get(n) in allowed)
    )
    moved: set[str] = set()
    for account, node in customers:
        if len([e for e in errors if isinstance(e, WrongTransformer)]) >= wrong_transformers:
            break
        if node in moved:
            continue
        near = model.hops(node, near_hops)
        options = [
            a for a in areas if a != node and a in near and feeder_of.get(a) == feeder_of.get(node)
        ]
        if not options:
            continue
        target = rng.choice(options)
        moved.update((node, target))
        errors.append(WrongTransformer(account, node, target))
    parent = model.parent_device
    ties = [
        d
        for d in model.devices
        if not d.closed
        and d.kind == "switch"
        and (allowed is None or feeder_of.get(d.from_node) in allowed)
    ]
    rng.shuffle(ties)
    for tie in ties:
        if len([e for e in errors if isinstance(e, BoundaryMoved)]) >= boundary_moves:
            break
        side = tie.from_node if feeder_of.get(tie.from_node) not in used_feeders else tie.to_node
        feeder = feeder_of.get(side)
        other = feeder_of.get(tie.to_node if side == tie.from_node else tie.from_node)
        if feeder is None or other is None or {feeder, other} & used_feeders:
            continue
        switch = _switch_above(model, parent, side, rng)
        if switch is None:
            continue
        used_feeders.update((feeder, other))
        errors.append(BoundaryMoved(switch, tie.device_id))
    poles = sorted(n for n, k in kinds.items() if k == "pole" and n in feeder_of)
    rng.shuffle(poles)
    for pole in poles:
        if len([e for e in errors if isinstance(e, MissingTie)]) >= missing_ties:
            break
        feeder = feeder_of[pole]
        if feeder in used_feeders or (allowed is not None and feeder not in allowed):
            continue
        switch = _switch_above(model, parent, pole, rng)
        if switch is None:
            continue
        others = [p for p in poles if feeder_of[p] not in used_feeders | {feeder}]
        if not others:
            continue
        target = rng.choice(others)
        used_feeders.update((feeder, feeder_of[target]))
        errors.append(MissingTie(switch, pole, target))
    return FieldTruth(model, tuple(errors))


def _switch_above(model: Grid, parent: dict[str, int], node: str, rng: Random) -> str | None:
    """A sectionalising switch one to three switches up the supply path of ``node``, with
    customers behind it."""
    switches = []
    current = node
    index = model.index
    while current in parent:
        edge = parent[current]
        device = model.devices[edge]
        a, b = model.ends[edge]
        up = model.nodes[a][0] if model.nodes[b][0] == current else model.nodes[b][0]
        if device.kind == "switch" and device.closed:
            switches.append(device.device_id)
        current = up
        if index[current] in model.sources:
            break
    if not switches:
        return None
    choice = rng.choice(switches[:3])
    below = model.below(choice)
    if not any(n in below for _a, n in model.customers):
        return None
    return choice


# --- the meters --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SimSettings:
    silent_share: float = 0.05  # meters that never report (broken modules, no signal)
    lost_gasp_share: float = 0.1  # losses whose power-off event never arrives
    duplicate_share: float = 0.03  # events the head-end sends twice
    jitter_s: float = 120.0  # how far meters' clocks and the switching itself spread events
    source_system: str = SOURCE_SYSTEM
    meter_prefix: str = "M"


@dataclass(frozen=True)
class MeterRecord:
    meter_id: str
    account_id: str
    event: str  # power_lost | power_restored
    cause: str  # "" | restoration | status_check
    occurred_at: datetime
    source_system: str

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "meter_id": self.meter_id,
            "event": self.event,
            "occurred_at": self.occurred_at.isoformat(),
            "source_system": self.source_system,
        }
        if self.cause:
            out["cause"] = self.cause
        return out


def meter_of(account_id: str, prefix: str = "M") -> str:
    return prefix + account_id[1:]


def _fraction(seed: int, key: str) -> float:
    digest = hashlib.sha256(f"{seed}/{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


@dataclass(frozen=True)
class Simulation:
    records: list[MeterRecord]
    lost: set[str]  # accounts that lost supply in the field
    checked: set[str]  # accounts whose meters the status check asked (kept supply)
    silent: set[str] = field(default_factory=set)  # accounts in either set that never reported


def simulate(
    field_truth: FieldTruth,
    operations: Sequence[tuple[str, str]],
    starts_at: datetime,
    ends_at: datetime,
    *,
    settings: SimSettings | None = None,
    seed: int = 1,
    also_check: Iterable[str] = (),
) -> Simulation:
    """The meter events of one outage in the field, in the order they arrive.

    The status check asks the meters of every feeder the outage touches in the field and of the
    feeders tied to them, and ``also_check`` (e.g. the accounts that were told).
    """
    settings = settings or SimSettings()
    grid = field_truth.grid
    rng = Random(f"{seed}/{starts_at.isoformat()}")
    lost_nodes = grid.lost_nodes(operations)
    lost = grid.lost_accounts(operations)
    feeder_of = grid.feeder_of
    touched = {feeder_of[grid.nodes[v][0]] for v in lost_nodes if grid.nodes[v][0] in feeder_of}
    for device_id, _action in operations:
        edge = grid.device_index.get(device_id)
        if edge is not None:
            touched.update(
                feeder_of[grid.nodes[v][0]]
                for v in grid.ends[edge]
                if grid.nodes[v][0] in feeder_of
            )
    around = set(touched)
    for device, (a, b) in zip(grid.devices, grid.ends, strict=True):
        fa, fb = feeder_of.get(grid.nodes[a][0]), feeder_of.get(grid.nodes[b][0])
        if not device.closed and fa and fb and (fa in touched or fb in touched):
            around.update((fa, fb))
    checked = {a for a, n in grid.customers if feeder_of.get(n) in around and a not in lost}
    checked.update(a for a in also_check if a not in lost)
    records: list[MeterRecord] = []
    silent: set[str] = set()
    middle = starts_at + (ends_at - starts_at) / 2
    for account in sorted(lost | checked):
        meter = meter_of(account, settings.meter_prefix)
        if _fraction(seed, "silent/" + meter) < settings.silent_share:
            silent.add(account)
            continue

        def emit(event: str, cause: str, at: datetime, meter: str = meter) -> None:
            record = MeterRecord(meter, "", event, cause, at, settings.source_system)
            records.append(record)
            if rng.random() < settings.duplicate_share:
                records.append(record)

        spread = timedelta(seconds=rng.uniform(0, settings.jitter_s))
        if account in lost:
            if rng.random() >= settings.lost_gasp_share:
                emit("power_lost", "", starts_at + spread)
            emit("power_restored", "restoration", ends_at + spread)
        else:
            emit("power_restored", "status_check", middle + spread)
    # The head-end forwards in batches, so events arrive roughly but not exactly in time order.
    records.sort(key=lambda r: r.occurred_at + timedelta(seconds=rng.uniform(0, 600)))
    return Simulation(records, lost, checked, silent)


def to_csv(records: Iterable[MeterRecord]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for r in records:
        writer.writerow(
            (r.meter_id, r.account_id, r.event, r.cause, r.occurred_at.isoformat(), r.source_system)
        )
    return buffer.getvalue()


def describe(error: InjectedError) -> str:
    if isinstance(error, WrongTransformer):
        return (
            f"wrong transformer: {error.account_id} is on {error.field_node}, "
            f"not {error.model_node}"
        )
    if isinstance(error, BoundaryMoved):
        return f"boundary moved: {error.switch_id} open and tie {error.tie_id} closed in the field"
    return (
        f"missing tie: {error.switch_id} open in the field, fed over a new tie "
        f"{error.from_node}-{error.to_node}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.meter_sim", description=__doc__.split("\n")[0]
    )
    parser.add_argument("bundle", type=Path, help="directory holding nodes/devices/customers.csv")
    parser.add_argument("--open", action="append", default=[], metavar="DEVICE_ID")
    parser.add_argument("--close", action="append", default=[], metavar="DEVICE_ID")
    parser.add_argument("--starts", type=datetime.fromisoformat, required=True)
    parser.add_argument("--ends", type=datetime.fromisoformat, required=True)
    parser.add_argument("--wrong-transformers", type=int, default=0)
    parser.add_argument("--boundary-moves", type=int, default=0)
    parser.add_argument("--missing-ties", type=int, default=0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--format", choices=("csv", "json"), default="csv")
    args = parser.parse_args(argv)
    model = Grid.read(args.bundle)
    truth = inject_errors(
        model,
        wrong_transformers=args.wrong_transformers,
        boundary_moves=args.boundary_moves,
        missing_ties=args.missing_ties,
        seed=args.seed,
    )
    operations = [(d, "open") for d in args.open] + [(d, "close") for d in args.close]
    result = simulate(truth, operations, args.starts, args.ends, seed=args.seed)
    for error in truth.errors:
        print(describe(error), file=sys.stderr)
    if args.format == "csv":
        sys.stdout.write(to_csv(result.records))
    else:
        json.dump([r.as_json() for r in result.records], sys.stdout, ensure_ascii=False, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
