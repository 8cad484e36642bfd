"""Reports arrive early, late and out of order; the notice's state only ever moves forward."""

from __future__ import annotations

import pytest
from receipts_harness import list_approved, notice_failed, notice_sent, report


async def test_report_before_its_notice_counts_once_the_notice_arrives(receipts_app):
    await receipts_app.publish(list_approved([["A1"], ["A2"]]))
    await receipts_app.post_reports([report("m1", "DELIVRD"), report("m2", "UNDELIV")])

    await receipts_app.publish(notice_sent("m1", ["A1"]), notice_sent("m2", ["A2"]))

    coverage = await receipts_app.coverage()
    assert coverage["notice"] == {
        "sent": 2,
        "delivered": 1,
        "failed": 1,
        "expired": 0,
        "pending": 0,
        "failed_at_submission": 0,
    }
    assert coverage["accounts_reached"] == 1
    assert coverage["accounts_unreached"] == ["A2"]


@pytest.mark.parametrize(
    ("arrivals", "final"),
    [
        (["DELIVRD", "ACCEPTD"], "delivered"),
        (["ACCEPTD", "DELIVRD"], "delivered"),
        (["EXPIRED", "DELIVRD"], "delivered"),
        (["DELIVRD", "EXPIRED"], "delivered"),
        (["UNDELIV", "DELIVRD"], "failed"),
        (["EXPIRED", "ACCEPTD"], "expired"),
        (["UNKNOWN", "ACCEPTD"], "pending"),
    ],
)
async def test_late_reports_never_move_a_notice_back(receipts_app, arrivals, final):
    await receipts_app.publish(notice_sent("m1", ["A1"]))

    for minute, stat in enumerate(arrivals):
        response = await receipts_app.post_reports(
            [report("m1", stat, done_at=f"2026-05-01T08:0{minute}:00Z")]
        )
        assert response.json()["accepted"] == 1

    coverage = await receipts_app.coverage()
    assert coverage["notice"][final] == 1
    assert coverage["notice"]["sent"] == 1
    assert await receipts_app.stored_receipts() == len(arrivals)
    assert [e.carrier_stat for e in await receipts_app.emitted()] == arrivals


async def test_reports_of_one_message_in_one_batch_apply_in_carrier_time_order(receipts_app):
    await receipts_app.publish(notice_sent("m1", ["A1"]))

    await receipts_app.post_reports(
        [
            report("m1", "DELIVRD", done_at="2026-05-01T08:05:00Z"),
            report("m1", "EXPIRED", done_at="2026-05-01T08:01:00Z"),
        ]
    )

    assert (await receipts_app.coverage())["notice"]["delivered"] == 1
    assert [e.carrier_stat for e in await receipts_app.emitted()] == ["EXPIRED", "DELIVRD"]


async def test_a_notice_the_carrier_took_stays_sent_whatever_the_order_of_events(receipts_app):
    await receipts_app.publish(notice_sent("m1", ["A1"]), notice_failed("m1", ["A1"]))
    await receipts_app.publish(notice_failed("m2", ["A2"]), notice_sent("m2", ["A2"]))

    coverage = await receipts_app.coverage()

    assert coverage["notice"]["sent"] == 2
    assert coverage["notice"]["failed_at_submission"] == 0
