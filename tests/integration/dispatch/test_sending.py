"""Sending: one submission per recipient, whatever is redelivered, refused, throttled or lost."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import update

from services.dispatch.adapters.db import messages as messages_table
from tests.integration.dispatch.conftest import (
    Dispatch,
    FakeProvider,
    StartDispatch,
    approved,
    by_address,
    phone,
    recipient,
    statuses,
)
from tools.carrier_sim import CarrierSimSettings, create_app, get_sim


def all_settled(expected: int, status: str = "submitted") -> Callable[[list[dict[str, Any]]], bool]:
    def done(found: list[dict[str, Any]]) -> bool:
        return len(found) == expected and all(m["status"] == status for m in found)

    return done


async def test_an_approved_list_is_submitted_once_per_recipient_with_one_notice_sent_each(
    start_dispatch, carrier_sim
):
    dispatch = await start_dispatch(carrier_sim, send_batch_size=7, send_concurrency=3)
    recipients = [recipient(phone(i)) for i in range(25)]
    await dispatch.publish(approved("O-1", recipients))

    found = await dispatch.wait_for("O-1", all_settled(25))
    stats = get_sim(carrier_sim).stats()
    assert stats.submissions == 25
    assert stats.duplicate_submissions == 0
    assert stats.by_phone == {r.address: 1 for r in recipients}
    sent = await dispatch.wait_for_events("notice.sent", 25)
    assert sorted(e["message_id"] for e in sent) == sorted(m["message_id"] for m in found)
    assert {e["notice_kind"] for e in sent} == {"notice"}
    # The provider's id is recorded, and the carrier knows the message under our id.
    sim = get_sim(carrier_sim)
    for message in found:
        status = sim.status(message["message_id"])
        assert status is not None
        assert message["provider_message_id"] == status.provider_message_id
        assert message["text"].startswith("尊敬的客户：因10kV东12线线路检修")


async def test_a_redelivered_or_reissued_approval_submits_nothing_more(start_dispatch, carrier_sim):
    dispatch = await start_dispatch(carrier_sim)
    event = approved("O-1", [recipient(phone(i)) for i in range(5)])
    original = await dispatch.publish(event)
    await dispatch.wait_for("O-1", all_settled(5))

    await dispatch.redeliver(original)  # the same event again (inbox)
    await dispatch.publish(event)  # the same approval under a new event id (idempotency key)

    assert len(await dispatch.messages("O-1")) == 5
    assert get_sim(carrier_sim).stats().submissions == 5
    assert len(await dispatch.wait_for_events("notice.sent", 5)) == 5


async def test_a_permanent_rejection_fails_with_the_providers_reason_and_is_not_retried(
    start_dispatch,
):
    provider = FakeProvider(scripts={phone(1): [400]})
    dispatch = await start_dispatch(provider.app)
    await dispatch.publish(approved("O-1", [recipient(phone(1)), recipient(phone(2))]))

    found = await dispatch.wait_for(
        "O-1", lambda ms: set(statuses(ms).values()) == {"failed", "submitted"}
    )
    rejected = by_address(found)[phone(1)]
    assert rejected["status"] == "failed"
    assert rejected["attempts"] == 1
    assert rejected["last_error"] == "INVALID_NUMBER: scripted 400"
    assert provider.calls[phone(1)] == 1
    [failed] = await dispatch.wait_for_events("notice.failed", 1)
    assert failed["message_id"] == rejected["message_id"]
    assert failed["reason"] == "INVALID_NUMBER: scripted 400"
    assert failed["account_ids"] == rejected["account_ids"]


async def test_throttling_and_unavailability_are_retried_until_one_submission_succeeds(
    start_dispatch,
):
    provider = FakeProvider(scripts={phone(1): [503, 429, "accept"]})
    dispatch = await start_dispatch(provider.app)
    await dispatch.publish(approved("O-1", [recipient(phone(1))]))

    [message] = await dispatch.wait_for("O-1", all_settled(1))
    assert message["attempts"] == 3
    assert provider.calls[phone(1)] == 3
    assert provider.submissions[message["message_id"]] == 1
    assert len(await dispatch.wait_for_events("notice.sent", 1)) == 1


async def test_a_message_refused_every_time_fails_after_the_last_attempt(start_dispatch):
    provider = FakeProvider(scripts={phone(1): [503]})
    dispatch = await start_dispatch(provider.app, max_send_attempts=3)
    await dispatch.publish(approved("O-1", [recipient(phone(1))]))

    [message] = await dispatch.wait_for("O-1", all_settled(1, "failed"))
    assert provider.calls[phone(1)] == 3
    assert "gave up after 3 attempts" in message["last_error"]
    assert len(await dispatch.wait_for_events("notice.failed", 1)) == 1


async def test_a_timeout_is_settled_by_asking_the_provider_never_by_sending_again(start_dispatch):
    provider = FakeProvider(scripts={phone(1): ["hang_after_record"]})
    dispatch = await start_dispatch(provider.app)
    await dispatch.publish(approved("O-1", [recipient(phone(1))]))

    [message] = await dispatch.wait_for("O-1", all_settled(1))
    assert provider.calls[phone(1)] == 1
    assert message["provider_message_id"] == provider.received[message["message_id"]]
    assert message["checks"] == 1
    [sent] = await dispatch.wait_for_events("notice.sent", 1)
    assert sent["provider_message_id"] == message["provider_message_id"]


async def test_a_timeout_the_provider_never_received_is_sent_again_once(start_dispatch):
    provider = FakeProvider(scripts={phone(1): ["hang_before_record", "accept"]})
    dispatch = await start_dispatch(provider.app)
    await dispatch.publish(approved("O-1", [recipient(phone(1))]))

    [message] = await dispatch.wait_for("O-1", all_settled(1))
    assert provider.calls[phone(1)] == 2
    assert provider.submissions == Counter({message["message_id"]: 1})
    assert message["attempts"] == 2


async def test_the_simulators_slow_answers_cause_no_duplicate(start_dispatch):
    slow = create_app(CarrierSimSettings(latency_s=5.0, report_delay_s=(600.0, 600.0)))
    async with slow.router.lifespan_context(slow):
        dispatch = await start_dispatch(slow, provider_timeout_s=0.2)
        await dispatch.publish(approved("O-1", [recipient(phone(i)) for i in range(3)]))
        found = await dispatch.wait_for("O-1", all_settled(3))
        stats = get_sim(slow).stats()
        assert stats.submissions == 3
        assert stats.duplicate_submissions == 0
        assert all(m["checks"] == 1 for m in found)


def crashing_mid_call() -> FakeProvider:
    """Both calls hang: the carrier received the first message, not the second."""
    return FakeProvider(
        scripts={
            phone(1): ["hang_after_record", "accept"],
            phone(2): ["hang_before_record", "accept"],
        }
    )


async def crash_mid_call(
    start_dispatch: StartDispatch, provider: FakeProvider, **settings: Any
) -> Dispatch:
    """A dispatch instance that dies while both its calls are in flight."""
    first = await start_dispatch(provider.app, provider_timeout_s=60.0, **settings)
    await first.publish(approved("O-1", [recipient(phone(1)), recipient(phone(2))]))
    await first.wait_for("O-1", lambda ms: all(m["status"] == "sending" for m in ms))
    async with asyncio.timeout(10):
        while provider.calls.total() < 2:
            await asyncio.sleep(0.01)
    await first.stop()
    return first


def settled_without_blind_resend(provider: FakeProvider, found: list[dict[str, Any]]) -> None:
    assert provider.calls == Counter({phone(1): 1, phone(2): 2})
    assert sorted(provider.submissions.values()) == [1, 1]
    assert by_address(found)[phone(1)]["attempts"] == 1
    assert by_address(found)[phone(2)]["attempts"] == 2


async def test_a_restarted_sender_settles_the_calls_it_abandoned_by_asking_first(
    start_dispatch,
):
    provider = crashing_mid_call()
    first = await crash_mid_call(start_dispatch, provider)

    second = await start_dispatch(provider.app, settings=first.settings, provider_timeout_s=0.3)

    settled_without_blind_resend(provider, await second.wait_for("O-1", all_settled(2)))


async def test_another_replica_leaves_live_claims_alone_until_their_lease_runs_out(
    start_dispatch,
):
    provider = crashing_mid_call()
    first = await crash_mid_call(start_dispatch, provider, instance_id="replica-a")
    other = await start_dispatch(
        provider.app, settings=first.settings, instance_id="replica-b", provider_timeout_s=0.3
    )
    await other.app.state.sender.run_once()
    assert statuses(await other.messages("O-1")) == {phone(1): "sending", phone(2): "sending"}

    async with other.app.state.runtime.db.session() as session, session.begin():
        await session.execute(  # the lease runs out
            update(messages_table).values(next_attempt_at=datetime(2000, 1, 1, tzinfo=UTC))
        )

    settled_without_blind_resend(provider, await other.wait_for("O-1", all_settled(2)))


async def test_the_commit_of_an_approval_wakes_the_sender_without_waiting_for_its_poll(
    start_dispatch,
):
    provider = FakeProvider()
    dispatch = await start_dispatch(provider.app, poll_interval_s=600.0)
    await asyncio.wait_for(dispatch.app.state.sender.idle.wait(), 5)
    await dispatch.publish(approved("O-1", [recipient(phone(1))]))
    await dispatch.wait_for("O-1", all_settled(1), timeout_s=5.0)


async def test_two_replicas_sending_from_one_database_never_submit_a_message_twice(
    start_dispatch, carrier_sim
):
    first = await start_dispatch(
        carrier_sim, send_batch_size=4, send_concurrency=2, instance_id="replica-a"
    )
    await start_dispatch(carrier_sim, settings=first.settings, instance_id="replica-b")
    recipients = [recipient(phone(i)) for i in range(40)]
    await first.publish(approved("O-1", recipients))

    await first.wait_for("O-1", all_settled(40))
    stats = get_sim(carrier_sim).stats()
    assert stats.submissions == 40
    assert stats.duplicate_submissions == 0


async def test_a_recipient_on_a_channel_without_a_gateway_fails_visibly_at_once(start_dispatch):
    provider = FakeProvider()
    dispatch = await start_dispatch(provider.app, voice_provider_url="")
    call = recipient(phone(2)).model_copy(update={"channel": "voice"})
    await dispatch.publish(approved("O-1", [recipient(phone(1)), call]))

    found = await dispatch.wait_for("O-1", lambda ms: len(ms) == 2 and ms[0]["status"] != "queued")
    [voice] = [m for m in found if m["channel"] == "voice"]
    assert voice["status"] == "failed"
    assert voice["last_error"].startswith("channel_unavailable")
    [failed] = await dispatch.wait_for_events("notice.failed", 1)
    assert failed["channel"] == "voice"
    assert provider.calls == {phone(1): 1}
