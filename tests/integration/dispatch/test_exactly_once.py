"""Exactly once under load: a restart mid-batch, per-number daily caps, a failing provider."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import func, select

from services.dispatch.adapters.db import messages
from services.dispatch.domain.flow import BreakerState
from tests.integration.dispatch.conftest import (
    Dispatch,
    FakeProvider,
    approved,
    phone,
    recipient,
    statuses,
)
from tools.carrier_sim import CarrierSim, CarrierSimSettings, create_app, get_sim
from tools.carrier_sim.app import BatchRequest, BatchResponse

BATCH = 10_000


async def submitted(dispatch: Dispatch, outage_id: str) -> int:
    view = await dispatch.outage(outage_id, limit=1)
    return sum(s["by_status"]["submitted"] for s in view["summaries"])


async def until(check: Any, timeout_s: float = 60.0) -> None:
    async with asyncio.timeout(timeout_s):
        while not await check():
            await asyncio.sleep(0.05)


def freezing_gateway(sim: CarrierSim, after: int) -> tuple[FastAPI, asyncio.Event, asyncio.Event]:
    """The simulator's API, except that once it has received ``after`` messages it keeps
    receiving but stops answering (until ``thaw`` is set): the sender is then surely
    stopped with calls in flight that the carrier did get."""
    app = FastAPI()
    frozen, thaw = asyncio.Event(), asyncio.Event()

    @app.post("/v1/sms/batch")
    async def batch(request: BatchRequest) -> BatchResponse:
        answer = sim.submit_batch(request)
        if sim.stats().submissions >= after and not thaw.is_set():
            frozen.set()
            await thaw.wait()
        return answer

    @app.get("/v1/sms/{message_id}")
    async def status(message_id: str) -> JSONResponse:
        found = sim.status(message_id)
        if found is None:
            return JSONResponse({"code": "NOT_FOUND", "message": "never"}, status_code=404)
        return JSONResponse(found.model_dump())

    return app, frozen, thaw


async def test_a_restart_in_the_middle_of_a_big_batch_sends_each_recipient_exactly_once(
    start_dispatch,
):
    carrier = create_app(CarrierSimSettings(report_delay_s=(600.0, 600.0)))
    async with carrier.router.lifespan_context(carrier):
        sim = get_sim(carrier)
        gateway, frozen, thaw = freezing_gateway(sim, after=BATCH // 4)
        fast = {
            "sms_batch_size": 100,
            "send_concurrency": 20,
            "send_batch_size": 2000,
            "rate_limits": {},
            "daily_caps": {},
        }
        first = await start_dispatch(gateway, provider_timeout_s=30.0, **fast)
        recipients = [recipient(f"+86139{i:08d}", f"A{i}") for i in range(BATCH)]
        await first.publish(approved("O-1", recipients))
        await asyncio.wait_for(frozen.wait(), 60)
        await first.stop()  # the lifespan ends mid-batch, calls in flight abandoned
        thaw.set()
        assert sim.stats().submissions < BATCH

        second = await start_dispatch(gateway, settings=first.settings, provider_timeout_s=5.0)
        await until(lambda: _all_submitted(second))
        async with second.app.state.runtime.db.session() as session:
            settled_by_asking = await session.scalar(
                select(func.count()).select_from(messages).where(messages.c.checks > 0)
            )
        # The calls the first instance had in flight were settled by asking the carrier.
        assert settled_by_asking
        stats = sim.stats()
        assert stats.duplicate_submissions == 0
        assert stats.distinct_messages == BATCH
        assert stats.by_phone == {r.address: 1 for r in recipients}


async def _all_submitted(dispatch: Dispatch) -> bool:
    return await submitted(dispatch, "O-1") == BATCH


async def test_a_number_at_its_daily_cap_waits_for_the_next_day_and_says_so(start_dispatch):
    provider = FakeProvider()
    dispatch = await start_dispatch(provider.app, daily_caps={"sms": 2})
    for outage in ("O-1", "O-2", "O-3"):
        await dispatch.publish(approved(outage, [recipient(phone(1), outage)]))
        if outage != "O-3":
            await dispatch.wait_for(outage, lambda ms: ms[0]["status"] == "submitted")
    [held] = await dispatch.wait_for(
        "O-3", lambda ms: (ms[0]["last_error"] or "").startswith("daily_cap")
    )
    assert held["status"] == "queued"
    assert "2条通知上限" in held["last_error"]
    assert datetime.fromisoformat(held["next_attempt_at"]) > dispatch.clock()
    assert (await dispatch.outage("O-3"))["waiting"] == {"daily_cap": 1}
    assert provider.calls == {phone(1): 2}

    dispatch.clock.set(datetime(2026, 3, 2, 2, 0, tzinfo=UTC))  # 10:00 the next day
    dispatch.app.state.wake_sender()
    await dispatch.wait_for("O-3", lambda ms: ms[0]["status"] == "submitted")
    assert provider.calls == {phone(1): 3}


async def test_the_carriers_own_daily_cap_defers_to_the_next_day_instead_of_failing(
    start_dispatch,
):
    carrier = create_app(CarrierSimSettings(report_delay_s=(600.0, 600.0), daily_cap_per_number=1))
    async with carrier.router.lifespan_context(carrier):
        dispatch = await start_dispatch(carrier, daily_caps={})
        await dispatch.publish(approved("O-1", [recipient(phone(1), "A")]))
        await dispatch.wait_for("O-1", lambda ms: ms[0]["status"] == "submitted")
        await dispatch.publish(approved("O-2", [recipient(phone(1), "B")]))
        [message] = await dispatch.wait_for(
            "O-2", lambda ms: (ms[0]["last_error"] or "").startswith("daily_cap: DAILY_LIMIT")
        )
        assert message["status"] == "queued"
        tomorrow = datetime.fromisoformat(message["next_attempt_at"])
        assert tomorrow - dispatch.clock() > timedelta(hours=12)


async def test_a_provider_that_keeps_failing_trips_its_breaker_and_is_left_alone(start_dispatch):
    provider = FakeProvider(scripts={phone(i): [503] for i in range(1, 7)})
    dispatch = await start_dispatch(
        provider.app,
        breaker_failures=2,
        breaker_cooldown_s=600.0,
        send_concurrency=1,
        max_send_attempts=10,
    )
    await dispatch.publish(approved("O-1", [recipient(phone(i)) for i in range(1, 7)]))
    found = await dispatch.wait_for(
        "O-1",
        lambda ms: sum((m["last_error"] or "").startswith("circuit_open") for m in ms) == 4,
    )
    assert provider.calls.total() == 2
    assert dispatch.app.state.sender.breakers["sms"].state is BreakerState.OPEN
    waiting = [m for m in found if (m["last_error"] or "").startswith("circuit_open")]
    assert {m["attempts"] for m in waiting} == {0}  # not counted: never called
    await dispatch.app.state.sender.run_once()
    assert provider.calls.total() == 2  # the channel is not even claimed while open
    assert set(statuses(found).values()) == {"queued"}
