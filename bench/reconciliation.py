"""How well meter reconciliation finds the model's errors, and how fast it reconciles an outage.

``python -m bench.reconciliation [--customers 60000] [--season-feeders 8] [--seed 11]``

1. A city of ``--customers`` is generated (``tools.network_gen``) and errors are injected into
   its field copy across the whole city (``tools.meter_sim``): customers on another transformer
   area nearby, feeder boundaries moved (a switch open and a tie closed in the field), and parts
   fed over a tie the model lacks.
2. A maintenance season: on ``--season-feeders`` feeders picked at random (without looking at
   the errors), every sectionalising switch, branch device and transformer fuse is opened once,
   one planned outage each, in network order. Each outage is traced on the model (the notice
   list), its meters are simulated on the field (5 % never report, 10 % of last gasps lost, 3 %
   sent twice), and it is reconciled as the service does (its evidence and that of the 30
   latest outages on the same feeders). Every suggestion at or above the service's default
   confidence (0.5) counts as sent to topology.
3. Measured: the share of injected errors that some outage *exposed* (the field's outcome of
   that outage differs once the error is undone) for which a right suggestion was sent, and
   the share of sent suggestions that are right. A move is right if it names the account's
   field transformer area; a device fix is right if the model with it gives, for every single
   switching device of the feeders concerned opened alone, the same customers as the field
   with that one error.
4. Timed: one outage of about 20,000 accounts (a substation's feeder breakers opened), from
   the stored meter events to the classes and the inferred fixes (``account_readings`` and
   ``judge``), with 30 earlier outages of evidence; the best of three runs.

Deterministic: the same arguments give the same city, errors, outages and meter events.
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from random import Random

from services.reconciliation.domain.fixes import AddTie, Fix, MoveCustomer
from services.reconciliation.domain.inference import Evidence, InferenceSettings, Suggestion
from services.reconciliation.domain.meters import (
    Cause,
    EventKind,
    MeterEvent,
    MeterMapping,
    Window,
    account_readings,
)
from services.reconciliation.domain.network import Network, Operation
from services.reconciliation.domain.reconcile import PastEvidence, judge
from services.reconciliation.domain.snapshot import parse_bundle
from tools.meter_sim import (
    FieldTruth,
    Grid,
    InjectedError,
    MissingTie,
    WrongTransformer,
    inject_errors,
    simulate,
    with_error,
)
from tools.network_gen import NetworkSpec, generate

START = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
MIN_CONFIDENCE = 0.5
HISTORY = 30
Plan = tuple[tuple[str, str], ...]


def model_network(grid: Grid) -> Network:
    files = grid.csv_files()
    return parse_bundle(files["nodes.csv"], files["devices.csv"], files["customers.csv"])


def events_of(truth: FieldTruth, plan: Plan, day: int) -> tuple[list[MeterEvent], Window]:
    starts = START + timedelta(days=day)
    ends = starts + timedelta(hours=8)
    simulation = simulate(truth, plan, starts, ends, seed=day)
    events = [
        MeterEvent(
            r.meter_id,
            EventKind(r.event),
            r.occurred_at,
            r.source_system,
            cause=Cause(r.cause) if r.cause else None,
        )
        for r in simulation.records
    ]
    return events, Window(starts, ends)


def season_plans(model: Grid, feeders: Sequence[str]) -> list[Plan]:
    wanted = set(feeders)
    return [
        ((d.device_id, "open"),)
        for d in model.devices
        if d.closed
        and d.kind in ("switch", "fuse", "disconnector")
        and model.feeder_of.get(d.from_node) in wanted
    ]


@dataclass
class Season:
    outages: int
    missed: int
    wrong: int
    sent: dict[str, Suggestion]
    seconds: float


def play_season(network: Network, truth: FieldTruth, plans: list[Plan]) -> Season:
    history: list[PastEvidence] = []
    sent: dict[str, Suggestion] = {}
    missed = wrong = 0
    started = time.perf_counter()
    mapping = MeterMapping({})
    for day, plan in enumerate(plans):
        events, window = events_of(truth, plan, day)
        readings = account_readings(events, mapping.resolve(events), window)
        operations = tuple(Operation(d, a) for d, a in plan)
        judgement = judge(
            network,
            outage_id=f"OUT-{day:04d}",
            operations=operations,
            listed=network.affected_accounts(operations),
            readings=readings,
            claimed=(),
            history=history,
            history_limit=HISTORY,
            settings=InferenceSettings(),
        )
        missed += len(judgement.reconciliation.missed)
        wrong += len(judgement.reconciliation.wrong)
        evidence = Evidence(f"OUT-{day:04d}", operations, judgement.readings)
        history.insert(0, PastEvidence(evidence, judgement.feeders))
        for suggestion in judgement.inference.suggestions:
            if suggestion.confidence >= MIN_CONFIDENCE:
                sent.setdefault(suggestion.fix.suggestion_id, suggestion)
    return Season(len(plans), missed, wrong, sent, time.perf_counter() - started)


def probes(model: Grid, feeders: set[str]) -> list[Plan]:
    return [
        ((d.device_id, "open"),)
        for d in model.devices
        if d.closed
        and d.kind in ("switch", "fuse", "disconnector", "breaker")
        and model.feeder_of.get(d.from_node) in feeders
    ]


def fix_is_right(fix: Fix, error: InjectedError, model: Grid, network: Network) -> bool:
    if isinstance(error, WrongTransformer):
        return fix.changes == (MoveCustomer(error.account_id, error.field_node),)
    if any(isinstance(c, MoveCustomer) for c in fix.changes):
        return False
    concerned = _feeders(model, fix.elements | _ends(fix)) | _feeders(model, _error_devices(error))
    if not _feeders(model, fix.elements | _ends(fix)) & _feeders(model, _error_devices(error)):
        return False
    field = with_error(model, error)
    fixed = fix.apply(network)
    # Device errors and fixes move no customer: compare the customer nodes cut off.
    served = model.served_nodes
    for plan in probes(model, concerned):
        operations = [Operation(d, a) for d, a in plan]
        expected = {field.nodes[v][0] for v in field.lost_nodes(plan)} & served
        got = {fixed.node_ids[v] for v in fixed.trace(operations).lost} & served
        if got != expected:
            return False
    return True


def _ends(fix: Fix) -> set[str]:
    return {n for c in fix.changes if isinstance(c, AddTie) for n in (c.from_node, c.to_node)}


def _feeders(model: Grid, elements: set[str]) -> set[str]:
    """Feeders of the given devices' or nodes' ends."""
    out = set()
    for element in elements:
        if element in model.device_index:
            device = model.devices[model.device_index[element]]
            ends = (device.from_node, device.to_node)
        else:
            ends = (element,)
        out.update(model.feeder_of[n] for n in ends if n in model.feeder_of)
    return out


def _error_devices(error: InjectedError) -> set[str]:
    """The model elements the error concerns (a missing tie by its ends)."""
    if isinstance(error, WrongTransformer):
        return set()
    if isinstance(error, MissingTie):
        return {error.switch_id, error.from_node, error.to_node}
    return {error.switch_id, error.tie_id}


def measure_quality(
    model: Grid, network: Network, truth: FieldTruth, plans: list[Plan]
) -> dict[str, object]:
    season = play_season(network, truth, plans)
    exposed = [e for e in truth.errors if any(truth.exposes(e, p) for p in plans)]
    right: dict[str, InjectedError] = {}
    for suggestion_id, suggestion in season.sent.items():
        for error in truth.errors:
            if fix_is_right(suggestion.fix, error, model, network):
                right[suggestion_id] = error
                break
    found = {id(e) for e in right.values()}
    found_exposed = [e for e in exposed if id(e) in found]
    by_kind: dict[str, list[int]] = {}
    for error in exposed:
        counts = by_kind.setdefault(type(error).__name__, [0, 0])
        counts[0] += 1
        counts[1] += id(error) in found
    return {
        "errors injected": len(truth.errors),
        "outages in the season": season.outages,
        "missed notices in the season": season.missed,
        "wrong notices in the season": season.wrong,
        "errors exposed by some outage": len(exposed),
        "exposed errors found": len(found_exposed),
        "found share": len(found_exposed) / len(exposed) if exposed else None,
        "found by kind (exposed, found)": by_kind,
        "suggestions sent": len(season.sent),
        "suggestions right": len(right),
        "right share": len(right) / len(season.sent) if season.sent else None,
        "suggestions not right": [
            f"{s.fix.describe(network)} (confidence {s.confidence})"
            for i, s in season.sent.items()
            if i not in right
        ],
        "season seconds (incl. simulation)": round(season.seconds, 1),
    }


def measure_speed(
    model: Grid, network: Network, truth: FieldTruth, season: list[Plan], target: int
) -> dict[str, object]:
    """Reconcile one big outage: a substation's feeder breakers, about ``target`` accounts."""
    breakers_by_source: dict[str, list[str]] = {}
    for d in model.devices:
        if d.kind == "breaker" and d.from_node in set(model.feeder_of.values()):
            breakers_by_source.setdefault(d.from_node, []).append(d.device_id)
    customers_on: dict[str, int] = {}
    for _account, node in model.customers:
        feeder = model.feeder_of.get(node)
        if feeder is not None:
            customers_on[feeder] = customers_on.get(feeder, 0) + 1
    plan: list[tuple[str, str]] = []
    count = 0
    for source in sorted(breakers_by_source):
        if count >= target:
            break
        plan.extend((b, "open") for b in breakers_by_source[source])
        count += customers_on.get(source, 0)
    big = tuple(plan)
    operations = tuple(Operation(d, a) for d, a in big)
    listed = network.affected_accounts(operations)
    # The 30 earlier outages weighed are the season's first, all taken as on the same feeders.
    everywhere = frozenset(network.node_ids)
    history = []
    mapping = MeterMapping({})
    for day, small in enumerate(season[:HISTORY]):
        events, window = events_of(truth, small, day)
        readings = account_readings(events, mapping.resolve(events), window)
        ops = tuple(Operation(d, a) for d, a in small)
        history.append(PastEvidence(Evidence(f"H{day}", ops, readings), everywhere))
    events, window = events_of(truth, big, 400)
    best = float("inf")
    judgement = None
    for _ in range(3):
        started = time.perf_counter()
        readings = account_readings(events, mapping.resolve(events), window)
        judgement = judge(
            network,
            outage_id="BIG",
            operations=operations,
            listed=listed,
            readings=readings,
            claimed=(),
            history=history,
            history_limit=HISTORY,
            settings=InferenceSettings(),
        )
        best = min(best, time.perf_counter() - started)
    assert judgement is not None
    return {
        "accounts listed": len(listed),
        "meter events": len(events),
        "missed": len(judgement.reconciliation.missed),
        "wrong": len(judgement.reconciliation.wrong),
        "fixes inferred": len(judgement.inference.suggestions),
        "seconds (best of 3)": round(best, 3),
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.reconciliation")
    parser.add_argument("--customers", type=int, default=60_000)
    parser.add_argument("--season-feeders", type=int, default=8)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--wrong-transformers", type=int, default=40)
    parser.add_argument("--boundary-moves", type=int, default=6)
    parser.add_argument("--missing-ties", type=int, default=4)
    parser.add_argument("--big-outage", type=int, default=20_000)
    args = parser.parse_args(argv)
    print(
        f"machine: {platform.processor() or platform.machine()}, python {platform.python_version()}"
    )
    with tempfile.TemporaryDirectory() as scratch:
        generate(
            Path(scratch),
            NetworkSpec(customers=args.customers, seed=args.seed, with_contacts=False),
        )
        model = Grid.read(Path(scratch))
    network = model_network(model)
    truth = inject_errors(
        model,
        wrong_transformers=args.wrong_transformers,
        boundary_moves=args.boundary_moves,
        missing_ties=args.missing_ties,
        seed=args.seed,
    )
    feeders = sorted(set(model.feeder_of.values()))
    season_feeders = sorted(
        Random(args.seed).sample(feeders, min(args.season_feeders, len(feeders)))
    )
    plans = season_plans(model, season_feeders)
    print(f"city: {args.customers} customers, {len(feeders)} feeders, {len(model.nodes)} nodes")
    quality = measure_quality(model, network, truth, plans)
    for key, value in quality.items():
        print(f"{key}: {value}")
    speed = measure_speed(model, network, truth, plans, args.big_outage)
    for key, value in speed.items():
        print(f"big outage {key}: {value}")


if __name__ == "__main__":
    main()
