"""Coverage of an outage, on a scenario whose answers are known."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from receipts_harness import list_approved, notice_failed, notice_sent, report

from shared.events import OutageCancelled

CANCELLED = OutageCancelled(
    outage_id="O-1",
    reason="雷雨天气",
    cancelled_by="planner-1",
    cancelled_at=datetime(2026, 5, 2, 1, 30, tzinfo=UTC),
)


@pytest.fixture
async def scenario(receipts_app):
    """Seven accounts, five recipients (one electrician serves A2 and A3), A7 has no number.

    m1 (A1) and m2 (A2, A3) are delivered, m3 (A4) undeliverable, m4 (A5) unanswered, m5 (A6)
    refused at submission.
    """
    await receipts_app.publish(
        list_approved([["A1"], ["A2", "A3"], ["A4"], ["A5"], ["A6"]], account_count=7),
        notice_sent("m1", ["A1"]),
        notice_sent("m2", ["A2", "A3"]),
        notice_sent("m3", ["A4"]),
        notice_sent("m4", ["A5"]),
        notice_failed("m5", ["A6"]),
    )
    response = await receipts_app.post_reports(
        [report("m1"), report("m2"), report("m3", "UNDELIV", err="MK:0001")]
    )
    assert response.json()["accepted"] == 3
    return receipts_app


async def test_coverage_counts_notices_and_accounts_reached(scenario):
    coverage = await scenario.coverage()

    notice = {
        "sent": 4,
        "delivered": 2,
        "failed": 1,
        "expired": 0,
        "pending": 1,
        "failed_at_submission": 1,
    }
    assert coverage == {
        "outage_id": "O-1",
        "list_version": 1,
        "kind": "planned",
        "starts_at": "2026-05-03T08:00:00+08:00",
        "deadline": "2026-05-02T08:00:00+08:00",
        "accounts_targeted": 7,
        "recipients": 5,
        "accounts_without_recipient": 1,
        "cancelled": False,
        "cancelled_at": None,
        "notice": notice,
        "cancellation": {
            "sent": 0,
            "delivered": 0,
            "failed": 0,
            "expired": 0,
            "pending": 0,
            "failed_at_submission": 0,
        },
        "by_channel": {"sms": notice},
        "cancellation_by_channel": {},
        "accounts_reached": 3,
        "accounts_reached_by_deadline": 3,
        "accounts_acknowledged": 0,
        "accounts_escalated": 0,
        "accounts_unreachable": 0,
        "reached_pct": 42.9,
        "reached_of_reachable_pct": 42.9,
        "accounts_unreached_count": 4,
        "accounts_unreached": ["A4", "A5", "A6"],
        "accounts_unreached_at_start": None,
        "open_tasks": 0,
        "time_to_delivery": {"sms": {"count": 2, "p50_s": 60.0, "p90_s": 60.0, "p99_s": 60.0}},
    }


async def test_cancellation_notices_are_counted_apart_and_reach_no_account(scenario):
    await scenario.publish(
        CANCELLED,
        notice_sent("c1", ["A1"], kind="cancellation"),
        notice_sent("c2", ["A2", "A3"], kind="cancellation"),
    )
    await scenario.post_reports([report("c1"), report("c2", "EXPIRED", err="MI:0013")])

    coverage = await scenario.coverage()

    assert coverage["cancelled"] is True
    assert coverage["cancelled_at"] == "2026-05-02T09:30:00+08:00"
    assert coverage["cancellation"] == {
        "sent": 2,
        "delivered": 1,
        "failed": 0,
        "expired": 1,
        "pending": 0,
        "failed_at_submission": 0,
    }
    assert coverage["notice"]["delivered"] == 2
    assert coverage["accounts_reached"] == 3


async def test_the_newest_list_version_sets_the_targets(scenario):
    await scenario.publish(
        list_approved([["A1"], ["A2", "A3"], ["A8"]], version=2),
        notice_sent("m8", ["A8"], list_version=2),
    )
    await scenario.publish(list_approved([["A1"]], version=1))  # a late copy of version 1

    coverage = await scenario.coverage()

    assert coverage["list_version"] == 2
    assert coverage["accounts_targeted"] == 4
    assert coverage["recipients"] == 3
    assert coverage["accounts_reached"] == 3
    assert coverage["accounts_unreached"] == ["A8"]
    assert coverage["notice"]["sent"] == 5


async def test_events_delivered_again_change_no_count(scenario):
    before = await scenario.coverage()
    again = [
        list_approved([["A1"], ["A2", "A3"], ["A4"], ["A5"], ["A6"]], account_count=7),
        notice_sent("m1", ["A1"]),
        notice_failed("m5", ["A6"]),
    ]
    redelivered = scenario.bus.log["notice.sent"][0]

    await scenario.publish(*again)  # the same facts under new event ids
    await scenario.bus.publish([redelivered])  # the same event id again
    await scenario.bus.drain()

    after = await scenario.coverage()
    assert after == before


async def test_coverage_of_an_unknown_outage_is_not_found(receipts_app):
    await receipts_app.publish(notice_sent("m1", ["A1"], outage_id="O-1"))

    response = await receipts_app.client.get(
        "/v1/outages/O-404/coverage", headers={"Authorization": f"Bearer {receipts_app.token}"}
    )

    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


async def test_coverage_needs_a_bearer_token(receipts_app):
    await receipts_app.publish(notice_sent("m1", ["A1"]))

    response = await receipts_app.client.get("/v1/outages/O-1/coverage")

    assert response.status_code == 401


async def test_an_outage_known_only_by_its_cancellation_has_empty_coverage(receipts_app):
    await receipts_app.publish(CANCELLED)

    coverage = await receipts_app.coverage()

    assert coverage["cancelled"] is True
    assert coverage["list_version"] is None
    assert coverage["accounts_targeted"] == 0
    assert coverage["notice"]["sent"] == 0
