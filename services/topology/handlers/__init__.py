"""Event consumers of the topology service: it traces the outages it has just planned, traces
again those awaiting notice when the model changes, and opens discrepancies from complaints."""

from __future__ import annotations

from services.topology.adapters.network_cache import NetworkCache
from services.topology.domain.checks import CheckPolicy
from services.topology.usecases import discrepancies, outages
from shared.events import ComplaintClassified, Envelope, ModelChanged, OutagePlanned
from shared.uow import UnitOfWork


class TraceHandlers:
    """Handlers of the ``tracer`` consumer group.

    The trace follows the plan through the bus rather than inside its request, so a trace that
    fails is retried, then dead-lettered, while the plan itself stays registered. The retrace
    follows ``model.changed`` the same way, after the change batch has committed.
    """

    def __init__(self, network: NetworkCache, policy: CheckPolicy) -> None:
        self.network = network
        self.policy = policy

    async def on_outage_planned(
        self, event: OutagePlanned, _envelope: Envelope, uow: UnitOfWork
    ) -> None:
        await outages.trace_planned_outage(event.outage_id, uow, self.network, self.policy)

    async def on_model_changed(
        self, event: ModelChanged, _envelope: Envelope, uow: UnitOfWork
    ) -> None:
        await outages.retrace_outages(event, uow, self.network, self.policy)


class ComplaintHandlers:
    """Handler of the ``discrepancies`` consumer group: a complaint classified as a model or
    trace fault becomes a discrepancy on the complaining account."""

    def __init__(self, timezone: str) -> None:
        self.timezone = timezone

    async def on_complaint_classified(
        self, event: ComplaintClassified, _envelope: Envelope, uow: UnitOfWork
    ) -> None:
        await discrepancies.open_complaint_discrepancy(event, uow, self.timezone)
