"""Dependencies of the receipts routes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request

from services.receipts.config import ReceiptsSettings
from services.receipts.domain.escalation import EscalationPolicy
from shared.auth import Principal, Role, require
from shared.uow import UnitOfWork


async def open_uow(request: Request) -> AsyncIterator[UnitOfWork]:
    """A unit of work for the request; the route commits it, otherwise it rolls back."""
    async with request.app.state.runtime.uow() as uow:
        yield uow


def get_settings(request: Request) -> ReceiptsSettings:
    settings: ReceiptsSettings = request.app.state.settings
    return settings


def get_policy(request: Request) -> EscalationPolicy:
    policy: EscalationPolicy = request.app.state.escalation_policy
    return policy


def get_now(request: Request) -> datetime:
    """The service's clock (settable in demos and tests, like the escalation worker's)."""
    now: datetime = request.app.state.clock()
    return now


Uow = Annotated[UnitOfWork, Depends(open_uow)]
Settings = Annotated[ReceiptsSettings, Depends(get_settings)]
Policy = Annotated[EscalationPolicy, Depends(get_policy)]
Now = Annotated[datetime, Depends(get_now)]
FieldStaff = Annotated[Principal, Depends(require(Role.FIELD))]
FieldOrDispatcher = Annotated[Principal, Depends(require(Role.FIELD, Role.DISPATCHER))]
Dispatcher = Annotated[Principal, Depends(require(Role.DISPATCHER))]
ComplaintDesk = Annotated[Principal, Depends(require(Role.DISPATCHER, Role.SYSTEM))]
