"""Dispatch throughput: a 100,000-recipient SMS list, and a cancellation to 10,000 people.

``python -m bench.dispatch [--recipients 100000] [--cancel 10000] [--backend sqlite|postgres]
[--bus memory|kafka] [--write docs/benchmarks/dispatch.md]``

The dispatch app runs in this process with its real runtime (migrations, outbox relay,
consumers, sender) on SQLite or PostgreSQL, fed over the in-process bus or Kafka (a tansu
broker started for the run). The carrier simulator runs in a process of its own and is
reached over loopback HTTP, as a real gateway would be; its rate limit is off and its
delivery reports are due long after the run, so only submissions are measured. Dispatch's
own provider rate limit and per-number caps are off too (the contract rate is what a real
carrier imposes); SMS go in batches of 100 per request.

1. *List*: ``list.approved`` with ``--recipients`` SMS recipients is published; timed until
   every message is recorded as submitted (each was accepted by the simulator before that).
2. *Cancellation*: a second outage with ``--cancel`` recipients is approved and sent (not
   timed); then ``outage.cancelled`` is published; timed until every cancellation is
   recorded as submitted.

Checked afterwards: the simulator received each message exactly once (no duplicate message
id, one submission per number and kind). Deterministic: fixed numbers, texts and seeds; the
clock is pinned to a weekday morning (no quiet hours). Bounded: every wait has a timeout.
PostgreSQL is ``BENCH_DATABASE_URL`` (default the test server); a scratch schema is dropped
afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

from services.dispatch.app import create_app
from services.dispatch.clock import ShiftedClock
from services.dispatch.config import DispatchSettings
from shared.bus import Bus, Message
from shared.bus.kafka import KafkaBus
from shared.bus.memory import MemoryBus
from shared.events import Envelope, Event, ListApproved, OutageCancelled, OutageDetails, Recipient
from shared.events import encode as encode_event

DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
# 10:00 in Shanghai on a weekday, a week before the outages: no quiet hours, no reminder due.
MORNING = datetime(2026, 5, 4, 2, 0, tzinfo=UTC)
DETAILS = OutageDetails(
    kind="planned",
    starts_at=MORNING + timedelta(days=8),
    ends_at=MORNING + timedelta(days=8, hours=9),
    work="10kV东12线线路检修",
    area="东12线沿线",
    planned_by="bench",
    district="城东区",
)
WAIT_S = 900.0


@dataclass(frozen=True)
class Figure:
    name: str
    messages: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.messages / self.seconds


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def carrier_process(port: int) -> Any:
    """The carrier simulator in its own process; reports are due after the run."""
    env = os.environ | {
        "CARRIER_SIM_REPORT_DELAY_S": "[86400, 86400]",
        "CARRIER_SIM_RATE_LIMIT_PER_S": "0",
        "CARRIER_SIM_MAX_BATCH": "1000",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "tools.carrier_sim", "--port", str(port), "--log-level", "warning"],
        env=env,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).is_success:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            raise RuntimeError("the carrier simulator did not start")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def recipients(count: int, prefix: str) -> list[Recipient]:
    return [
        Recipient(
            channel="sms",
            address=f"+86{prefix}{n:08d}",
            contact_name="电工",
            account_ids=[f"{prefix}-{n}"],
            account_names=[f"客户{n}"],
            audience="standard",
        )
        for n in range(count)
    ]


def approved(outage_id: str, listed: list[Recipient]) -> ListApproved:
    return ListApproved(
        outage_id=outage_id,
        version=1,
        details=DETAILS,
        approved_by="bench-reviewer",
        approved_at=MORNING,
        account_count=len(listed),
        account_ids=[a for r in listed for a in r.account_ids],
        recipients=listed,
        recipients_sha256="0" * 64,
    )


class SentCounter:
    """Counts ``notice.sent`` on the bus per outage (the event's key), without decoding it:
    measuring must not load the database or the CPU it measures."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self._targets: dict[str, tuple[int, asyncio.Event]] = {}

    async def handle(self, message: Message) -> None:
        key = message.key or ""
        count = self.counts[key] = self.counts.get(key, 0) + 1
        target = self._targets.get(key)
        if target is not None and count >= target[0]:
            target[1].set()

    async def reach(self, outage_id: str, count: int, what: str) -> None:
        """Wait until ``count`` messages of the outage were sent (bounded by WAIT_S)."""
        reached = asyncio.Event()
        self._targets[outage_id] = (count, reached)
        if self.counts.get(outage_id, 0) >= count:
            reached.set()
        async with asyncio.timeout(WAIT_S):
            await reached.wait()
        print(f"  {what}", flush=True)


async def publish(bus: Bus, event: Event) -> None:
    await bus.publish(
        [
            Message(
                topic=event.type,
                key=event.subject(),
                value=encode_event(Envelope.wrap(event, "bench")),
            )
        ]
    )


@contextlib.asynccontextmanager
async def dispatch_running(
    backend: str, bus_kind: str, carrier_url: str, kafka: str, counter: SentCounter
) -> AsyncIterator[tuple[Any, Bus]]:
    tmp = Path(tempfile.mkdtemp(prefix="bench-dispatch-"))
    schema = f"bench_dispatch_{uuid.uuid4().hex[:8]}"
    values: dict[str, Any] = {
        "var_dir": tmp,
        "sms_provider_url": carrier_url,
        "voice_provider_url": "",
        "wecom_robot_url": "",
        "app_push_url": "",
        "rate_limits": {},
        "daily_caps": {},
        "sms_batch_size": 100,
        "send_batch_size": 2000,
        "send_concurrency": 16,
        "record_batch_size": 1000,
        "provider_timeout_s": 30.0,
        "poll_interval_s": 0.1,
        "outbox_poll_interval_s": 0.05,
        "log_level": "WARNING",
    }
    if backend == "postgres":
        values |= {
            "database_url": os.environ.get("BENCH_DATABASE_URL", DEFAULT_PG),
            "database_schema": schema,
        }
    else:
        values["database_url"] = f"sqlite+aiosqlite:///{tmp / 'dispatch.db'}"
    feed: Bus
    if bus_kind == "kafka":
        namespace = f"bench-{uuid.uuid4().hex[:6]}."
        values |= {
            "kafka_bootstrap": kafka,
            "kafka_idempotence": False,
            "kafka_namespace": namespace,
            "kafka_max_request_bytes": 64 * 1024 * 1024,
        }
        settings = DispatchSettings(**values)
        app = create_app(settings, clock=ShiftedClock(MORNING))
        feed = KafkaBus(
            kafka,
            client_id="bench",
            idempotence=False,
            namespace=namespace,
            max_request_bytes=64 * 1024 * 1024,
        )
    else:
        settings = DispatchSettings(**values)
        feed = MemoryBus()
        app = create_app(settings, bus=feed, clock=ShiftedClock(MORNING))
    feed.subscribe("bench.sent-counter", ["notice.sent"], counter.handle)
    await feed.start()
    try:
        async with app.router.lifespan_context(app):
            yield app, feed
    finally:
        await feed.stop()
        if backend == "postgres":
            from sqlalchemy.ext.asyncio import create_async_engine

            engine = create_async_engine(values["database_url"])
            async with engine.begin() as conn:
                await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            await engine.dispose()


async def carrier_stats(carrier_url: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=carrier_url, timeout=60) as client:
        stats: dict[str, Any] = (await client.get("/v1/stats")).json()
    return stats


async def run(args: argparse.Namespace, kafka: str) -> list[Figure]:
    figures: list[Figure] = []
    counter = SentCounter()
    with carrier_process(free_port()) as carrier_url:
        async with dispatch_running(args.backend, args.bus, carrier_url, kafka, counter) as (
            _app,
            feed,
        ):
            print(f"list of {args.recipients:,} SMS recipients", flush=True)
            big = approved("O-LIST", recipients(args.recipients, "137"))
            started = time.perf_counter()
            await publish(feed, big)
            await counter.reach("O-LIST", args.recipients, "all submitted")
            figures.append(Figure("list", args.recipients, time.perf_counter() - started))

            print(f"cancellation to {args.cancel:,} notified recipients", flush=True)
            await publish(feed, approved("O-CANCEL", recipients(args.cancel, "136")))
            await counter.reach("O-CANCEL", args.cancel, "notified (not timed)")
            started = time.perf_counter()
            await publish(
                feed,
                OutageCancelled(
                    outage_id="O-CANCEL",
                    reason="雷雨天气",
                    cancelled_by="bench",
                    cancelled_at=MORNING,
                ),
            )
            await counter.reach("O-CANCEL", 2 * args.cancel, "all cancellations submitted")
            figures.append(Figure("cancellation", args.cancel, time.perf_counter() - started))

        stats = await carrier_stats(carrier_url)
        expected = args.recipients + 2 * args.cancel
        assert stats["submissions"] == expected, stats["submissions"]
        assert stats["duplicate_submissions"] == 0
        by_phone = stats["by_phone"]
        assert all(n == 1 for p, n in by_phone.items() if p.startswith("+86137"))
        assert all(n == 2 for p, n in by_phone.items() if p.startswith("+86136"))
        print(f"  carrier: {expected:,} submissions, no duplicate", flush=True)
    return figures


def machine() -> str:
    model = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{model}, {os.cpu_count()} vCPU; Linux {platform.release()}, Python "
        f"{platform.python_version()}; load average (1/5/15 min) at the end: {load}"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.dispatch", description=__doc__)
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--cancel", type=int, default=10_000)
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="postgres")
    parser.add_argument("--bus", choices=["memory", "kafka"], default="memory")
    args = parser.parse_args(argv)
    broker = None
    kafka = ""
    if args.bus == "kafka":
        from tests.fixtures.kafka import start_tansu

        broker = start_tansu()
        kafka = broker.bootstrap
    try:
        figures = asyncio.run(run(args, kafka))
    finally:
        if broker is not None:
            broker.stop()
    print(f"\n{args.backend}, {args.bus} bus — {machine()}")
    for figure in figures:
        print(
            f"{figure.name:>12}: {figure.messages:>7,} messages in {figure.seconds:6.1f} s "
            f"= {figure.rate:,.0f} msg/s"
        )


if __name__ == "__main__":
    main()
