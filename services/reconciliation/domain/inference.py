"""Where is each customer really fed from? The smallest set of model fixes that explains the
meter evidence of this outage and earlier ones.

Each outage is an experiment on the field network: its operations are known, and the meters say
who lost supply (a reading ``LOST``) and who kept it (``ON``). The model predicts the same for
every account (:meth:`Network.trace`). Where the two disagree, the model is wrong somewhere.

The search is greedy set cover over candidate fixes (:mod:`fixes`):

1. Find the disagreements. A node whose meters mostly disagree with the model is a node-level
   disagreement: its supply is wrong, so the fix is a device (a switch's normal state, a tie).
   An account that disagrees while its node's other meters agree is misattached: the fix moves
   it to another node.
2. Generate candidates near each disagreement: for a node, the switches on its supply path
   paired with the ties that could feed the part behind them from a side that had what the
   meters saw (or, with nothing to pair, a missing tie into the part that lost supply); for an
   account, the nodes within a few devices of where the model has it (or that lost supply with
   it) whose supply matches its readings.
3. Score every candidate against *all* the evidence: readings it makes right less readings it
   makes wrong. Pick the best (ties: fewer changes, then nearer to the disagreement), apply it
   to the working model, and repeat until no candidate gains.

Candidates the evidence cannot tell apart from the chosen one (the same readings made right and
wrong) are kept as its alternatives, unless they feed every customer through the same devices
as the chosen one (then no outage could ever tell them apart, and they are the same fix for the
purpose of notices). Confidence grows with the readings explained and falls with contradictions
and alternatives: ``(1 - 0.5 ** explained) * explained / (explained + contradicted) / (1 +
alternatives)``. One reading of one meter, unambiguous, gives 0.5; two outages agreeing, 0.75.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from services.reconciliation.domain.fixes import (
    AddTie,
    Change,
    Fix,
    MoveCustomer,
    SetNormalState,
)
from services.reconciliation.domain.network import (
    SWITCHABLE_KINDS,
    Network,
    Operation,
    Supply,
    Trace,
)

Reading = Supply  # a meter's reading is ON or LOST, compared with the model's prediction


@dataclass(frozen=True)
class Evidence:
    """One outage's operations and the readings of the meters that reported."""

    outage_id: str
    operations: tuple[Operation, ...]
    readings: Mapping[str, Reading]  # account → ON | LOST; accounts without a reading absent


@dataclass(frozen=True)
class InferenceSettings:
    move_radius: int = 8  # devices from the model's node within which a customer is looked for
    max_fixes: int = 50
    max_tie_targets: int = 40  # sections a missing tie may come from, above which none is guessed
    max_tie_switches: int = 3  # switches on the supply path tried with a missing tie


@dataclass(frozen=True)
class Suggestion:
    fix: Fix
    explained: Mapping[str, tuple[str, ...]]  # outage id → accounts made right
    contradicted: Mapping[str, tuple[str, ...]]  # outage id → accounts made wrong
    alternatives: tuple[Fix, ...]
    confidence: float

    @property
    def explained_count(self) -> int:
        return sum(len(a) for a in self.explained.values())

    @property
    def contradicted_count(self) -> int:
        return sum(len(a) for a in self.contradicted.values())


@dataclass(frozen=True)
class Inference:
    suggestions: list[Suggestion]
    unexplained: dict[str, list[str]]  # outage id → accounts the fixes found do not explain


def confidence(explained: int, contradicted: int, alternatives: int) -> float:
    if explained <= 0:
        return 0.0
    strength = 1 - 0.5**explained
    purity = explained / (explained + contradicted)
    return round(strength * purity / (1 + alternatives), 4)


def infer(
    network: Network, evidence: Sequence[Evidence], settings: InferenceSettings | None = None
) -> Inference:
    """The fixes, best first, that together explain the most readings of ``evidence``."""
    settings = settings or InferenceSettings()
    world = _World(network, evidence)
    suggestions: list[Suggestion] = []
    for _ in range(settings.max_fixes):
        scored = world.candidates(settings)
        if not scored:
            break
        best = min(scored, key=lambda s: (-s.gain, len(s.fix.changes), s.prior, s.fix.key))
        equivalent = [
            s
            for s in scored
            if s is not best and s.gain == best.gain and s.signature == best.signature
        ]
        alternatives = world.distinguishable(best, equivalent)
        explained, contradicted = world.accounts_of(best)
        suggestions.append(
            Suggestion(
                fix=best.fix,
                explained=explained,
                contradicted=contradicted,
                alternatives=tuple(a.fix for a in alternatives),
                confidence=confidence(
                    sum(map(len, explained.values())),
                    sum(map(len, contradicted.values())),
                    len(alternatives),
                ),
            )
        )
        world.apply(best)
    return Inference(suggestions, world.unexplained())


@dataclass
class _Scored:
    fix: Fix
    gain: int
    prior: int
    signature: frozenset[tuple[int, object, int]]
    traces: dict[int, Trace] = field(default_factory=dict)


class _World:
    """The working model, its predictions for each outage, and the readings against them."""

    def __init__(self, network: Network, evidence: Sequence[Evidence]) -> None:
        self.evidence = list(evidence)
        self.network = network
        self.traces = [network.trace(e.operations) for e in self.evidence]
        self._index_readings()

    # --- bookkeeping ---------------------------------------------------------------------------

    def _index_readings(self) -> None:
        """Readings per node (``counts[e][v][reading]``, ``observed[e][v]``), on the working
        model."""
        vertex_of = self.network.account_vertex
        self.counts: list[dict[int, list[int]]] = []
        self.observed: list[dict[int, list[str]]] = []
        for item in self.evidence:
            counts: dict[int, list[int]] = {}
            observed: dict[int, list[str]] = {}
            for account, reading in item.readings.items():
                vertex = vertex_of.get(account)
                if vertex is None:
                    continue  # an account the model lacks: nothing in the model to correct
                count = counts.get(vertex)
                if count is None:
                    count = counts[vertex] = [0, 0, 0]
                    observed[vertex] = []
                count[reading] += 1
                observed[vertex].append(account)
            self.counts.append(counts)
            self.observed.append(observed)

    def readings_of(self, account: str) -> list[tuple[int, Reading]]:
        """The readings of one account, by evidence number."""
        out = []
        for index, item in enumerate(self.evidence):
            reading = item.readings.get(account)
            if reading is not None:
                out.append((index, reading))
        return out

    def apply(self, chosen: _Scored) -> None:
        before = self.network
        self.network = chosen.fix.apply(before)
        moves = [c for c in chosen.fix.changes if isinstance(c, MoveCustomer)]
        if len(moves) < len(chosen.fix.changes):
            self.traces = [self.network.trace(e.operations) for e in self.evidence]
        for move in moves:
            old = before.account_vertex[move.account_id]
            new = self.network.node_index[move.node_id]
            for index, reading in self.readings_of(move.account_id):
                self.counts[index][old][reading] -= 1
                self.observed[index][old].remove(move.account_id)
                self.counts[index].setdefault(new, [0, 0, 0])[reading] += 1
                self.observed[index].setdefault(new, []).append(move.account_id)

    @staticmethod
    def majority(counts: list[int]) -> Reading | None:
        if counts[Supply.ON] > counts[Supply.LOST]:
            return Supply.ON
        if counts[Supply.LOST] > counts[Supply.ON]:
            return Supply.LOST
        return None

    def node_disagreements(self) -> list[tuple[int, int, Reading, Supply]]:
        """``(evidence, vertex, what most meters read, what the model predicts)``."""
        out = []
        for index, counts in enumerate(self.counts):
            states = self.traces[index].states
            for vertex, count in counts.items():
                majority = self.majority(count)
                if majority is not None and majority != states[vertex]:
                    out.append((index, vertex, majority, Supply(states[vertex])))
        return out

    def account_disagreements(self) -> list[tuple[str, int, Reading]]:
        """Accounts read otherwise than predicted while most of their node's meters agree."""
        out = []
        for index, counts in enumerate(self.counts):
            states = self.traces[index].states
            readings = self.evidence[index].readings
            for vertex, count in counts.items():
                predicted = states[vertex]
                if count[Supply.ON] + count[Supply.LOST] == count[predicted]:
                    continue  # every meter of the node agrees with the model
                majority = self.majority(count)
                for account in self.observed[index][vertex]:
                    reading = readings[account]
                    if reading != predicted and majority != reading:
                        out.append((account, index, reading))
        return out

    def unexplained(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        vertex_of = self.network.account_vertex
        for index, item in enumerate(self.evidence):
            states = self.traces[index].states
            wrong = sorted(
                a
                for a, reading in item.readings.items()
                if a in vertex_of and states[vertex_of[a]] != reading
            )
            if wrong:
                out[item.outage_id] = wrong
        return out

    # --- candidates ----------------------------------------------------------------------------

    def candidates(self, settings: InferenceSettings) -> list[_Scored]:
        scored: list[_Scored] = []
        for fix, (prior, found_in) in self._device_fixes(settings).items():
            # A fix must at least right the outage it was proposed for: checked there first,
            # as most candidates fail it and tracing every outage for them is the cost.
            if self._score_devices(fix, prior, only=found_in).gain <= 0:
                continue
            result = self._score_devices(fix, prior)
            if result.gain > 0:
                scored.append(result)
        for fix, prior in self._moves(settings).items():
            result = self._score_move(fix, prior)
            if result.gain > 0:
                scored.append(result)
        return scored

    def _device_fixes(self, settings: InferenceSettings) -> dict[Fix, tuple[int, int]]:
        """Candidate device fixes, each with its prior and the outage it was proposed for."""
        network = self.network
        tree, devices = network.tree, network.devices
        out: dict[Fix, tuple[int, int]] = {}
        subtrees: dict[int, set[int]] = {}
        index = 0

        def offer(changes: tuple[Change, ...], prior: int) -> None:
            fix = Fix(changes)
            if fix not in out or prior < out[fix][0]:
                out[fix] = (prior, index)

        def child_of(edge: int) -> int:
            a, b = network.ends[edge]
            return b if tree.parent_edge[b] == edge else a

        for index, vertex, reading, predicted in self.node_disagreements():
            states = self.traces[index].states
            if predicted == Supply.DARK:
                # The model does not supply the node at all: a tie it has open feeds it.
                region = _closed_component(network, vertex)
                for member in region:
                    for edge in network.incident[member]:
                        other = network.other_end(edge, member)
                        if (
                            not devices[edge].closed
                            and other not in region
                            and states[other] == reading
                        ):
                            offer((SetNormalState(devices[edge].device_id, True),), 0)
                continue
            opened = network.opened_by(self.evidence[index].operations)
            switches = []
            for edge in tree.path_up(vertex):
                if reading == Supply.ON and edge in opened:
                    break  # above this the outage itself cut the supply
                if devices[edge].kind in SWITCHABLE_KINDS and devices[edge].closed:
                    switches.append(edge)
            paired = False
            for depth, switch in enumerate(switches):
                top = child_of(switch)
                if top not in subtrees:
                    subtrees[top] = set(tree.subtree(top))
                part = subtrees[top]
                for member in part:
                    for edge in network.incident[member]:
                        other = network.other_end(edge, member)
                        if devices[edge].closed or other in part or states[other] != reading:
                            continue
                        paired = True
                        tie = SetNormalState(devices[edge].device_id, True)
                        offer((SetNormalState(devices[switch].device_id, False), tie), depth)
                        if reading == Supply.ON:
                            offer((tie,), depth)
            if reading == Supply.LOST and not paired:
                # Lost with the outage, yet no tie the model has could carry the loss there: a
                # connection the model lacks feeds this part from the part that was cut off.
                targets = self._lost_sections(index)
                if len(targets) <= settings.max_tie_targets:
                    for depth, switch in enumerate(switches[: settings.max_tie_switches]):
                        head = network.node_ids[child_of(switch)]
                        opened_switch = SetNormalState(devices[switch].device_id, False)
                        for target in targets:
                            new_tie = AddTie(head, network.node_ids[target])
                            offer((opened_switch, new_tie), depth + 1)
        return out

    def _lost_sections(self, index: int) -> list[int]:
        section = self.network.section_of
        states = self.traces[index].states
        return sorted({section[v] for v, s in enumerate(states) if s == Supply.LOST})

    def _moves(self, settings: InferenceSettings) -> dict[Fix, int]:
        network = self.network
        holders = network.vertex_accounts
        out: dict[Fix, int] = {}
        for account, index, reading in self.account_disagreements():
            here = network.account_vertex[account]
            states = self.traces[index].states
            near = network.hops(here, settings.move_radius)
            found = False
            for vertex, distance in near.items():
                if vertex != here and vertex in holders and states[vertex] == reading:
                    fix = Fix((MoveCustomer(account, network.node_ids[vertex]),))
                    out[fix] = min(distance, out.get(fix, distance))
                    found = True
            if not found and reading == Supply.LOST:
                far = settings.move_radius + 1
                for vertex in holders:
                    if vertex != here and states[vertex] == Supply.LOST:
                        fix = Fix((MoveCustomer(account, network.node_ids[vertex]),))
                        out.setdefault(fix, far)
        return out

    # --- scoring -------------------------------------------------------------------------------

    def _score_devices(self, fix: Fix, prior: int, *, only: int | None = None) -> _Scored:
        network = self.network
        flipped: set[int] = set()
        extra: list[tuple[int, int]] = []
        for change in fix.changes:
            if isinstance(change, SetNormalState):
                flipped.add(network.device_index[change.device_id])
            elif isinstance(change, AddTie):
                extra.append(
                    (network.node_index[change.from_node], network.node_index[change.to_node])
                )
        gain = 0
        signature: set[tuple[int, object, int]] = set()
        traces: dict[int, Trace] = {}
        frozen = frozenset(flipped)
        normal = network.normal_supply(frozen, extra)
        # An outage can only be predicted otherwise with the fix if it operates a device on a
        # supply path the fix changes: above the devices it changes, or inside the part it
        # feeds another way. Unless the fix changes who is supplied at all, the others are
        # skipped (tracing them again would change nothing).
        touched = None if normal != network.normally_supplied else self._touched(flipped, extra)
        for index, item in enumerate(self.evidence):
            if only is not None and index != only:
                continue
            if touched is not None and not self._operates(index, touched):
                continue
            after = network.trace(item.operations, flipped=frozen, extra=extra, normal=normal)
            before = self.traces[index].states
            for vertex, count in self.counts[index].items():
                old, new = before[vertex], after.states[vertex]
                if old != new:
                    gain += count[new] - count[old]
                    signature.add((index, vertex, new))
            traces[index] = after
        return _Scored(fix, gain, prior, frozenset(signature), traces)

    def _touched(self, flipped: set[int], extra: list[tuple[int, int]]) -> set[int]:
        network = self.network
        tree, devices = network.tree, network.devices
        touched = set(flipped)
        ends = [v for edge in flipped for v in network.ends[edge]]
        ends += [v for pair in extra for v in pair]
        for vertex in ends:
            touched.update(tree.path_up(vertex))
        for edge in flipped:
            if devices[edge].closed:  # opened by the fix: the part behind it is fed otherwise
                a, b = network.ends[edge]
                top = b if tree.parent_edge[b] == edge else a
                for vertex in tree.subtree(top):
                    touched.update(network.incident[vertex])
        return touched

    def _operates(self, index: int, touched: set[int]) -> bool:
        device_index = self.network.device_index
        for operation in self.evidence[index].operations:
            if operation.action == "close":
                return True  # a tie closed for the work can carry supply anywhere
            edge = device_index.get(operation.device_id)
            if edge is not None and edge in touched:
                return True
        return False

    def _score_move(self, fix: Fix, prior: int) -> _Scored:
        (move,) = fix.changes
        assert isinstance(move, MoveCustomer)
        here = self.network.account_vertex[move.account_id]
        there = self.network.node_index[move.node_id]
        gain = 0
        signature: set[tuple[int, object, int]] = set()
        for index, reading in self.readings_of(move.account_id):
            states = self.traces[index].states
            old, new = states[here], states[there]
            if old != new:
                gain += (reading == new) - (reading == old)
                signature.add((index, move.account_id, new))
        return _Scored(fix, gain, prior, frozenset(signature))

    def accounts_of(
        self, chosen: _Scored
    ) -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
        """The accounts whose readings the chosen fix makes right, and those it makes wrong."""
        explained: dict[str, list[str]] = {}
        contradicted: dict[str, list[str]] = {}
        for index, element, new in chosen.signature:
            item = self.evidence[index]
            if isinstance(element, str):
                accounts = [element]
                old = self.traces[index].states[self.network.account_vertex[element]]
            else:
                assert isinstance(element, int)
                accounts = self.observed[index][element]
                old = self.traces[index].states[element]
            for account in accounts:
                reading = item.readings[account]
                if reading == new:
                    explained.setdefault(item.outage_id, []).append(account)
                elif reading == old:
                    contradicted.setdefault(item.outage_id, []).append(account)
        return (
            {k: tuple(sorted(v)) for k, v in explained.items()},
            {k: tuple(sorted(v)) for k, v in contradicted.items()},
        )

    def distinguishable(self, best: _Scored, equivalent: list[_Scored]) -> list[_Scored]:
        """The equally good candidates that some outage could tell apart from ``best``."""
        if not equivalent:
            return []
        reference = _supply_paths(self.network, best.fix)
        return [s for s in equivalent if _supply_paths(self.network, s.fix) != reference]


def _switchable_path(network: Network, vertex: int, known_devices: int) -> tuple[str, ...]:
    devices = network.devices
    return tuple(
        devices[e].device_id
        for e in network.tree.path_up(vertex)
        if devices[e].kind in SWITCHABLE_KINDS or e >= known_devices
    )


def _closed_component(network: Network, start: int) -> set[int]:
    seen = {start}
    stack = [start]
    while stack:
        vertex = stack.pop()
        for edge in network.incident[vertex]:
            if network.devices[edge].closed:
                other = network.other_end(edge, vertex)
                if other not in seen:
                    seen.add(other)
                    stack.append(other)
    return seen


def _supply_paths(network: Network, fix: Fix) -> dict[int, tuple[str, ...]]:
    """The devices a crew could open on the supply path of every customer node the fix
    concerns, once it is applied: equal paths mean no outage could tell two fixes apart. A move
    concerns only the account, so its paths are keyed -1 whatever node it moves to."""
    fixed = fix.apply(network)
    known = len(network.devices)
    if len(fix.changes) == 1 and isinstance(fix.changes[0], MoveCustomer):
        target = fixed.node_index[fix.changes[0].node_id]
        return {-1: _switchable_path(fixed, target, known)}
    tree = fixed.tree
    concerned: set[int] = set()
    for change in fix.changes:
        if isinstance(change, MoveCustomer):
            concerned.add(fixed.node_index[change.node_id])
            continue
        if isinstance(change, AddTie):
            nodes: tuple[str, ...] = (change.from_node, change.to_node)
        else:
            device = fixed.devices[fixed.device_index[change.device_id]]
            nodes = (device.from_node, device.to_node)
        for node in nodes:
            vertex = fixed.node_index[node]
            for root in {tree.root[vertex], network.tree.root[vertex]} - {-1}:
                concerned.update(v for v in tree.subtree(root) if v in fixed.vertex_accounts)
    return {vertex: _switchable_path(fixed, vertex, known) for vertex in concerned}
