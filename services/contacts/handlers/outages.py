"""Consumers of the outage events: a trace drafts the notification list, a re-trace drafts a
new version, new times update a draft, a cancellation ends the lists."""

from __future__ import annotations

from services.contacts.usecases import Rules, lists
from shared.events import (
    Envelope,
    OutageCancelled,
    OutageRescheduled,
    OutageRetraced,
    OutageTraced,
)
from shared.uow import UnitOfWork


class ListHandlers:
    """Handlers of the ``lists`` consumer group."""

    def __init__(self, rules: Rules) -> None:
        self.rules = rules

    async def on_outage_traced(
        self, event: OutageTraced, _envelope: Envelope, uow: UnitOfWork
    ) -> None:
        await lists.draft_list_for_trace(uow, event, self.rules)

    async def on_outage_retraced(
        self, event: OutageRetraced, _envelope: Envelope, uow: UnitOfWork
    ) -> None:
        await lists.draft_list_for_trace(uow, event, self.rules)

    async def on_outage_rescheduled(
        self, event: OutageRescheduled, _envelope: Envelope, uow: UnitOfWork
    ) -> None:
        await lists.reschedule_outage_lists(uow, event)

    async def on_outage_cancelled(
        self, event: OutageCancelled, _envelope: Envelope, uow: UnitOfWork
    ) -> None:
        await lists.cancel_outage_lists(uow, event)
