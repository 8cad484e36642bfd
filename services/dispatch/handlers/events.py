"""Event handlers: each runs in the consumer's transaction and calls one use case."""

from __future__ import annotations

from collections.abc import Callable

from services.dispatch import usecases
from services.dispatch.adapters.commit_hooks import call_after_commit
from shared.events import Envelope, ListApproved, OutageCancelled, SmsDelivered
from shared.timeutil import utcnow
from shared.uow import UnitOfWork


class DispatchHandlers:
    def __init__(self, composer: usecases.Composer, wake_sender: Callable[[], None]) -> None:
        self._composer = composer
        self._wake_sender = wake_sender

    async def on_list_approved(
        self, event: ListApproved, _envelope: Envelope, uow: UnitOfWork
    ) -> None:
        queued = await usecases.queue_approved_list(uow, event, self._composer, now=utcnow())
        if queued:
            call_after_commit(uow.session, self._wake_sender)

    async def on_outage_cancelled(
        self, event: OutageCancelled, _envelope: Envelope, uow: UnitOfWork
    ) -> None:
        result = await usecases.cancel_outage(uow, event, self._composer, now=utcnow())
        if result.cancellations_queued:
            call_after_commit(uow.session, self._wake_sender)

    async def on_sms_delivered(
        self, event: SmsDelivered, _envelope: Envelope, uow: UnitOfWork
    ) -> None:
        await usecases.record_delivery_report(uow, event, self._composer, now=utcnow())
