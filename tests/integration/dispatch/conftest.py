"""Dispatch under test: the app on a memory bus, its provider calls routed in-process.

Providers: the carrier simulator (``tools.carrier_sim``) for realistic runs, and
:class:`FakeProvider`, whose answers are scripted per phone, for the failure paths the
simulator only produces at random (a 503 then a success, a timeout before or after the
carrier recorded the message, a call held open while the outage is cancelled).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from services.dispatch.app import create_app
from services.dispatch.clock import ShiftedClock
from services.dispatch.config import DispatchSettings
from shared.auth import Role, TokenConfig, mint_token
from shared.bus import Message
from shared.bus.memory import MemoryBus
from shared.events import (
    Envelope,
    Event,
    ListApproved,
    OutageCancelled,
    OutageDetails,
    Recipient,
    decode,
    encode,
)
from tools.carrier_sim import CarrierSimSettings
from tools.carrier_sim import create_app as create_carrier_app
from tools.voice_sim import VoiceSimSettings
from tools.voice_sim import create_app as create_voice_app
from tools.webhook_sim import WebhookSimSettings
from tools.webhook_sim import create_app as create_webhook_app

HANG_S = 30.0
# Tests start on a weekday morning, Shanghai time, four days before DETAILS' outage: no quiet
# hours, the reminder not due yet. Time then runs on as real time does.
MORNING = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)

DETAILS = OutageDetails(
    kind="planned",
    starts_at=datetime(2026, 3, 5, 0, 0, tzinfo=UTC),
    ends_at=datetime(2026, 3, 5, 9, 0, tzinfo=UTC),
    work="10kV东12线线路检修",
    area="东12线沿线",
    planned_by="planner-1",
)


def phone(n: int) -> str:
    return f"+86138001{n:05d}"


def recipient(address: str, *accounts: str, channel: str = "sms", **fields: Any) -> Recipient:
    accounts = accounts or (f"acct-{address[-4:]}",)
    values: dict[str, Any] = {
        "channel": channel,
        "address": address,
        "contact_name": "电工",
        "account_ids": list(accounts),
        "account_names": [f"客户{a}" for a in accounts],
    }
    return Recipient(**(values | fields))


def approved(
    outage_id: str,
    recipients: list[Recipient],
    version: int = 1,
    details: OutageDetails = DETAILS,
) -> ListApproved:
    return ListApproved(
        outage_id=outage_id,
        version=version,
        details=details,
        approved_by="reviewer-1",
        approved_at=datetime(2026, 3, 1, 2, 0, tzinfo=UTC),
        account_count=sum(len(r.account_ids) for r in recipients),
        recipients=recipients,
        recipients_sha256="0" * 64,
    )


def cancelled(outage_id: str) -> OutageCancelled:
    return OutageCancelled(
        outage_id=outage_id,
        reason="雷雨天气",
        cancelled_by="planner-1",
        cancelled_at=datetime(2026, 3, 4, 0, 0, tzinfo=UTC),
    )


@dataclass
class FakeProvider:
    """An SMS gateway answering each phone's calls from a script, and recording what it got.

    Script steps (one per call, the last repeats): ``"accept"``; an HTTP status (400 / 429 /
    503; ``"503-later"`` adds ``Retry-After: 3600``); ``"hang_before_record"`` (never answers,
    never receives); ``"hang_after_record"`` (receives, never answers); ``"hold"`` (receives,
    then answers only once :attr:`release` is set).
    """

    scripts: dict[str, list[str | int]] = field(default_factory=dict)
    lookups_fail: bool = False
    calls: Counter[str] = field(default_factory=Counter)
    received: dict[str, str] = field(default_factory=dict)
    submissions: Counter[str] = field(default_factory=Counter)
    texts: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    release: asyncio.Event = field(default_factory=asyncio.Event)
    held: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self.app = FastAPI()
        ids = itertools.count(1)

        def record(body: dict[str, Any]) -> str:
            provider_id = f"fake-{next(ids)}"
            self.received[body["message_id"]] = provider_id
            self.submissions[body["message_id"]] += 1
            self.texts[body["phone"]].append(body["text"])
            return provider_id

        @self.app.post("/v1/sms/send")
        async def send(request: Request) -> JSONResponse:
            body = await request.json()
            number = body["phone"]
            self.calls[number] += 1
            script = self.scripts.get(number, ["accept"])
            step = script[min(self.calls[number], len(script)) - 1]
            if step == "hang_before_record":
                await asyncio.sleep(HANG_S)
            if step == "hang_after_record":
                record(body)
                await asyncio.sleep(HANG_S)
            if step == "hold":
                provider_id = record(body)
                self.held.set()
                await self.release.wait()
                return JSONResponse({"provider_message_id": provider_id, "parts": 1})
            if step == "503-later":
                return JSONResponse(
                    {"code": "UNAVAILABLE", "message": "维护中"},
                    status_code=503,
                    headers={"Retry-After": "3600"},
                )
            if isinstance(step, int):
                codes = {400: "INVALID_NUMBER", 429: "THROTTLED", 503: "UNAVAILABLE"}
                return JSONResponse(
                    {"code": codes[step], "message": f"scripted {step}"}, status_code=step
                )
            return JSONResponse({"provider_message_id": record(body), "parts": 1})

        @self.app.get("/v1/sms/{message_id}")
        async def status(message_id: str) -> JSONResponse:
            if self.lookups_fail:
                return JSONResponse({"code": "UNAVAILABLE", "message": "x"}, status_code=503)
            if message_id not in self.received:
                return JSONResponse({"code": "NOT_FOUND", "message": "never"}, status_code=404)
            return JSONResponse(
                {
                    "message_id": message_id,
                    "provider_message_id": self.received[message_id],
                    "status": "ACCEPTD",
                    "submissions": self.submissions[message_id],
                }
            )


@dataclass
class Dispatch:
    """A running dispatch app and helpers to drive it through its bus and API."""

    app: FastAPI
    client: httpx.AsyncClient
    bus: MemoryBus
    settings: DispatchSettings
    life: contextlib.AsyncExitStack
    clock: ShiftedClock

    async def stop(self) -> None:
        """Stop the service as a crash would: in-flight calls are abandoned, not finished."""
        await self.life.aclose()

    def token(self, *roles: Role) -> dict[str, str]:
        config = TokenConfig(
            self.settings.jwt_secret.get_secret_value(),
            self.settings.jwt_issuer,
            self.settings.jwt_audience,
        )
        return {"Authorization": f"Bearer {mint_token(config, 'tester', list(roles))}"}

    async def publish(self, event: Event) -> Message:
        """Publish as the producing service would, and wait until it has been handled."""
        message = Message(
            topic=event.type, key=event.subject(), value=encode(Envelope.wrap(event, "test"))
        )
        await self.redeliver(message)
        return message

    async def redeliver(self, message: Message) -> None:
        await self.bus.publish([message])
        await self.bus.drain()

    async def outage(self, outage_id: str, **params: Any) -> dict[str, Any]:
        response = await self.client.get(
            f"/v1/outages/{outage_id}/messages",
            params=params,
            headers=self.token(Role.DISPATCHER),
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def messages(self, outage_id: str, **params: Any) -> list[dict[str, Any]]:
        return list((await self.outage(outage_id, **params))["messages"])

    async def wait_for(
        self,
        outage_id: str,
        done: Callable[[list[dict[str, Any]]], bool],
        timeout_s: float = 10.0,
    ) -> list[dict[str, Any]]:
        """The outage's messages once ``done`` holds for them."""
        async with asyncio.timeout(timeout_s):
            while True:
                found = await self.messages(outage_id)
                if done(found):
                    return found
                await asyncio.sleep(0.02)

    def events(self, topic: str) -> list[dict[str, Any]]:
        return [decode(m.value)[1].model_dump(mode="json") for m in self.bus.log[topic]]

    async def wait_for_events(
        self, topic: str, count: int, timeout_s: float = 10.0
    ) -> list[dict[str, Any]]:
        async with asyncio.timeout(timeout_s):
            while len(self.bus.log[topic]) < count:
                await asyncio.sleep(0.02)
        return self.events(topic)


def by_address(messages: list[dict[str, Any]], kind: str = "notice") -> dict[str, dict[str, Any]]:
    return {m["address"]: m for m in messages if m["notice_kind"] == kind}


def statuses(messages: list[dict[str, Any]], kind: str = "notice") -> dict[str, str]:
    return {a: m["status"] for a, m in by_address(messages, kind).items()}


StartDispatch = Callable[..., Awaitable[Dispatch]]


@pytest.fixture
async def start_dispatch(
    make_settings: Any, memory_bus: MemoryBus, db_backend: str
) -> AsyncIterator[StartDispatch]:
    """``await start_dispatch(provider_app, **settings)``: dispatch with its lifespan entered.

    ``settings=`` restarts on the stored data of an earlier instance; a restarted instance
    gets a bus of its own, as a restarted process would. ``providers={"voice": app, …}``
    routes other channels to their simulators; ``clock=`` pins the time (default: MORNING,
    running on).
    """
    async with contextlib.AsyncExitStack() as stack:

        async def start(
            provider: FastAPI,
            *,
            settings: DispatchSettings | None = None,
            providers: dict[str, FastAPI] | None = None,
            clock: ShiftedClock | None = None,
            **overrides: Any,
        ) -> Dispatch:
            if settings is None:
                values: dict[str, Any] = {
                    "provider_timeout_s": 0.3,
                    "retry_base_s": 0.01,
                    "poll_interval_s": 0.05,
                    # The scripted fake provider answers one message per request.
                    "sms_batch_size": 1,
                }
                settings = make_settings(DispatchSettings, db_backend, **(values | overrides))
                bus: MemoryBus | None = memory_bus
            else:
                settings = settings.model_copy(update=overrides)
                bus = None
            clock = clock or ShiftedClock(MORNING)
            app = create_app(
                settings,
                bus=bus,
                http_transport=httpx.ASGITransport(app=provider),
                channel_transports={
                    channel: httpx.ASGITransport(app=other)
                    for channel, other in (providers or {}).items()
                },
                clock=clock,
            )
            life = contextlib.AsyncExitStack()
            stack.push_async_callback(life.aclose)
            await life.enter_async_context(app.router.lifespan_context(app))
            client = await life.enter_async_context(
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app), base_url="http://dispatch"
                )
            )
            return Dispatch(app, client, app.state.runtime.bus, settings, life, clock)

        yield start


@pytest.fixture
async def carrier_sim() -> AsyncIterator[FastAPI]:
    """The carrier simulator; its delivery reports go nowhere (they are not due in a test)."""
    sink = FastAPI()

    @sink.post("/v1/webhooks/sms-status")
    async def accept_reports() -> dict[str, int]:
        return {"code": 0}

    app = create_carrier_app(
        CarrierSimSettings(report_delay_s=(600.0, 600.0)),
        report_transport=httpx.ASGITransport(app=sink),
    )
    async with app.router.lifespan_context(app):
        yield app


def _sink() -> FastAPI:
    sink = FastAPI()

    @sink.post("/v1/webhooks/{kind}")
    async def accept(kind: str) -> dict[str, int]:
        return {"code": 0}

    return sink


@pytest.fixture
async def voice_sim() -> AsyncIterator[FastAPI]:
    """The voice simulator; calls end long after a test (their results go nowhere)."""
    app = create_voice_app(
        VoiceSimSettings(call_delay_s=(600.0, 600.0)),
        report_transport=httpx.ASGITransport(app=_sink()),
    )
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
def webhook_sim() -> FastAPI:
    """WeChat Work robots (keys robot-1, robot-2) and the app push service."""
    return create_webhook_app(WebhookSimSettings(robot_keys=["robot-1", "robot-2"]))
