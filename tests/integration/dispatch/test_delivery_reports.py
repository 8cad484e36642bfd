"""Delivery reports: recorded on their message, first final state wins, unknown ids ignored."""

from __future__ import annotations

from datetime import UTC, datetime

from shared.events import SmsDelivered
from tests.integration.dispatch.conftest import FakeProvider, approved, phone, recipient


def report(message_id: str, status: str, stat: str, provider_id: str = "p-1") -> SmsDelivered:
    return SmsDelivered(
        message_id=message_id,
        provider_message_id=provider_id,
        outage_id="O-1",
        status=status,
        carrier_stat=stat,
        carrier_err="000",
        done_at=datetime(2026, 3, 1, 3, 0, tzinfo=UTC),
    )


async def test_a_delivery_report_sets_the_status_and_a_later_one_never_moves_it(start_dispatch):
    provider = FakeProvider()
    dispatch = await start_dispatch(provider.app)
    await dispatch.publish(approved("O-1", [recipient(phone(1))]))
    [message] = await dispatch.wait_for("O-1", lambda ms: ms[0]["status"] == "submitted")
    message_id = message["message_id"]

    await dispatch.publish(report(message_id, "accepted", "ACCEPTD"))
    [message] = await dispatch.messages("O-1")
    assert message["delivery_status"] is None
    assert message["carrier_stat"] == "ACCEPTD"

    await dispatch.publish(report(message_id, "delivered", "DELIVRD"))
    await dispatch.publish(report(message_id, "expired", "EXPIRED"))
    await dispatch.publish(report(message_id, "accepted", "ACCEPTD"))

    [message] = await dispatch.messages("O-1")
    assert message["delivery_status"] == "delivered"
    assert message["carrier_stat"] == "DELIVRD"
    summary = (await dispatch.outage("O-1"))["summaries"][0]
    assert summary["by_delivery"] == {"delivered": 1, "failed": 0, "expired": 0, "pending": 0}


async def test_a_report_for_an_unknown_message_is_ignored(start_dispatch):
    dispatch = await start_dispatch(FakeProvider().app)
    await dispatch.publish(report("no-such-message", "delivered", "DELIVRD"))
    assert dispatch.bus.log["sms.delivered.dlq"] == []


async def test_a_report_settles_a_message_whose_submission_outcome_was_unknown(start_dispatch):
    provider = FakeProvider(scripts={phone(1): ["hang_after_record"]}, lookups_fail=True)
    dispatch = await start_dispatch(provider.app)
    await dispatch.publish(approved("O-1", [recipient(phone(1))]))
    [message] = await dispatch.wait_for(
        "O-1", lambda ms: ms[0]["status"] == "unknown" and ms[0]["checks"] >= 1
    )

    provider_id = provider.received[message["message_id"]]
    await dispatch.publish(report(message["message_id"], "delivered", "DELIVRD", provider_id))

    [message] = await dispatch.messages("O-1")
    assert message["status"] == "submitted"
    assert message["delivery_status"] == "delivered"
    assert message["provider_message_id"] == provider_id
    [sent] = await dispatch.wait_for_events("notice.sent", 1)
    assert sent["message_id"] == message["message_id"]
    assert provider.calls[phone(1)] == 1
