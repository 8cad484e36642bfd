"""Consumers of the outage events: a trace drafts the notification list, a cancellation ends it."""

from __future__ import annotations

from services.contacts import usecases
from services.contacts.domain.listing import ListingPolicy
from shared.events import Envelope, OutageCancelled, OutageTraced
from shared.uow import UnitOfWork


class ListHandlers:
    """Handlers of the ``lists`` consumer group; ``policy`` says who must be called."""

    def __init__(self, policy: ListingPolicy) -> None:
        self.policy = policy

    async def on_outage_traced(
        self, event: OutageTraced, _envelope: Envelope, uow: UnitOfWork
    ) -> None:
        await usecases.draft_list_for_trace(uow, event, self.policy)

    async def on_outage_cancelled(
        self, event: OutageCancelled, _envelope: Envelope, uow: UnitOfWork
    ) -> None:
        await usecases.cancel_outage_lists(uow, event)
