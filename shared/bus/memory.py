"""In-process bus for the embedded single-process mode and for fast tests.

It keeps every published message (``log``), which tests and the demo use to inspect topics,
including dead-letter topics. Each consumer group has one queue, so a group sees messages in
publish order, like one Kafka partition.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from shared.bus import Message, MessageHandler

log = logging.getLogger(__name__)


@dataclass
class _Group:
    topics: set[str]
    handler: MessageHandler
    queue: asyncio.Queue[Message] = field(default_factory=asyncio.Queue)
    task: asyncio.Task[None] | None = None


class MemoryBus:
    def __init__(self) -> None:
        self.log: dict[str, list[Message]] = defaultdict(list)
        self._groups: dict[str, _Group] = {}
        self._started = False

    async def start(self) -> None:
        self._started = True
        for name, group in self._groups.items():
            self._launch(name, group)

    async def stop(self) -> None:
        self._started = False
        for group in self._groups.values():
            if group.task is not None:
                group.task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await group.task
                group.task = None

    async def publish(self, messages: Sequence[Message]) -> None:
        for message in messages:
            stored = replace(message, offset=len(self.log[message.topic]))
            self.log[message.topic].append(stored)
            for group in self._groups.values():
                if message.topic in group.topics:
                    group.queue.put_nowait(stored)

    def subscribe(self, group: str, topics: Sequence[str], handler: MessageHandler) -> None:
        if group in self._groups:
            raise ValueError(f"consumer group {group!r} already subscribed")
        entry = _Group(set(topics), handler)
        self._groups[group] = entry
        if self._started:
            self._launch(group, entry)

    async def ping(self) -> bool:
        return True

    async def drain(self) -> None:
        """Wait until every group has handled everything published so far (tests, demo)."""
        await asyncio.gather(*(g.queue.join() for g in self._groups.values()))

    def _launch(self, name: str, group: _Group) -> None:
        group.task = asyncio.create_task(self._consume(group), name=f"bus-group-{name}")

    @staticmethod
    async def _consume(group: _Group) -> None:
        while True:
            message = await group.queue.get()
            try:
                await group.handler(message)
            except Exception:
                # The consumer layer already turns failures into DLQ entries; anything that
                # still escapes is a bug, and one bad message must not stop the group.
                log.exception("handler crashed on %s@%s", message.topic, message.offset)
            finally:
                group.queue.task_done()
