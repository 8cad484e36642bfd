"""Assembly of the receipts service: runtime, consumers, the escalation worker and routes."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from services.receipts.adapters.db import metadata
from services.receipts.adapters.topology import TopologyClient
from services.receipts.api import complaints, field, measures, routes
from services.receipts.clock import Clock
from services.receipts.config import ReceiptsSettings
from services.receipts.handlers import ReceiptsHandlers
from services.receipts.worker import EscalationWorker
from shared.bus import Bus
from shared.events import (
    ListApproved,
    NoticeFailed,
    NoticeSent,
    OutageCancelled,
    OutageCompleted,
    OutagePlanned,
    OutageRescheduled,
    OutageRetraced,
    OutageTraced,
)
from shared.runtime import ServiceRuntime
from shared.timeutil import utcnow
from shared.web import create_service_app

DESCRIPTION = """\
Closes the loop on every notice: confirmed delivery, escalation before the deadline, complaints
traced to their cause.

Carriers push signed delivery reports to `POST /v1/webhooks/sms-status` (normalised, stored
once however often pushed, moving each notice's state forward only, published as
`sms.delivered`); customers' replies arrive at `/v1/webhooks/sms-reply` and call results at
`/v1/webhooks/voice-status`; field staff close door slips, visits and postings on
`/v1/worklist`. An account without a confirmed delivery by its escalation point moves to its
next channel or contact (`escalation.requested`) and finally to a field visit. Numbers that
keep failing are reported (`contact.undeliverable`); complaints (`POST /v1/complaints`) are
classified against the record (`complaint.classified`). Coverage, evidence (JSON and PDF) and
reports (JSON, CSV, a PNG chart) show whether the notices work.
"""


def create_app(
    settings: ReceiptsSettings | None = None,
    *,
    bus: Bus | None = None,
    http_transport: httpx.AsyncBaseTransport | None = None,
    clock: Clock | None = None,
) -> FastAPI:
    """Build the receipts app.

    ``bus`` shares an in-process bus (embedded mode, tests); ``http_transport`` routes the
    calls to topology (tests: its ASGI app); ``clock`` is the time escalation and the routes
    judge by (a :class:`services.receipts.clock.ManualClock` lets a demo move it).
    """
    settings = settings or ReceiptsSettings()
    clock = clock or utcnow
    runtime = ServiceRuntime(settings, metadata, bus=bus)
    policy = settings.escalation_policy()
    handlers = ReceiptsHandlers(policy)
    # One consumer group: an outage's events are few, and handling them in turn keeps the
    # record simple to reason about.
    runtime.consume(
        "ledger",
        {
            ListApproved: handlers.on_list_approved,
            NoticeSent: handlers.on_notice_sent,
            NoticeFailed: handlers.on_notice_failed,
            OutageCancelled: handlers.on_outage_cancelled,
            OutagePlanned: handlers.on_outage_planned,
            OutageTraced: handlers.on_outage_traced,
            OutageRetraced: handlers.on_outage_traced,
            OutageRescheduled: handlers.on_outage_rescheduled,
            OutageCompleted: handlers.on_outage_completed,
        },
    )
    worker = EscalationWorker(runtime.uow, settings, clock)
    runtime.add_worker("receipts-escalation", worker.run)

    app = create_service_app(
        title="Receipts",
        description=DESCRIPTION,
        runtime=runtime,
        routers=[routes.router, measures.router, field.router, complaints.router],
    )
    app.state.clock = clock
    app.state.escalation_policy = policy
    app.state.escalation = worker
    app.state.topology = TopologyClient(
        settings.topology_url,
        app.state.token_config,
        timeout_s=settings.topology_timeout_s,
        transport=http_transport,
    )
    return app
