"""Ingesting 100,000 carrier delivery reports through the signed webhook and onto the bus.

``python -m bench.receipts [--reports 100000] [--batch 1000] [--concurrency 4]
[--repush 0.1] [--backend sqlite|postgres|both]``

The receipts app runs in-process with its real runtime (migrations, outbox relay, consumers)
on SQLite or PostgreSQL and the in-process bus. Notices for every message are stored first (not
timed), spread over 100 outages, as dispatch's ``notice.sent`` would have left them. Then the
reports are pushed as a carrier does: signed batches of ``--batch`` reports, ``--concurrency``
pushes in flight, 90 % ``DELIVRD``, 7 % ``UNDELIV`` and 3 % ``EXPIRED``, and a share
``--repush`` of the batches pushed a second time (a carrier that missed our answer). Timed:
from the first push until the last ``sms.delivered`` is on the bus. Checked afterwards: every
report stored once, every notice in its final state, one ``sms.delivered`` per report and
none more, every repeated report answered as a duplicate. Deterministic: the same arguments
push the same batches in the same order.

PostgreSQL is ``BENCH_DATABASE_URL`` (default the test server, 127.0.0.1:5432); the bench uses
a scratch schema it drops afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from services.receipts.adapters.db import deliveries, notices, receipts
from services.receipts.app import create_app
from services.receipts.config import ReceiptsSettings
from shared.bus.memory import MemoryBus
from shared.signing import SIGNATURE_HEADER, sign

DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
SECRET = "bench-carrier-secret"
OUTAGES = 100
SENT_AT = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
OUTCOMES = (
    [("DELIVRD", "000", "delivered")] * 90
    + [("UNDELIV", "MK:0001", "failed")] * 7
    + [("EXPIRED", "MI:0013", "expired")] * 3
)


@dataclass(frozen=True)
class Result:
    backend: str
    reports: int
    pushes: int
    seconds_ingest: float
    seconds_total: float
    cpu_seconds: float
    load: tuple[float, float]

    @property
    def rate_total(self) -> float:
        return self.reports / self.seconds_total


def message_id(n: int) -> str:
    return f"msg-{n:07d}"


def phone(n: int) -> str:
    return f"+86138{n % 100_000_000:08d}"


def batches(count: int, size: int, repush: float, seed: int) -> list[bytes]:
    """The pushes in order: every report once, a share of the batches a second time later."""
    rng = random.Random(seed)
    bodies: list[bytes] = []
    for start in range(0, count, size):
        reports = []
        for n in range(start, min(start + size, count)):
            stat, err, _ = OUTCOMES[n % len(OUTCOMES)]
            done = SENT_AT + timedelta(seconds=30 + n % 300)
            reports.append(
                {
                    "provider_message_id": f"p-{n:09d}",
                    "message_id": message_id(n),
                    "phone": phone(n),
                    "stat": stat,
                    "err": err,
                    "submitted_at": SENT_AT.isoformat(),
                    "done_at": done.isoformat(),
                }
            )
        bodies.append(json.dumps({"reports": reports}, separators=(",", ":")).encode())
    repeated = rng.sample(range(len(bodies)), round(len(bodies) * repush))
    return bodies + [bodies[index] for index in sorted(repeated)]


async def store_notices(app: Any, count: int) -> None:
    """What dispatch's ``notice.sent`` events leave behind, stored directly (not timed)."""
    now = datetime.now(UTC)
    async with app.state.runtime.db.session() as session:
        for start in range(0, count, 5000):
            rows = [
                {
                    "message_id": message_id(n),
                    "outage_id": f"O-{n % OUTAGES:03d}",
                    "notice_kind": "notice",
                    "channel": "sms",
                    "address": phone(n),
                    "account_ids": [f"A-{n:07d}"],
                    "list_version": 1,
                    "submission": "sent",
                    "provider_message_id": f"p-{n:09d}",
                    "parts": 1,
                    "sent_at": SENT_AT,
                    "failed_at": None,
                    "failure_reason": None,
                    "recorded_at": now,
                }
                for n in range(start, min(start + 5000, count))
            ]
            await session.execute(notices.insert(), rows)
        await session.commit()


async def run(backend: str, args: argparse.Namespace) -> Result:
    workdir = Path(tempfile.mkdtemp(prefix="bench-receipts-"))
    values: dict[str, Any] = {
        "var_dir": workdir,
        "kafka_bootstrap": "",
        "webhook_secrets": [SECRET],
        "escalation_interval_s": 3600,
        "outbox_poll_interval_s": 0.05,
    }
    if backend == "postgres":
        values["database_url"] = os.environ.get("BENCH_DATABASE_URL", DEFAULT_PG)
        values["database_schema"] = f"bench_{uuid.uuid4().hex[:10]}_receipts"
        values["db_pool_size"] = max(args.concurrency + 2, 10)
    else:
        values["database_url"] = f"sqlite+aiosqlite:///{workdir / 'receipts.db'}"
    settings = ReceiptsSettings(**values)
    bus = MemoryBus()
    await bus.start()
    app = create_app(settings, bus=bus)
    bodies = batches(args.reports, args.batch, args.repush, seed=11)
    pushed = sum(body.count(b'"message_id"') for body in bodies)
    try:
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://receipts", timeout=300
            ) as client,
        ):
            await store_notices(app, args.reports)
            queue: asyncio.Queue[bytes] = asyncio.Queue()
            for body in bodies:
                queue.put_nowait(body)
            answers: list[dict[str, int]] = []

            async def pusher() -> None:
                while not queue.empty():
                    body = queue.get_nowait()
                    headers = {
                        "Content-Type": "application/json",
                        SIGNATURE_HEADER: sign(SECRET, body),
                    }
                    response = await client.post(
                        "/v1/webhooks/sms-status", content=body, headers=headers
                    )
                    response.raise_for_status()
                    answers.append(response.json())

            load_before = os.getloadavg()[0]
            cpu_started = time.process_time()
            started = time.perf_counter()
            await asyncio.gather(*(pusher() for _ in range(args.concurrency)))
            ingested = time.perf_counter() - started
            while await app.state.runtime.relay.publish_pending():
                pass
            total = time.perf_counter() - started
            cpu = time.process_time() - cpu_started
            load_after = os.getloadavg()[0]
            await check(app, bus, args.reports, answers, pushed, len(bodies))
    finally:
        await bus.stop()
        if backend == "postgres":
            await app.state.runtime.db.drop_schema()
            await app.state.runtime.db.dispose()
    return Result(
        backend, args.reports, len(bodies), ingested, total, cpu, (load_before, load_after)
    )


async def check(
    app: Any, bus: MemoryBus, count: int, answers: list[dict[str, int]], pushed: int, pushes: int
) -> None:
    """Every report applied once: stored once, one event each, final states as reported."""
    accepted = sum(answer["accepted"] for answer in answers)
    duplicates = sum(answer["duplicates"] for answer in answers)
    assert len(answers) == pushes, (len(answers), pushes)
    assert accepted == count, (accepted, count)
    assert duplicates == pushed - count, (duplicates, pushed - count)
    async with app.state.runtime.db.session() as session:
        stored = (await session.execute(select(func.count()).select_from(receipts))).scalar()
        states = dict(
            (
                await session.execute(
                    select(deliveries.c.status, func.count()).group_by(deliveries.c.status)
                )
            ).all()
        )
    expected = Counter(OUTCOMES[n % len(OUTCOMES)][2] for n in range(count))
    assert stored == count, (stored, count)
    assert states == dict(expected), (states, expected)
    events = bus.log["sms.delivered"]
    assert len(events) == count, (len(events), count)
    ids = {json.loads(message.value)["data"]["message_id"] for message in events}
    assert len(ids) == count


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} vCPU, {model}, Python {platform.python_version()}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.receipts", description=__doc__)
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--repush", type=float, default=0.1)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="sqlite")
    args = parser.parse_args(argv)
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    print(f"machine: {machine()}")
    for backend in backends:
        result = asyncio.run(run(backend, args))
        print(
            f"{backend:8s} {result.reports} reports in {result.pushes} signed pushes "
            f"({args.batch}/push, {args.concurrency} in flight, {args.repush:.0%} pushed again): "
            f"webhook {result.seconds_ingest:.1f} s, onto the bus {result.seconds_total:.1f} s "
            f"= {result.rate_total:,.0f} reports/s; every report applied once"
        )
        print(
            f"         this process used {result.cpu_seconds:.1f} CPU s "
            f"({result.reports / result.cpu_seconds:,.0f} reports per CPU second); "
            f"load average {result.load[0]:.1f} before, {result.load[1]:.1f} after"
        )


if __name__ == "__main__":
    main()
