"""Event consumers: parse, deduplicate, handle in one transaction, dead-letter what can't be.

For each message: decode the envelope (a message that cannot be decoded goes straight to
``<topic>.dlq``); in one transaction claim ``(consumer, event id)`` in the inbox and run the
handler, so a redelivered event changes nothing; if the handler keeps failing, the message goes
to the DLQ with the error and the consumer carries on. Database outages are different: they
are retried until the database is back, since dead-lettering every event during a restart would
lose the work instead of delaying it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from opentelemetry.trace import SpanKind
from sqlalchemy.exc import InterfaceError, OperationalError

from shared.bus import Bus, Message, dlq_topic
from shared.events import Envelope, Event, PoisonEvent, decode
from shared.observability import EVENT_LATENCY, EVENTS, current_outage
from shared.tracing import continued_span
from shared.uow import UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)

EventHandler = Callable[[Any, Envelope, UnitOfWork], Awaitable[None]]
# SQLAlchemy wraps lost connections and locked databases in these; an IntegrityError or a bug
# in a handler is not transient and ends in the DLQ.
TRANSIENT_ERRORS = (OperationalError, InterfaceError, ConnectionError, OSError)


class EventConsumer:
    """One consumer group: a name (Kafka group id and inbox key) and a handler per event type."""

    def __init__(
        self,
        name: str,
        handlers: Mapping[type[Event], EventHandler],
        uow_factory: UnitOfWorkFactory,
        bus: Bus,
        *,
        max_attempts: int = 3,
        retry_delay_s: float = 0.2,
    ) -> None:
        self.name = name
        self.handlers = {cls.type: h for cls, h in handlers.items()}
        self.uow_factory = uow_factory
        self.bus = bus
        self.max_attempts = max_attempts
        self.retry_delay_s = retry_delay_s

    @property
    def topics(self) -> list[str]:
        return sorted(self.handlers)

    async def __call__(self, message: Message) -> None:
        started = time.perf_counter()
        try:
            envelope, event = decode(message.value)
        except PoisonEvent as exc:
            await self._dead_letter(message, str(exc))
            EVENTS.labels(self.name, message.topic, "dead_lettered").inc()
            return
        token = current_outage.set(envelope.subject)
        attributes = {
            "messaging.destination": message.topic,
            "outage.id": envelope.subject,
            "messaging.consumer_group": self.name,
        }
        try:
            with continued_span(
                f"consume {envelope.type}", envelope.traceparent, SpanKind.CONSUMER, attributes
            ) as span:
                outcome = await self._handle(message, envelope, event)
                span.set_attribute("outcome", outcome)
        finally:
            current_outage.reset(token)
        EVENTS.labels(self.name, envelope.type, outcome).inc()
        EVENT_LATENCY.labels(self.name, envelope.type).observe(time.perf_counter() - started)

    async def _handle(self, message: Message, envelope: Envelope, event: Event) -> str:
        handler = self.handlers.get(envelope.type)
        if handler is None or envelope.type != message.topic:
            await self._dead_letter(
                message, f"{envelope.type!r} does not belong on {message.topic}"
            )
            return "dead_lettered"
        attempt = 0
        outages = 0
        while True:
            try:
                async with self.uow_factory() as uow:
                    if not await uow.claim(self.name, envelope.id):
                        return "duplicate"
                    await handler(event, envelope, uow)
                    await uow.commit()
                return "handled"
            except TRANSIENT_ERRORS as exc:
                log.warning("%s: database unavailable (%s); retrying", self.name, exc)
                await asyncio.sleep(min(self.retry_delay_s * 2 ** min(outages, 6), 10.0))
                outages += 1
                continue
            except Exception as exc:
                error = exc
            attempt += 1
            if attempt >= self.max_attempts:
                log.error(
                    "%s: giving up on %s %s: %r", self.name, envelope.type, envelope.id, error
                )
                await self._dead_letter(message, f"{type(error).__name__}: {error}")
                return "dead_lettered"
            log.warning(
                "%s: %s %s failed (%r); retrying", self.name, envelope.type, envelope.id, error
            )
            await asyncio.sleep(self.retry_delay_s * 2 ** (attempt - 1))

    async def _dead_letter(self, message: Message, error: str) -> None:
        headers = dict(message.headers)
        headers.update(
            {
                "dlq-error": error[:2000],
                "dlq-consumer": self.name,
                "dlq-original-topic": message.topic,
                "dlq-original-partition": str(message.partition),
                "dlq-original-offset": str(message.offset),
            }
        )
        await self.bus.publish(
            [
                Message(
                    topic=dlq_topic(message.topic),
                    key=message.key,
                    value=message.value,
                    headers=headers,
                )
            ]
        )
