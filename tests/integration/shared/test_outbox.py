"""A crash between commit and publish, or between publish and marking, loses and doubles nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
from sqlalchemy import Column, Integer, String, Table, func, select

from shared.bus import Bus, Message
from shared.bus.kafka import KafkaBus
from shared.bus.memory import MemoryBus
from shared.config import ServiceSettings
from shared.db import new_metadata
from shared.events import OutageCancelled
from shared.outbox import outbox_table
from shared.runtime import ServiceRuntime

metadata = new_metadata()
handled = Table(
    "handled",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("outage_id", String(40), nullable=False),
)


class RelaySettings(ServiceSettings):
    service_name = "relaytest"


class CrashAfterPublish:
    """A bus that delivers, then 'dies' before the relay can mark the rows published."""

    def __init__(self, inner: Bus) -> None:
        self.inner = inner
        self.crashes_left = 1

    async def publish(self, messages: Sequence[Message]) -> None:
        await self.inner.publish(messages)
        if self.crashes_left:
            self.crashes_left -= 1
            raise ConnectionResetError("relay process killed after the broker acknowledged")


def cancelled(outage_id: str) -> OutageCancelled:
    return OutageCancelled(
        outage_id=outage_id,
        reason="天气",
        cancelled_by="planner",
        cancelled_at="2026-12-01T08:00:00Z",
    )


async def build(settings: ServiceSettings, bus: Bus) -> ServiceRuntime:
    runtime = ServiceRuntime(settings, metadata, bus=bus)

    async def on_cancelled(event, _envelope, uow) -> None:
        await uow.session.execute(handled.insert().values(outage_id=event.outage_id))

    runtime.consume("counter", {OutageCancelled: on_cancelled})
    return runtime


async def handled_count(runtime: ServiceRuntime, outage_id: str) -> int:
    async with runtime.db.session() as session:
        query = select(func.count()).select_from(handled).where(handled.c.outage_id == outage_id)
        return int((await session.execute(query)).scalar_one())


async def eventually(predicate, timeout_s: float = 30.0) -> None:
    async with asyncio.timeout(timeout_s):
        while not await predicate():
            await asyncio.sleep(0.05)


async def run_crash_scenarios(settings: ServiceSettings, bus: Bus, *, drain) -> None:
    runtime = await build(settings, bus)
    await runtime.start()
    try:
        # The relay is down (its process "crashed") while the service keeps committing.
        await runtime.relay.stop()
        # 1. Committed; the relay died before publishing anything.
        async with runtime.uow() as uow:
            uow.emit(cancelled("OUT-COMMIT-THEN-CRASH"))
            await uow.commit()
        # 2. Committed; the relay published, then died before marking the row published.
        async with runtime.uow() as uow:
            uow.emit(cancelled("OUT-PUBLISH-THEN-CRASH"))
            await uow.commit()
        runtime.relay.bus = CrashAfterPublish(bus)  # type: ignore[assignment]
        with pytest.raises(ConnectionResetError):
            await runtime.relay.publish_pending()
        runtime.relay.bus = bus
        # The restarted relay publishes both rows again; the consumer's inbox absorbs the copy.
        runtime.relay.start()
        for outage_id in ("OUT-COMMIT-THEN-CRASH", "OUT-PUBLISH-THEN-CRASH"):
            await eventually(lambda o=outage_id: _is(runtime, o, 1))
        await drain()
        assert await handled_count(runtime, "OUT-COMMIT-THEN-CRASH") == 1
        assert await handled_count(runtime, "OUT-PUBLISH-THEN-CRASH") == 1
        async with runtime.db.session() as session:
            unpublished = await session.execute(
                select(func.count())
                .select_from(outbox_table)
                .where(outbox_table.c.published_at.is_(None))
            )
            assert unpublished.scalar_one() == 0
    finally:
        await runtime.stop()
        await runtime.db.drop_schema()


async def _is(runtime: ServiceRuntime, outage_id: str, expected: int) -> bool:
    return await handled_count(runtime, outage_id) == expected


async def test_relay_crashes_lose_nothing_and_double_nothing_in_process(make_settings, db_backend):
    bus = MemoryBus()
    await bus.start()
    try:
        await run_crash_scenarios(make_settings(RelaySettings, db_backend), bus, drain=bus.drain)
        # The crash after publish really did put the event on the bus twice.
        outages = [m.key for m in bus.log["outage.cancelled"]]
        assert outages.count("OUT-PUBLISH-THEN-CRASH") == 2
    finally:
        await bus.stop()


@pytest.mark.kafka
@pytest.mark.postgres
async def test_relay_crashes_lose_nothing_and_double_nothing_over_kafka_and_postgres(
    make_settings, kafka_bootstrap
):
    settings = make_settings(RelaySettings, "postgres")
    bus = KafkaBus(kafka_bootstrap, client_id="relaytest", idempotence=False, partitions=3)
    # Subscribing after the bus started is what a service does when it shares one.
    await bus.start()
    try:

        async def settle() -> None:
            # Give a duplicate that is still in flight the chance to be (wrongly) handled.
            await asyncio.sleep(1.0)

        await run_crash_scenarios(settings, bus, drain=settle)
    finally:
        await bus.stop()
