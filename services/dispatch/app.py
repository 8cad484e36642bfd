"""Wiring of the dispatch service: storage, gateways, templates, handlers, sender, routes."""

from __future__ import annotations

from pathlib import Path

import httpx
from fastapi import FastAPI

from services.dispatch.adapters.channels.sms_http import HttpSmsGateway
from services.dispatch.adapters.db import metadata
from services.dispatch.api.routes import router
from services.dispatch.config import DispatchSettings
from services.dispatch.domain.rendering import NoticeRenderer, Wording
from services.dispatch.handlers.events import DispatchHandlers
from services.dispatch.ports import ChannelGateway
from services.dispatch.sender import Sender
from services.dispatch.usecases import Composer
from shared.bus import Bus
from shared.events import ListApproved, OutageCancelled, SmsDelivered
from shared.runtime import ServiceRuntime
from shared.web import create_service_app

BUILT_IN_TEMPLATES = Path(__file__).parent / "templates"

DESCRIPTION = """\
Sends the notices of approved outage lists and their cancellations, exactly once.

On `list.approved` one message per recipient is queued under a unique key and handed to the
SMS gateway; `notice.sent` / `notice.failed` report the result. A call whose outcome is
unknown is settled by asking the gateway, never by sending again. On `outage.cancelled`
unsent notices are stopped and everyone whose notice reached the carrier is told it is off.
`sms.delivered` records the carrier's delivery reports.
"""


def create_app(
    settings: DispatchSettings | None = None,
    *,
    bus: Bus | None = None,
    http_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """Build the service; ``http_transport`` routes provider calls (tests: the simulator)."""
    settings = settings or DispatchSettings()
    runtime = ServiceRuntime(settings, metadata, bus=bus)

    search_path = [BUILT_IN_TEMPLATES]
    if settings.template_dir is not None:
        search_path.insert(0, settings.template_dir)
    renderer = NoticeRenderer(
        search_path,
        Wording(
            hotline=settings.hotline,
            timezone=settings.timezone,
            max_names=settings.max_names_in_text,
        ),
    )
    gateways: dict[str, ChannelGateway] = {
        HttpSmsGateway.channel: HttpSmsGateway(
            settings.sms_provider_url,
            timeout_s=settings.provider_timeout_s,
            max_connections=settings.send_concurrency,
            transport=http_transport,
        )
    }
    for channel in gateways:
        renderer.check(channel)
    composer = Composer(renderer, settings.sms_sign_name, frozenset(gateways))

    sender = Sender(runtime.uow, gateways, composer, settings)
    handlers = DispatchHandlers(composer, sender.wake)
    runtime.consume(
        "lists",
        {ListApproved: handlers.on_list_approved, OutageCancelled: handlers.on_outage_cancelled},
    )
    runtime.consume("delivery-reports", {SmsDelivered: handlers.on_sms_delivered})
    runtime.add_worker("dispatch-sender", sender.run)

    app = create_service_app(
        title="Dispatch", description=DESCRIPTION, runtime=runtime, routers=[router]
    )
    app.state.sender = sender
    # Embedded mode and tests may nudge the sender instead of waiting for its next poll.
    app.state.wake_sender = sender.wake
    return app
