"""A handle on a running topology app, and the small network the API tests plan outages on.

The district (``open`` marks the only normally-open device)::

    S1 ─B1─ N1 ─SW1─ N2 ─L2─ N3 ─TIE(open)─ S2
            │        │       │
            T1       T2      T3
            │        │       │
           TA       TB      TC
          A1,A2    B1,B2    C1
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from shared.auth import mint_token
from shared.bus import Message
from shared.bus.memory import MemoryBus
from shared.events import Envelope, Event, decode, encode
from shared.timeutil import local, utcnow

NODES = """node_id,kind,name
S1,source,城东变 10kV 东1线
S2,source,城东变 10kV 东2线
N1,pole,东1线#1杆
N2,pole,东1线#2杆
N3,pole,东1线#3杆
TA,transformer_lv,幸福小区1号台区
TB,transformer_lv,幸福小区2号台区
TC,transformer_lv,和平新村1号台区
"""
DEVICES = """device_id,kind,from_node,to_node,normal_state,name
B1,breaker,S1,N1,closed,东1线出线断路器
SW1,switch,N1,N2,closed,东1线#2杆分段开关
L2,line,N2,N3,closed,东1线#2杆-#3杆
T1,transformer,N1,TA,closed,1号配变
T2,transformer,N2,TB,closed,2号配变
T3,transformer,N3,TC,closed,3号配变
TIE,switch,N3,S2,open,东1线-东2线联络开关
"""
CUSTOMERS = """account_id,name,node_id,voltage_kv,category
A1,张伟,TA,0.22,residential
A2,李记超市,TA,0.4,commercial
B1,王芳,TB,0.22,residential
B2,佳乐五金加工厂,TB,0.4,industrial
C1,刘洋,TC,0.22,residential
"""
BUNDLE = {"nodes": NODES, "devices": DEVICES, "customers": CUSTOMERS}

# A month ahead, at 08:00 local time: well beyond the week a planned outage must be announced.
START = local(utcnow() + timedelta(days=30), "Asia/Shanghai").replace(
    hour=8, minute=0, second=0, microsecond=0
)
PLAN = {
    "kind": "planned",
    "starts_at": START.isoformat(),
    "ends_at": (START + timedelta(hours=9)).isoformat(),
    "work": "10kV东1线#2杆以后线路检修",
    "area": "幸福小区2号、和平新村",
    "operations": [{"device_id": "SW1", "action": "open"}],
}


@dataclass
class Topology:
    app: FastAPI
    client: httpx.AsyncClient
    bus: MemoryBus

    def auth(self, *roles: str, sub: str = "alice") -> dict[str, str]:
        token = mint_token(self.app.state.token_config, sub, list(roles))
        return {"Authorization": f"Bearer {token}"}

    async def import_bundle(self, bundle: dict[str, str | bytes] | None = None) -> httpx.Response:
        files = {
            name: (f"{name}.csv", content, "text/csv")
            for name, content in (bundle or BUNDLE).items()
        }
        return await self.client.post(
            "/v1/network/import", files=files, headers=self.auth("admin", sub="admin")
        )

    async def plan(self, **overrides: Any) -> httpx.Response:
        return await self.client.post(
            "/v1/outages", json={**PLAN, **overrides}, headers=self.auth("planner")
        )

    async def change(
        self, *changes: dict[str, Any], resolves: list[str] | None = None, sub: str = "field-li"
    ) -> httpx.Response:
        """Apply a change batch as field staff; each change gets a reason, origin and ticket."""
        batch = [
            {"reason": "巡线核实", "origin": "field_patrol", "ticket": "T-1", **change}
            for change in changes
        ]
        return await self.client.post(
            "/v1/network/changes",
            json={"changes": batch, "resolves": resolves or []},
            headers=self.auth("field", sub=sub),
        )

    async def trace(self, *operations: str) -> httpx.Response:
        """``trace("open SW1", "close TIE")`` as a what-if."""
        return await self.client.post(
            "/v1/trace",
            json={
                "operations": [
                    {"action": action, "device_id": device}
                    for action, device in (step.split() for step in operations)
                ]
            },
            headers=self.auth("planner"),
        )

    async def deliver(self, event: Event) -> None:
        """Publish an event of another service to the bus and let the consumers handle it."""
        await self.bus.publish(
            [Message(event.type, event.subject(), encode(Envelope.wrap(event, "test")))]
        )
        await self.settle()

    async def published(self, topic: str, count: int = 1) -> list[Any]:
        """The events on ``topic`` once ``count`` are there, running the relay and the bus."""
        runtime = self.app.state.runtime
        for _ in range(20):
            if len(self.bus.log[topic]) >= count:
                break
            await runtime.relay.publish_pending()
            await self.bus.drain()
        return [decode(message.value)[1] for message in self.bus.log[topic]]

    async def settle(self) -> None:
        """Publish every committed event and let every consumer handle it."""
        runtime = self.app.state.runtime
        # Each round carries the chain of events one hop further (outage.planned, then
        # outage.traced); the background relay may take a hop itself, which drain() covers.
        for _ in range(4):
            await runtime.relay.publish_pending()
            await self.bus.drain()
