"""Routes of the dispatch API: what was sent to whom, what became of it, and the printouts."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response

from services.dispatch import usecases
from services.dispatch.api.deps import Context, Dispatcher, Printer, Reader, Uow, sees_addresses
from services.dispatch.api.schemas import MessageRead, OutageMessagesRead, ResolveRequest
from services.dispatch.domain.documents import door_slip, newspaper_digest, posted_notice
from services.dispatch.domain.messages import ALL_CHANNELS, MessageStatus, NoticeKind
from shared.errors import InvalidInput
from shared.web import ERROR_RESPONSES

router = APIRouter(prefix="/v1", tags=["messages"])
documents = APIRouter(prefix="/v1", tags=["documents"])

PDF: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/pdf": {}}, "description": "The PDF (CJK font embedded)."}
}


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {status: ERROR_RESPONSES[status] for status in statuses}


@router.get(
    "/outages/{outage_id}/messages",
    response_model=OutageMessagesRead,
    responses=_errors(401, 403, 404, 422),
)
async def list_outage_messages(
    outage_id: str,
    principal: Reader,
    uow: Uow,
    context: Context,
    status: Annotated[
        MessageStatus | None, Query(description="Only messages in this state.")
    ] = None,
    notice_kind: Annotated[
        NoticeKind | None,
        Query(description="notice, reminder, cancellation, reschedule or restoration."),
    ] = None,
    channel: Annotated[str | None, Query(description="Only messages on this channel.")] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> OutageMessagesRead:
    """The messages of an outage on every channel, with counts, holds and the lead time.

    Counts cover every message of the outage; the list is one page of those matching the
    filters. ``lead_time`` says whether the first notice comes early enough for the legal
    lead time (planned 7 days, temporary 24 hours, by the channel policy); ``waiting`` counts
    messages held back by a number's daily cap, a call window or their schedule.
    Phone numbers and robot keys are masked except for dispatchers and admins.
    Roles: dispatcher, reviewer, planner. 404 if no list of this outage was approved or
    cancelled here.
    """
    if channel is not None and channel not in ALL_CHANNELS:
        raise InvalidInput(
            f"unknown channel {channel!r}; one of {', '.join(sorted(ALL_CHANNELS))}",
            field="channel",
        )
    view = await usecases.outage_messages(
        uow,
        outage_id,
        context.composer.policy,
        now=context.clock(),
        status=status,
        notice_kind=notice_kind,
        channel=channel,
        limit=limit,
        offset=offset,
    )
    return OutageMessagesRead.from_domain(
        view, reveal_address=sees_addresses(principal), limit=limit, offset=offset
    )


@router.get("/messages/{message_id}", response_model=MessageRead, responses=_errors(401, 403, 404))
async def read_message(message_id: str, principal: Reader, uow: Uow) -> MessageRead:
    """One message: its text, state, attempts, provider id and the provider's report.

    Phone numbers and robot keys are masked except for dispatchers and admins. Roles:
    dispatcher, reviewer, planner.
    """
    message = await usecases.get_message(uow, message_id)
    return MessageRead.from_domain(message, reveal_address=sees_addresses(principal))


@router.post(
    "/messages/{message_id}/resolve",
    response_model=MessageRead,
    responses=_errors(401, 403, 404, 409, 422),
)
async def resolve_message(
    message_id: str, body: ResolveRequest, principal: Dispatcher, uow: Uow, context: Context
) -> MessageRead:
    """Settle an ``unresolved`` message: the provider lost its answer and cannot be asked.

    A WeChat Work robot has no status query, so when its answer is lost only a person who
    looks at the group can tell whether the notice arrived: ``sent: true`` records it as
    submitted, ``sent: false`` queues it to be sent again. 409 if the message is not
    unresolved. Role: dispatcher.
    """
    message = await usecases.resolve_message(
        uow,
        message_id,
        context.composer,
        sent=body.sent,
        by=principal.sub,
        now=context.clock(),
    )
    await uow.commit()
    return MessageRead.from_domain(message, reveal_address=True)


def _pdf(content: bytes, filename: str) -> Response:
    return Response(
        content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )


@documents.get(
    "/outages/{outage_id}/documents/door-slips.pdf",
    response_class=Response,
    responses={**PDF, **_errors(401, 403, 404)},
)
async def door_slips_pdf(
    outage_id: str, _principal: Printer, uow: Uow, context: Context
) -> Response:
    """The door-to-door slips of an outage, one page per account, each with a tear-off
    receipt the customer signs (signer, date, time).

    Notices, cancellations and new times that were handed to print, in account order.
    404 if none was. Roles: dispatcher, field.
    """
    found = await usecases.printed_for_outage(uow, outage_id, "door_slip")
    sheets = [door_slip(m, context.letterhead) for m in found]
    return _pdf(
        context.pdf.sheets(sheets, f"{outage_id} 停电通知单"), f"{outage_id}-door-slips.pdf"
    )


@documents.get(
    "/outages/{outage_id}/documents/posted-notices.pdf",
    response_class=Response,
    responses={**PDF, **_errors(401, 403, 404)},
)
async def posted_notices_pdf(
    outage_id: str, _principal: Printer, uow: Uow, context: Context
) -> Response:
    """The posted notices of an outage, one page per transformer area (time window, area,
    reason, hotline), and their corrections. 404 if none was handed to print.
    Roles: dispatcher, field.
    """
    found = await usecases.printed_for_outage(uow, outage_id, "posted_notice")
    sheets = [posted_notice(m, context.letterhead) for m in found]
    return _pdf(
        context.pdf.sheets(sheets, f"{outage_id} 停电公告"), f"{outage_id}-posted-notices.pdf"
    )


@documents.get(
    "/newspaper/{day}.pdf",
    response_class=Response,
    responses={**PDF, **_errors(401, 403, 404, 422)},
)
async def newspaper_pdf(
    day: Annotated[date, Path(description="The day of the outages (YYYY-MM-DD, local).")],
    _principal: Reader,
    uow: Uow,
    context: Context,
) -> Response:
    """The newspaper digest of a day: its outages grouped by district, then corrections
    (cancelled or moved outages). 404 if no outage of that day is in the digest.
    Roles: dispatcher, reviewer, planner.
    """
    found = await usecases.newspaper_of(uow, day)
    letterhead = context.letterhead
    digest = newspaper_digest(
        found, day, context.composer.policy.newspaper.name, letterhead.timezone
    )
    return _pdf(
        context.pdf.digest(digest, letterhead.company, letterhead.hotline),
        f"newspaper-{day.isoformat()}.pdf",
    )
