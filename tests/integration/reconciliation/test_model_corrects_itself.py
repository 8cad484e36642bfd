"""The model corrects itself: a season of outages on a feeder whose model has errors, each
reconciled against simulated meters; the fixes suggested are applied to the model and the same
outages, played again on the same field, leave no missed and no wrong notice.

Pure domain and simulator (no service): the field is traced by the simulator's own igraph
tracer, the model by the reconciliation snapshot's.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from services.reconciliation.demo import demo_field
from services.reconciliation.domain.fixes import Fix, MoveCustomer, apply_all
from services.reconciliation.domain.inference import Evidence, InferenceSettings
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
from tools.meter_sim import FieldTruth, Grid, WrongTransformer, inject_errors, simulate
from tools.network_gen import SAMPLE_DISTRICT, generate

START = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
MIN_CONFIDENCE = 0.5


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Grid:
    directory: Path = tmp_path_factory.mktemp("district")
    generate(directory, SAMPLE_DISTRICT)
    return Grid.read(directory)


def season(model: Grid) -> tuple[str, list[tuple[tuple[str, str], ...]]]:
    """A feeder and its maintenance season: each switch, branch device and transformer fuse
    opened once, in network order."""
    feeder = sorted(set(model.feeder_of.values()))[3]
    outages = [
        ((d.device_id, "open"),)
        for d in model.devices
        if d.closed
        and d.kind in ("switch", "fuse", "disconnector")
        and model.feeder_of.get(d.from_node) == feeder
    ]
    return feeder, outages


def play(
    network: Network, truth: FieldTruth, outages: list[tuple[tuple[str, str], ...]]
) -> tuple[int, int, dict[str, Fix]]:
    """Reconcile every outage in turn; the missed and wrong counts, and the fixes suggested."""
    history: list[PastEvidence] = []
    missed = wrong = 0
    suggested: dict[str, Fix] = {}
    for day, plan in enumerate(outages):
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
        readings = account_readings(events, MeterMapping({}).resolve(events), Window(starts, ends))
        operations = tuple(Operation(d, a) for d, a in plan)
        judgement = judge(
            network,
            outage_id=f"OUT-{day}",
            operations=operations,
            listed=network.affected_accounts(operations),
            readings=readings,
            claimed=(),
            history=history,
            history_limit=30,
            settings=InferenceSettings(),
        )
        missed += len(judgement.reconciliation.missed)
        wrong += len(judgement.reconciliation.wrong)
        history.insert(
            0,
            PastEvidence(Evidence(f"OUT-{day}", operations, judgement.readings), judgement.feeders),
        )
        for suggestion in judgement.inference.suggestions:
            if suggestion.confidence >= MIN_CONFIDENCE:
                suggested[suggestion.fix.suggestion_id] = suggestion.fix
    return missed, wrong, suggested


def test_after_the_suggested_fixes_the_same_outages_notify_exactly_who_loses_supply(model):
    feeder, outages = season(model)
    truth = inject_errors(model, wrong_transformers=3, boundary_moves=1, seed=3, feeders=[feeder])
    assert len(truth.errors) == 4
    files = model.csv_files()
    network = parse_bundle(files["nodes.csv"], files["devices.csv"], files["customers.csv"])

    missed, wrong, suggested = play(network, truth, outages)
    assert missed > 0
    assert wrong > 0

    moves = {
        (c.account_id, c.node_id)
        for fix in suggested.values()
        for c in fix.changes
        if isinstance(c, MoveCustomer)
    }
    injected = {
        (e.account_id, e.field_node) for e in truth.errors if isinstance(e, WrongTransformer)
    }
    assert moves == injected

    corrected = apply_all(network, list(suggested.values()))
    missed_after, wrong_after, suggested_after = play(corrected, truth, outages)
    assert (missed_after, wrong_after) == (0, 0)
    assert suggested_after == {}


def test_the_demo_outage_reveals_its_errors_and_repeats_clean_after_the_fixes(model):
    plan, truth = demo_field(model)
    files = model.csv_files()
    network = parse_bundle(files["nodes.csv"], files["devices.csv"], files["customers.csv"])
    missed, wrong, suggested = play(network, truth, [plan])
    assert missed >= 1
    assert wrong >= 1
    assert len(suggested) == 2
    corrected = apply_all(network, list(suggested.values()))
    assert play(corrected, truth, [plan])[:2] == (0, 0)
