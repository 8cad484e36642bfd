"""Assembly of the reconciliation service: runtime, consumers, the worker and routes."""

from __future__ import annotations

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from services.reconciliation.adapters.db import metadata
from services.reconciliation.adapters.topology import TopologyNetwork, TopologyUnavailable
from services.reconciliation.api import routes
from services.reconciliation.clock import Clock
from services.reconciliation.config import ReconciliationSettings
from services.reconciliation.domain import messages
from services.reconciliation.handlers import ReconciliationHandlers
from services.reconciliation.usecases import NetworkSource
from services.reconciliation.worker import ReconciliationWorker
from shared.bus import Bus
from shared.events import (
    ListApproved,
    ModelChanged,
    OutageCancelled,
    OutageCompleted,
    OutagePlanned,
    OutageRescheduled,
    OutageRetraced,
    OutageTraced,
)
from shared.events.catalog import MeterPowerLost, MeterPowerRestored
from shared.runtime import ServiceRuntime
from shared.timeutil import utcnow
from shared.web import create_service_app

DESCRIPTION = """\
After every outage, the notice list against what the smart meters saw, and the network-model
fixes that evidence points to.

Meter power-off / power-on events arrive on Kafka (`meter.power_lost`, `meter.power_restored`)
or in bulk on `POST /v1/meter-events` (CSV or JSON). Once an outage's window has closed and the
grace period passed, its list is compared with the meters: **missed** (lost supply, not told),
**wrong** (told, kept supply), **confirmed** and **unknown** (`outage.reconciled`). The meter
evidence of this and earlier outages is explained with the fewest model changes (a customer on
another transformer area, a switch's normal state, a missing tie); each confident one goes to
topology as a change batch for a person to confirm (`model.fix_suggested`). `GET /v1/reports`
gives the measured missed-notice and wrong-notice rates of a period.
"""


def create_app(
    settings: ReconciliationSettings | None = None,
    *,
    bus: Bus | None = None,
    http_transport: httpx.AsyncBaseTransport | None = None,
    clock: Clock | None = None,
    network: NetworkSource | None = None,
) -> FastAPI:
    """Build the reconciliation app.

    ``bus`` shares an in-process bus (embedded mode, tests); ``http_transport`` routes the calls
    to topology (tests: its ASGI app or a fake); ``clock`` is the time the worker and the
    routes judge by; ``network`` replaces the topology client altogether (a fixed snapshot).
    """
    settings = settings or ReconciliationSettings()
    clock = clock or utcnow
    runtime = ServiceRuntime(settings, metadata, bus=bus)
    handlers = ReconciliationHandlers(settings)
    runtime.consume(
        "outages",
        {
            OutagePlanned: handlers.on_outage_planned,
            OutageTraced: handlers.on_outage_traced,
            OutageRetraced: handlers.on_outage_traced,
            ListApproved: handlers.on_list_approved,
            OutageRescheduled: handlers.on_outage_rescheduled,
            OutageCompleted: handlers.on_outage_completed,
            OutageCancelled: handlers.on_outage_cancelled,
            ModelChanged: handlers.on_model_changed,
        },
    )
    # Meter events come in bursts of many thousands; their own group keeps them from holding
    # up an outage's facts.
    runtime.consume(
        "meters",
        {MeterPowerLost: handlers.on_meter_event, MeterPowerRestored: handlers.on_meter_event},
    )
    app = create_service_app(
        title="Reconciliation",
        description=DESCRIPTION,
        runtime=runtime,
        routers=[routes.router],
    )
    source: NetworkSource = network or TopologyNetwork(
        settings.topology_url,
        app.state.token_config,
        timeout_s=settings.topology_timeout_s,
        transport=http_transport,
    )
    worker = ReconciliationWorker(runtime.uow, source, settings, clock)
    runtime.add_worker("reconciliation", worker.run)
    app.state.clock = clock
    app.state.network = source
    app.state.worker = worker

    @app.exception_handler(TopologyUnavailable)
    async def _topology_down(_request: Request, exc: TopologyUnavailable) -> JSONResponse:
        body = {
            "error": "unavailable",
            "detail": messages.TOPOLOGY_UNAVAILABLE.format(error=exc),
        }
        return JSONResponse(body, status_code=503)

    return app
