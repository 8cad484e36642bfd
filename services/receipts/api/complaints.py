"""Routes of the customer's side: complaints traced to their cause, and replies kept."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from services.receipts import usecases
from services.receipts.api.deps import ComplaintDesk, Dispatcher, Now, Settings, Uow
from services.receipts.api.schemas import ComplaintCreate, ComplaintRead, ReplyRead
from services.receipts.domain.complaints import Cause
from services.receipts.domain.replies import ReplyIntent
from services.receipts.domain.reports import assume_timezone
from shared.auth import CurrentPrincipal
from shared.web import ErrorBody

router = APIRouter(prefix="/v1")

_AUTH: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "No or invalid bearer token."},
    403: {"model": ErrorBody, "description": "The role does not allow it."},
}


@router.post(
    "/complaints",
    tags=["complaints"],
    status_code=201,
    responses={
        **_AUTH,
        200: {"model": ComplaintRead, "description": "This work order was filed before."},
        404: {"model": ErrorBody, "description": "Nothing about the outage reached receipts."},
    },
)
async def file_complaint(
    body: ComplaintCreate,
    request: Request,
    response: Response,
    principal: ComplaintDesk,
    settings: Settings,
    now: Now,
) -> ComplaintRead:
    """File a customer-service work order about a notice and classify it (dispatcher or system).

    ``type``: ``not_notified``, ``no_outage`` (told, but the power stayed on), ``wrong_time`` or
    ``other``. The record decides the cause: the account missing from the reviewed list
    (``model_or_trace``, refined by a what-if trace on today's model), no usable contact or only
    dead numbers (``contact``), nothing confirmed delivered (``delivery``), or delivered
    (``customer_side``). ``complaint.classified`` tells the owning service, which opens a
    discrepancy or maintenance item. Filing the same work order again returns it unchanged.
    """
    filing = usecases.ComplaintFiling(
        work_order_id=body.work_order_id,
        outage_id=body.outage_id,
        account_id=body.account_id,
        complaint_type=body.type,
        received_at=assume_timezone(body.received_at, settings.timezone),
        text=body.text,
    )
    row, created = await usecases.file_complaint(
        filing, principal.sub, request.app.state.runtime.uow, request.app.state.topology, now
    )
    if not created:
        response.status_code = 200
    return ComplaintRead.from_row(row, settings.timezone)


@router.get("/complaints", tags=["complaints"], responses=_AUTH)
async def list_complaints(
    _principal: CurrentPrincipal,
    settings: Settings,
    uow: Uow,
    outage_id: Annotated[str | None, Query(max_length=100)] = None,
    cause: Annotated[Cause | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[ComplaintRead]:
    """Complaints, newest first, optionally of one outage or one cause (any role)."""
    rows = await usecases.list_complaints(
        outage_id=outage_id, cause=cause.value if cause else None, limit=limit, uow=uow
    )
    return [ComplaintRead.from_row(row, settings.timezone) for row in rows]


@router.get(
    "/complaints/{complaint_id}",
    tags=["complaints"],
    responses={**_AUTH, 404: {"model": ErrorBody, "description": "No such complaint."}},
)
async def get_complaint(
    complaint_id: str, _principal: CurrentPrincipal, settings: Settings, uow: Uow
) -> ComplaintRead:
    """One complaint with its classification (any role)."""
    return ComplaintRead.from_row(
        await usecases.get_complaint(complaint_id, uow), settings.timezone
    )


@router.get("/replies", tags=["replies"], responses=_AUTH)
async def list_replies(
    _principal: Dispatcher,
    settings: Settings,
    uow: Uow,
    outage_id: Annotated[str | None, Query(max_length=100)] = None,
    intent: Annotated[ReplyIntent | None, Query(description="other: what needs a person.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[ReplyRead]:
    """Customers' replies, newest first (role dispatcher): questions and objections to act on.

    Replies that only acknowledge are marked ``acknowledge``; everything else (``other``) may
    need a person: a question, a complaint, a wrong number.
    """
    rows = await usecases.list_replies(outage_id=outage_id, intent=intent, limit=limit, uow=uow)
    return [ReplyRead.from_row(row, settings.timezone) for row in rows]
