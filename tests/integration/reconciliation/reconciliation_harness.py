"""The reconciliation app against a fake topology, the memory bus and a manual clock.

The fake topology serves the network export (``/v1/network/export/*.csv``) of a small
two-feeder network::

    S1 -B1- P1 -SW1- P2 -SW2- P3 -TIE(open)- Q3 -SW5- Q2 -SW4- Q1 -B2- S2
            |F1      |F2      |F3            |F6      |F5      |F4
            T1       T2       T3             U3       U2       U1

with five customers per transformer area: A00000011-15 on T1, A00000021-25 on T2, A00000031-35
on T3, A00000041-45 on U1, A00000051-55 on U2, A00000061-65 on U3 (meters M00000011…).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from services.reconciliation.clock import ManualClock
from shared.auth import Role, mint_token
from shared.bus import Message
from shared.bus.memory import MemoryBus
from shared.events import (
    AffectedAccount,
    Envelope,
    Event,
    ListApproved,
    Operation,
    OutageDetails,
    OutagePlanned,
    OutageTraced,
    decode,
    encode,
)

STARTS = datetime(2026, 11, 28, 0, 0, tzinfo=UTC)  # 08:00 in Shanghai
ENDS = STARTS + timedelta(hours=8)
AREAS = {"T1": 1, "T2": 2, "T3": 3, "U1": 4, "U2": 5, "U3": 6}
DEVICES = [
    ("B1", "breaker", "S1", "P1", "closed"),
    ("SW1", "switch", "P1", "P2", "closed"),
    ("SW2", "switch", "P2", "P3", "closed"),
    ("TIE", "switch", "P3", "Q3", "open"),
    ("SW5", "switch", "Q2", "Q3", "closed"),
    ("SW4", "switch", "Q1", "Q2", "closed"),
    ("B2", "breaker", "S2", "Q1", "closed"),
    ("F1", "fuse", "P1", "T1", "closed"),
    ("F2", "fuse", "P2", "T2", "closed"),
    ("F3", "fuse", "P3", "T3", "closed"),
    ("F4", "fuse", "Q1", "U1", "closed"),
    ("F5", "fuse", "Q2", "U2", "closed"),
    ("F6", "fuse", "Q3", "U3", "closed"),
]


def accounts(area: str) -> list[str]:
    return [f"A000000{AREAS[area]}{i}" for i in range(1, 6)]


def meter(account: str) -> str:
    return "M" + account[1:]


def _csv(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


@dataclass
class TopologyFake:
    """Topology's export of the network above; ``moved`` and ``states`` change the model."""

    version: int = 1
    moved: dict[str, str] = field(default_factory=dict)
    states: dict[str, str] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    down: bool = False

    def files(self) -> dict[str, str]:
        nodes = [(n, "source", n) for n in ("S1", "S2")]
        nodes += [(n, "pole", n) for n in ("P1", "P2", "P3", "Q1", "Q2", "Q3")]
        nodes += [(n, "transformer_lv", f"{n}台区") for n in AREAS]
        devices = [(d, k, a, b, self.states.get(d, s), f"{d}开关") for d, k, a, b, s in DEVICES]
        customers = [
            (account, "用户", self.moved.get(account, area), "0.22", "residential")
            for area in AREAS
            for account in accounts(area)
        ]
        return {
            "nodes": _csv(("node_id", "kind", "name"), nodes),
            "devices": _csv(
                ("device_id", "kind", "from_node", "to_node", "normal_state", "name"), devices
            ),
            "customers": _csv(
                ("account_id", "name", "node_id", "voltage_kv", "category"), customers
            ),
        }

    def transport(self) -> httpx.MockTransport:
        def handle(request: httpx.Request) -> httpx.Response:
            self.requests.append(request.url.path)
            if self.down:
                return httpx.Response(503, json={"detail": "down"})
            assert request.headers["Authorization"].startswith("Bearer ")
            name = request.url.path.removeprefix("/v1/network/export/").removesuffix(".csv")
            return httpx.Response(
                200,
                text=self.files()[name],
                headers={"Content-Type": "text/csv", "X-Model-Version": str(self.version)},
            )

        return httpx.MockTransport(handle)


DETAILS = OutageDetails(
    kind="planned", starts_at=STARTS, ends_at=ENDS, work="10kV线路检修", planned_by="planner-li"
)


def planned(outage_id: str, *devices: str, details: OutageDetails = DETAILS) -> OutagePlanned:
    return OutagePlanned(
        outage_id=outage_id,
        details=details,
        operations=[Operation(device_id=d, action="open") for d in devices],
    )


def traced(outage_id: str, listed: list[str], details: OutageDetails = DETAILS) -> OutageTraced:
    return OutageTraced(
        outage_id=outage_id,
        details=details,
        model_version=1,
        affected_accounts=[
            AffectedAccount(account_id=a, isolating_device="SW2", node_id="T3", feeder="S1")
            for a in listed
        ],
        transformers=[],
        feeders=[],
    )


def approved(outage_id: str, listed: list[str], version: int = 1) -> ListApproved:
    return ListApproved(
        outage_id=outage_id,
        version=version,
        details=DETAILS,
        approved_by="reviewer-wang",
        approved_at=STARTS - timedelta(days=7),
        account_count=len(listed),
        account_ids=listed,
        recipients=[],
        recipients_sha256="0" * 64,
    )


def csv_events(rows: list[tuple[str, str, str, datetime]]) -> bytes:
    """``(account, event, cause, at)`` rows as the bulk CSV, meters by the default rule."""
    out = ["meter_id,event,cause,occurred_at"]
    out += [f"{meter(a)},{event},{cause},{at.isoformat()}" for a, event, cause, at in rows]
    return ("\n".join(out) + "\n").encode()


def lost(*accounts_: str) -> list[tuple[str, str, str, datetime]]:
    """Power-off at the start and power-on at the end."""
    out = []
    for a in accounts_:
        out.append((a, "power_lost", "", STARTS + timedelta(seconds=30)))
        out.append((a, "power_restored", "restoration", ENDS + timedelta(seconds=45)))
    return out


def kept(*accounts_: str) -> list[tuple[str, str, str, datetime]]:
    return [(a, "power_restored", "status_check", STARTS + timedelta(hours=3)) for a in accounts_]


@dataclass
class Reconciliation:
    app: FastAPI
    client: httpx.AsyncClient
    bus: MemoryBus
    clock: ManualClock
    topology: TopologyFake

    def bearer(self, *roles: Role, sub: str = "tester") -> dict[str, str]:
        token = mint_token(self.app.state.token_config, sub, list(roles))
        return {"Authorization": f"Bearer {token}"}

    async def publish(self, *events: Event) -> None:
        """Deliver events as if another service's outbox had published them."""
        await self.bus.publish(
            [
                Message(topic=e.type, key=e.subject(), value=encode(Envelope.wrap(e, "topology")))
                for e in events
            ]
        )
        await self.bus.drain()

    async def post_events(self, body: bytes, content_type: str = "text/csv") -> httpx.Response:
        headers = {**self.bearer(Role.SYSTEM, sub="ami"), "Content-Type": content_type}
        return await self.client.post("/v1/meter-events", content=body, headers=headers)

    async def run_worker(self, at: datetime) -> list[Any]:
        self.clock.set(at)
        outcomes: list[Any] = await self.app.state.worker.run_once()
        return outcomes

    async def reconciliation(self, outage_id: str) -> dict[str, Any]:
        response = await self.client.get(
            f"/v1/outages/{outage_id}/reconciliation", headers=self.bearer(Role.DISPATCHER)
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def events(self, topic: str) -> list[Any]:
        """Every event of ``topic`` the service has published, once its outbox is relayed."""
        while await self.app.state.runtime.relay.publish_pending():
            pass
        return [decode(message.value)[1] for message in self.bus.log[topic]]
