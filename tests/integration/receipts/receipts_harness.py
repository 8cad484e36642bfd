"""Builders of events, reports, replies and call results, and a handle on a running receipts app."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select

from services.receipts.adapters.db import receipts
from services.receipts.clock import ManualClock
from services.receipts.worker import Round
from shared.auth import Role, mint_token
from shared.bus import Message
from shared.bus.memory import MemoryBus
from shared.events import (
    AffectedAccount,
    Envelope,
    Event,
    FeederScope,
    ListApproved,
    NoticeFailed,
    NoticeSent,
    Operation,
    OutageDetails,
    OutagePlanned,
    OutageTraced,
    Recipient,
    SmsDelivered,
    decode,
    encode,
)
from shared.signing import SIGNATURE_HEADER, sign

SECRET = "dev-carrier-secret"
SENT_AT = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
STARTS_AT = datetime(2026, 5, 3, 0, 0, tzinfo=UTC)
DETAILS = OutageDetails(
    kind="planned",
    starts_at=STARTS_AT,
    ends_at=datetime(2026, 5, 3, 8, 0, tzinfo=UTC),
    work="线路检修",
    area="东12线沿线",
    planned_by="planner-1",
)


def report(
    message_id: str,
    stat: str = "DELIVRD",
    *,
    err: str = "000",
    done_at: str = "2026-05-01T08:01:00+00:00",
    phone: str = "+8613800138001",
) -> dict[str, Any]:
    """A delivery report as the carrier simulator pushes it."""
    return {
        "provider_message_id": f"p-{message_id}",
        "message_id": message_id,
        "phone": phone,
        "stat": stat,
        "err": err,
        "submitted_at": "2026-05-01T08:00:00+00:00",
        "done_at": done_at,
    }


def notice_sent(
    message_id: str,
    account_ids: list[str],
    *,
    outage_id: str = "O-1",
    kind: str = "notice",
    list_version: int = 1,
    channel: str = "sms",
    address: str = "+8613800138001",
    sent_at: datetime = SENT_AT,
) -> NoticeSent:
    return NoticeSent(
        outage_id=outage_id,
        message_id=message_id,
        provider_message_id=f"p-{message_id}",
        notice_kind=kind,
        list_version=list_version,
        channel=channel,  # type: ignore[arg-type]  # tests pass channel names
        address=address,
        account_ids=account_ids,
        sent_at=sent_at,
    )


def notice_failed(
    message_id: str,
    account_ids: list[str],
    *,
    outage_id: str = "O-1",
    kind: str = "notice",
    address: str = "+8613800130000",
    reason: str = "INVALID_NUMBER",
) -> NoticeFailed:
    return NoticeFailed(
        outage_id=outage_id,
        message_id=message_id,
        notice_kind=kind,
        list_version=1,
        channel="sms",
        address=address,
        account_ids=account_ids,
        reason=reason,
        failed_at=SENT_AT,
    )


def recipient(
    channel: str,
    address: str,
    accounts: list[str],
    *,
    role: str = "electrical",
    wave: int = 0,
    name: str = "",
) -> Recipient:
    return Recipient(
        channel=channel,  # type: ignore[arg-type]  # tests pass channel names
        address=address,
        contact_name=name,
        account_ids=accounts,
        account_names=[f"户{a}" for a in accounts],
        role=role,
        wave=wave,
    )


def list_approved(
    recipients: list[list[str]] | None = None,
    *,
    outage_id: str = "O-1",
    version: int = 1,
    account_count: int | None = None,
    entries: list[Recipient] | None = None,
    account_ids: list[str] | None = None,
    details: OutageDetails = DETAILS,
) -> ListApproved:
    """A list whose SMS recipient ``i`` serves the accounts ``recipients[i]``, or ``entries``."""
    if entries is None:
        entries = [
            recipient("sms", f"+86138001380{i:02d}", accounts)
            for i, accounts in enumerate(recipients or [])
        ]
    named = {account for entry in entries for account in entry.account_ids}
    every = sorted(named | set(account_ids or []))
    return ListApproved(
        outage_id=outage_id,
        version=version,
        details=details,
        approved_by="reviewer-1",
        approved_at=SENT_AT - timedelta(minutes=5),
        account_count=len(every) if account_count is None else account_count,
        account_ids=every,
        recipients=entries,
        recipients_sha256="0" * 64,
    )


@dataclass
class TopologyFake:
    """Answers what-if traces as a test says: the accounts cut off, or an outage of its own."""

    affected: set[str] | None = None
    calls: list[dict[str, Any]] | None = None

    def transport(self) -> httpx.MockTransport:
        def handle(request: httpx.Request) -> httpx.Response:
            assert request.url.path == "/v1/trace"
            assert request.headers["Authorization"].startswith("Bearer ")
            (self.calls if self.calls is not None else []).append(json.loads(request.content))
            if self.affected is None:
                return httpx.Response(503, json={"error": "unavailable"})
            accounts = [
                {"account_id": a, "isolating_device": "S1", "node_id": "N", "feeder": "F"}
                for a in sorted(self.affected)
            ]
            return httpx.Response(200, json={"affected_accounts": accounts})

        return httpx.MockTransport(handle)


@dataclass
class Receipts:
    """The running receipts app and what a test does to it."""

    app: FastAPI
    client: httpx.AsyncClient
    bus: MemoryBus
    token: str
    clock: ManualClock
    topology: TopologyFake

    def bearer(self, *roles: Role, sub: str = "tester") -> dict[str, str]:
        token = mint_token(self.app.state.token_config, sub, list(roles))
        return {"Authorization": f"Bearer {token}"}

    async def publish(self, *events: Event) -> None:
        """Deliver events as if another service's outbox had published them."""
        await self.bus.publish(
            [
                Message(
                    topic=event.type,
                    key=event.subject(),
                    value=encode(Envelope.wrap(event, "dispatch")),
                )
                for event in events
            ]
        )
        await self.bus.drain()

    async def post_signed(self, path: str, payload: dict[str, Any]) -> httpx.Response:
        body = json.dumps(payload, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(SECRET, body)}
        return await self.client.post(path, content=body, headers=headers)

    async def post_reports(
        self,
        reports: list[dict[str, Any]],
        *,
        secret: str = SECRET,
        signed_at: int | None = None,
    ) -> httpx.Response:
        body = json.dumps({"reports": reports}).encode()
        return await self.post_raw(body, sign(secret, body, signed_at))

    async def post_raw(self, body: bytes, signature: str | None) -> httpx.Response:
        headers = {"Content-Type": "application/json"}
        if signature is not None:
            headers[SIGNATURE_HEADER] = signature
        return await self.client.post("/v1/webhooks/sms-status", content=body, headers=headers)

    async def post_replies(self, *replies: tuple[str, str, datetime]) -> httpx.Response:
        """Replies as ``(phone, text, received_at)``."""
        payload = {
            "replies": [
                {"phone": phone, "text": text, "received_at": at.isoformat()}
                for phone, text, at in replies
            ]
        }
        return await self.post_signed("/v1/webhooks/sms-reply", payload)

    async def post_calls(self, *calls: tuple[str, str, datetime]) -> httpx.Response:
        """Call results as ``(message_id, outcome, at)``."""
        payload = {
            "calls": [
                {"message_id": message_id, "outcome": outcome, "at": at.isoformat()}
                for message_id, outcome, at in calls
            ]
        }
        return await self.post_signed("/v1/webhooks/voice-status", payload)

    async def get(self, path: str, **params: Any) -> dict[str, Any]:
        response = await self.client.get(
            path, params=params, headers={"Authorization": f"Bearer {self.token}"}
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def coverage(self, outage_id: str = "O-1") -> dict[str, Any]:
        return await self.get(f"/v1/outages/{outage_id}/coverage")

    async def escalate(self, at: datetime | None = None) -> Round:
        """One round of the escalation worker, at ``at`` (the clock is moved there)."""
        if at is not None:
            self.clock.set(at)
        result: Round = await self.app.state.escalation.run_once()
        return result

    async def events(self, topic: str) -> list[Any]:
        """Every event of ``topic`` the service has published, once its outbox is relayed."""
        while await self.app.state.runtime.relay.publish_pending():
            pass
        return [decode(message.value)[1] for message in self.bus.log[topic]]

    async def emitted(self) -> list[SmsDelivered]:
        """Every ``sms.delivered`` the service has published."""
        events = await self.events("sms.delivered")
        assert all(isinstance(event, SmsDelivered) for event in events)
        return events

    async def stored_receipts(self) -> int:
        async with self.app.state.runtime.db.session() as session:
            count = (await session.execute(select(func.count()).select_from(receipts))).scalar()
        return int(count or 0)


def outage_planned(outage_id: str = "O-1", *, details: OutageDetails = DETAILS) -> OutagePlanned:
    return OutagePlanned(
        outage_id=outage_id,
        details=details,
        operations=[Operation(device_id="S-7", action="open")],
    )


def outage_traced(
    feeders: dict[str, str], *, outage_id: str = "O-1", details: OutageDetails = DETAILS
) -> OutageTraced:
    """A trace that finds ``feeders``' accounts (account → feeder source node) affected."""
    return OutageTraced(
        outage_id=outage_id,
        details=details,
        model_version=3,
        affected_accounts=[
            AffectedAccount(account_id=a, isolating_device="S-7", node_id=f"N-{a}", feeder=f)
            for a, f in sorted(feeders.items())
        ],
        transformers=[],
        feeders=[
            FeederScope(source_node=f, name=f"{f}线", customers=1)
            for f in sorted(set(feeders.values()))
        ],
    )
