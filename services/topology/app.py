"""Assembly of the topology service: runtime, network model, the tracer consumer and routes."""

from __future__ import annotations

from fastapi import FastAPI

from services.topology.adapters.db import metadata
from services.topology.adapters.network_cache import NetworkCache
from services.topology.api.routes import router
from services.topology.config import TopologySettings
from services.topology.handlers import OnOutagePlanned
from shared.bus import Bus
from shared.events import OutagePlanned
from shared.runtime import ServiceRuntime
from shared.web import create_service_app

DESCRIPTION = """\
Holds the distribution network model and says which customers an outage cuts off.
An admin imports the model as a CSV bundle (`POST /v1/network/import`: nodes, devices and
customers, all or nothing). A planner registers an outage as switching operations
(`POST /v1/outages`); the service traces it on the network, every affected account with the
opened device that isolates it, and publishes `outage.traced` for the contacts service to
draft the notification list, which a person reviews before anything is sent.
`POST /v1/trace` answers the same question without registering anything.
Cancelling an outage publishes `outage.cancelled`.
"""


def create_app(settings: TopologySettings | None = None, *, bus: Bus | None = None) -> FastAPI:
    """Build the topology app; pass ``bus`` to share an in-process bus (embedded mode, tests)."""
    settings = settings or TopologySettings()
    runtime = ServiceRuntime(settings, metadata, bus=bus)
    network = NetworkCache()
    runtime.consume("tracer", {OutagePlanned: OnOutagePlanned(network)})

    async def load_network() -> None:
        # Warm the model at start-up, so the first plan does not wait for it.
        async with runtime.uow() as uow:
            await network.current(uow.session)

    runtime.add_worker("network-loader", load_network)
    app = create_service_app(
        title="Topology", description=DESCRIPTION, runtime=runtime, routers=[router]
    )
    app.state.network = network
    return app
