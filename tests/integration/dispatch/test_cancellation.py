"""Cancellation: unsent notices stop, and only people whose notice left are told it is off."""

from __future__ import annotations

import asyncio

from tests.integration.dispatch.conftest import (
    FakeProvider,
    approved,
    by_address,
    cancelled,
    phone,
    recipient,
    statuses,
)

SENT, REJECTED, WAITING, IN_FLIGHT = phone(1), phone(2), phone(3), phone(4)


async def test_only_phones_whose_notice_reached_the_carrier_get_a_cancellation(start_dispatch):
    provider = FakeProvider(scripts={REJECTED: [400], WAITING: ["503-later"], IN_FLIGHT: ["hold"]})
    # A timeout long enough for the held call to outlast the cancellation.
    dispatch = await start_dispatch(provider.app, provider_timeout_s=10.0)
    await dispatch.publish(
        approved("O-1", [recipient(p) for p in (SENT, REJECTED, WAITING, IN_FLIGHT)])
    )
    await dispatch.wait_for(
        "O-1",
        lambda ms: (
            statuses(ms)
            == {SENT: "submitted", REJECTED: "failed", WAITING: "queued", IN_FLIGHT: "sending"}
            and by_address(ms)[WAITING]["attempts"] == 1
        ),
    )
    await asyncio.wait_for(provider.held.wait(), 10)

    await dispatch.publish(cancelled("O-1"))
    found = await dispatch.messages("O-1")
    assert statuses(found) == {
        SENT: "submitted",
        REJECTED: "failed",
        WAITING: "cancelled",
        IN_FLIGHT: "sending",
    }
    assert by_address(found)[WAITING]["last_error"].startswith("outage_cancelled")

    # The held notice reaches the carrier after the cancellation committed: it is owed one too.
    provider.release.set()
    found = await dispatch.wait_for(
        "O-1",
        lambda ms: statuses(ms, "cancellation") == {SENT: "submitted", IN_FLIGHT: "submitted"},
    )
    assert statuses(found)[IN_FLIGHT] == "submitted"
    assert provider.calls[WAITING] == 1
    assert set(provider.texts) == {SENT, IN_FLIGHT}
    for number in (SENT, IN_FLIGHT):
        notice, cancellation = provider.texts[number]
        assert "计划于3月5日08:00至17:00对东12线沿线停电" in notice
        assert "停电计划已取消，届时将正常供电" in cancellation
    sent = await dispatch.wait_for_events("notice.sent", 4)
    assert sorted((e["address"], e["notice_kind"]) for e in sent) == sorted(
        [
            (SENT, "notice"),
            (IN_FLIGHT, "notice"),
            (SENT, "cancellation"),
            (IN_FLIGHT, "cancellation"),
        ]
    )
    summary = {s["notice_kind"]: s for s in (await dispatch.outage("O-1"))["summaries"]}
    assert summary["cancellation"]["by_status"]["submitted"] == 2
    assert summary["cancellation"]["by_channel"] == {"sms": 2}


async def test_a_redelivered_cancellation_queues_no_second_cancellation(start_dispatch):
    provider = FakeProvider()
    dispatch = await start_dispatch(provider.app)
    await dispatch.publish(approved("O-1", [recipient(phone(1)), recipient(phone(2))]))
    await dispatch.wait_for("O-1", lambda ms: set(statuses(ms).values()) == {"submitted"})

    first = await dispatch.publish(cancelled("O-1"))
    await dispatch.redeliver(first)
    await dispatch.publish(cancelled("O-1"))

    found = await dispatch.wait_for(
        "O-1", lambda ms: set(statuses(ms, "cancellation").values()) == {"submitted"}
    )
    assert len(by_address(found, "cancellation")) == 2
    assert provider.calls == {phone(1): 2, phone(2): 2}


async def test_a_cancellation_before_any_approval_means_nothing_is_ever_sent(start_dispatch):
    provider = FakeProvider()
    dispatch = await start_dispatch(provider.app)
    await dispatch.publish(cancelled("O-1"))
    await dispatch.publish(approved("O-1", [recipient(phone(1)), recipient(phone(2))]))

    outage = await dispatch.outage("O-1")
    assert outage["cancelled"] is True
    assert outage["total"] == 0
    assert outage["messages"] == []
    await dispatch.app.state.sender.run_once()
    assert provider.calls.total() == 0
