"""Customer replies and call results: acknowledgements, other replies kept, postings confirmed."""

from __future__ import annotations

from datetime import timedelta

import httpx
from receipts_harness import DETAILS, SENT_AT, list_approved, notice_sent, recipient

from shared.auth import Role
from shared.events import NoticeAcknowledged, OutageCompleted
from shared.timeutil import utcnow
from tools.carrier_sim import CarrierSimSettings, create_app

PHONE = "+8613800000001"
AREA_CONTACT = "+8613900000009"
LISTING = list_approved(
    entries=[
        recipient("sms", PHONE, ["A1", "A2"], name="张工"),
        recipient("voice", PHONE, ["A1", "A2"], wave=1, name="张工"),
        recipient("sms", AREA_CONTACT, ["A3", "A4"], role="area", name="物业王"),
        recipient("posted_notice", "TA-7", ["A3", "A4"]),
    ]
)
LATER = SENT_AT + timedelta(minutes=30)


async def replies(receipts_app, **params):
    response = await receipts_app.client.get(
        "/v1/replies", params=params, headers=receipts_app.bearer(Role.DISPATCHER)
    )
    assert response.status_code == 200, response.text
    return response.json()


async def test_an_acknowledging_reply_marks_the_notice_it_answers(receipts_app):
    await receipts_app.publish(LISTING, notice_sent("m1", ["A1", "A2"], address=PHONE))

    response = await receipts_app.post_replies((PHONE, "收到，谢谢", LATER))

    assert response.json() == {"code": 0, "accepted": 1, "duplicates": 0, "acknowledged": 1}
    (event,) = await receipts_app.events("notice.acknowledged")
    assert isinstance(event, NoticeAcknowledged)
    assert (event.message_id, event.account_ids, event.via) == ("m1", ["A1", "A2"], "sms_reply")
    coverage = await receipts_app.coverage()
    assert coverage["accounts_acknowledged"] == 2
    assert coverage["accounts_reached"] == 2  # a reply proves the SMS arrived
    (kept,) = await replies(receipts_app)
    assert kept["phone"] == "138****0001"
    assert kept["intent"] == "acknowledge"
    assert kept["outage_ids"] == ["O-1"]


async def test_other_replies_are_kept_for_operators_and_acknowledge_nothing(receipts_app):
    await receipts_app.publish(LISTING, notice_sent("m1", ["A1", "A2"], address=PHONE))

    await receipts_app.post_replies(
        (PHONE, "明天几点恢复供电？", LATER), ("+8613700000000", "1", LATER)
    )

    assert await receipts_app.events("notice.acknowledged") == []
    (question,) = await replies(receipts_app, intent="other")
    assert question["text"] == "明天几点恢复供电？"
    assert question["account_ids"] == ["A1", "A2"]
    (stranger,) = await replies(receipts_app, intent="acknowledge")
    assert stranger["outage_ids"] == []  # a number we never wrote to
    assert [r["text"] for r in await replies(receipts_app, outage_id="O-1")] == [
        "明天几点恢复供电？"
    ]


async def test_a_reply_pushed_again_counts_once(receipts_app):
    await receipts_app.publish(LISTING, notice_sent("m1", ["A1", "A2"], address=PHONE))

    await receipts_app.post_replies((PHONE, "1", LATER))
    again = await receipts_app.post_replies((PHONE, "1", LATER))

    assert again.json() == {"code": 0, "accepted": 0, "duplicates": 1, "acknowledged": 0}
    assert len(await receipts_app.events("notice.acknowledged")) == 1


async def test_a_reply_after_the_outage_ended_acknowledges_nothing(receipts_app):
    await receipts_app.publish(
        LISTING,
        notice_sent("m1", ["A1", "A2"], address=PHONE),
        OutageCompleted(outage_id="O-1", completed_by="planner-1", completed_at=LATER),
    )

    await receipts_app.post_replies((PHONE, "收到", LATER + timedelta(hours=1)))

    assert await receipts_app.events("notice.acknowledged") == []


async def test_the_area_contacts_reply_confirms_the_posting_of_the_area(receipts_app):
    await receipts_app.publish(
        LISTING,
        notice_sent("a1", ["A3", "A4"], address=AREA_CONTACT),
        notice_sent("p1", ["A3", "A4"], channel="posted_notice", address="TA-7"),
    )

    await receipts_app.post_replies((AREA_CONTACT, "已张贴，收到", LATER))
    await receipts_app.post_replies((AREA_CONTACT, "确认", LATER + timedelta(minutes=1)))

    vias = sorted(e.via for e in await receipts_app.events("notice.acknowledged"))
    assert vias == ["posting_confirmed", "sms_reply"]
    coverage = await receipts_app.coverage()
    assert coverage["by_channel"]["posted_notice"]["delivered"] == 1
    assert coverage["accounts_reached"] == 2
    assert coverage["accounts_acknowledged"] == 2  # the area contact's own SMS reply
    await receipts_app.escalate(SENT_AT + timedelta(hours=13))
    postings = await receipts_app.client.get(
        "/v1/worklist", params={"kind": "posting"}, headers=receipts_app.bearer(Role.FIELD)
    )
    assert postings.json() == []  # a confirmed posting needs no field check


async def test_replies_pushed_by_the_carrier_simulator_are_verified_and_stored(receipts_app):
    # The simulator stamps replies with the real time: the outage must not have ended by then.
    ahead = utcnow() + timedelta(days=7)
    details = DETAILS.model_copy(update={"starts_at": ahead, "ends_at": ahead + timedelta(hours=8)})
    await receipts_app.publish(
        list_approved(entries=list(LISTING.recipients), details=details),
        notice_sent("m1", ["A1", "A2"], address=PHONE, sent_at=utcnow() - timedelta(minutes=5)),
    )
    settings = CarrierSimSettings(uplink_url="http://receipts/v1/webhooks/sms-reply")
    carrier = create_app(settings, report_transport=httpx.ASGITransport(app=receipts_app.app))

    async with (
        carrier.router.lifespan_context(carrier),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=carrier), base_url="http://c") as sms,
    ):
        response = await sms.post("/v1/sms/uplink", json={"phone": PHONE, "text": "1"})

    assert response.json() == {"forwarded": True}
    (event,) = await receipts_app.events("notice.acknowledged")
    assert event.account_ids == ["A1", "A2"]


async def test_call_results_deliver_and_a_keypress_acknowledges(receipts_app):
    await receipts_app.publish(
        LISTING,
        notice_sent("v1", ["A1", "A2"], channel="voice", address=PHONE),
    )
    called = SENT_AT + timedelta(minutes=1)

    first = await receipts_app.post_calls(("v1", "answered", called), ("v1", "confirmed", called))
    again = await receipts_app.post_calls(("v1", "confirmed", called))

    assert first.json() == {"code": 0, "accepted": 2, "duplicates": 0}
    assert again.json() == {"code": 0, "accepted": 0, "duplicates": 1}
    coverage = await receipts_app.coverage()
    assert coverage["by_channel"]["voice"]["delivered"] == 1
    assert coverage["accounts_acknowledged"] == 2
    (event,) = await receipts_app.events("notice.acknowledged")
    assert (event.channel, event.via) == ("voice", "voice_keypress")


async def test_an_unanswered_call_may_still_be_answered_on_a_later_attempt(receipts_app):
    await receipts_app.publish(LISTING, notice_sent("v1", ["A1"], channel="voice", address=PHONE))

    await receipts_app.post_calls(("v1", "no_answer", SENT_AT + timedelta(minutes=1)))
    unanswered = (await receipts_app.coverage())["by_channel"]["voice"]
    await receipts_app.post_calls(("v1", "answered", SENT_AT + timedelta(minutes=20)))

    assert unanswered["expired"] == 1
    assert (await receipts_app.coverage())["by_channel"]["voice"]["delivered"] == 1


async def test_a_keypress_reported_before_the_call_is_known_is_announced_once_it_is(receipts_app):
    await receipts_app.publish(LISTING)

    await receipts_app.post_calls(("v1", "confirmed", SENT_AT + timedelta(minutes=1)))
    before = await receipts_app.events("notice.acknowledged")
    await receipts_app.publish(notice_sent("v1", ["A1"], channel="voice", address=PHONE))
    done = await receipts_app.escalate(SENT_AT + timedelta(minutes=2))

    assert before == []
    assert done.acknowledgements_announced == 1
    (event,) = await receipts_app.events("notice.acknowledged")
    assert (event.outage_id, event.account_ids) == ("O-1", ["A1"])


async def test_a_call_batch_with_an_unknown_outcome_is_refused_naming_it(receipts_app):
    response = await receipts_app.post_signed(
        "/v1/webhooks/voice-status",
        {"calls": [{"message_id": "v1", "outcome": "hung_up", "at": "2026-05-01T08:00:00"}]},
    )

    assert response.status_code == 422
    assert response.json()["field"] == "calls[0].outcome"


async def test_unsigned_replies_and_calls_are_refused(receipts_app):
    for path in ("/v1/webhooks/sms-reply", "/v1/webhooks/voice-status"):
        response = await receipts_app.client.post(path, json={"replies": [], "calls": []})
        assert response.status_code == 401
