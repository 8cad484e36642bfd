"""An outage plan's life: planned, traced, retraced while its notices are pending, rescheduled,
completed or cancelled, each step with its event, and the status rules between them."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from services.topology.domain.outage import Outage, OutageStatus, new_outage_id
from services.topology.domain.tracer import AffectedNode, TraceResult
from shared.errors import Conflict, InvalidInput
from shared.events import AccountChange, AffectedAccount, FeederScope, Operation, TraceWarning

SHANGHAI = timezone(timedelta(hours=8))
STARTS = datetime(2026, 11, 28, 8, 0, tzinfo=SHANGHAI)
NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)  # eight days before the start
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


def result(*nodes: tuple[str, list[str]], version: int = 3, warnings=()) -> TraceResult:
    return TraceResult(
        model_version=version,
        nodes=[AffectedNode(node, "SW1", "S1", accounts) for node, accounts in nodes],
        transformers=[],
        feeders=[FeederScope(source_node="S1", name="东1线", customers=1)],
        warnings=list(warnings),
    )


PARALLEL = TraceWarning(code="parallel_sources", message="…", elements=["S1", "S2"])
RESULT = result(("TA", ["A1"]), warnings=[PARALLEL])


def traced(**overrides):
    outage, _ = plan(**overrides)
    outage.record_trace(RESULT, NOW)
    return outage


def test_a_plan_keeps_its_times_in_utc_and_announces_itself():
    outage, planned = plan()

    assert outage.status is OutageStatus.PLANNED
    assert outage.starts_at == datetime(2026, 11, 28, 0, 0, tzinfo=UTC)
    assert outage.starts_at.tzinfo is UTC
    assert planned.outage_id == "OUT-1"
    assert planned.operations == OPERATIONS
    assert planned.details.planned_by == "alice"
    assert planned.details.starts_at == STARTS
    assert outage.plan_warnings == []


@pytest.mark.parametrize("hours", [0, -1])
def test_a_plan_must_end_after_it_starts(hours):
    with pytest.raises(InvalidInput) as raised:
        plan(ends_at=STARTS + timedelta(hours=hours))

    assert raised.value.field == "ends_at"


def test_a_plan_without_a_utc_offset_is_refused():
    with pytest.raises(InvalidInput) as raised:
        plan(starts_at=datetime(2026, 11, 28, 8, 0))

    assert raised.value.field == "starts_at"


@pytest.mark.parametrize(
    ("kind", "ahead", "flagged", "said"),
    [
        (
            "planned",
            timedelta(days=6, hours=23),
            True,
            "计划停电应至少提前 7 天通知用户，本次停电开始时间距登记仅 6 天 23 小时",
        ),
        ("planned", timedelta(days=7), False, ""),
        (
            "temporary",
            timedelta(hours=20),
            True,
            "临时停电应至少提前 24 小时通知用户，本次停电开始时间距登记仅 20 小时",
        ),
        ("temporary", timedelta(hours=30), False, ""),
        ("emergency", timedelta(minutes=5), False, ""),
        ("planned", timedelta(minutes=-30), True, "距登记仅 0 分钟"),
    ],
)
def test_a_start_closer_than_the_kinds_lead_time_is_accepted_but_flagged(
    kind, ahead, flagged, said
):
    outage, _ = plan(kind=kind, starts_at=NOW + ahead, ends_at=NOW + ahead + timedelta(hours=4))

    codes = [w.code for w in outage.plan_warnings]
    assert codes == (["lead_time_short"] if flagged else [])
    if flagged:
        assert said in outage.plan_warnings[0].message


def test_lead_times_come_from_the_settings_per_kind():
    ahead = timedelta(days=3)
    strict, _ = plan(starts_at=NOW + ahead, lead_times={"planned": timedelta(days=10)})
    lenient, _ = plan(starts_at=NOW + ahead, lead_times={"planned": timedelta(days=2)})

    assert [w.code for w in strict.plan_warnings] == ["lead_time_short"]
    assert "10 天" in strict.plan_warnings[0].message
    assert lenient.plan_warnings == []


def test_the_first_trace_is_recorded_and_announced_with_the_plans_warnings_first():
    outage, _ = plan(starts_at=NOW + timedelta(days=2), ends_at=NOW + timedelta(days=2, hours=3))

    event = outage.record_trace(RESULT, NOW)

    assert event is not None
    assert event.affected_accounts == [
        AffectedAccount(account_id="A1", isolating_device="SW1", node_id="TA", feeder="S1")
    ]
    assert (event.model_version, event.trace_version) == (3, 1)
    assert [w.code for w in event.warnings] == ["lead_time_short", "parallel_sources"]
    assert outage.status is OutageStatus.TRACED
    assert outage.trace is not None
    assert outage.trace.affected_accounts == 1
    assert outage.trace.warnings == event.warnings
    assert outage.affected == {"A1": "TA"}
    assert outage.record_trace(RESULT, NOW) is None


def test_a_cancelled_outage_is_not_traced_any_more():
    outage, _ = plan()
    outage.cancel("雷雨", "dispatcher-zhao", NOW)

    assert outage.record_trace(RESULT, NOW) is None
    assert outage.status is OutageStatus.CANCELLED
    assert outage.trace is None


def test_a_retrace_names_the_accounts_added_and_removed_and_counts_up():
    outage = traced()

    event = outage.record_retrace(
        result(("TA", ["A1"]), ("TB", ["B1"]), version=4), NOW, "客户迁移"
    ) or pytest.fail("expected a retrace")
    again = outage.record_retrace(result(("TB", ["B1"]), version=5), NOW, "客户销户")

    assert event.changes == [AccountChange(account_id="B1", change="added", node_id="TB")]
    assert (event.model_version, event.trace_version, event.reason) == (4, 2, "客户迁移")
    assert [a.account_id for a in event.affected_accounts] == ["A1", "B1"]
    assert again is not None
    assert again.changes == [AccountChange(account_id="A1", change="removed", node_id="TA")]
    assert again.trace_version == 3
    assert outage.affected == {"B1": "TB"}
    assert outage.trace is not None
    assert (outage.trace.model_version, outage.trace.affected_accounts) == (5, 1)


def test_a_retrace_that_finds_the_same_accounts_only_moves_to_the_new_model():
    outage = traced()

    event = outage.record_retrace(result(("TA", ["A1"]), version=9), NOW, "别处的变更")

    assert event is None
    assert outage.trace is not None
    assert (outage.trace.model_version, outage.trace.trace_version) == (9, 1)


def test_an_outage_awaits_its_notice_while_traced_and_ahead():
    outage = traced()

    assert outage.awaits_notice(NOW)
    assert not outage.awaits_notice(outage.starts_at)
    outage.cancel("取消", "alice", NOW)
    assert not outage.awaits_notice(NOW)
    untraced, _ = plan()
    assert not untraced.awaits_notice(NOW)


def test_a_reschedule_moves_the_times_and_announces_the_previous_ones():
    outage = traced()
    new_start = STARTS + timedelta(days=7)

    event = outage.reschedule(new_start, new_start + timedelta(hours=6), "天气", "alice", NOW)

    assert event.previous_starts_at == STARTS
    assert event.details.starts_at == new_start
    assert (event.reason, event.rescheduled_by, event.rescheduled_at) == ("天气", "alice", NOW)
    assert outage.starts_at == new_start
    assert outage.status is OutageStatus.TRACED
    assert [(r.previous_starts_at, r.reason) for r in outage.reschedules] == [(STARTS, "天气")]


def test_a_reschedule_closer_than_the_lead_time_is_flagged_as_of_the_reschedule():
    outage = traced()
    soon = NOW + timedelta(days=2)

    outage.reschedule(soon, soon + timedelta(hours=3), "提前", "alice", NOW)

    assert [w.code for w in outage.plan_warnings] == ["lead_time_short"]
    later = NOW + timedelta(days=20)
    outage.reschedule(later, later + timedelta(hours=3), "推后", "alice", NOW)
    assert outage.plan_warnings == []


def test_once_begun_only_the_end_may_move():
    outage = traced()
    during = STARTS + timedelta(hours=2)

    extended = outage.reschedule(STARTS, STARTS + timedelta(hours=12), "延长", "bob", during)
    with pytest.raises(Conflict) as moved:
        outage.reschedule(
            STARTS + timedelta(hours=3), STARTS + timedelta(hours=13), "x", "bob", during
        )

    assert extended.previous_ends_at == STARTS + timedelta(hours=9)
    assert moved.value.field == "starts_at"


@pytest.mark.parametrize(
    ("starts", "ends", "field"),
    [
        (STARTS, STARTS + timedelta(hours=9), "starts_at"),  # unchanged
        (NOW - timedelta(hours=2), NOW + timedelta(hours=2), "starts_at"),  # start passed
        (NOW - timedelta(hours=5), NOW - timedelta(hours=2), "ends_at"),  # end passed
        (STARTS, STARTS - timedelta(hours=1), "ends_at"),
    ],
)
def test_a_reschedule_needs_new_times_that_are_still_ahead(starts, ends, field):
    outage = traced()

    with pytest.raises(InvalidInput) as raised:
        outage.reschedule(starts, ends, "x", "alice", NOW)

    assert raised.value.field == field


def test_completion_comes_once_the_outage_has_begun_and_ends_its_life():
    outage = traced()

    with pytest.raises(Conflict):
        outage.complete("field-li", NOW)
    event = outage.complete("field-li", STARTS + timedelta(hours=8))

    assert (event.outage_id, event.completed_by) == ("OUT-1", "field-li")
    assert outage.status is OutageStatus.COMPLETED
    assert not outage.awaits_notice(NOW)
    for change in (
        lambda: outage.complete("again", STARTS + timedelta(hours=9)),
        lambda: outage.cancel("late", "alice", STARTS + timedelta(hours=9)),
        lambda: outage.reschedule(STARTS, STARTS + timedelta(hours=20), "x", "alice", NOW),
    ):
        with pytest.raises(Conflict):
            change()


def test_an_outage_is_cancelled_once_and_then_neither_rescheduled_nor_completed():
    outage = traced()

    cancelled = outage.cancel("雷雨", "dispatcher-zhao", NOW)

    assert (cancelled.outage_id, cancelled.reason, cancelled.cancelled_by) == (
        "OUT-1",
        "雷雨",
        "dispatcher-zhao",
    )
    assert outage.status is OutageStatus.CANCELLED
    with pytest.raises(Conflict):
        outage.cancel("again", "alice", NOW)
    with pytest.raises(Conflict):
        outage.reschedule(STARTS + timedelta(days=1), STARTS + timedelta(days=2), "x", "a", NOW)
    with pytest.raises(Conflict):
        outage.complete("field-li", STARTS + timedelta(hours=1))


def test_a_generated_id_carries_the_local_start_date():
    late_evening_utc = datetime(2026, 11, 27, 20, 0, tzinfo=UTC)  # 28 Nov 04:00 in Shanghai

    outage_id = new_outage_id(late_evening_utc, "Asia/Shanghai")

    assert re.fullmatch(r"OUT-20261128-[0-9A-F]{4}", outage_id)
