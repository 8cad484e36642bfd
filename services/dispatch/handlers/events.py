"""Event handlers: each runs in the consumer's transaction and calls one use case."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from services.dispatch import usecases
from services.dispatch.adapters.commit_hooks import call_after_commit
from shared.events import (
    Envelope,
    EscalationRequested,
    ListApproved,
    OutageCancelled,
    OutageCompleted,
    OutageRescheduled,
    SmsDelivered,
)
from shared.uow import UnitOfWork


class DispatchHandlers:
    def __init__(
        self,
        composer: usecases.Composer,
        wake_sender: Callable[[], None],
        clock: Callable[[], datetime],
    ) -> None:
        self._composer = composer
        self._wake_sender = wake_sender
        self._clock = clock

    def _wake_after_commit(self, uow: UnitOfWork, queued: int) -> None:
        if queued:
            call_after_commit(uow.session, self._wake_sender)

    async def on_list_approved(
        self, event: ListApproved, _envelope: Envelope, uow: UnitOfWork
    ) -> None:
        queued = await usecases.queue_approved_list(uow, event, self._composer, now=self._clock())
        self._wake_after_commit(uow, queued)

    async def on_outage_cancelled(
        self, event: OutageCancelled, _envelope: Envelope, uow: UnitOfWork
    ) -> None:
        result = await usecases.cancel_outage(uow, event, self._composer, now=self._clock())
        self._wake_after_commit(uow, result.followups_queued)

    async def on_outage_rescheduled(
        self, event: OutageRescheduled, _envelope: Envelope, uow: UnitOfWork
    ) -> None:
        result = await usecases.reschedule_outage(uow, event, self._composer, now=self._clock())
        # Reworded notices are due too, not only the new-time messages.
        self._wake_after_commit(uow, result.followups_queued + result.messages_stopped)

    async def on_outage_completed(
        self, event: OutageCompleted, _envelope: Envelope, uow: UnitOfWork
    ) -> None:
        result = await usecases.complete_outage(uow, event, self._composer, now=self._clock())
        self._wake_after_commit(uow, result.followups_queued)

    async def on_escalation_requested(
        self, event: EscalationRequested, _envelope: Envelope, uow: UnitOfWork
    ) -> None:
        result = await usecases.escalate(uow, event, self._composer, now=self._clock())
        self._wake_after_commit(uow, int(result.queued))

    async def on_sms_delivered(
        self, event: SmsDelivered, _envelope: Envelope, uow: UnitOfWork
    ) -> None:
        await usecases.record_delivery_report(uow, event, self._composer, now=self._clock())
