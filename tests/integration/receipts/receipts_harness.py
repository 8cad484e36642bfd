"""Builders of events and carrier reports, and a handle on a running receipts app."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select

from services.receipts.adapters.db import receipts
from shared.bus import Message
from shared.bus.memory import MemoryBus
from shared.events import (
    Envelope,
    Event,
    ListApproved,
    NoticeFailed,
    NoticeSent,
    OutageDetails,
    Recipient,
    SmsDelivered,
    decode,
    encode,
)
from shared.signing import SIGNATURE_HEADER, sign

SECRET = "dev-carrier-secret"
SENT_AT = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
DETAILS = OutageDetails(
    kind="planned",
    starts_at=datetime(2026, 5, 3, 0, 0, tzinfo=UTC),
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
) -> NoticeSent:
    return NoticeSent(
        outage_id=outage_id,
        message_id=message_id,
        provider_message_id=f"p-{message_id}",
        notice_kind=kind,
        list_version=list_version,
        channel="sms",
        address="+8613800138001",
        account_ids=account_ids,
        sent_at=SENT_AT,
    )


def notice_failed(
    message_id: str, account_ids: list[str], *, outage_id: str = "O-1", kind: str = "notice"
) -> NoticeFailed:
    return NoticeFailed(
        outage_id=outage_id,
        message_id=message_id,
        notice_kind=kind,
        list_version=1,
        channel="sms",
        address="+8613800130000",
        account_ids=account_ids,
        reason="INVALID_NUMBER",
        failed_at=SENT_AT,
    )


def list_approved(
    recipients: list[list[str]],
    *,
    outage_id: str = "O-1",
    version: int = 1,
    account_count: int | None = None,
) -> ListApproved:
    """A list whose recipient ``i`` serves the accounts ``recipients[i]``."""
    named = {account for accounts in recipients for account in accounts}
    return ListApproved(
        outage_id=outage_id,
        version=version,
        details=DETAILS,
        approved_by="reviewer-1",
        approved_at=SENT_AT,
        account_count=len(named) if account_count is None else account_count,
        recipients=[
            Recipient(
                channel="sms",
                address=f"+86138001380{i:02d}",
                account_ids=accounts,
                account_names=[f"户{a}" for a in accounts],
            )
            for i, accounts in enumerate(recipients)
        ],
        recipients_sha256="0" * 64,
    )


@dataclass
class Receipts:
    """The running receipts app and what a test does to it."""

    app: FastAPI
    client: httpx.AsyncClient
    bus: MemoryBus
    token: str

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

    async def coverage(self, outage_id: str = "O-1") -> dict[str, Any]:
        response = await self.client.get(
            f"/v1/outages/{outage_id}/coverage", headers={"Authorization": f"Bearer {self.token}"}
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def emitted(self) -> list[SmsDelivered]:
        """Every ``sms.delivered`` the service has published, once its outbox is relayed."""
        while await self.app.state.runtime.relay.publish_pending():
            pass
        events = [decode(message.value)[1] for message in self.bus.log["sms.delivered"]]
        assert all(isinstance(event, SmsDelivered) for event in events)
        return events  # type: ignore[return-value]  # checked just above

    async def stored_receipts(self) -> int:
        async with self.app.state.runtime.db.session() as session:
            count = (await session.execute(select(func.count()).select_from(receipts))).scalar()
        return int(count or 0)
