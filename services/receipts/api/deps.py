"""Dependencies of the receipts routes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request

from services.receipts.config import ReceiptsSettings
from shared.uow import UnitOfWork


async def open_uow(request: Request) -> AsyncIterator[UnitOfWork]:
    """A unit of work for the request; the route commits it, otherwise it rolls back."""
    async with request.app.state.runtime.uow() as uow:
        yield uow


def get_settings(request: Request) -> ReceiptsSettings:
    settings: ReceiptsSettings = request.app.state.settings
    return settings


Uow = Annotated[UnitOfWork, Depends(open_uow)]
Settings = Annotated[ReceiptsSettings, Depends(get_settings)]
