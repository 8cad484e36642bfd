"""Poison events and failing handlers end in the DLQ; the consumer keeps going."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import Column, String, Table, select

from shared.bus import Bus, Message
from shared.bus.kafka import KafkaBus
from shared.bus.memory import MemoryBus
from shared.config import ServiceSettings
from shared.db import new_metadata
from shared.events import Envelope, OutageCancelled, encode
from shared.runtime import ServiceRuntime

metadata = new_metadata()
handled = Table("handled_ok", metadata, Column("outage_id", String(40), primary_key=True))


class DlqSettings(ServiceSettings):
    service_name = "dlqtest"


def cancelled(outage_id: str) -> Message:
    event = OutageCancelled(
        outage_id=outage_id, reason="r", cancelled_by="p", cancelled_at="2026-12-01T00:00:00Z"
    )
    return Message(event.type, outage_id, encode(Envelope.wrap(event, "test")))


async def run_scenario(settings: ServiceSettings, bus: Bus) -> list[Message]:
    runtime = ServiceRuntime(settings, metadata, bus=bus)

    async def on_cancelled(event, _envelope, uow) -> None:
        if event.outage_id == "OUT-BUG":
            raise ValueError("handler bug for this outage")
        await uow.session.execute(handled.insert().values(outage_id=event.outage_id))

    runtime.consume("worker", {OutageCancelled: on_cancelled})
    dead: list[Message] = []

    async def collect(message: Message) -> None:
        dead.append(message)

    bus.subscribe("dlq-watcher", ["outage.cancelled.dlq"], collect)
    await runtime.start()
    try:
        await bus.publish(
            [
                Message("outage.cancelled", "X", b"{not json"),
                Message("outage.cancelled", "X", b'{"type": "outage.cancelled"}'),
                cancelled("OUT-BUG"),
                cancelled("OUT-AFTER"),
            ]
        )
        async with asyncio.timeout(60):
            while True:
                async with runtime.db.session() as session:
                    done = (await session.execute(select(handled.c.outage_id))).scalars().all()
                if done == ["OUT-AFTER"] and len(dead) == 3:
                    break
                await asyncio.sleep(0.1)
    finally:
        await runtime.stop()
        await runtime.db.drop_schema()
    return dead


def check_dead_letters(dead: list[Message]) -> None:
    # Kafka keeps order per key only: the poison pair (key "X") and the failing
    # event (key "OUT-BUG") may reach the dead-letter topic in either order.
    poison = [m for m in dead if m.key == "X"]
    failing = [m for m in dead if m.key == "OUT-BUG"]
    assert len(poison) == 2
    assert len(failing) == 1
    assert all("not a valid envelope" in m.headers["dlq-error"] for m in poison)
    assert poison[0].value == b"{not json"
    assert "ValueError: handler bug for this outage" in failing[0].headers["dlq-error"]
    assert {m.headers["dlq-consumer"] for m in dead} == {"dlqtest.worker"}
    assert {m.headers["dlq-original-topic"] for m in dead} == {"outage.cancelled"}


async def test_poison_and_failing_events_are_dead_lettered_in_process(make_settings, db_backend):
    bus = MemoryBus()
    await bus.start()
    try:
        settings = make_settings(DlqSettings, db_backend, consumer_max_attempts=2)
        check_dead_letters(await run_scenario(settings, bus))
    finally:
        await bus.stop()


@pytest.mark.kafka
@pytest.mark.postgres
async def test_poison_and_failing_events_are_dead_lettered_on_kafka(make_settings, kafka_bootstrap):
    settings = make_settings(DlqSettings, "postgres", consumer_max_attempts=2)
    bus = KafkaBus(
        kafka_bootstrap, client_id="dlqtest", idempotence=False, partitions=1, namespace="dlqtest."
    )
    await bus.start()
    try:
        check_dead_letters(await run_scenario(settings, bus))
    finally:
        await bus.stop()
