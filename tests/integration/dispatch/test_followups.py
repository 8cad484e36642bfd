"""Follow-ups: a new time, escalation to the next contact, cancellation on every channel used,
and the restoration notice; each told to exactly those it concerns, once."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pypdf

from shared.auth import Role
from shared.events import EscalationRequested, OutageCompleted, OutageRescheduled, Recipient
from tests.integration.dispatch.conftest import (
    DETAILS,
    MORNING,
    FakeProvider,
    approved,
    by_address,
    cancelled,
    phone,
    recipient,
    statuses,
)

DAY_AFTER = DETAILS.model_copy(
    update={
        "starts_at": DETAILS.starts_at + timedelta(days=1),
        "ends_at": DETAILS.ends_at + timedelta(days=1),
    }
)


def rescheduled(outage_id: str, details=DAY_AFTER, previous=DETAILS) -> OutageRescheduled:
    return OutageRescheduled(
        outage_id=outage_id,
        details=details,
        previous_starts_at=previous.starts_at,
        previous_ends_at=previous.ends_at,
        reason="雷雨天气",
        rescheduled_by="planner-1",
        rescheduled_at=MORNING,
    )


def escalation(
    escalation_id: str, target: Recipient, outage_id: str = "O-1"
) -> EscalationRequested:
    return EscalationRequested(
        outage_id=outage_id,
        escalation_id=escalation_id,
        account_ids=target.account_ids,
        recipient=target,
        step=1,
        reason="未确认",
    )


def kinds_to(messages, address: str) -> list[tuple[str, int]]:
    return sorted((m["notice_kind"], m["revision"]) for m in messages if m["address"] == address)


async def test_a_new_time_reaches_everyone_told_on_their_channel_and_rewords_the_rest(
    start_dispatch,
):
    provider = FakeProvider(scripts={phone(2): ["503-later", "accept"]})
    dispatch = await start_dispatch(provider.app)
    legal = recipient(phone(3), wave=1, role="legal")
    await dispatch.publish(
        approved(
            "O-1",
            [
                recipient(phone(1)),
                recipient(phone(2)),
                recipient("A1", "A1", channel="door_slip"),
                recipient("2026-03-05", "A1", channel="newspaper", contact_name="城东日报"),
                legal,
            ],
        )
    )
    await dispatch.wait_for(
        "O-1",
        lambda ms: (
            statuses(ms)
            == {
                phone(1): "submitted",
                phone(2): "queued",
                "A1": "submitted",
                "2026-03-05": "submitted",
                phone(3): "held",
            }
            and by_address(ms)[phone(2)]["attempts"] == 1  # refused once, waiting
        ),
    )
    event = rescheduled("O-1")
    await dispatch.publish(event)
    await dispatch.publish(event.model_copy())  # the same reschedule again changes nothing

    found = await dispatch.wait_for(
        "O-1",
        lambda ms: (
            statuses(ms, "reschedule")
            == {phone(1): "submitted", "A1": "submitted", "2026-03-05": "submitted"}
            and by_address(ms)["2026-03-06"]["status"] == "submitted"
        ),
    )
    told = {m["address"]: m for m in found if m["notice_kind"] == "reschedule"}
    sms = told[phone(1)]
    assert "原定于3月5日08:00至17:00对东12线沿线的停电时间变更为3月6日08:00至17:00" in sms["text"]
    assert "雷雨天气" in sms["text"]
    first_notice = next(
        m for m in found if m["address"] == phone(1) and m["notice_kind"] == "notice"
    )
    assert sms["refers_to"] == first_notice["message_id"]
    # Not yet sent: reworded with the new time instead of told twice.
    assert kinds_to(found, phone(2)) == [("notice", 0), ("notice", 1)]
    reworded = next(m for m in found if m["address"] == phone(2) and m["revision"] == 1)
    assert "3月6日08:00至17:00" in reworded["text"]
    assert kinds_to(found, phone(3)) == [("notice", 0), ("notice", 1)]
    assert (await dispatch.outage("O-1"))["revision"] == 1
    # The newspaper: a correction on the old day, the outage listed on its new day.
    headers = dispatch.token(Role.DISPATCHER)
    old_day = await dispatch.client.get("/v1/newspaper/2026-03-05.pdf", headers=headers)
    new_day = await dispatch.client.get("/v1/newspaper/2026-03-06.pdf", headers=headers)
    old_text = pypdf.PdfReader(io.BytesIO(old_day.content)).pages[0].extract_text()
    new_text = pypdf.PdfReader(io.BytesIO(new_day.content)).pages[0].extract_text()
    assert "更正" in old_text
    assert "改为3月6日08:00至17:00" in old_text
    assert "东12线沿线" in new_text
    assert "更正" not in new_text


async def test_a_second_reschedule_tells_people_again(start_dispatch):
    provider = FakeProvider()
    dispatch = await start_dispatch(provider.app)
    await dispatch.publish(approved("O-1", [recipient(phone(1))]))
    await dispatch.wait_for("O-1", lambda ms: ms[0]["status"] == "submitted")
    await dispatch.publish(rescheduled("O-1"))
    await dispatch.wait_for("O-1", lambda ms: {m["status"] for m in ms} == {"submitted"})
    later = DAY_AFTER.model_copy(update={"ends_at": DAY_AFTER.ends_at + timedelta(hours=2)})
    await dispatch.publish(rescheduled("O-1", details=later, previous=DAY_AFTER))
    found = await dispatch.wait_for(
        "O-1", lambda ms: len(ms) == 3 and {m["status"] for m in ms} == {"submitted"}
    )
    assert kinds_to(found, phone(1)) == [("notice", 0), ("reschedule", 1), ("reschedule", 2)]
    [second] = [m for m in found if m["revision"] == 2]
    assert (
        "原定于3月6日08:00至17:00对东12线沿线的停电时间变更为3月6日08:00至19:00" in second["text"]
    )
    assert provider.calls == {phone(1): 3}


async def test_a_new_time_is_told_against_the_times_the_person_last_heard(start_dispatch):
    provider = FakeProvider(scripts={phone(1): ["accept", "503-later", "accept"]})
    dispatch = await start_dispatch(provider.app)
    await dispatch.publish(approved("O-1", [recipient(phone(1))]))
    await dispatch.wait_for("O-1", lambda ms: ms[0]["status"] == "submitted")
    await dispatch.publish(rescheduled("O-1"))  # its message waits behind a 503
    await dispatch.wait_for(
        "O-1",
        lambda ms: any(
            m["notice_kind"] == "reschedule" and m["status"] == "queued" and m["attempts"] == 1
            for m in ms
        ),
    )
    later = DAY_AFTER.model_copy(update={"ends_at": DAY_AFTER.ends_at + timedelta(hours=2)})
    await dispatch.publish(rescheduled("O-1", details=later, previous=DAY_AFTER))
    found = await dispatch.wait_for(
        "O-1", lambda ms: any(m["revision"] == 2 and m["status"] == "submitted" for m in ms)
    )
    [unsent] = [m for m in found if m["revision"] == 1]
    assert unsent["status"] == "cancelled"
    [told] = [m for m in found if m["revision"] == 2]
    assert "原定于3月5日08:00至17:00对东12线沿线的停电时间变更为3月6日08:00至19:00" in told["text"]


async def test_escalation_sends_one_approved_later_contact_once(start_dispatch):
    provider = FakeProvider()
    dispatch = await start_dispatch(provider.app)
    legal = recipient(phone(2), "A1", wave=1, role="legal")
    await dispatch.publish(approved("O-1", [recipient(phone(1), "A1"), legal]))
    await dispatch.wait_for("O-1", lambda ms: statuses(ms)[phone(1)] == "submitted")

    original = await dispatch.publish(escalation("E-1", legal))
    await dispatch.redeliver(original)
    found = await dispatch.wait_for("O-1", lambda ms: statuses(ms)[phone(2)] == "submitted")
    assert by_address(found)[phone(2)]["escalation_id"] == "E-1"
    # Another step asking for the same person again, and someone never approved.
    await dispatch.publish(escalation("E-2", legal))
    stranger = recipient(phone(9), "A1", wave=1)
    await dispatch.publish(escalation("E-3", stranger))
    await dispatch.app.state.sender.run_once()
    assert provider.calls == {phone(1): 1, phone(2): 1}
    assert phone(9) not in statuses(await dispatch.messages("O-1"))


async def test_no_escalation_after_a_cancellation(start_dispatch):
    provider = FakeProvider()
    dispatch = await start_dispatch(provider.app)
    legal = recipient(phone(2), wave=1, role="legal")
    await dispatch.publish(approved("O-1", [recipient(phone(1)), legal]))
    await dispatch.wait_for("O-1", lambda ms: statuses(ms)[phone(1)] == "submitted")
    await dispatch.publish(cancelled("O-1"))
    await dispatch.publish(escalation("E-1", legal))
    found = await dispatch.wait_for(
        "O-1", lambda ms: statuses(ms, "cancellation") == {phone(1): "submitted"}
    )
    assert statuses(found)[phone(2)] == "cancelled"
    assert provider.calls == {phone(1): 2}


async def test_a_cancellation_goes_on_every_channel_that_reached_someone_and_nowhere_else(
    start_dispatch, voice_sim
):
    provider = FakeProvider(scripts={phone(3): [400]})
    dispatch = await start_dispatch(provider.app, providers={"voice": voice_sim})
    await dispatch.publish(
        approved(
            "O-1",
            [
                recipient(phone(1), "A1"),
                recipient(phone(1), "A1", channel="voice"),
                recipient("A1", "A1", channel="door_slip", contact_name="城东机械厂"),
                recipient("T1", "A1", channel="posted_notice", contact_name="幸福里1号配变"),
                recipient(phone(3), "A3"),
                recipient(phone(4), "A1", wave=1),
            ],
        )
    )
    await dispatch.wait_for(
        "O-1", lambda ms: sum(m["status"] in ("submitted", "failed") for m in ms) == 5
    )
    await dispatch.publish(cancelled("O-1"))
    found = await dispatch.wait_for(
        "O-1",
        lambda ms: (
            sum(m["notice_kind"] == "cancellation" for m in ms) == 4
            and all(m["status"] == "submitted" for m in ms if m["notice_kind"] == "cancellation")
        ),
    )
    cancellations = sorted(
        (m["channel"], m["address"]) for m in found if m["notice_kind"] == "cancellation"
    )
    assert cancellations == [
        ("door_slip", "A1"),
        ("posted_notice", "T1"),
        ("sms", phone(1)),
        ("voice", phone(1)),
    ]
    response = await dispatch.client.get(
        "/v1/outages/O-1/documents/door-slips.pdf", headers=dispatch.token(Role.FIELD)
    )
    pages = [p.extract_text() for p in pypdf.PdfReader(io.BytesIO(response.content)).pages]
    assert len(pages) == 2
    assert "停电通知单" in pages[0]
    assert "停电取消通知单" in pages[1]
    assert "此前送达的停电通知单作废" in pages[1]


async def test_the_restoration_notice_goes_to_important_customers_by_default(start_dispatch):
    provider = FakeProvider()
    dispatch = await start_dispatch(provider.app)
    await dispatch.publish(
        approved(
            "O-1",
            [
                recipient(phone(1), "A1", audience="important"),
                recipient(phone(2), "A2", audience="standard"),
                recipient("A1", "A1", channel="door_slip", audience="important"),
            ],
        )
    )
    await dispatch.wait_for("O-1", lambda ms: {m["status"] for m in ms} == {"submitted"})
    await dispatch.publish(
        OutageCompleted(
            outage_id="O-1",
            completed_by="field-chen",
            completed_at=datetime(2026, 3, 5, 7, 30, tzinfo=UTC),
        )
    )
    found = await dispatch.wait_for(
        "O-1", lambda ms: statuses(ms, "restoration") == {phone(1): "submitted"}
    )
    [restoration] = [m for m in found if m["notice_kind"] == "restoration"]
    assert "已于3月5日15:30结束，已恢复供电" in restoration["text"]
    view = await dispatch.outage("O-1")
    assert view["completed"] is True
    assert provider.calls == {phone(1): 2, phone(2): 1}


async def test_a_notice_caught_in_a_call_by_a_new_time_goes_out_with_the_new_time(
    start_dispatch,
):
    provider = FakeProvider(scripts={phone(1): ["hang_before_record", "accept"]})
    dispatch = await start_dispatch(provider.app)
    await dispatch.publish(approved("O-1", [recipient(phone(1))]))
    await dispatch.wait_for("O-1", lambda ms: ms[0]["status"] == "sending")
    await dispatch.publish(rescheduled("O-1"))  # the call is still hanging

    found = await dispatch.wait_for(
        "O-1", lambda ms: any(m["revision"] == 1 and m["status"] == "submitted" for m in ms)
    )
    [stale] = [m for m in found if m["revision"] == 0]
    assert stale["status"] == "cancelled"
    assert stale["last_error"].startswith("rescheduled")
    [sent] = provider.texts[phone(1)]
    assert "计划于3月6日08:00至17:00" in sent
