"""The same contract on the in-process bus and on a real Kafka-compatible broker."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from shared.bus import Bus, Message
from shared.bus.kafka import KafkaBus
from shared.bus.memory import MemoryBus


async def wait_for(predicate, timeout_s: float = 20.0) -> None:
    async with asyncio.timeout(timeout_s):
        while not predicate():
            await asyncio.sleep(0.05)


class BusContract:
    """Subclasses provide ``make_bus``; every test runs on each implementation."""

    async def make_bus(self) -> Bus:
        raise NotImplementedError

    @pytest.fixture
    async def topic(self) -> str:
        return f"contract.{uuid.uuid4().hex[:8]}"

    async def test_a_group_receives_one_keys_messages_in_publish_order(self, topic):
        bus = await self.make_bus()
        received: list[Message] = []

        async def handler(message: Message) -> None:
            received.append(message)

        bus.subscribe(f"g-{topic}", [topic], handler)
        await bus.start()
        try:
            await bus.publish(
                [Message(topic, "OUT-1", f"m{i}".encode(), {"n": str(i)}) for i in range(20)]
            )
            await wait_for(lambda: len(received) == 20)
            assert [m.value for m in received] == [f"m{i}".encode() for i in range(20)]
            assert received[3].headers["n"] == "3"
            assert {m.key for m in received} == {"OUT-1"}
        finally:
            await bus.stop()

    async def test_two_groups_each_receive_every_message(self, topic):
        bus = await self.make_bus()
        first: list[bytes] = []
        second: list[bytes] = []

        async def to_first(message: Message) -> None:
            first.append(message.value)

        async def to_second(message: Message) -> None:
            second.append(message.value)

        bus.subscribe(f"a-{topic}", [topic], to_first)
        bus.subscribe(f"b-{topic}", [topic], to_second)
        await bus.start()
        try:
            await bus.publish([Message(topic, str(i), b"x") for i in range(5)])
            await wait_for(lambda: len(first) == 5 and len(second) == 5)
        finally:
            await bus.stop()

    async def test_a_handler_that_raises_does_not_stop_the_group(self, topic):
        bus = await self.make_bus()
        handled: list[bytes] = []

        async def handler(message: Message) -> None:
            if message.value == b"boom":
                raise RuntimeError("bug")
            handled.append(message.value)

        bus.subscribe(f"g-{topic}", [topic], handler)
        await bus.start()
        try:
            await bus.publish([Message(topic, "k", v) for v in (b"1", b"boom", b"2")])
            await wait_for(lambda: handled == [b"1", b"2"])
        finally:
            await bus.stop()


class TestMemoryBus(BusContract):
    async def make_bus(self) -> Bus:
        return MemoryBus()


@pytest.mark.kafka
class TestKafkaBus(BusContract):
    @pytest.fixture(autouse=True)
    def _bootstrap(self, kafka_bootstrap: str) -> None:
        self.bootstrap = kafka_bootstrap

    async def make_bus(self) -> Bus:
        return KafkaBus(self.bootstrap, client_id="contract", idempotence=False, partitions=3)

    async def test_committed_offsets_are_not_redelivered_to_the_next_member(self, topic):
        group = f"resume-{topic}"
        seen: list[bytes] = []

        async def handler(message: Message) -> None:
            seen.append(message.value)

        first = KafkaBus(self.bootstrap, client_id="c1", idempotence=False, partitions=3)
        first.subscribe(group, [topic], handler)
        await first.start()
        try:
            await first.publish([Message(topic, str(i), f"a{i}".encode()) for i in range(10)])
            await wait_for(lambda: len(seen) == 10)
        finally:
            await first.stop()

        second = KafkaBus(self.bootstrap, client_id="c2", idempotence=False, partitions=3)
        second.subscribe(group, [topic], handler)
        await second.start()
        try:
            await second.publish([Message(topic, str(i), f"b{i}".encode()) for i in range(10)])
            await wait_for(lambda: len(seen) == 20)
            await asyncio.sleep(0.5)
        finally:
            await second.stop()
        assert sorted(seen) == sorted(
            [f"a{i}".encode() for i in range(10)] + [f"b{i}".encode() for i in range(10)]
        )

    async def test_the_approved_list_of_a_city_size_outage_fits_through_the_broker(self, topic):
        # A 100,000-recipient list.approved is about 23 MB of JSON: above Kafka's 1 MiB
        # default, within the bus's record limit, and far smaller on the wire compressed.
        rows = [
            f'{{"account_id":"A{i:07d}","address":"+86138{i:08d}","channel":"sms"}}'
            for i in range(330_000)
        ]
        big = ("[" + ",".join(rows) + "]").encode()
        assert len(big) > 20 * 1024 * 1024
        received: list[bytes] = []

        async def handler(message: Message) -> None:
            received.append(message.value)

        bus = await self.make_bus()
        bus.subscribe(f"g-{topic}", [topic], handler)
        await bus.start()
        try:
            await bus.publish([Message(topic, "OUT-BIG", big)])
            await wait_for(lambda: len(received) == 1, timeout_s=60)
        finally:
            await bus.stop()
        assert received[0] == big
