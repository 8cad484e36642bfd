"""The reconciliation worker: reconciles outages whose window and grace period have passed.

Everything it needs is in the database (``due_at``), so a restarted worker carries on where the
last one stopped; a result is stored only if no other replica stored one for the same outage
meanwhile, so replicas may run side by side.
"""

from __future__ import annotations

import asyncio
import logging

from services.reconciliation import usecases
from services.reconciliation.clock import Clock
from services.reconciliation.config import ReconciliationSettings
from shared.uow import UnitOfWorkFactory

log = logging.getLogger(__name__)


class ReconciliationWorker:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        network: usecases.NetworkSource,
        settings: ReconciliationSettings,
        clock: Clock,
    ) -> None:
        self._uow = uow_factory
        self._network = network
        self._settings = settings
        self._clock = clock

    async def run(self) -> None:
        """A round every ``worker_interval_s`` until cancelled."""
        while True:
            await asyncio.sleep(self._settings.worker_interval_s)
            await self.run_once()

    async def run_once(self) -> list[usecases.Outcome]:
        outcomes = await usecases.reconcile_due(
            uow_factory=self._uow,
            network=self._network,
            settings=self._settings,
            now=self._clock(),
        )
        if outcomes:
            log.info("reconciled %d outages", len(outcomes))
        return outcomes
