"""Assembly of the topology service: runtime, network model, consumers and routes."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI

from services.topology.adapters.db import metadata
from services.topology.adapters.network_cache import NetworkCache
from services.topology.api.routes import router, uploads
from services.topology.config import TopologySettings
from services.topology.handlers import ComplaintHandlers, TraceHandlers
from shared.bus import Bus
from shared.events import ComplaintClassified, ModelChanged, OutagePlanned
from shared.runtime import ServiceRuntime
from shared.web import create_service_app

DESCRIPTION = """\
Holds the distribution network model and says which customers an outage cuts off.
An admin imports the model as a CSV bundle (`POST /v1/network/import`: nodes, devices and
customers, all or nothing); field staff and the marketing process keep it true with versioned
change batches (`POST /v1/network/changes`, history at `GET /v1/network/history`) and spot
checks, whose contradictions become discrepancies linked to the change that let them through.
`GET /v1/network/checks` is the back-office check that also runs before every trace.
A planner registers an outage as switching operations (`POST /v1/outages`); the service traces
it on the network, every affected account with the opened device that isolates it, and
publishes `outage.traced` for the contacts service to draft the notification list, which a
person reviews before anything is sent. A model change traces again the outages still
awaiting their notices (`outage.retraced`). `POST /v1/trace` answers without registering
anything. Outages are rescheduled, completed or cancelled here too.
"""


def create_app(settings: TopologySettings | None = None, *, bus: Bus | None = None) -> FastAPI:
    """Build the topology app; pass ``bus`` to share an in-process bus (embedded mode, tests)."""
    settings = settings or TopologySettings()
    runtime = ServiceRuntime(settings, metadata, bus=bus)
    network = NetworkCache(timedelta(days=settings.recent_change_days))
    tracer = TraceHandlers(network, settings.check_policy)
    runtime.consume(
        "tracer",
        {OutagePlanned: tracer.on_outage_planned, ModelChanged: tracer.on_model_changed},
    )
    complaints = ComplaintHandlers(settings.timezone)
    runtime.consume("discrepancies", {ComplaintClassified: complaints.on_complaint_classified})

    async def load_network() -> None:
        # Warm the model at start-up, so the first plan does not wait for it.
        async with runtime.uow() as uow:
            await network.current(uow.session)

    runtime.add_worker("network-loader", load_network)
    app = create_service_app(
        title="Topology", description=DESCRIPTION, runtime=runtime, routers=[router, uploads]
    )
    app.state.network = network
    return app
