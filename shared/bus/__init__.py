"""The message bus: one interface, an in-process implementation and a Kafka one.

Delivery is at least once. A handler passed to :meth:`Bus.subscribe` is awaited for each
message of the group in order; the message counts as consumed (its Kafka offset is committed)
only after the handler returns, so handlers must be idempotent (see :mod:`shared.consumer`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Message:
    topic: str
    key: str | None
    value: bytes
    headers: dict[str, str] = field(default_factory=dict)
    partition: int = 0
    offset: int = 0


MessageHandler = Callable[[Message], Awaitable[None]]


def dlq_topic(topic: str) -> str:
    return f"{topic}.dlq"


class Bus(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def publish(self, messages: Sequence[Message]) -> None:
        """Publish and wait until the broker has acknowledged every message."""

    def subscribe(self, group: str, topics: Sequence[str], handler: MessageHandler) -> None:
        """Register a consumer group; may be called before or after :meth:`start`."""

    async def ping(self) -> bool: ...
