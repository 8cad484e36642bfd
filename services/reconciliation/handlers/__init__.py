"""Event consumers of the reconciliation service: outage facts, meter events, model changes."""

from __future__ import annotations

from services.reconciliation import usecases
from services.reconciliation.config import ReconciliationSettings
from shared.events import (
    Envelope,
    ListApproved,
    ModelChanged,
    OutageCancelled,
    OutageCompleted,
    OutagePlanned,
    OutageRescheduled,
    OutageRetraced,
    OutageTraced,
)
from shared.events.catalog import MeterPowerLost, MeterPowerRestored
from shared.uow import UnitOfWork


class ReconciliationHandlers:
    """The handlers; they need the settings for the grace period and the meter windows."""

    def __init__(self, settings: ReconciliationSettings) -> None:
        self.settings = settings

    async def on_outage_planned(
        self, event: OutagePlanned, _envelope: Envelope, uow: UnitOfWork
    ) -> None:
        await usecases.record_outage_planned(event, uow, self.settings)

    async def on_outage_traced(
        self, event: OutageTraced | OutageRetraced, _envelope: Envelope, uow: UnitOfWork
    ) -> None:
        await usecases.record_outage_traced(event, uow, self.settings)

    async def on_list_approved(
        self, event: ListApproved, _envelope: Envelope, uow: UnitOfWork
    ) -> None:
        await usecases.record_list_approved(event, uow, self.settings)

    async def on_outage_rescheduled(
        self, event: OutageRescheduled, _envelope: Envelope, uow: UnitOfWork
    ) -> None:
        await usecases.record_outage_rescheduled(event, uow, self.settings)

    async def on_outage_completed(
        self, event: OutageCompleted, _envelope: Envelope, uow: UnitOfWork
    ) -> None:
        await usecases.record_outage_completed(event, uow, self.settings)

    async def on_outage_cancelled(
        self, event: OutageCancelled, _envelope: Envelope, uow: UnitOfWork
    ) -> None:
        await usecases.record_outage_cancelled(event, uow)

    async def on_model_changed(
        self, event: ModelChanged, _envelope: Envelope, uow: UnitOfWork
    ) -> None:
        await usecases.record_model_changed(event, uow)

    async def on_meter_event(
        self, event: MeterPowerLost | MeterPowerRestored, _envelope: Envelope, uow: UnitOfWork
    ) -> None:
        await usecases.ingest([usecases.meter_event_of(event)], uow, self.settings)
