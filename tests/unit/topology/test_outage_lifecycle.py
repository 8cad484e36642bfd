"""An outage plan's life: planned, traced once, cancelled once, each step with its event."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from services.topology.domain.outage import Outage, OutageStatus, new_outage_id
from services.topology.domain.tracer import TraceResult
from shared.errors import Conflict, InvalidInput
from shared.events import AffectedAccount, FeederScope, Operation, TraceWarning

SHANGHAI = timezone(timedelta(hours=8))
STARTS = datetime(2026, 11, 28, 8, 0, tzinfo=SHANGHAI)
NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
OPERATIONS = [Operation(device_id="SW1", action="open")]


def plan(**overrides):
    values = {
        "outage_id": "OUT-1",
        "kind": "planned",
        "starts_at": STARTS,
        "ends_at": STARTS + timedelta(hours=9),
        "work": "10kV线路检修",
        "area": "东1线#3杆以后",
        "operations": OPERATIONS,
        "planned_by": "alice",
        "planned_at": NOW,
    }
    values.update(overrides)
    return Outage.plan(**values)


RESULT = TraceResult(
    model_version=3,
    affected_accounts=[
        AffectedAccount(account_id="A1", isolating_device="SW1", node_id="TA", feeder="S1")
    ],
    transformers=[],
    feeders=[FeederScope(source_node="S1", name="东1线", customers=1)],
    warnings=[TraceWarning(code="parallel_sources", message="…", elements=["S1", "S2"])],
)


def test_a_plan_keeps_its_times_in_utc_and_announces_itself():
    outage, planned = plan()

    assert outage.status is OutageStatus.PLANNED
    assert outage.starts_at == datetime(2026, 11, 28, 0, 0, tzinfo=UTC)
    assert outage.starts_at.tzinfo is UTC
    assert planned.outage_id == "OUT-1"
    assert planned.operations == OPERATIONS
    assert planned.details.planned_by == "alice"
    assert planned.details.starts_at == STARTS


@pytest.mark.parametrize("hours", [0, -1])
def test_a_plan_must_end_after_it_starts(hours):
    with pytest.raises(InvalidInput) as raised:
        plan(ends_at=STARTS + timedelta(hours=hours))

    assert raised.value.field == "ends_at"


def test_a_plan_without_a_utc_offset_is_refused():
    with pytest.raises(InvalidInput) as raised:
        plan(starts_at=datetime(2026, 11, 28, 8, 0))

    assert raised.value.field == "starts_at"


def test_the_first_trace_is_recorded_and_announced_and_a_second_one_is_ignored():
    outage, _ = plan()

    traced = outage.record_trace(RESULT, NOW)

    assert traced is not None
    assert traced.affected_accounts == RESULT.affected_accounts
    assert traced.model_version == 3
    assert traced.trace_version == 1
    assert traced.details.planned_by == "alice"
    assert outage.status is OutageStatus.TRACED
    assert outage.trace is not None
    assert outage.trace.affected_accounts == 1
    assert outage.trace.warnings == RESULT.warnings
    assert outage.record_trace(RESULT, NOW) is None


def test_a_cancelled_outage_is_not_traced_any_more():
    outage, _ = plan()
    outage.cancel("雷雨", "dispatcher-zhao", NOW)

    assert outage.record_trace(RESULT, NOW) is None
    assert outage.status is OutageStatus.CANCELLED
    assert outage.trace is None


def test_an_outage_is_cancelled_once():
    outage, _ = plan()
    outage.record_trace(RESULT, NOW)

    cancelled = outage.cancel("雷雨", "dispatcher-zhao", NOW)

    assert (cancelled.outage_id, cancelled.reason, cancelled.cancelled_by) == (
        "OUT-1",
        "雷雨",
        "dispatcher-zhao",
    )
    assert outage.status is OutageStatus.CANCELLED
    with pytest.raises(Conflict):
        outage.cancel("again", "alice", NOW)


def test_a_generated_id_carries_the_local_start_date():
    late_evening_utc = datetime(2026, 11, 27, 20, 0, tzinfo=UTC)  # 28 Nov 04:00 in Shanghai

    outage_id = new_outage_id(late_evening_utc, "Asia/Shanghai")

    assert re.fullmatch(r"OUT-20261128-[0-9A-F]{4}", outage_id)
