"""What the routes need besides the database: the composer, the PDF writer and the clock."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request

from services.dispatch.adapters.pdf import PdfWriter
from services.dispatch.domain.documents import Letterhead
from services.dispatch.usecases import Composer
from shared.auth import Principal, Role, require
from shared.runtime import ServiceRuntime
from shared.uow import UnitOfWork


@dataclass(frozen=True)
class DispatchContext:
    composer: Composer
    pdf: PdfWriter
    letterhead: Letterhead
    clock: Callable[[], datetime]


async def _uow(request: Request) -> AsyncIterator[UnitOfWork]:
    runtime: ServiceRuntime = request.app.state.runtime
    async with runtime.uow() as uow:
        yield uow


def _context(request: Request) -> DispatchContext:
    context: DispatchContext = request.app.state.dispatch
    return context


Uow = Annotated[UnitOfWork, Depends(_uow)]
Context = Annotated[DispatchContext, Depends(_context)]
Reader = Annotated[Principal, Depends(require(Role.DISPATCHER, Role.REVIEWER, Role.PLANNER))]
Dispatcher = Annotated[Principal, Depends(require(Role.DISPATCHER))]
# Door slips and posted notices name customers and their addresses: those who print and
# deliver them, and the dispatchers.
Printer = Annotated[Principal, Depends(require(Role.DISPATCHER, Role.FIELD))]


def sees_addresses(principal: Principal) -> bool:
    # Phone numbers are personal information (PIPL): only those who send notices see them.
    return principal.has(Role.DISPATCHER)
