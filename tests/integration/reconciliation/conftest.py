"""The reconciliation app on a fresh database, the memory bus and a fake topology."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from reconciliation_harness import STARTS, Reconciliation, TopologyFake

from services.reconciliation.app import create_app
from services.reconciliation.clock import ManualClock
from services.reconciliation.config import ReconciliationSettings
from shared.bus.memory import MemoryBus


@pytest.fixture
async def recon(
    make_settings: Callable[..., ReconciliationSettings], memory_bus: MemoryBus, db_backend: str
) -> AsyncIterator[Reconciliation]:
    # The worker's own loop waits an hour between rounds: tests run rounds themselves.
    settings = make_settings(
        ReconciliationSettings, db_backend, worker_interval_s=3600, grace_period_min=60
    )
    clock = ManualClock(STARTS)
    topology = TopologyFake()
    app = create_app(settings, bus=memory_bus, clock=clock, http_transport=topology.transport())
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://reconciliation"
        ) as client,
    ):
        yield Reconciliation(app, client, memory_bus, clock, topology)
