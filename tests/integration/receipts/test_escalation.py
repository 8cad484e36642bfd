"""The escalation worker on the database: each step, idempotent, across a restart."""

from __future__ import annotations

from datetime import timedelta

import pytest
from receipts_harness import (
    DETAILS,
    SENT_AT,
    list_approved,
    notice_sent,
    recipient,
    report,
)

from services.receipts.app import create_app
from services.receipts.clock import ManualClock
from shared.auth import Role
from shared.bus.memory import MemoryBus
from shared.events import EscalationRequested, OutageCancelled, decode

WEEK_AHEAD = DETAILS.model_copy(
    update={
        "starts_at": SENT_AT + timedelta(days=7),
        "ends_at": SENT_AT + timedelta(days=7, hours=8),
    }
)
ELECTRICIAN = "+8613800000001"
LEGAL = "+8613800000002"
# A1 climbs the ladder; A2 has no contact at all; A3 is told at once.
LISTING = list_approved(
    entries=[
        recipient("sms", ELECTRICIAN, ["A1"], name="张工"),
        recipient("voice", ELECTRICIAN, ["A1"], wave=1, name="张工"),
        recipient("sms", LEGAL, ["A1"], role="legal", wave=2, name="李总"),
        recipient("sms", "+8613800000003", ["A3"]),
    ],
    account_ids=["A1", "A2", "A3"],
    details=WEEK_AHEAD,
)


async def requests(receipts_app) -> list[EscalationRequested]:
    return await receipts_app.events("escalation.requested")


async def worklist(receipts_app, **params):
    response = await receipts_app.client.get(
        "/v1/worklist", params=params, headers=receipts_app.bearer(Role.FIELD)
    )
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
async def sent(receipts_app):
    await receipts_app.publish(
        LISTING,
        notice_sent("m1", ["A1"], address=ELECTRICIAN),
        notice_sent("m3", ["A3"], address="+8613800000003"),
    )
    await receipts_app.post_reports([report("m3")])
    return receipts_app


async def test_a_failed_sms_escalates_to_the_call_and_an_account_without_contact_to_a_visit(sent):
    await sent.post_reports([report("m1", "UNDELIV", err="MK:0001")])

    done = await sent.escalate(SENT_AT + timedelta(minutes=5))

    (request,) = await requests(sent)
    assert request.account_ids == ["A1"]
    assert (request.recipient.channel, request.recipient.address, request.step) == (
        "voice",
        ELECTRICIAN,
        1,
    )
    assert request.recipient.account_ids == ["A1"]
    assert request.reason == "上一渠道送达失败，升级至下一渠道"
    (visit,) = await worklist(sent)
    assert (visit["kind"], visit["subject"], visit["status"]) == ("visit", "A2", "open")
    assert visit["reason"] == "该户没有可用的联系方式，转现场走访"
    assert visit["due_at"] == "2026-05-07T16:00:00+08:00"  # the deadline, a day before the start
    assert done.escalations == 2
    coverage = await sent.coverage()
    assert coverage["accounts_escalated"] == 2
    assert coverage["open_tasks"] == 1


async def test_the_ladder_climbs_call_then_legal_representative_then_visit_and_closes(sent):
    await sent.escalate(SENT_AT + timedelta(hours=2))  # the SMS had its two hours
    assert [r.step for r in await requests(sent)] == [1]

    # Dispatch places the call; nobody answers.
    called = SENT_AT + timedelta(hours=2, minutes=1)
    await sent.publish(
        notice_sent("v1", ["A1"], channel="voice", address=ELECTRICIAN, sent_at=called)
    )
    await sent.post_calls(("v1", "no_answer", called + timedelta(minutes=1)))
    await sent.escalate(called + timedelta(minutes=2))
    second = (await requests(sent))[-1]
    assert (second.step, second.recipient.address, second.recipient.role) == (2, LEGAL, "legal")

    # The legal representative's SMS stays unconfirmed past its window: a visit.
    await sent.publish(
        notice_sent("l1", ["A1"], address=LEGAL, sent_at=called + timedelta(minutes=3))
    )
    await sent.escalate(called + timedelta(hours=1))
    assert len(await requests(sent)) == 2
    await sent.escalate(called + timedelta(hours=2, minutes=3))
    visits = {task["subject"]: task for task in await worklist(sent, kind="visit")}
    assert set(visits) == {"A1", "A2"}
    assert visits["A1"]["account_names"] == ["户A1"]

    for task in visits.values():
        closed = await sent.client.post(
            f"/v1/worklist/{task['task_id']}/close",
            json={"outcome": "signed", "signer": "王某", "at": "2026-05-01T19:00:00+08:00"},
            headers=sent.bearer(Role.FIELD, sub="field-chen"),
        )
        assert closed.status_code == 200, closed.text
        assert closed.json()["closed_by"] == "field-chen"

    coverage = await sent.coverage()
    assert coverage["accounts_reached"] == coverage["accounts_targeted"] == 3
    assert coverage["reached_of_reachable_pct"] == 100.0
    assert coverage["accounts_acknowledged"] == 2
    assert coverage["accounts_reached_by_deadline"] == 3
    assert await worklist(sent) == []
    acknowledged = await sent.events("notice.acknowledged")
    assert sorted((e.account_ids[0], e.via) for e in acknowledged) == [
        ("A1", "signed_slip"),
        ("A2", "signed_slip"),
    ]


async def test_rounds_run_again_escalate_nothing_twice(sent):
    await sent.post_reports([report("m1", "UNDELIV", err="MK:0001")])
    at = SENT_AT + timedelta(minutes=5)

    first = await sent.escalate(at)
    again = await sent.escalate(at + timedelta(minutes=1))

    assert first.escalations == 2
    assert again.escalations == 0
    assert len(await requests(sent)) == 1
    assert len(await worklist(sent)) == 1


async def test_a_restarted_worker_carries_on_from_the_database(sent):
    await sent.escalate(SENT_AT + timedelta(hours=2))
    later = SENT_AT + timedelta(hours=3, minutes=1)

    restarted = create_app(sent.app.state.settings, bus=MemoryBus(), clock=ManualClock(later))
    async with restarted.router.lifespan_context(restarted):
        done = await restarted.state.escalation.run_once()
        while await restarted.state.runtime.relay.publish_pending():
            pass
        elsewhere = restarted.state.runtime.bus.log["escalation.requested"]

    # Step 1 (the call) was asked for before the restart and never answered: step 2 now, once.
    # Both instances' relays share the outbox, so the event may leave through either.
    assert done.escalations == 1
    steps = [r.step for r in await requests(sent)]
    steps += [decode(message.value)[1].step for message in elsewhere]
    assert sorted(steps) == [1, 2]


async def test_nothing_escalates_after_a_cancellation_and_field_tasks_are_called_off(sent):
    await sent.post_reports([report("m1", "UNDELIV", err="MK:0001")])
    await sent.escalate(SENT_AT + timedelta(minutes=5))
    cancelled_at = SENT_AT + timedelta(hours=1)

    await sent.publish(
        OutageCancelled(
            outage_id="O-1", reason="天气原因", cancelled_by="planner-1", cancelled_at=cancelled_at
        )
    )
    done = await sent.escalate(SENT_AT + timedelta(days=3))

    assert done.escalations == 0
    assert len(await requests(sent)) == 1
    assert await worklist(sent) == []
    (called_off,) = await worklist(sent, status="cancelled")
    assert called_off["note"] == "停电已取消，任务作废"


async def test_the_worklist_is_for_field_staff_and_dispatchers(sent):
    anonymous = await sent.client.get("/v1/worklist")
    planner = await sent.client.get("/v1/worklist", headers=sent.bearer(Role.PLANNER))
    dispatcher = await sent.client.get("/v1/worklist", headers=sent.bearer(Role.DISPATCHER))

    assert anonymous.status_code == 401
    assert planner.status_code == 403
    assert dispatcher.status_code == 200
