"""Routes of field work: the worklist, closing tasks, confirming postings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Query

from services.receipts import usecases
from services.receipts.api.deps import FieldOrDispatcher, FieldStaff, Now, Settings, Uow
from services.receipts.api.schemas import (
    PostingConfirm,
    PostingRead,
    TaskClose,
    TaskRead,
)
from services.receipts.domain import messages
from services.receipts.domain.ledger import TaskKind, TaskStatus
from services.receipts.domain.reports import assume_timezone
from shared.timeutil import local
from shared.web import ErrorBody

router = APIRouter(prefix="/v1", tags=["field"])

_AUTH: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "No or invalid bearer token."},
    403: {"model": ErrorBody, "description": "The role does not allow it."},
}


def task_read(row: Mapping[str, Any], timezone: str) -> TaskRead:
    names = [
        name or account
        for account, name in zip(row["account_ids"], row["account_names"], strict=False)
    ]
    title = messages.TASK_TITLES[row["kind"]].format(
        account="、".join(names) or row["subject"], area=row["subject"]
    )
    reason = messages.ESCALATION_REASONS.get(row["reason"], "")
    return TaskRead.from_row(row, timezone, title, reason)


@router.get("/worklist", responses=_AUTH)
async def get_worklist(
    _principal: FieldOrDispatcher,
    settings: Settings,
    uow: Uow,
    status: Annotated[TaskStatus | None, Query(description="Default: open tasks.")] = (
        TaskStatus.OPEN
    ),
    outage_id: Annotated[str | None, Query(max_length=100)] = None,
    kind: Annotated[TaskKind | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[TaskRead]:
    """Field tasks, soonest due first (role field or dispatcher).

    ``visit``: escalation could not confirm a delivery by any channel, so someone must go and
    tell the customer; ``door_slip``: deliver the notice dispatch printed and have it signed;
    ``posting``: put up the notice of a transformer area its contact did not confirm.
    """
    rows = await usecases.worklist(
        status=status, outage_id=outage_id, kind=kind, limit=limit, uow=uow
    )
    return [task_read(row, settings.timezone) for row in rows]


@router.post(
    "/worklist/{task_id}/close",
    responses={
        **_AUTH,
        404: {"model": ErrorBody, "description": "No such task."},
        409: {"model": ErrorBody, "description": "Cancelled, or closed with another outcome."},
        422: {"model": ErrorBody, "description": "Outcome, signer or time not acceptable."},
    },
)
async def close_task(
    task_id: str,
    body: TaskClose,
    principal: FieldStaff,
    settings: Settings,
    now: Now,
    uow: Uow,
) -> TaskRead:
    """Close a task with its outcome (role field): a door-to-door receipt is recorded here.

    ``signed`` needs the signer's name and is also the customer's acknowledgement; ``left``
    counts as delivered; ``unreachable`` leaves the account unreached (every means tried).
    A posting closed ``posted`` confirms the area's notice. Sending the same closing again
    is harmless; a different one for a closed task is refused.
    """
    await usecases.close_task(task_id, body.to_domain(settings.timezone), principal.sub, now, uow)
    await uow.commit()
    return task_read(await usecases.task_view(task_id, uow), settings.timezone)


@router.post(
    "/postings/{outage_id}/{area_node}/confirm",
    responses={
        **_AUTH,
        404: {"model": ErrorBody, "description": "No posted notice for this area."},
        422: {"model": ErrorBody, "description": "The time is in the future."},
    },
)
async def confirm_posting(
    outage_id: str,
    area_node: str,
    body: PostingConfirm,
    principal: FieldStaff,
    settings: Settings,
    now: Now,
    uow: Uow,
) -> PostingRead:
    """Confirm that the notice of a transformer area is up (role field), with a photo reference.

    The area's accounts count as reached by the posting, and its open posting task is closed.
    The area contact may confirm by replying to their SMS instead.
    """
    at = assume_timezone(body.at, settings.timezone) if body.at else now
    await usecases.confirm_posting(
        outage_id,
        area_node,
        at=at,
        actor=principal.sub,
        photo_ref=body.photo_ref,
        now=now,
        uow=uow,
    )
    await uow.commit()
    return PostingRead(
        outage_id=outage_id,
        area_node=area_node,
        confirmed_at=local(at, settings.timezone),
        confirmed_by=principal.sub,
    )
