from sqlalchemy import Column, String, Table, select

from shared.bus import Message
from shared.config import ServiceSettings
from shared.db import new_metadata
from shared.events import OutageCancelled
from shared.runtime import ServiceRuntime

metadata = new_metadata()
seen = Table("seen", metadata, Column("outage_id", String(20), primary_key=True))


class SmokeSettings(ServiceSettings):
    service_name = "smoke"


async def test_event_emitted_in_a_transaction_is_handled_once_and_poison_goes_to_dlq(
    make_settings, memory_bus, db_backend
):
    runtime = ServiceRuntime(make_settings(SmokeSettings, db_backend), metadata, bus=memory_bus)

    async def on_cancel(event, _envelope, uow):
        await uow.session.execute(seen.insert().values(outage_id=event.outage_id))

    runtime.consume("test", {OutageCancelled: on_cancel})
    await runtime.start()
    try:
        async with runtime.uow() as uow:
            uow.emit(
                OutageCancelled(
                    outage_id="O1",
                    reason="雷雨",
                    cancelled_by="a",
                    cancelled_at="2026-01-01T00:00:00Z",
                )
            )
            await uow.commit()
        while not memory_bus.log["outage.cancelled"]:
            await runtime.relay.publish_pending()
        await memory_bus.drain()
        original = memory_bus.log["outage.cancelled"][0]
        await memory_bus.publish([original, Message("outage.cancelled", "x", b"not json")])
        await memory_bus.drain()
        async with runtime.db.session() as session:
            assert (await session.execute(select(seen.c.outage_id))).scalars().all() == ["O1"]
        assert len(memory_bus.log["outage.cancelled.dlq"]) == 1
        assert (
            "not a valid envelope" in memory_bus.log["outage.cancelled.dlq"][0].headers["dlq-error"]
        )
    finally:
        await runtime.stop()
        await runtime.db.drop_schema()
