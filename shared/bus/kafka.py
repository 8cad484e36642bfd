"""Kafka bus on aiokafka.

Producer: ``acks=all``, gzip, the idempotent producer when the broker supports it (switchable:
the tansu test broker lacks it). Consumers: auto-commit off; a message's offset is committed only
after its handler returned, and again when partitions are revoked, so a rebalance replays at most
messages whose handling was not finished (the inbox makes that harmless).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from shared.bus import Message, MessageHandler, dlq_topic

log = logging.getLogger(__name__)


@dataclass
class _Subscription:
    group: str
    topics: list[str]
    handler: MessageHandler
    consumer: AIOKafkaConsumer | None = None
    task: asyncio.Task[None] | None = None
    processed: dict[TopicPartition, int] = field(default_factory=dict)


class _CommitOnRevoke(ConsumerRebalanceListener):  # type: ignore[misc]  # untyped base
    def __init__(self, subscription: _Subscription) -> None:
        self.subscription = subscription

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        sub = self.subscription
        offsets = {tp: off for tp, off in sub.processed.items() if tp in revoked}
        if offsets and sub.consumer is not None:
            with contextlib.suppress(KafkaError):
                await sub.consumer.commit(offsets)
        for tp in revoked:
            sub.processed.pop(tp, None)

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        return None


class KafkaBus:
    def __init__(
        self,
        bootstrap: str,
        *,
        client_id: str,
        idempotence: bool = True,
        max_request_bytes: int = 64 * 1024 * 1024,
        partitions: int = 6,
        create_topics: bool = True,
        namespace: str = "",
    ) -> None:
        self.bootstrap = bootstrap
        self.client_id = client_id
        self.idempotence = idempotence
        self.max_request_bytes = max_request_bytes
        self.partitions = partitions
        self.create_topics = create_topics
        # Prefixes topics and groups on the wire, so environments (or test runs) can share one
        # cluster without reading each other's events.
        self.namespace = namespace
        self._producer: AIOKafkaProducer | None = None
        self._subscriptions: list[_Subscription] = []
        self._started = False

    async def start(self) -> None:
        self._producer = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap,
            client_id=self.client_id,
            acks="all",
            enable_idempotence=self.idempotence,
            compression_type="gzip",
            max_request_size=self.max_request_bytes,
            linger_ms=5,
        )
        await self._producer.start()
        self._started = True
        for sub in self._subscriptions:
            self._launch(sub)

    async def stop(self) -> None:
        self._started = False
        for sub in self._subscriptions:
            if sub.task is not None:
                sub.task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await sub.task
            if sub.consumer is not None:
                await self._commit_processed(sub)
                await sub.consumer.stop()
                sub.consumer = None
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def ensure_topics(self, topics: Sequence[str]) -> None:
        if not topics or not self.create_topics:
            return
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap, client_id=self.client_id)
        await admin.start()
        try:
            existing = set(await admin.list_topics())
            wanted = [self.namespace + t for t in topics]
            missing = [t for t in wanted if t not in existing]
            if missing:
                new = [
                    NewTopic(t, num_partitions=self.partitions, replication_factor=1)
                    for t in missing
                ]
                with contextlib.suppress(TopicAlreadyExistsError):
                    await admin.create_topics(new)
        finally:
            await admin.close()

    async def publish(self, messages: Sequence[Message]) -> None:
        if self._producer is None:
            raise RuntimeError("KafkaBus.publish before start()")
        futures = [
            await self._producer.send(
                self.namespace + m.topic,
                m.value,
                key=m.key.encode() if m.key is not None else None,
                headers=[(k, v.encode()) for k, v in m.headers.items()],
            )
            for m in messages
        ]
        await asyncio.gather(*futures)

    def subscribe(self, group: str, topics: Sequence[str], handler: MessageHandler) -> None:
        sub = _Subscription(group, list(topics), handler)
        self._subscriptions.append(sub)
        if self._started:
            self._launch(sub)

    async def ping(self) -> bool:
        producer = self._producer
        if producer is None:
            return False
        try:
            async with asyncio.timeout(5):
                await producer.client.fetch_all_metadata()
        except (KafkaError, TimeoutError, OSError):
            return False
        return True

    def _launch(self, sub: _Subscription) -> None:
        sub.task = asyncio.create_task(self._run_subscription(sub), name=f"kafka-{sub.group}")

    async def _run_subscription(self, sub: _Subscription) -> None:
        await self.ensure_topics(sorted(set(sub.topics) | {dlq_topic(t) for t in sub.topics}))
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            client_id=self.client_id,
            group_id=self.namespace + sub.group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=500,
        )
        consumer.subscribe([self.namespace + t for t in sub.topics], listener=_CommitOnRevoke(sub))
        sub.consumer = consumer
        await consumer.start()
        while True:
            batches = await consumer.getmany(timeout_ms=500)
            for tp, records in batches.items():
                for record in records:
                    message = Message(
                        topic=record.topic.removeprefix(self.namespace),
                        key=record.key.decode() if record.key is not None else None,
                        value=record.value if record.value is not None else b"",
                        headers={k: v.decode(errors="replace") for k, v in record.headers},
                        partition=record.partition,
                        offset=record.offset,
                    )
                    try:
                        await sub.handler(message)
                    except Exception:
                        # The consumer layer turns failures into DLQ entries; an escaping
                        # exception is a bug, logged so the group keeps going.
                        log.exception("handler crashed on %s@%s", record.topic, record.offset)
                    sub.processed[tp] = record.offset + 1
            if batches:
                await self._commit_processed(sub)

    @staticmethod
    async def _commit_processed(sub: _Subscription) -> None:
        if sub.consumer is None or not sub.processed:
            return
        try:
            await sub.consumer.commit(dict(sub.processed))
        except KafkaError:
            log.warning("offset commit failed for %s; messages may be redelivered", sub.group)
