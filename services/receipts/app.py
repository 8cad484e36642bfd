"""Assembly of the receipts service: runtime, consumers and routes."""

from __future__ import annotations

from fastapi import FastAPI

from services.receipts.adapters.db import metadata
from services.receipts.api.routes import router
from services.receipts.config import ReceiptsSettings
from services.receipts.handlers import (
    on_list_approved,
    on_notice_failed,
    on_notice_sent,
    on_outage_cancelled,
)
from shared.bus import Bus
from shared.events import ListApproved, NoticeFailed, NoticeSent, OutageCancelled
from shared.runtime import ServiceRuntime
from shared.web import create_service_app

DESCRIPTION = """\
Confirms that notices were delivered. Carriers push signed delivery reports to
`POST /v1/webhooks/sms-status`; each new report is normalised (SMPP/CMPP status words and
codes), stored once however often it is pushed, moves its notice's delivery state forward only,
and is published as `sms.delivered`. From `list.approved`, `notice.sent`, `notice.failed` and
`outage.cancelled` the service knows who was meant to be told, so
`GET /v1/outages/{outage_id}/coverage` can say who the carriers confirm was told.
"""


def create_app(settings: ReceiptsSettings | None = None, *, bus: Bus | None = None) -> FastAPI:
    """Build the receipts app; pass ``bus`` to share an in-process bus (embedded mode, tests)."""
    settings = settings or ReceiptsSettings()
    runtime = ServiceRuntime(settings, metadata, bus=bus)
    runtime.consume(
        "ledger",
        {
            ListApproved: on_list_approved,
            NoticeSent: on_notice_sent,
            NoticeFailed: on_notice_failed,
            OutageCancelled: on_outage_cancelled,
        },
    )
    return create_service_app(
        title="Receipts", description=DESCRIPTION, runtime=runtime, routers=[router]
    )
