"""Wiring of the dispatch service: policy, storage, gateways, templates, handlers, sender."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import httpx
from fastapi import FastAPI

from services.dispatch.adapters.channels.app_push import AppPushGateway
from services.dispatch.adapters.channels.printed import PrintQueue
from services.dispatch.adapters.channels.sms_http import HttpSmsGateway
from services.dispatch.adapters.channels.voice_http import HttpVoiceGateway
from services.dispatch.adapters.channels.wecom_robot import WeComRobotGateway
from services.dispatch.adapters.db import metadata
from services.dispatch.adapters.fonts import load_cjk_font
from services.dispatch.adapters.pdf import PdfWriter
from services.dispatch.api.deps import DispatchContext
from services.dispatch.api.routes import documents, router
from services.dispatch.clock import Clock
from services.dispatch.config import DispatchSettings
from services.dispatch.domain.documents import Letterhead
from services.dispatch.domain.messages import PRINT_CHANNELS
from services.dispatch.domain.rendering import NoticeRenderer, Wording
from services.dispatch.handlers.events import DispatchHandlers
from services.dispatch.ports import ChannelGateway
from services.dispatch.sender import Sender
from services.dispatch.usecases import Composer
from shared.bus import Bus
from shared.channel_policy import load_policy
from shared.events import (
    EscalationRequested,
    ListApproved,
    OutageCancelled,
    OutageCompleted,
    OutageRescheduled,
    SmsDelivered,
)
from shared.runtime import ServiceRuntime
from shared.timeutil import utcnow
from shared.web import create_service_app

BUILT_IN_TEMPLATES = Path(__file__).parent / "templates"

DESCRIPTION = """\
Sends the notices of approved outage lists, their reminders, corrections and restorations on
every channel (SMS, voice calls, WeChat Work group robots, app push, door-to-door slips,
posted notices, the newspaper digest), on time and exactly once.

On `list.approved` wave 0 is queued (at the first moment the channel policy allows) and the
later waves are held for `escalation.requested`. Every message is stored under a unique key
before its provider is called and carries our message id; a call whose outcome is unknown is
settled by asking the provider, never by sending again. `outage.cancelled` and
`outage.rescheduled` stop what is unsent and tell everyone reached, on the channel that
reached them; `outage.completed` sends the restoration notice. `notice.sent` /
`notice.failed` report each message. Printable PDFs: door slips and posted notices per
outage, the newspaper digest per day.
"""


def _gateways(
    settings: DispatchSettings,
    transport: httpx.AsyncBaseTransport | None,
    transports: Mapping[str, httpx.AsyncBaseTransport],
) -> dict[str, ChannelGateway]:
    def pick(channel: str) -> httpx.AsyncBaseTransport | None:
        return transports.get(channel, transport)

    timeout_s, connections = settings.provider_timeout_s, settings.send_concurrency
    gateways: dict[str, ChannelGateway] = {
        "sms": HttpSmsGateway(
            settings.sms_provider_url,
            transport=pick("sms"),
            max_batch=settings.sms_batch_size,
            timeout_s=timeout_s,
            max_connections=connections,
        )
    }
    if settings.voice_provider_url:
        gateways["voice"] = HttpVoiceGateway(
            settings.voice_provider_url,
            transport=pick("voice"),
            timeout_s=timeout_s,
            max_connections=connections,
        )
    if settings.wecom_robot_url:
        gateways["wechat"] = WeComRobotGateway(
            settings.wecom_robot_url,
            transport=pick("wechat"),
            timeout_s=timeout_s,
            max_connections=connections,
        )
    if settings.app_push_url:
        gateways["app_push"] = AppPushGateway(
            settings.app_push_url,
            transport=pick("app_push"),
            timeout_s=timeout_s,
            max_connections=connections,
        )
    for channel in sorted(PRINT_CHANNELS):
        gateways[channel] = PrintQueue(channel)
    return gateways


def create_app(
    settings: DispatchSettings | None = None,
    *,
    bus: Bus | None = None,
    http_transport: httpx.AsyncBaseTransport | None = None,
    channel_transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
    clock: Clock | None = None,
) -> FastAPI:
    """Build the service.

    ``http_transport`` routes every provider's calls (tests and the embedded suite: a
    simulator in-process); ``channel_transports`` overrides it per channel (``sms``,
    ``voice``, ``wechat``, ``app_push``). ``clock`` is the time schedules, quiet hours and
    caps are judged by (tests pin it). The channel policy and the CJK font are checked here:
    a bad policy file or a missing font stops the start-up with the fix in the message.
    """
    settings = settings or DispatchSettings()
    clock = clock or utcnow
    policy = load_policy(settings.channel_policy)
    font = load_cjk_font(settings.font_path)
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
            company=settings.sms_sign_name,
        ),
    )
    gateways = _gateways(settings, http_transport, channel_transports or {})
    for channel in gateways:
        renderer.check(channel)
    composer = Composer(
        renderer, settings.sms_sign_name, frozenset(gateways), policy, settings.timezone
    )

    sender = Sender(runtime.uow, gateways, composer, settings, clock)
    handlers = DispatchHandlers(composer, sender.wake, clock)
    runtime.consume(
        "lists",
        {
            ListApproved: handlers.on_list_approved,
            OutageCancelled: handlers.on_outage_cancelled,
            OutageRescheduled: handlers.on_outage_rescheduled,
            OutageCompleted: handlers.on_outage_completed,
            EscalationRequested: handlers.on_escalation_requested,
        },
    )
    runtime.consume("delivery-reports", {SmsDelivered: handlers.on_sms_delivered})
    runtime.add_worker("dispatch-sender", sender.run)

    app = create_service_app(
        title="Dispatch", description=DESCRIPTION, runtime=runtime, routers=[router, documents]
    )
    app.state.sender = sender
    app.state.dispatch = DispatchContext(
        composer=composer,
        pdf=PdfWriter(font),
        letterhead=Letterhead(settings.sms_sign_name, settings.hotline, settings.timezone),
        clock=clock,
    )
    # Embedded mode and tests may nudge the sender instead of waiting for its next poll.
    app.state.wake_sender = sender.wake
    return app
