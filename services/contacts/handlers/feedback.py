"""Consumers of delivery and complaint feedback: the registry learns which contacts fail."""

from __future__ import annotations

from services.contacts.usecases import Rules, maintenance
from shared.events import ComplaintClassified, ContactUndeliverable, Envelope
from shared.uow import UnitOfWork


class FeedbackHandlers:
    """Handlers of the ``registry`` consumer group."""

    def __init__(self, rules: Rules) -> None:
        self.rules = rules

    async def on_contact_undeliverable(
        self, event: ContactUndeliverable, _envelope: Envelope, uow: UnitOfWork
    ) -> None:
        await maintenance.record_undeliverable(uow, event, self.rules)

    async def on_complaint_classified(
        self, event: ComplaintClassified, _envelope: Envelope, uow: UnitOfWork
    ) -> None:
        await maintenance.record_complaint(uow, event)
