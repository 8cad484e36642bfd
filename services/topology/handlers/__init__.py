"""Event consumers of the topology service: it traces the outages it has just planned."""

from __future__ import annotations

from services.topology import usecases
from services.topology.adapters.network_cache import NetworkCache
from shared.events import Envelope, OutagePlanned
from shared.uow import UnitOfWork


class OnOutagePlanned:
    """Traces each planned outage on the current network model (consumer group ``tracer``).

    The trace follows the plan through the bus rather than inside its request, so a trace that
    fails is retried, then dead-lettered, while the plan itself stays registered.
    """

    def __init__(self, network: NetworkCache) -> None:
        self.network = network

    async def __call__(self, event: OutagePlanned, _envelope: Envelope, uow: UnitOfWork) -> None:
        await usecases.trace_planned_outage(event.outage_id, uow, self.network)
