"""HTTP routes of the notification lists: read, edit, approve, reject."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query

from services.contacts.api.deps import MAX_ID, ListReader, Reviewer, RulesDep, Runtime
from services.contacts.api.schemas import (
    ApprovalCreate,
    DecisionRead,
    EditCreate,
    ListRead,
    ListSummaryRead,
    Page,
    RejectionCreate,
    sees_full_phones,
)
from services.contacts.domain.review import ListStatus
from services.contacts.usecases import lists

router = APIRouter(tags=["lists"])

# Versions are 32-bit in storage.
MAX_VERSION = 2**31 - 1
Limit = Annotated[int, Query(ge=1, le=5000, description="Page size of accounts and recipients.")]
Offset = Annotated[int, Query(ge=0, le=MAX_ID)]


@router.get("/lists")
async def list_index(
    runtime: Runtime,
    _reader: ListReader,
    status: Annotated[
        ListStatus | None, Query(description="Only versions in this status (e.g. draft).")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Offset = 0,
) -> Page[ListSummaryRead]:
    """List versions, newest first (roles planner, reviewer, dispatcher): the drafts awaiting
    review, or any status."""
    async with runtime.uow() as uow:
        total, found = await lists.list_index(
            uow, status=status, page=lists.Page(limit=limit, offset=offset)
        )
    return Page(
        total=total, limit=limit, offset=offset, items=[ListSummaryRead.of(n) for n in found]
    )


@router.get("/lists/{outage_id}")
async def get_list(
    outage_id: str,
    runtime: Runtime,
    principal: ListReader,
    version: Annotated[
        int | None, Query(ge=1, le=MAX_VERSION, description="A given version; default the newest.")
    ] = None,
    warning: Annotated[
        str | None,
        Query(
            max_length=64,
            description="Only the warnings of this code, and only the accounts that have it.",
        ),
    ] = None,
    limit: Limit = 100,
    offset: Offset = 0,
    warnings_limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    warnings_offset: Offset = 0,
) -> ListRead:
    """The notification list of an outage (roles planner, reviewer, dispatcher).

    Status, version, outage details, counts (also per channel of the first wave), the number
    of warnings of each code and a page of the warnings themselves, gravest first: the trace's
    own findings, a re-trace's difference and the need to approve again, accounts unknown to
    the registry, accounts told last time on the same feeders and missing now, supply points
    that disagree with the trace, transfers awaiting new contacts, important customers to
    call, accounts no SMS reaches (with whether a landline exists), recent moves and
    transfers, accounts new since last time. Then one page of the recipients (one per channel
    and address, naming all its accounts, wave by wave) and of the accounts with their
    contacts and channel plans, and the reviewer edits. Planners see numbers masked.
    """
    async with runtime.uow() as uow:
        view = await lists.get_list(
            uow,
            outage_id,
            version=version,
            page=lists.Page(limit=limit, offset=offset),
            warnings_page=lists.Page(limit=warnings_limit, offset=warnings_offset),
            warning=warning,
        )
    return ListRead.of(view, limit=limit, offset=offset, reveal=sees_full_phones(principal))


@router.post("/lists/{outage_id}/edits")
async def edit_list(
    outage_id: str, body: EditCreate, runtime: Runtime, rules: RulesDep, principal: Reviewer
) -> DecisionRead:
    """Add an account to the newest draft, or take one off, with a reason (role reviewer).

    An added account is planned from the registry as it is now; the recipients are merged
    again. Every edit is kept with the version. 409 when the list is no longer a draft, has
    changed since `version`, or the account already is (or is not) on it; 404 for an account
    the registry does not know.
    """
    async with runtime.uow() as uow:
        edited, edit = await lists.edit_list(
            uow,
            outage_id,
            action=body.action,
            account_id=body.account_id,
            reason=body.reason,
            reviewer=principal.sub,
            seen_version=body.version,
            rules=rules,
        )
        await uow.commit()
    return DecisionRead.edit(edited, edit.edited_by, edit.edited_at, edit.reason)


@router.post("/lists/{outage_id}/approve")
async def approve_list(
    outage_id: str,
    runtime: Runtime,
    principal: Reviewer,
    body: Annotated[ApprovalCreate | None, Body()] = None,
) -> DecisionRead:
    """Approve the newest version of the list (role reviewer) and release it for sending.

    Four eyes: 403 when the reviewer planned the outage. 404 without a list; 409 when the
    list is no longer a draft (approved, rejected, cancelled) or, with `version`, when it has
    changed since the reviewer read it. Emits `list.approved` with every recipient and every
    account; an older approved version of the outage is superseded.
    """
    approval = body or ApprovalCreate()
    async with runtime.uow() as uow:
        decided = await lists.approve_list(
            uow,
            outage_id,
            principal.sub,
            comment=approval.comment,
            seen_version=approval.version,
        )
        await uow.commit()
    return DecisionRead.approval(decided)


@router.post("/lists/{outage_id}/reject")
async def reject_list(
    outage_id: str, runtime: Runtime, principal: Reviewer, body: RejectionCreate
) -> DecisionRead:
    """Send the newest version back to the planner with a reason (role reviewer).

    Nothing is sent; the next trace of the outage drafts a new version. 404 without a list,
    409 when it is no longer a draft or has changed since the given `version`.
    """
    async with runtime.uow() as uow:
        decided = await lists.reject_list(
            uow, outage_id, principal.sub, reason=body.reason, seen_version=body.version
        )
        await uow.commit()
    return DecisionRead.rejection(decided)
