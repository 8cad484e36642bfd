"""Dependencies of the topology routes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request

from services.topology.adapters.network_cache import NetworkCache
from services.topology.config import TopologySettings
from shared.auth import Principal, Role, require
from shared.uow import UnitOfWork


async def open_uow(request: Request) -> AsyncIterator[UnitOfWork]:
    """A unit of work for the request; the route commits it, otherwise it rolls back."""
    async with request.app.state.runtime.uow() as uow:
        yield uow


def get_settings(request: Request) -> TopologySettings:
    settings: TopologySettings = request.app.state.settings
    return settings


def get_network(request: Request) -> NetworkCache:
    network: NetworkCache = request.app.state.network
    return network


Uow = Annotated[UnitOfWork, Depends(open_uow)]
Settings = Annotated[TopologySettings, Depends(get_settings)]
Network = Annotated[NetworkCache, Depends(get_network)]
Admin = Annotated[Principal, Depends(require(Role.ADMIN))]
Planner = Annotated[Principal, Depends(require(Role.PLANNER))]
PlannerOrReviewer = Annotated[Principal, Depends(require(Role.PLANNER, Role.REVIEWER))]
PlannerOrDispatcher = Annotated[Principal, Depends(require(Role.PLANNER, Role.DISPATCHER))]
# Who ends an outage: the planner, the dispatcher who restores supply, or the field crew.
Completer = Annotated[Principal, Depends(require(Role.PLANNER, Role.DISPATCHER, Role.FIELD))]
# Who changes the model: field staff after a patrol or spot check, or a system integration
# (the marketing process) acting for new connections, closures and moves.
ModelEditor = Annotated[Principal, Depends(require(Role.FIELD, Role.SYSTEM))]
FieldStaff = Annotated[Principal, Depends(require(Role.FIELD))]
