"""What a service runs besides its routes: database, bus, outbox relay, consumers, workers.

The runtime is built by each service's ``create_app`` and started in the app's lifespan, so
nothing is created at import time and one process can host several services (embedded mode)
sharing an in-process bus.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping

from sqlalchemy import MetaData

from shared.bus import Bus
from shared.bus.kafka import KafkaBus
from shared.bus.memory import MemoryBus
from shared.config import ServiceSettings
from shared.consumer import EventConsumer, EventHandler
from shared.db import Database
from shared.events import Event
from shared.migrations import script_location, upgrade
from shared.outbox import OutboxRelay, messaging_metadata
from shared.uow import UnitOfWork

log = logging.getLogger(__name__)

Worker = Callable[[], Awaitable[None]]


class ServiceRuntime:
    def __init__(
        self,
        settings: ServiceSettings,
        metadata: MetaData,
        *,
        bus: Bus | None = None,
    ) -> None:
        self.settings = settings
        self.name = settings.service_name
        self.metadata = metadata
        self.db = Database(
            settings.resolved_database_url(),
            settings.resolved_schema(),
            pool_size=settings.db_pool_size,
        )
        self.owns_bus = bus is None
        self.bus: Bus = bus if bus is not None else _bus_from(settings)
        self.relay = OutboxRelay(self.db, self.bus, poll_interval_s=settings.outbox_poll_interval_s)
        self.consumers: list[EventConsumer] = []
        self._workers: list[tuple[str, Worker]] = []
        self._tasks: list[asyncio.Task[None]] = []
        self.started = False

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.db, self.name, self.relay.wake)

    def consume(self, purpose: str, handlers: Mapping[type[Event], EventHandler]) -> EventConsumer:
        """Declare a consumer group ``<service>.<purpose>`` for the given event handlers."""
        consumer = EventConsumer(
            f"{self.name}.{purpose}",
            handlers,
            self.uow,
            self.bus,
            max_attempts=self.settings.consumer_max_attempts,
        )
        self.consumers.append(consumer)
        return consumer

    def add_worker(self, name: str, worker: Worker) -> None:
        """A long-running loop started with the service (e.g. the SMS sender)."""
        self._workers.append((name, worker))

    async def migrate(self) -> None:
        """Upgrade the service's migration history; a runtime without one (tests) creates tables."""
        if (script_location(self.name) / "env.py").exists():
            await upgrade(self.db, self.name)
        else:
            await self.db.create_tables(messaging_metadata, self.metadata)

    async def start(self) -> None:
        if self.settings.run_migrations:
            await self.migrate()
        for consumer in self.consumers:
            self.bus.subscribe(consumer.name, consumer.topics, consumer)
        if self.owns_bus:
            await self.bus.start()
        self.relay.start()
        for name, worker in self._workers:
            self._tasks.append(asyncio.create_task(_forever(name, worker), name=name))
        self.started = True

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        await self.relay.stop()
        if self.owns_bus:
            await self.bus.stop()
        await self.db.dispose()
        self.started = False

    async def ready(self) -> dict[str, bool]:
        return {"database": await self.db.ping(), "bus": await self.bus.ping()}


def _bus_from(settings: ServiceSettings) -> Bus:
    if settings.kafka_bootstrap:
        return KafkaBus(
            settings.kafka_bootstrap,
            client_id=settings.service_name,
            idempotence=settings.kafka_idempotence,
            max_request_bytes=settings.kafka_max_request_bytes,
            create_topics=settings.kafka_create_topics,
            namespace=settings.kafka_namespace,
        )
    return MemoryBus()


async def _forever(name: str, worker: Worker) -> None:
    # A worker that crashes is restarted after a pause: a send loop that died silently would
    # leave approved notices unsent with nobody noticing.
    while True:
        try:
            await worker()
            return
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("worker %s crashed; restarting in 1s", name)
            await asyncio.sleep(1.0)
