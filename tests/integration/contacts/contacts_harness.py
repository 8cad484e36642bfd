"""A running contacts app, its clients per user, and the registry and trace it is fed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from fastapi import FastAPI

from shared.auth import Role, mint_token
from shared.bus import Message
from shared.bus.memory import MemoryBus
from shared.events import (
    AccountChange,
    AffectedAccount,
    Envelope,
    Event,
    FeederScope,
    ListApproved,
    OutageDetails,
    OutageRetraced,
    OutageTraced,
    TraceWarning,
    TransformerScope,
    decode,
    encode,
)
from shared.runtime import ServiceRuntime

PLANNER = "planner-li"

# 华新 and 明达 share their electrician 王师傅, written differently; 华新's legal and billing
# contact is one phone; 张伟 has only a landline, 李娜 only a bad number, 王芳 nothing at all;
# the hospital has a mobile and a duty-room landline.
CUSTOMERS_CSV = """\
account_id,name,node_id,voltage_kv,category
A1,华新五金厂,N1,0.4,commercial
A2,明达制衣,N1,0.4,commercial
A3,张伟,N2,0.22,residential
A4,李娜,N2,0.22,residential
A5,市第一医院,N3,10,important
A6,王芳,N2,0.22,residential
A7,远郊农庄,N9,0.4,commercial
"""
CONTACTS_CSV = """\
account_id,role,name,phone
A1,electrical,王师傅,138 0013 8000
A1,legal,赵总,13900139000
A1,billing,赵总,139-0013-9000
A2,electrical,王师傅,+86 13800138000
A3,electrical,张伟,0571-88123456
A4,electrical,李娜,1380013
A5,electrical,周工,13700137000
A5,other,值班室,0571-87000000
A7,electrical,孙老板,13600136000
"""
# Where the network model puts each account: the same as the registry.
NODES = {"A3": "N2", "A4": "N2", "A5": "N3", "A6": "N2", "A7": "N9"}

DETAILS = OutageDetails(
    kind="planned",
    starts_at=datetime(2026, 3, 5, 0, 0, tzinfo=UTC),
    ends_at=datetime(2026, 3, 5, 9, 0, tzinfo=UTC),
    work="10kV东12线线路检修",
    area="东12线沿线",
    planned_by=PLANNER,
)


def _scope(account_ids: list[str], feeder: str) -> dict[str, Any]:
    return {
        "affected_accounts": [
            AffectedAccount(
                account_id=a, isolating_device="D7", node_id=NODES.get(a, "N1"), feeder=feeder
            )
            for a in account_ids
        ],
        "transformers": [TransformerScope(node_id="N1", name="幸福小区1号台区", customers=6)],
        "feeders": [FeederScope(source_node=feeder, name="城东变 10kV 东12线", customers=6)],
    }


def traced(
    outage_id: str,
    account_ids: list[str],
    *,
    trace_version: int = 1,
    warnings: list[TraceWarning] | None = None,
    feeder: str = "S1",
    details: OutageDetails = DETAILS,
) -> OutageTraced:
    return OutageTraced(
        outage_id=outage_id,
        details=details,
        model_version=1,
        trace_version=trace_version,
        warnings=warnings or [],
        **_scope(account_ids, feeder),
    )


def retraced(
    outage_id: str,
    account_ids: list[str],
    *,
    trace_version: int,
    added: Sequence[str] = (),
    removed: Sequence[str] = (),
    reason: str = "变更批次 B7",
) -> OutageRetraced:
    return OutageRetraced(
        outage_id=outage_id,
        details=DETAILS,
        model_version=2,
        trace_version=trace_version,
        changes=[AccountChange(account_id=a, change="added") for a in added]
        + [AccountChange(account_id=a, change="removed") for a in removed],
        reason=reason,
        **_scope(account_ids, "S1"),
    )


def csv_files(**files: str) -> dict[str, tuple[str, bytes, str]]:
    return {name: (f"{name}.csv", text.encode(), "text/csv") for name, text in files.items()}


@dataclass
class Contacts:
    app: FastAPI
    bus: MemoryBus

    @property
    def runtime(self) -> ServiceRuntime:
        runtime: ServiceRuntime = self.app.state.runtime
        return runtime

    def client(self, sub: str, *roles: Role) -> httpx.AsyncClient:
        token = mint_token(self.app.state.token_config, sub, list(roles))
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app),
            base_url="http://contacts",
            headers={"Authorization": f"Bearer {token}"},
        )

    async def request(
        self, sub: str, roles: tuple[Role, ...], method: str, url: str, **kwargs: Any
    ) -> httpx.Response:
        async with self.client(sub, *roles) as client:
            return await client.request(method, url, **kwargs)

    async def import_registry(
        self, *, invalid_phones: str = "flag", **files: str
    ) -> httpx.Response:
        return await self.request(
            "admin-zhou",
            (Role.ADMIN,),
            "POST",
            "/v1/import",
            params={"invalid_phones": invalid_phones},
            files=csv_files(**files),
        )

    async def deliver(self, event: Event) -> Message:
        """Publish an event as its producer would, and wait until it is handled."""
        message = Message(
            topic=event.type,
            key=event.subject(),
            value=encode(Envelope.wrap(event, "topology")),
        )
        await self.redeliver(message)
        return message

    async def redeliver(self, message: Message) -> None:
        await self.bus.publish([message])
        await self.bus.drain()

    async def published(self, topic: str) -> list[Event]:
        """What the service emitted on ``topic``, once its outbox is relayed."""
        await self.runtime.relay.publish_pending()
        return [decode(message.value)[1] for message in self.bus.log[topic]]

    async def approvals(self) -> list[ListApproved]:
        events = await self.published("list.approved")
        assert all(isinstance(e, ListApproved) for e in events)
        return events  # type: ignore[return-value]

    async def ok(
        self, sub: str, roles: tuple[Role, ...], method: str, url: str, **kwargs: Any
    ) -> Any:
        """The JSON answer of a request that must succeed."""
        response = await self.request(sub, roles, method, url, **kwargs)
        assert response.is_success, f"{method} {url}: {response.status_code} {response.text}"
        return response.json() if response.content else None


def who_gets(event: ListApproved) -> set[tuple[int, str, str, tuple[str, ...]]]:
    """(wave, channel, address, accounts) of every approved recipient."""
    return {(r.wave, r.channel, r.address, tuple(r.account_ids)) for r in event.recipients}
