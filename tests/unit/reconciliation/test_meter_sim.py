"""The meter simulator: the field network's own trace, injected errors, and the events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tools.meter_sim import (
    BoundaryMoved,
    FieldTruth,
    Grid,
    MissingTie,
    SimSettings,
    WrongTransformer,
    inject_errors,
    simulate,
)
from tools.network_gen import SAMPLE_DISTRICT, generate

START = datetime(2026, 11, 28, 0, 0, tzinfo=UTC)
END = START + timedelta(hours=8)


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Grid:
    directory: Path = tmp_path_factory.mktemp("sample")
    generate(directory, SAMPLE_DISTRICT)
    return Grid.read(directory)


def a_switch(grid: Grid) -> str:
    below = {
        d.device_id: len(grid.below(d.device_id))
        for d in grid.devices[:400]
        if d.kind == "switch" and d.closed
    }
    return max(below, key=lambda d: (below[d], d))


def test_errors_are_injected_as_asked_and_differ_from_the_model(sample):
    truth = inject_errors(sample, wrong_transformers=3, boundary_moves=1, missing_ties=1, seed=5)
    kinds = [type(e) for e in truth.errors]
    assert kinds.count(WrongTransformer) == 3
    assert kinds.count(BoundaryMoved) == 1
    assert kinds.count(MissingTie) == 1
    assert truth.grid.customers != sample.customers
    assert len(truth.grid.devices) == len(sample.devices) + 1
    for error in truth.errors:
        if isinstance(error, WrongTransformer):
            assert dict(truth.grid.customers)[error.account_id] == error.field_node
            assert dict(sample.customers)[error.account_id] == error.model_node


def test_the_field_supplies_every_customer_the_model_supplies(sample):
    truth = inject_errors(sample, wrong_transformers=2, boundary_moves=2, missing_ties=1, seed=9)
    field = truth.grid
    supplied = {field.nodes[v][0] for v in field.normally_supplied}
    assert all(node in supplied for _account, node in field.customers)


def test_meters_that_lost_supply_report_it_and_the_others_around_answer_the_check(sample):
    truth = FieldTruth(sample, ())
    switch = a_switch(sample)
    settings = SimSettings(silent_share=0, lost_gasp_share=0, duplicate_share=0)
    result = simulate(truth, [(switch, "open")], START, END, settings=settings)
    assert result.lost == sample.lost_accounts([(switch, "open")])
    assert result.lost
    by_meter: dict[str, set[str]] = {}
    for record in result.records:
        by_meter.setdefault("A" + record.meter_id[1:], set()).add(f"{record.event}/{record.cause}")
    for account in result.lost:
        assert by_meter[account] == {"power_lost/", "power_restored/restoration"}
    assert result.checked
    for account in result.checked:
        assert by_meter[account] == {"power_restored/status_check"}


def test_silent_meters_are_the_same_in_every_outage_and_lost_gasps_keep_the_restoration(sample):
    truth = FieldTruth(sample, ())
    switch = a_switch(sample)
    settings = SimSettings(silent_share=0.2, lost_gasp_share=0.5, duplicate_share=0.2)
    one = simulate(truth, [(switch, "open")], START, END, settings=settings, seed=3)
    two = simulate(
        truth,
        [(switch, "open")],
        START + timedelta(days=1),
        END + timedelta(days=1),
        settings=settings,
        seed=3,
    )
    assert one.silent
    assert one.silent == two.silent
    reported = {"A" + r.meter_id[1:] for r in one.records}
    assert not reported & one.silent
    restored = {"A" + r.meter_id[1:] for r in one.records if r.cause == "restoration"}
    assert restored == one.lost - one.silent
    assert len(one.records) > len(set(one.records)), "some events are sent twice"


def test_an_error_is_exposed_only_by_outages_whose_effect_it_changes(sample):
    truth = inject_errors(sample, boundary_moves=1, seed=4)
    (error,) = truth.errors
    assert isinstance(error, BoundaryMoved)
    tie = sample.devices[sample.device_index[error.tie_id]]
    feeder = sample.feeder_of[tie.from_node]
    breaker = next(
        d.device_id
        for d in sample.devices
        if d.kind == "breaker"
        and sample.feeder_of.get(d.to_node) == feeder
        and d.from_node == feeder
    )
    assert truth.exposes(error, [(breaker, "open")]) or truth.exposes(
        error,
        [
            (d.device_id, "open")
            for d in sample.devices
            if d.kind == "breaker" and d.from_node == sample.feeder_of[tie.to_node]
        ],
    )
    far = next(
        d.device_id
        for d in sample.devices
        if d.kind == "fuse"
        and sample.feeder_of.get(d.from_node) not in {feeder, sample.feeder_of[tie.to_node]}
    )
    assert not truth.exposes(error, [(far, "open")])
