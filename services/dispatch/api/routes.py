"""Routes of the dispatch API: what was sent to whom, and what became of it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from services.dispatch import usecases
from services.dispatch.api.schemas import MessageRead, OutageMessagesRead
from services.dispatch.domain.messages import MessageStatus, NoticeKind
from shared.auth import Principal, Role, require
from shared.runtime import ServiceRuntime
from shared.uow import UnitOfWork

router = APIRouter(prefix="/v1", tags=["messages"])

Reader = Annotated[Principal, Depends(require(Role.DISPATCHER, Role.REVIEWER, Role.PLANNER))]


async def _uow(request: Request) -> AsyncIterator[UnitOfWork]:
    runtime: ServiceRuntime = request.app.state.runtime
    async with runtime.uow() as uow:
        yield uow


Uow = Annotated[UnitOfWork, Depends(_uow)]

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No valid bearer token."},
    403: {"description": "The token has none of the roles dispatcher, reviewer, planner."},
}


def _sees_addresses(principal: Principal) -> bool:
    # Phone numbers are personal information (PIPL): only those who send notices see them.
    return principal.has(Role.DISPATCHER)


@router.get(
    "/outages/{outage_id}/messages",
    response_model=OutageMessagesRead,
    responses={**ERRORS, 404: {"description": "Dispatch knows no such outage."}},
)
async def list_outage_messages(
    outage_id: str,
    principal: Reader,
    uow: Uow,
    status: Annotated[
        MessageStatus | None, Query(description="Only messages in this state.")
    ] = None,
    notice_kind: Annotated[NoticeKind | None, Query(description="notice or cancellation.")] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> OutageMessagesRead:
    """The notices and cancellations of an outage, with counts by status and delivery.

    Counts cover every message of the outage; the list is one page of those matching the
    filters. Addresses are masked (138****8000) except for dispatchers and admins.
    Roles: dispatcher, reviewer, planner. 404 if no list of this outage was approved or
    cancelled here.
    """
    view = await usecases.outage_messages(
        uow, outage_id, status=status, notice_kind=notice_kind, limit=limit, offset=offset
    )
    return OutageMessagesRead.from_domain(
        view, reveal_address=_sees_addresses(principal), limit=limit, offset=offset
    )


@router.get(
    "/messages/{message_id}",
    response_model=MessageRead,
    responses={**ERRORS, 404: {"description": "No such message."}},
)
async def read_message(message_id: str, principal: Reader, uow: Uow) -> MessageRead:
    """One message: its text, state, attempts, provider id and the carrier's delivery report.

    The address is masked except for dispatchers and admins. Roles: dispatcher, reviewer,
    planner.
    """
    message = await usecases.get_message(uow, message_id)
    return MessageRead.from_domain(message, reveal_address=_sees_addresses(principal))
