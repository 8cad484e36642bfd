"""Field work (door slips, postings) and the feedback of failing numbers to the registry."""

from __future__ import annotations

from datetime import timedelta

from receipts_harness import SENT_AT, list_approved, notice_failed, notice_sent, recipient, report

from shared.auth import Role
from shared.events import ContactUndeliverable, OutageCancelled

DEAD = "+8613800009999"
LISTING = list_approved(
    entries=[
        recipient("door_slip", "A1", ["A1"]),
        recipient("posted_notice", "TA-7", ["A2", "A3"]),
        recipient("sms", DEAD, ["A4"]),
        recipient("sms", "+8613800000005", ["A5"]),
    ]
)
SIGNED_AT = "2026-05-01T17:30:00+08:00"
AFTER_SIGNING = SENT_AT + timedelta(hours=2)


async def worklist(receipts_app, **params):
    response = await receipts_app.client.get(
        "/v1/worklist", params=params, headers=receipts_app.bearer(Role.FIELD)
    )
    assert response.status_code == 200, response.text
    return response.json()


async def close(receipts_app, task_id, body, role=Role.FIELD):
    return await receipts_app.client.post(
        f"/v1/worklist/{task_id}/close", json=body, headers=receipts_app.bearer(role, sub="field-1")
    )


async def test_a_door_slip_goes_on_the_worklist_and_its_signature_is_the_receipt(receipts_app):
    receipts_app.clock.set(AFTER_SIGNING)
    await receipts_app.publish(
        LISTING, notice_sent("d1", ["A1"], channel="door_slip", address="A1")
    )
    (slip,) = await worklist(receipts_app)

    closed = await close(
        receipts_app,
        slip["task_id"],
        {"outcome": "signed", "signer": "王经理", "at": SIGNED_AT, "photo_ref": "img/881"},
    )

    assert (slip["kind"], slip["subject"], slip["message_id"]) == ("door_slip", "A1", "d1")
    assert slip["title"] == "送达停电通知单并请用户签收：户A1"
    assert closed.status_code == 200
    body = closed.json()
    assert (body["status"], body["outcome"], body["signer"], body["photo_ref"]) == (
        "closed",
        "signed",
        "王经理",
        "img/881",
    )
    coverage = await receipts_app.coverage()
    assert coverage["by_channel"]["door_slip"]["delivered"] == 1
    assert coverage["accounts_acknowledged"] == 1
    (event,) = await receipts_app.events("notice.acknowledged")
    assert (event.message_id, event.via, event.channel) == ("d1", "signed_slip", "door_slip")
    evidence = await receipts_app.get("/v1/outages/O-1/evidence", account_id="A1")
    assert "签收人 王经理" in evidence["events"][-1]["summary"]


async def test_closing_is_checked_retried_safely_and_only_by_field_staff(receipts_app):
    receipts_app.clock.set(AFTER_SIGNING)
    await receipts_app.publish(
        LISTING, notice_sent("d1", ["A1"], channel="door_slip", address="A1")
    )
    (slip,) = await worklist(receipts_app)
    signed = {"outcome": "signed", "signer": "王经理", "at": SIGNED_AT}

    unsigned = await close(receipts_app, slip["task_id"], {"outcome": "signed", "at": SIGNED_AT})
    wrong = await close(receipts_app, slip["task_id"], {"outcome": "posted", "at": SIGNED_AT})
    dispatcher = await close(receipts_app, slip["task_id"], signed, role=Role.DISPATCHER)
    first = await close(receipts_app, slip["task_id"], signed)
    retry = await close(receipts_app, slip["task_id"], signed)
    different = await close(receipts_app, slip["task_id"], {"outcome": "left", "at": SIGNED_AT})
    unknown = await close(receipts_app, "no-such-task", signed)

    assert (unsigned.status_code, unsigned.json()["field"]) == (422, "signer")
    assert (wrong.status_code, wrong.json()["field"]) == (422, "outcome")
    assert dispatcher.status_code == 403
    assert (first.status_code, retry.status_code) == (200, 200), retry.text
    assert different.status_code == 409
    assert (unknown.status_code, unknown.json()["field"]) == (404, "task_id")
    assert len(await receipts_app.events("notice.acknowledged")) == 1


async def test_a_cancellation_calls_off_notice_slips_but_not_cancellation_slips(receipts_app):
    await receipts_app.publish(
        LISTING,
        notice_sent("d1", ["A1"], channel="door_slip", address="A1"),
        OutageCancelled(
            outage_id="O-1",
            reason="天气原因",
            cancelled_by="planner-1",
            cancelled_at=SENT_AT + timedelta(hours=1),
        ),
        notice_sent("c1", ["A1"], channel="door_slip", address="A1", kind="cancellation"),
    )

    (slip,) = await worklist(receipts_app)
    (called_off,) = await worklist(receipts_app, status="cancelled")

    assert (slip["message_id"], slip["notice_kind"]) == ("c1", "cancellation")
    assert slip["due_at"] == "2026-05-03T08:00:00+08:00"  # before the (former) start
    assert called_off["message_id"] == "d1"


async def test_an_unconfirmed_posting_becomes_a_task_that_the_field_app_closes(receipts_app):
    await receipts_app.publish(
        LISTING, notice_sent("p1", ["A2", "A3"], channel="posted_notice", address="TA-7")
    )

    await receipts_app.escalate(SENT_AT + timedelta(hours=1))
    none_yet = await worklist(receipts_app, kind="posting")
    await receipts_app.escalate(SENT_AT + timedelta(hours=4))  # the visit point comes first
    (posting,) = await worklist(receipts_app, kind="posting")
    closed = await close(
        receipts_app,
        posting["task_id"],
        {"outcome": "posted", "at": SIGNED_AT, "photo_ref": "img/9"},
    )

    assert none_yet == []
    assert posting["subject"] == "TA-7"
    assert posting["title"] == "在台区 TA-7 张贴停电公告并拍照"
    assert closed.status_code == 200
    coverage = await receipts_app.coverage()
    assert coverage["by_channel"]["posted_notice"]["delivered"] == 1
    assert "A2" not in coverage["accounts_unreached"]
    vias = [e.via for e in await receipts_app.events("notice.acknowledged")]
    assert vias == ["posting_confirmed"]


async def test_field_staff_confirm_a_posting_directly(receipts_app):
    await receipts_app.publish(
        LISTING, notice_sent("p1", ["A2", "A3"], channel="posted_notice", address="TA-7")
    )
    headers = receipts_app.bearer(Role.FIELD, sub="field-1")

    confirmed = await receipts_app.client.post(
        "/v1/postings/O-1/TA-7/confirm", json={"photo_ref": "img/10"}, headers=headers
    )
    unknown_area = await receipts_app.client.post(
        "/v1/postings/O-1/TA-0/confirm", json={}, headers=headers
    )
    future = await receipts_app.client.post(
        "/v1/postings/O-1/TA-7/confirm", json={"at": "2026-05-02T08:00:00+08:00"}, headers=headers
    )

    assert confirmed.status_code == 200
    assert confirmed.json() == {
        "outage_id": "O-1",
        "area_node": "TA-7",
        "confirmed_at": "2026-05-01T16:00:00+08:00",
        "confirmed_by": "field-1",
    }
    assert (unknown_area.status_code, unknown_area.json()["field"]) == (404, "area_node")
    assert (future.status_code, future.json()["field"]) == (422, "at")
    assert (await receipts_app.coverage())["accounts_reached"] == 2


async def test_a_number_that_keeps_failing_is_reported_to_the_contact_registry(receipts_app):
    await receipts_app.publish(
        LISTING,
        notice_sent("m1", ["A4"], address=DEAD),
        notice_sent("m2", ["A4"], address=DEAD, outage_id="O-2"),
        notice_sent("m5", ["A5"], address="+8613800000005"),
    )
    await receipts_app.post_reports(
        [report("m1", "UNDELIV", err="MK:0001"), report("m5", "UNDELIV", err="MK:0000")]
    )

    first = await receipts_app.escalate(SENT_AT + timedelta(minutes=5))
    silent = await receipts_app.events("contact.undeliverable")
    await receipts_app.post_reports([report("m2", "UNDELIV", err="MK:0001")])
    await receipts_app.escalate(SENT_AT + timedelta(minutes=10))
    again = await receipts_app.escalate(SENT_AT + timedelta(minutes=15))

    assert first.numbers_fed_back == 2
    assert silent == []
    (event,) = await receipts_app.events("contact.undeliverable")
    assert isinstance(event, ContactUndeliverable)
    assert (event.address, event.account_ids, event.consecutive_failures) == (DEAD, ["A4"], 2)
    assert event.last_reason == "UNDELIV MK:0001"
    assert again.numbers_fed_back == 0


async def test_a_delivery_in_between_clears_the_count_and_refusals_do_not_count(receipts_app):
    await receipts_app.publish(
        LISTING,
        notice_sent("m1", ["A4"], address=DEAD),
        notice_sent("m2", ["A4"], address=DEAD, outage_id="O-2"),
        notice_sent("m3", ["A4"], address=DEAD, outage_id="O-3"),
        notice_failed("f1", ["A4"], address=DEAD),
    )

    await receipts_app.post_reports(
        [
            report("m1", "UNDELIV", err="MK:0001", done_at="2026-05-01T08:01:00Z"),
            report("m2", "DELIVRD", done_at="2026-05-01T08:02:00Z"),
        ]
    )
    await receipts_app.escalate(SENT_AT + timedelta(minutes=5))
    await receipts_app.post_reports([report("m3", "EXPIRED", err="MI:0013")])
    await receipts_app.escalate(SENT_AT + timedelta(minutes=10))

    assert await receipts_app.events("contact.undeliverable") == []
