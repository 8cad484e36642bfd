"""One outage's notice list against what the meters saw.

* **missed**: lost supply in the window but were not on the list (nobody told them);
* **wrong**: on the list, but their meters had supply throughout (told of an outage that did
  not reach them);
* **confirmed**: on the list, and their meters lost supply;
* **unknown**: on the list, but no meter said either way (never "kept supply").

Losses are only counted as missed within the outage's scope: the accounts the model has on the
feeders the outage touched and on the feeders tied to them. A meter losing supply across town
in the same hours is another outage or a fault, not a missed notice; losses of accounts another
outage of the same hours listed are that outage's.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from services.reconciliation.domain.inference import Evidence, Inference, InferenceSettings, infer
from services.reconciliation.domain.network import Network, Operation, Supply


@dataclass(frozen=True)
class Reconciliation:
    listed: int
    missed: tuple[str, ...]
    wrong: tuple[str, ...]
    confirmed: tuple[str, ...]
    unknown: tuple[str, ...]

    def counts(self) -> dict[str, int]:
        return {
            "listed": self.listed,
            "missed": len(self.missed),
            "wrong": len(self.wrong),
            "confirmed": len(self.confirmed),
            "unknown": len(self.unknown),
        }


def classify(
    listed: Collection[str],
    readings: Mapping[str, Supply],
    *,
    scope: Collection[str],
    claimed: Collection[str] = (),
) -> Reconciliation:
    """Sort the listed accounts and the losses in ``scope`` into the four classes."""
    listed_set = set(listed)
    confirmed, wrong, unknown = [], [], []
    for account in sorted(listed_set):
        reading = readings.get(account)
        if reading is Supply.LOST:
            confirmed.append(account)
        elif reading is Supply.ON:
            wrong.append(account)
        else:
            unknown.append(account)
    claimed_set = set(claimed)
    missed = sorted(
        account
        for account, reading in readings.items()
        if reading is Supply.LOST
        and account not in listed_set
        and account not in claimed_set
        and account in scope
    )
    return Reconciliation(
        listed=len(listed_set),
        missed=tuple(missed),
        wrong=tuple(wrong),
        confirmed=tuple(confirmed),
        unknown=tuple(unknown),
    )


@dataclass(frozen=True)
class PastEvidence:
    """What an earlier reconciliation kept of an outage: its feeders and the meter evidence."""

    evidence: Evidence
    feeders: frozenset[str]


@dataclass(frozen=True)
class Judgement:
    reconciliation: Reconciliation
    readings: dict[str, Supply]  # the readings in the outage's scope, kept as evidence
    feeders: frozenset[str]  # the outage's scope
    inference: Inference


def scope_of(network: Network, listed: Iterable[str], operations: Iterable[Operation]) -> set[str]:
    """The feeders an outage concerns: those supplying its listed accounts or its operated
    devices, and those tied to them (a wrong boundary shows on the neighbour)."""
    vertices = [network.account_vertex[a] for a in listed if a in network.account_vertex]
    for operation in operations:
        edge = network.device_index.get(operation.device_id)
        if edge is not None:
            vertices.extend(network.ends[edge])
    return network.neighbour_feeders(network.feeders_of(vertices))


def judge(
    network: Network,
    *,
    outage_id: str,
    operations: Sequence[Operation],
    listed: Collection[str],
    readings: Mapping[str, Supply],
    claimed: Collection[str],
    history: Sequence[PastEvidence],
    history_limit: int,
    settings: InferenceSettings,
) -> Judgement:
    """Classify one outage's accounts and infer the fixes its evidence and the evidence of the
    latest ``history_limit`` earlier outages on the same feeders call for."""
    feeders = scope_of(network, listed, operations)
    wanted = {network.node_index[f] for f in feeders if f in network.node_index}
    root = network.tree.root
    scope = {a for a, v in network.account_vertex.items() if root[v] in wanted}
    reconciliation = classify(listed, readings, scope=scope, claimed=claimed)
    kept = {a: r for a, r in readings.items() if a in scope or a in listed}
    evidence = [Evidence(outage_id, tuple(operations), kept)]
    evidence.extend(p.evidence for p in history if p.feeders & feeders)
    inference = infer(network, evidence[: history_limit + 1], settings)
    return Judgement(reconciliation, kept, frozenset(feeders), inference)
