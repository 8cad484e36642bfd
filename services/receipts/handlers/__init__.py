"""Event consumers of the receipts service: plans, traces, lists, notices, cancellations."""

from __future__ import annotations

from services.receipts import usecases
from services.receipts.domain.escalation import EscalationPolicy
from shared.events import (
    Envelope,
    ListApproved,
    NoticeFailed,
    NoticeSent,
    OutageCancelled,
    OutageCompleted,
    OutagePlanned,
    OutageRescheduled,
    OutageRetraced,
    OutageTraced,
)
from shared.uow import UnitOfWork


class ReceiptsHandlers:
    """The handlers; door slips need the escalation policy for their due time."""

    def __init__(self, policy: EscalationPolicy) -> None:
        self.policy = policy

    async def on_notice_sent(self, event: NoticeSent, _envelope: Envelope, uow: UnitOfWork) -> None:
        await usecases.record_notice_sent(event, uow, self.policy)

    async def on_notice_failed(
        self, event: NoticeFailed, _envelope: Envelope, uow: UnitOfWork
    ) -> None:
        await usecases.record_notice_failed(event, uow)

    async def on_list_approved(
        self, event: ListApproved, _envelope: Envelope, uow: UnitOfWork
    ) -> None:
        await usecases.record_list_approved(event, uow)

    async def on_outage_cancelled(
        self, event: OutageCancelled, _envelope: Envelope, uow: UnitOfWork
    ) -> None:
        await usecases.record_outage_cancelled(event, uow)

    async def on_outage_planned(
        self, event: OutagePlanned, _envelope: Envelope, uow: UnitOfWork
    ) -> None:
        await usecases.record_outage_planned(event, uow)

    async def on_outage_traced(
        self, event: OutageTraced | OutageRetraced, _envelope: Envelope, uow: UnitOfWork
    ) -> None:
        await usecases.record_outage_traced(event, uow)

    async def on_outage_rescheduled(
        self, event: OutageRescheduled, _envelope: Envelope, uow: UnitOfWork
    ) -> None:
        await usecases.record_outage_rescheduled(event, uow)

    async def on_outage_completed(
        self, event: OutageCompleted, _envelope: Envelope, uow: UnitOfWork
    ) -> None:
        await usecases.record_outage_completed(event, uow)
