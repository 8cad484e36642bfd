"""Timing: quiet hours, emergencies, urgent cancellations, the reminder, the lead time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.dispatch.clock import ShiftedClock
from tests.integration.dispatch.conftest import (
    DETAILS,
    FakeProvider,
    approved,
    by_address,
    cancelled,
    phone,
    recipient,
    statuses,
)


def shanghai(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC) - timedelta(hours=8)


NIGHT = shanghai(1, 23)


async def test_quiet_hours_hold_sms_until_seven_but_not_printed_slips(start_dispatch):
    provider = FakeProvider()
    dispatch = await start_dispatch(provider.app, clock=ShiftedClock(NIGHT))
    slip = recipient("A1", "A1", channel="door_slip")
    await dispatch.publish(approved("O-1", [recipient(phone(1)), slip]))

    found = await dispatch.wait_for(
        "O-1",
        lambda ms: any(m["channel"] == "door_slip" and m["status"] == "submitted" for m in ms),
    )
    sms = by_address(found)[phone(1)]
    assert sms["status"] == "queued"
    assert datetime.fromisoformat(sms["next_attempt_at"]) == shanghai(2, 7)
    assert provider.calls.total() == 0
    view = await dispatch.outage("O-1")
    assert view["waiting"] == {"scheduled": 1}

    dispatch.clock.set(shanghai(2, 7))
    dispatch.app.state.wake_sender()
    await dispatch.wait_for("O-1", lambda ms: set(statuses(ms).values()) == {"submitted"})
    assert provider.calls == {phone(1): 1}


async def test_an_emergency_goes_out_at_night_at_once(start_dispatch):
    provider = FakeProvider()
    dispatch = await start_dispatch(provider.app, clock=ShiftedClock(NIGHT))
    emergency = DETAILS.model_copy(
        update={"kind": "emergency", "starts_at": NIGHT, "ends_at": NIGHT + timedelta(hours=4)}
    )
    await dispatch.publish(approved("O-1", [recipient(phone(1))], details=emergency))
    [message] = await dispatch.wait_for("O-1", lambda ms: ms[0]["status"] == "submitted")
    assert "需紧急停电抢修" in message["text"]
    view = await dispatch.outage("O-1")
    assert view["lead_time"]["required"] == "PT0S"
    assert view["lead_time"]["met"] is True
    assert view["schedules"] == []  # no reminder for an emergency


async def test_a_cancellation_on_the_eve_of_the_outage_is_sent_at_night(start_dispatch):
    provider = FakeProvider()
    clock = ShiftedClock(shanghai(4, 18))
    dispatch = await start_dispatch(provider.app, clock=clock)
    await dispatch.publish(approved("O-1", [recipient(phone(1))]))
    await dispatch.wait_for("O-1", lambda ms: ms[0]["status"] == "submitted")

    clock.set(shanghai(4, 23))  # nine hours before the 08:00 start
    await dispatch.publish(cancelled("O-1"))
    found = await dispatch.wait_for(
        "O-1", lambda ms: statuses(ms, "cancellation") == {phone(1): "submitted"}
    )
    assert len(found) == 2
    assert provider.calls == {phone(1): 2}


async def test_the_reminder_goes_the_day_before_to_those_the_notice_reached_even_after_a_restart(
    start_dispatch,
):
    provider = FakeProvider(scripts={phone(2): [400]})
    first = await start_dispatch(provider.app)
    await first.publish(
        approved(
            "O-1",
            [
                recipient(phone(1)),
                recipient(phone(2)),
                recipient("A3", "A3", channel="door_slip"),
                recipient(phone(4), wave=1),
            ],
        )
    )
    await first.wait_for(
        "O-1",
        lambda ms: (
            statuses(ms)
            == {
                phone(1): "submitted",
                phone(2): "failed",
                "A3": "submitted",
                phone(4): "held",
            }
        ),
    )
    view = await first.outage("O-1")
    [reminder] = view["schedules"]
    assert reminder["notice_kind"] == "reminder"
    assert datetime.fromisoformat(reminder["due_at"]) == shanghai(4, 10)
    assert reminder["status"] == "pending"
    await first.stop()

    # The schedule lives in the database: a new process on the reminder's day sends it.
    second = await start_dispatch(
        provider.app, settings=first.settings, clock=ShiftedClock(shanghai(4, 10))
    )
    found = await second.wait_for(
        "O-1", lambda ms: statuses(ms, "reminder") == {phone(1): "submitted"}
    )
    [sent] = [m for m in found if m["notice_kind"] == "reminder"]
    assert sent["text"].startswith("温馨提醒：")
    assert sent["refers_to"] == by_address(found)[phone(1)]["message_id"]
    assert (await second.outage("O-1"))["schedules"][0]["status"] == "done"
    assert provider.calls == {phone(1): 2, phone(2): 1}


async def test_the_outage_view_flags_a_notice_short_of_the_legal_lead_time(start_dispatch):
    dispatch = await start_dispatch(FakeProvider().app)
    await dispatch.publish(approved("O-1", [recipient(phone(1))]))
    await dispatch.wait_for("O-1", lambda ms: ms[0]["status"] == "submitted")
    lead = (await dispatch.outage("O-1"))["lead_time"]
    assert lead["required"] == "P7D"
    assert lead["met"] is False
    assert lead["short_by"].startswith("P3DT")  # four days' notice of seven
