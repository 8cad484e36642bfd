"""Dependencies of the reconciliation routes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request

from services.reconciliation.config import ReconciliationSettings
from services.reconciliation.usecases import NetworkSource
from shared.auth import Principal, Role, require
from shared.uow import UnitOfWork


async def open_uow(request: Request) -> AsyncIterator[UnitOfWork]:
    """A unit of work for the request; the route commits it, otherwise it rolls back."""
    async with request.app.state.runtime.uow() as uow:
        yield uow


def get_settings(request: Request) -> ReconciliationSettings:
    settings: ReconciliationSettings = request.app.state.settings
    return settings


def get_now(request: Request) -> datetime:
    """The service's clock (settable in demos and tests, like the worker's)."""
    now: datetime = request.app.state.clock()
    return now


def get_network(request: Request) -> NetworkSource:
    network: NetworkSource = request.app.state.network
    return network


Uow = Annotated[UnitOfWork, Depends(open_uow)]
Settings = Annotated[ReconciliationSettings, Depends(get_settings)]
Now = Annotated[datetime, Depends(get_now)]
Network = Annotated[NetworkSource, Depends(get_network)]
Metering = Annotated[Principal, Depends(require(Role.SYSTEM))]
Reader = Annotated[
    Principal, Depends(require(Role.DISPATCHER, Role.REVIEWER, Role.PLANNER, Role.SYSTEM))
]
Dispatcher = Annotated[Principal, Depends(require(Role.DISPATCHER, Role.SYSTEM))]
