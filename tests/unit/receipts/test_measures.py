"""Report figures over outages, on a scenario whose answers are known."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from receipts_records import (
    PHONE,
    START,
    T0,
    TIMING,
    ack,
    approved,
    entry,
    escalation,
    message,
    record,
)

from services.receipts.domain.measures import (
    ComplaintFact,
    GroupBy,
    build_report,
    percentile,
    percentiles,
)
from services.receipts.domain.status import ReceiptStatus

D, F = ReceiptStatus.DELIVERED, ReceiptStatus.FAILED


@pytest.mark.parametrize(
    ("p", "expected"), [(1, 1.0), (50, 5.0), (90, 9.0), (91, 10.0), (100, 10.0)]
)
def test_percentiles_take_the_nearest_rank(p, expected):
    assert percentile([float(v) for v in range(1, 11)], p) == expected


def test_an_empty_sample_has_no_percentiles():
    assert percentiles([]).count == 0
    assert percentiles([]).p50 is None


# Outage O-1 (planned, planner-1, begun): A1, A2 on feeder F1, A3 on F2.
#   A1 delivered after 60 s and acknowledged; A2 reached only after the start;
#   A3 failed, escalated, never reached. Complaints: A3 contact, A2 delivery.
# Outage O-2 (temporary, planner-2, not begun): B1 on F1 delivered after 120 s.
O1 = record(
    approved(
        entry("sms", PHONE[1], ["A1"]),
        entry("sms", PHONE[2], ["A2"]),
        entry("sms", PHONE[3], ["A3"]),
    ),
    messages=[
        message("m1", ["A1"], PHONE[1], delivery=D, settled_at=T0 + timedelta(seconds=60)),
        message(
            "m2",
            ["A2"],
            PHONE[2],
            delivery=D,
            sent_at=START,
            settled_at=START + timedelta(seconds=30),
        ),
        message("m3", ["A3"], PHONE[3], delivery=F),
    ],
    acks=[ack(["A1"], T0 + timedelta(minutes=10))],
    escalations=[escalation("A3", 1, T0 + timedelta(minutes=5))],
    feeders={"A1": "F1", "A2": "F1", "A3": "F2"},
)
O2 = replace(
    record(
        approved(entry("sms", PHONE[9], ["B1"])),
        messages=[
            message("b1", ["B1"], PHONE[9], delivery=D, settled_at=T0 + timedelta(seconds=120))
        ],
        feeders={"B1": "F1"},
        planned_by="planner-2",
        timing=replace(TIMING, kind="temporary", starts_at=START + timedelta(days=30)),
    ),
    outage_id="O-2",
)
COMPLAINTS = [ComplaintFact("O-1", "A3", "contact"), ComplaintFact("O-1", "A2", "delivery")]
NOW = START + timedelta(hours=2)


def test_figures_by_feeder_count_each_account_on_its_own_feeder():
    f1, f2 = build_report([O1, O2], COMPLAINTS, GroupBy.FEEDER, NOW)

    assert (f1.group, f2.group) == ("F1", "F2")
    assert (f1.outages, f1.accounts_targeted, f1.accounts_reached, f1.accounts_acknowledged) == (
        2,
        3,
        3,
        1,
    )
    assert (f1.outages_started, f1.accounts_unreached_at_start) == (1, 1)
    assert f1.complaints["delivery"] == 1
    assert f1.complaints_per_1000["delivery"] == 333.33
    assert f1.time_to_delivery["sms"].count == 3
    assert f1.time_to_delivery["sms"].p50 == 60.0
    assert f1.time_to_delivery["sms"].p99 == 120.0
    assert (f2.accounts_targeted, f2.accounts_reached, f2.accounts_escalated) == (1, 0, 1)
    assert f2.accounts_unreached_at_start == 1
    assert f2.complaints == {
        "model_or_trace": 0,
        "contact": 1,
        "delivery": 0,
        "customer_side": 0,
        "unclassified": 0,
    }
    assert f2.complaints_per_1000["contact"] == 1000.0


def test_figures_by_kind_and_by_team_follow_the_outage():
    by_kind = {g.group: g for g in build_report([O1, O2], COMPLAINTS, GroupBy.KIND, NOW)}
    by_team = {g.group: g for g in build_report([O1, O2], COMPLAINTS, GroupBy.TEAM, NOW)}

    assert set(by_kind) == {"planned", "temporary"}
    assert by_kind["planned"].accounts_targeted == 3
    assert by_kind["planned"].accounts_unreached_at_start == 2
    assert by_kind["planned"].reached_share == pytest.approx(2 / 3)
    assert by_kind["temporary"].outages_started == 0
    assert by_kind["temporary"].accounts_unreached_at_start == 0
    assert sum(by_kind["planned"].complaints.values()) == 2
    assert set(by_team) == {"planner-1", "planner-2"}
    assert by_team["planner-2"].time_to_delivery["sms"].p50 == 120.0


def test_a_cancelled_outage_counts_its_notices_but_not_unreached_at_the_start():
    cancelled = replace(O1, cancelled_at=T0 + timedelta(hours=1))

    (group,) = build_report([cancelled], [], GroupBy.KIND, NOW)

    assert group.accounts_reached == 2
    assert group.outages_started == 0
    assert group.accounts_unreached_at_start == 0
