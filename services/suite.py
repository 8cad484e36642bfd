"""The whole suite in one process: four services, the carrier simulator, one in-process bus.

This is the embedded default (``make run``), the demo and the end-to-end tests. In production
each service runs alone (``python -m services.<name> serve``) against Kafka and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import httpx
from fastapi import FastAPI

from services.contacts.app import create_app as create_contacts
from services.contacts.config import ContactsSettings
from services.dispatch.app import create_app as create_dispatch
from services.dispatch.clock import ShiftedClock
from services.dispatch.config import DispatchSettings
from services.receipts.app import create_app as create_receipts
from services.receipts.clock import ManualClock
from services.receipts.config import ReceiptsSettings
from services.reconciliation.app import create_app as create_reconciliation
from services.reconciliation.clock import Clock
from services.reconciliation.config import ReconciliationSettings
from services.topology.app import create_app as create_topology
from services.topology.config import TopologySettings
from shared.auth import Role, TokenConfig, mint_token
from shared.bus.memory import MemoryBus
from shared.config import ServiceSettings
from shared.runtime import ServiceRuntime
from shared.timeutil import utcnow
from tools.carrier_sim import CarrierSimSettings
from tools.carrier_sim import create_app as create_carrier_sim
from tools.voice_sim import VoiceSimSettings
from tools.voice_sim import create_app as create_voice_sim
from tools.webhook_sim import create_app as create_webhook_sim

SERVICE_NAMES = ("topology", "contacts", "dispatch", "receipts", "reconciliation")
DEFAULT_PORTS = {
    "topology": 8001,
    "contacts": 8002,
    "dispatch": 8003,
    "receipts": 8004,
    "carrier": 8005,
    "reconciliation": 8006,
    "webhooks": 8007,
    "voice": 8008,
}


@dataclass
class Suite:
    """The apps of one deployment. ``bus`` is the shared in-process bus, or None when each
    service has its own Kafka connection (then relays and consumers run by themselves)."""

    bus: MemoryBus | None
    apps: dict[str, FastAPI]
    settings: dict[str, ServiceSettings]
    carrier_settings: CarrierSimSettings
    now: Callable[[], datetime] = utcnow
    _clients: list[httpx.AsyncClient] = field(default_factory=list)

    def runtime(self, name: str) -> ServiceRuntime:
        runtime: ServiceRuntime = self.apps[name].state.runtime
        return runtime

    def token(self, sub: str, *roles: Role) -> str:
        settings = self.settings["topology"]
        config = TokenConfig(
            settings.jwt_secret.get_secret_value(), settings.jwt_issuer, settings.jwt_audience
        )
        return mint_token(config, sub, list(roles))

    def client(self, name: str, token: str | None = None) -> httpx.AsyncClient:
        """An HTTP client talking to one app in-process."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.apps[name]),
            base_url=f"http://{name}",
            headers=headers,
            timeout=30,
        )
        self._clients.append(client)
        return client

    async def settle(self, rounds: int = 3) -> None:
        """Publish every outbox and let every consumer catch up, until nothing moves."""
        if self.bus is None:
            await asyncio.sleep(0.2)
            return
        quiet = 0
        while quiet < rounds:
            published = 0
            for name in SERVICE_NAMES:
                published += await self.runtime(name).relay.publish_pending()
            await self.bus.drain()
            quiet = quiet + 1 if published == 0 else 0
            await asyncio.sleep(0.02)

    async def aclose(self) -> None:
        for client in self._clients:
            await client.aclose()


def build_suite(
    var_dir: Path,
    *,
    in_process_http: bool,
    ports: dict[str, int] | None = None,
    carrier: CarrierSimSettings | None = None,
    reconciliation_clock: Clock | None = None,
    demo_time: datetime | None = None,
) -> Suite:
    """Create the apps. With ``in_process_http`` the services call each other over ASGI
    transports (tests, demo); otherwise over loopback ports (``make run``).

    ``demo_time`` starts dispatch's clock there (it then runs at real speed) and stands
    receipts' clock there until the demo moves it: the demo then plays in daytime whatever
    the hour, and escalation points days apart come by in seconds. ``reconciliation_clock``
    lets a demo move reconciliation's time past an outage's window."""
    ports = ports or DEFAULT_PORTS
    bus = MemoryBus()
    topology_settings = _embedded(TopologySettings, var_dir)
    contacts_settings = _embedded(ContactsSettings, var_dir)
    dispatch_settings = _embedded(DispatchSettings, var_dir)
    dispatch_settings.sms_provider_url = f"http://127.0.0.1:{ports['carrier']}"
    dispatch_settings.voice_provider_url = f"http://127.0.0.1:{ports['voice']}"
    dispatch_settings.wecom_robot_url = f"http://127.0.0.1:{ports['webhooks']}"
    dispatch_settings.app_push_url = f"http://127.0.0.1:{ports['webhooks']}"
    receipts_settings = _embedded(ReceiptsSettings, var_dir)
    receipts_settings.topology_url = f"http://127.0.0.1:{ports['topology']}"
    carrier_settings = carrier or CarrierSimSettings(
        report_url=f"http://127.0.0.1:{ports['receipts']}/v1/webhooks/sms-status",
        uplink_url=f"http://127.0.0.1:{ports['receipts']}/v1/webhooks/sms-reply",
    )
    topology = create_topology(topology_settings, bus=bus)
    receipts = create_receipts(
        receipts_settings,
        bus=bus,
        http_transport=httpx.ASGITransport(app=topology) if in_process_http else None,
        clock=ManualClock(demo_time) if demo_time else None,
    )
    receipts_transport = httpx.ASGITransport(app=receipts) if in_process_http else None
    carrier_app = create_carrier_sim(carrier_settings, report_transport=receipts_transport)
    voice_app = create_voice_sim(
        VoiceSimSettings(
            report_url=f"http://127.0.0.1:{ports['receipts']}/v1/webhooks/voice-status"
        ),
        report_transport=receipts_transport,
    )
    webhooks_app = create_webhook_sim()
    reconciliation_settings = _embedded(ReconciliationSettings, var_dir)
    reconciliation_settings.topology_url = f"http://127.0.0.1:{ports['topology']}"
    dispatch_clock = ShiftedClock(demo_time) if demo_time else None
    providers = {"sms": carrier_app, "voice": voice_app, "wechat": webhooks_app}
    providers["app_push"] = webhooks_app
    apps = {
        "topology": topology,
        "contacts": create_contacts(contacts_settings, bus=bus),
        "dispatch": create_dispatch(
            dispatch_settings,
            bus=bus,
            channel_transports={
                channel: httpx.ASGITransport(app=app) for channel, app in providers.items()
            }
            if in_process_http
            else None,
            clock=dispatch_clock,
        ),
        "receipts": receipts,
        "carrier": carrier_app,
        "voice": voice_app,
        "webhooks": webhooks_app,
        "reconciliation": create_reconciliation(
            reconciliation_settings,
            bus=bus,
            http_transport=httpx.ASGITransport(app=topology) if in_process_http else None,
            clock=reconciliation_clock,
        ),
    }
    settings: dict[str, ServiceSettings] = {
        "topology": topology_settings,
        "contacts": contacts_settings,
        "dispatch": dispatch_settings,
        "receipts": receipts_settings,
        "reconciliation": reconciliation_settings,
    }
    suite = Suite(bus, apps, settings, carrier_settings)
    if dispatch_clock is not None:
        suite.now = dispatch_clock
    return suite


S = TypeVar("S", bound=ServiceSettings)


def _embedded(cls: type[S], var_dir: Path) -> S:
    """Settings from the environment, but always SQLite files and the in-process bus."""
    return cls(var_dir=var_dir, database_url="", kafka_bootstrap="")


@contextlib.asynccontextmanager
async def running_suite(var_dir: Path, **kwargs: object) -> AsyncIterator[Suite]:
    """Build the suite with in-process HTTP and run every app's lifespan."""
    suite = build_suite(var_dir, in_process_http=True, **kwargs)  # type: ignore[arg-type]
    async with contextlib.AsyncExitStack() as stack:
        bus = suite.bus
        assert bus is not None
        await bus.start()
        stack.push_async_callback(bus.stop)
        for app in suite.apps.values():
            await stack.enter_async_context(app.router.lifespan_context(app))
        stack.push_async_callback(suite.aclose)
        yield suite
