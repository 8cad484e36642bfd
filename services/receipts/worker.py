"""The escalation worker: the background loop that closes the loop before the deadline.

Each round, on the service's clock, it

1. folds new final delivery states into each number's health and reports numbers that keep
   failing (``contact.undeliverable``),
2. announces acknowledgements whose notice has become known (``notice.acknowledged``),
3. evaluates every outage whose escalation check is due, in its own transaction: accounts
   past their escalation point move to their next channel (``escalation.requested``) or onto
   the worklist, and the outage is scheduled for its next escalation point.

Everything it reads and writes is in the database, so a restarted worker carries on where
the last one stopped, and everything it does is keyed so that doing it twice changes nothing;
replicas may run side by side (a due outage is locked by the one evaluating it).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime

from services.receipts import usecases
from services.receipts.adapters.repository import ReceiptsRepository
from services.receipts.clock import Clock
from services.receipts.config import ReceiptsSettings
from shared.uow import UnitOfWorkFactory

log = logging.getLogger(__name__)

FEEDBACK_BATCH = 1000


@dataclass(frozen=True)
class Round:
    """What one round did."""

    numbers_fed_back: int
    acknowledgements_announced: int
    outages_checked: int
    escalations: int


class EscalationWorker:
    def __init__(
        self, uow_factory: UnitOfWorkFactory, settings: ReceiptsSettings, clock: Clock
    ) -> None:
        self._uow = uow_factory
        self._settings = settings
        self._policy = settings.escalation_policy()
        self._clock = clock

    async def run(self) -> None:
        """Run a round every ``escalation_interval_s`` until cancelled.

        The first round comes one interval after start-up: the service's consumers catch up on
        what happened while it was down before anything is judged overdue.
        """
        while True:
            await asyncio.sleep(self._settings.escalation_interval_s)
            await self.run_once()

    async def run_once(self, now: datetime | None = None) -> Round:
        """One round at ``now`` (default: the service's clock)."""
        now = now or self._clock()
        fed = announced = checked = escalations = 0
        while True:
            async with self._uow() as uow:
                batch = await usecases.feed_back_numbers(
                    uow, threshold=self._settings.undeliverable_after, limit=FEEDBACK_BATCH
                )
                await uow.commit()
            fed += batch
            if batch < FEEDBACK_BATCH:
                break
        async with self._uow() as uow:
            announced = await usecases.announce_acknowledgements(uow, limit=FEEDBACK_BATCH)
            await uow.commit()
        seen: set[str] = set()
        while True:
            async with self._uow() as uow:
                due = await ReceiptsRepository(uow.session).due_outages(
                    now, self._settings.escalation_batch
                )
            # An outage another replica holds stays due; it is not tried again this round.
            due = [outage_id for outage_id in due if outage_id not in seen]
            if not due:
                break
            for outage_id in due:
                seen.add(outage_id)
                async with self._uow() as uow:
                    escalations += await usecases.escalate_outage(outage_id, self._policy, now, uow)
                    await uow.commit()
                checked += 1
        if fed or announced or escalations:
            log.info(
                "escalation round: %d outcomes fed back, %d acknowledgements announced, "
                "%d outages checked, %d escalations",
                fed,
                announced,
                checked,
                escalations,
            )
        return Round(fed, announced, checked, escalations)
