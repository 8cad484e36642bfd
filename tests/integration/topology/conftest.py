"""The topology app on a fresh database and the memory bus (see ``topology_harness``)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from topology_harness import Topology

from services.topology.app import create_app
from services.topology.config import TopologySettings


@pytest.fixture
def topology_settings(make_settings, db_backend) -> TopologySettings:
    return make_settings(TopologySettings, db_backend)


@pytest.fixture
async def topology(topology_settings, memory_bus) -> AsyncIterator[Topology]:
    app = create_app(topology_settings, bus=memory_bus)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://topology"
        ) as client,
    ):
        yield Topology(app=app, client=client, bus=memory_bus)
