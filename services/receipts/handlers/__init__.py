"""Event consumers of the receipts service: what dispatch sent, lists, cancellations."""

from __future__ import annotations

from services.receipts import usecases
from shared.events import Envelope, ListApproved, NoticeFailed, NoticeSent, OutageCancelled
from shared.uow import UnitOfWork


async def on_notice_sent(event: NoticeSent, _envelope: Envelope, uow: UnitOfWork) -> None:
    await usecases.record_notice_sent(event, uow)


async def on_notice_failed(event: NoticeFailed, _envelope: Envelope, uow: UnitOfWork) -> None:
    await usecases.record_notice_failed(event, uow)


async def on_list_approved(event: ListApproved, _envelope: Envelope, uow: UnitOfWork) -> None:
    await usecases.record_list_approved(event, uow)


async def on_outage_cancelled(event: OutageCancelled, _envelope: Envelope, uow: UnitOfWork) -> None:
    await usecases.record_outage_cancelled(event, uow)
