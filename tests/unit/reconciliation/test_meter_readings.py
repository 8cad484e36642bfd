"""A meter's reading of an outage window, and an account's from its meters."""

from __future__ import annotations

from datetime import timedelta

import pytest
from reconciliation_grids import T0, T1_END

from services.reconciliation.domain.meters import (
    Cause,
    EventKind,
    MeterEvent,
    MeterMapping,
    Window,
    account_readings,
    meter_reading,
)
from services.reconciliation.domain.network import Supply

WINDOW = Window(T0, T1_END, lead=timedelta(minutes=30), tail=timedelta(hours=2))


def lost(at, meter="M1"):
    return MeterEvent(meter, EventKind.LOST, at, "AMI")


def restored(at, meter="M1", cause=Cause.RESTORATION):
    return MeterEvent(meter, EventKind.RESTORED, at, "AMI", cause=cause)


def test_a_loss_in_the_window_or_just_before_it_is_a_loss():
    assert meter_reading([lost(T0 + timedelta(seconds=40))], WINDOW) is Supply.LOST
    assert meter_reading([lost(T0 - timedelta(minutes=10))], WINDOW) is Supply.LOST


def test_a_restoration_without_its_last_gasp_still_shows_the_loss():
    assert meter_reading([restored(T1_END + timedelta(minutes=3))], WINDOW) is Supply.LOST


def test_a_status_check_during_the_window_shows_supply_kept():
    check = restored(T0 + timedelta(hours=4), cause=Cause.STATUS_CHECK)
    assert meter_reading([check], WINDOW) is Supply.ON


def test_a_meter_that_did_not_report_is_unknown_never_on():
    assert meter_reading([], WINDOW) is None


@pytest.mark.parametrize(
    "event",
    [
        lost(T0 - timedelta(hours=3)),
        lost(T1_END + timedelta(minutes=5)),
        restored(T1_END + timedelta(hours=5)),
        restored(T0 - timedelta(hours=1), cause=Cause.STATUS_CHECK),
    ],
    ids=["loss long before", "loss after the end", "restoration long after", "check before"],
)
def test_events_outside_the_window_say_nothing(event):
    assert meter_reading([event], WINDOW) is None


def test_a_loss_outweighs_a_status_check_in_any_order():
    events = [
        restored(T0 + timedelta(hours=1), cause=Cause.STATUS_CHECK),
        lost(T0 + timedelta(minutes=1)),
    ]
    assert meter_reading(events, WINDOW) is Supply.LOST
    assert meter_reading(list(reversed(events)), WINDOW) is Supply.LOST


def test_duplicates_and_arrival_order_change_no_reading():
    events = [lost(T0, "M1"), lost(T0, "M1"), restored(T1_END, "M1"), lost(T0, "M2")]
    mapping = {"M1": "A1", "M2": "A2"}
    forward = account_readings(events, mapping, WINDOW)
    assert forward == account_readings(list(reversed(events * 2)), mapping, WINDOW)
    assert forward == {"A1": Supply.LOST, "A2": Supply.LOST}


def test_an_account_lost_supply_if_any_of_its_meters_did():
    events = [
        restored(T0 + timedelta(hours=2), "M1", Cause.STATUS_CHECK),
        lost(T0, "M2"),
        restored(T0 + timedelta(hours=2), "M3", Cause.STATUS_CHECK),
    ]
    mapping = {"M1": "A1", "M2": "A1", "M3": "A3"}
    assert account_readings(events, mapping, WINDOW) == {"A1": Supply.LOST, "A3": Supply.ON}


def test_meters_without_an_account_are_left_out():
    assert account_readings([lost(T0, "X9")], {}, WINDOW) == {}


def test_meters_map_to_accounts_by_source_registry_or_default_rule():
    mapping = MeterMapping({"EM-77": "A00000077"})
    assert mapping.account_of("M00000042") == "A00000042"
    assert mapping.account_of("EM-77") == "A00000077"
    assert mapping.account_of("M00000042", stated="A00000099") == "A00000099"
    assert mapping.account_of("X123") is None
    assert mapping.account_of("M") is None
