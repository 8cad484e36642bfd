"""Complaint work orders, classified against the record and announced to the owning service."""

from __future__ import annotations

import pytest
from receipts_harness import (
    list_approved,
    notice_failed,
    notice_sent,
    outage_planned,
    outage_traced,
    recipient,
    report,
)

from shared.auth import Role
from shared.events import ComplaintClassified

LISTING = list_approved(
    entries=[
        recipient("sms", "+8613800000001", ["A1"]),
        recipient("sms", "+8613800000002", ["A2"]),
        recipient("sms", "+8613800000003", ["A3"]),
    ],
    account_ids=["A1", "A2", "A3", "A4"],
)


@pytest.fixture
async def recorded(receipts_app):
    """A1 delivered, A2 refused as an invalid number, A3 expired, A4 without any contact."""
    await receipts_app.publish(
        outage_planned(),
        outage_traced({"A1": "F1", "A2": "F1", "A3": "F2", "A4": "F2"}),
        LISTING,
        notice_sent("m1", ["A1"], address="+8613800000001"),
        notice_failed("m2", ["A2"], address="+8613800000002"),
        notice_sent("m3", ["A3"], address="+8613800000003"),
    )
    await receipts_app.post_reports([report("m1"), report("m3", "EXPIRED", err="MI:0013")])
    return receipts_app


async def file(receipts_app, account, kind="not_notified", *, work_order=None, role=Role.SYSTEM):
    return await receipts_app.client.post(
        "/v1/complaints",
        json={
            "work_order_id": work_order or f"WO-{account}-{kind}",
            "outage_id": "O-1",
            "account_id": account,
            "type": kind,
            "received_at": "2026-05-03T09:30:00",
            "text": "停电前没有接到通知",
        },
        headers=receipts_app.bearer(role, sub="95598"),
    )


async def test_each_cause_of_a_missed_notice_is_found_in_the_record(recorded):
    expected = {
        "A4": ("contact", "no_contact"),
        "A2": ("contact", "numbers_invalid"),
        "A3": ("delivery", "not_delivered"),
        "A1": ("customer_side", "delivered"),
    }

    bodies = {}
    for account in expected:
        response = await file(recorded, account)
        assert response.status_code == 201, response.text
        bodies[account] = response.json()

    found = {a: (b["cause"], b["finding"]) for a, b in bodies.items()}
    assert found == expected
    assert bodies["A1"]["received_at"] == "2026-05-03T09:30:00+08:00"
    assert all(body["what_if_affected"] is None for body in bodies.values())
    events = await recorded.events("complaint.classified")
    assert all(isinstance(event, ComplaintClassified) for event in events)
    assert {e.account_id: (e.cause, e.detail) for e in events} == {
        a: (b["cause"], b["detail"]) for a, b in bodies.items()
    }
    assert recorded.topology.calls == []  # the record alone decides


async def test_a_customer_missing_from_the_list_is_a_model_or_trace_error_checked_by_what_if(
    recorded,
):
    answers = [
        ({"A9"}, "not_on_list_model_now_feeds", True),
        (set(), "not_on_list_model_still_misses", False),
        (None, "not_on_list", None),  # topology does not answer
    ]

    for n, (affected, finding, what_if) in enumerate(answers):
        recorded.topology.affected = affected
        body = (await file(recorded, "A9", work_order=f"WO-{n}")).json()
        assert (body["cause"], body["finding"], body["what_if_affected"]) == (
            "model_or_trace",
            finding,
            what_if,
        )

    operations = {"operations": [{"device_id": "S-7", "action": "open"}]}
    assert recorded.topology.calls == [operations] * 3


async def test_told_but_no_outage_is_checked_against_todays_model(recorded):
    recorded.topology.affected = {"A2", "A3", "A4"}

    body = (await file(recorded, "A1", "no_outage")).json()

    assert (body["cause"], body["finding"]) == ("model_or_trace", "on_list_model_now_excludes")


async def test_a_work_order_filed_again_returns_the_first_classification(recorded):
    first = await file(recorded, "A3", work_order="WO-1")
    again = await file(recorded, "A1", work_order="WO-1")

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert len(await recorded.events("complaint.classified")) == 1


async def test_complaints_are_listed_by_outage_and_cause(recorded):
    await file(recorded, "A3")
    await file(recorded, "A4")

    response = await recorded.client.get(
        "/v1/complaints", params={"cause": "contact"}, headers=recorded.bearer(Role.PLANNER)
    )
    (one,) = response.json()
    single = await recorded.client.get(
        f"/v1/complaints/{one['complaint_id']}", headers=recorded.bearer(Role.PLANNER)
    )

    assert one["account_id"] == "A4"
    assert single.json() == one


async def test_complaints_about_unknown_outages_or_from_other_roles_are_refused(recorded):
    field = await file(recorded, "A1", role=Role.FIELD)
    dispatcher = await file(recorded, "A1", role=Role.DISPATCHER)
    unknown = await recorded.client.post(
        "/v1/complaints",
        json={
            "work_order_id": "WO-x",
            "outage_id": "O-404",
            "account_id": "A1",
            "type": "not_notified",
            "received_at": "2026-05-03T09:30:00",
        },
        headers=recorded.bearer(Role.SYSTEM),
    )
    bad_type = await recorded.client.post(
        "/v1/complaints",
        json={"work_order_id": "WO-y", "outage_id": "O-1", "account_id": "A1", "type": "angry"},
        headers=recorded.bearer(Role.SYSTEM),
    )

    assert field.status_code == 403
    assert dispatcher.status_code == 201
    assert (unknown.status_code, unknown.json()["field"]) == (404, "outage_id")
    assert (bad_type.status_code, bad_type.json()["field"]) == (422, "type")
