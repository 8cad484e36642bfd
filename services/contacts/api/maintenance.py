"""HTTP routes of the maintenance worklist."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.contacts.api.deps import MAX_ID, Admin, RowId, RulesDep, Runtime, Worker
from services.contacts.api.schemas import (
    AssignmentCreate,
    ClosingCreate,
    MaintenanceItemRead,
    Page,
    ScanRead,
)
from services.contacts.domain.maintenance import Closing, ItemKind, ItemStatus
from services.contacts.usecases import maintenance

router = APIRouter(tags=["maintenance"])


@router.get("/maintenance")
async def list_items(
    runtime: Runtime,
    _worker: Worker,
    kind: ItemKind | None = None,
    status: Annotated[
        ItemStatus | None, Query(description="Default: every item not closed.")
    ] = None,
    assignee: str | None = None,
    account_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> Page[MaintenanceItemRead]:
    """The maintenance worklist, oldest first (roles admin, field, dispatcher).

    Kinds: accounts with no usable mobile, contacts not verified for a long time, one number
    serving many accounts, invalid numbers, numbers the carrier keeps failing, transfers
    awaiting the new owner's contacts, complaints traced to a contact. Numbers are shown
    whole: calling them is the work.
    """
    async with runtime.uow() as uow:
        total, items = await maintenance.list_items(
            uow,
            kind=kind,
            status=status,
            assignee=assignee,
            account_id=account_id,
            limit=limit,
            offset=offset,
        )
    return Page(
        total=total,
        limit=limit,
        offset=offset,
        items=[MaintenanceItemRead.of(item) for item in items],
    )


@router.post("/maintenance/scan")
async def scan(runtime: Runtime, rules: RulesDep, admin: Admin) -> ScanRead:
    """Scan the registry now (role admin), as the periodic scan does: open new findings, close
    as resolved the open ones whose finding has gone."""
    async with runtime.uow() as uow:
        report = await maintenance.scan_registry(uow, rules, actor=admin.sub)
        await uow.commit()
    return ScanRead(opened=report.opened, resolved=report.resolved)


@router.post("/maintenance/{item_id}/assign")
async def assign_item(
    item_id: RowId, body: AssignmentCreate, runtime: Runtime, _worker: Worker
) -> MaintenanceItemRead:
    """Give an open item to someone (roles admin, field, dispatcher); 409 when closed."""
    async with runtime.uow() as uow:
        item = await maintenance.assign_item(uow, item_id, body.assignee)
        await uow.commit()
    return MaintenanceItemRead.of(item)


@router.post("/maintenance/{item_id}/close")
async def close_item(
    item_id: RowId, body: ClosingCreate, runtime: Runtime, worker: Worker
) -> MaintenanceItemRead:
    """Close an item with what was done (roles admin, field, dispatcher); the registry follows.

    `called` / `visited`: the contact (or the account's contacts, or everyone on the number)
    is confirmed valid as of now. `number_fixed`: `phone` replaces the contact's number.
    `contact_added`: a new contact (`role`, `name`, `phone`) of the account or area.
    `contact_removed`: the contact is retired. 422 naming the missing field, 409 when closed.
    """
    closing = Closing(
        outcome=body.outcome_value(),
        note=body.note,
        contact_id=body.contact_id,
        phone=body.phone,
        role=body.role,
        name=body.name,
        preferred_channel=body.preferred_channel,
        call_window=body.parsed_window(),
    )
    async with runtime.uow() as uow:
        item = await maintenance.close_item(uow, item_id, closing, actor=worker.sub)
        await uow.commit()
    return MaintenanceItemRead.of(item)
