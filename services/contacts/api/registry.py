"""HTTP routes of the registry: import and export, accounts and contacts, transfers, areas."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse

from services.contacts.api.deps import Admin, Maintainer, RowId, RulesDep, Runtime, Settings
from services.contacts.api.schemas import (
    AccountRead,
    AreaContactCreate,
    AreaContactRead,
    AreaPut,
    AreaRead,
    ContactCreate,
    ContactRead,
    ContactUpdate,
    HistoryRead,
    ImportRead,
    Reason,
    SubscriptionCreate,
    SubscriptionRead,
    TransferCreate,
    TransferRead,
    sees_full_phones,
)
from services.contacts.api.uploads import csv_uploads
from services.contacts.domain.changes import UNSET, ContactPatch, require_phone
from services.contacts.domain.imports import InvalidPhonePolicy
from services.contacts.domain.registry import CallWindow
from services.contacts.usecases import imports, registry
from shared.auth import CurrentPrincipal
from shared.uow import UnitOfWork

router = APIRouter()

UPLOAD_FIELDS = frozenset({"customers", "contacts"})
_IMPORT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "customers": {
                            "type": "string",
                            "format": "binary",
                            "description": "customers.csv: account_id,name,node_id,voltage_kv,"
                            "category[,flags,address,transformer_area,importance]",
                        },
                        "contacts": {
                            "type": "string",
                            "format": "binary",
                            "description": "contacts.csv: account_id,role,name,phone"
                            "[,preferred_channel,call_window,verified_at]",
                        },
                    },
                }
            }
        },
    }
}


@router.post("/import", tags=["registry"], openapi_extra=_IMPORT_BODY)
async def import_registry(
    request: Request,
    runtime: Runtime,
    settings: Settings,
    rules: RulesDep,
    admin: Admin,
    invalid_phones: Annotated[
        InvalidPhonePolicy,
        Query(
            description="`reject`: any invalid number refuses the import. `flag` (legacy "
            "data): invalid numbers are stored as invalid (never used), counted, and each put "
            "on the maintenance worklist."
        ),
    ] = InvalidPhonePolicy.REJECT,
) -> ImportRead:
    """Import customers and/or their contacts from CSV files (role admin).

    Multipart fields `customers` (customers.csv) and `contacts` (contacts.csv), UTF-8 or
    GB18030. All or nothing: every row is checked first; any problem refuses the whole import
    with 422 naming `file`, `row` (1-based line, the header is line 1) and `field`, and up to
    50 problems in `errors`. Contacts must belong to an account in the customers file or in
    the registry. Re-importing the same files changes nothing: accounts are matched by id,
    contacts by account, role and number. Optional columns absent from a file leave what is
    registered alone. Contacts missing from a new file are kept, retired ones are not brought
    back, and the answer says how many of each. Every change goes into the history.
    """
    async with (
        csv_uploads(
            request, fields=UPLOAD_FIELDS, max_bytes=settings.import_max_mb * 1024 * 1024
        ) as uploads,
        runtime.uow() as uow,
    ):
        report = await imports.import_registry(
            uow,
            customers=uploads.get("customers"),
            contacts=uploads.get("contacts"),
            invalid_phones=invalid_phones,
            actor=admin.sub,
            rules=rules,
        )
        await uow.commit()
    return ImportRead.of(report)


@router.get("/export/customers.csv", tags=["registry"], response_class=StreamingResponse)
async def export_customers(runtime: Runtime, _admin: Admin) -> StreamingResponse:
    """Every account as `customers.csv` with all import columns (role admin)."""
    return _csv_download("customers.csv", runtime.uow, imports.export_customers)


@router.get("/export/contacts.csv", tags=["registry"], response_class=StreamingResponse)
async def export_contacts(runtime: Runtime, rules: RulesDep, _admin: Admin) -> StreamingResponse:
    """Every active contact as `contacts.csv`, numbers as written (role admin).

    Importing the file again changes nothing.
    """
    return _csv_download(
        "contacts.csv", runtime.uow, lambda uow: imports.export_contacts(uow, rules)
    )


def _csv_download(
    filename: str,
    uow_factory: Callable[[], UnitOfWork],
    rows: Callable[[UnitOfWork], AsyncIterator[str]],
) -> StreamingResponse:
    async def body() -> AsyncIterator[str]:
        # The response outlives the route: the rows are read in a unit of work of their own.
        async with uow_factory() as uow:
            async for text in rows(uow):
                yield text

    return StreamingResponse(
        body(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/accounts/{account_id}", tags=["registry"])
async def get_account(
    account_id: str, runtime: Runtime, principal: CurrentPrincipal
) -> AccountRead:
    """An account and its contacts, active first, then retired ones (any signed-in role).

    Numbers are shown whole to admins, reviewers and dispatchers, masked (`138****8000`) to
    everyone else.
    """
    async with runtime.uow() as uow:
        view = await registry.get_account(uow, account_id)
    return AccountRead.of(view, reveal=sees_full_phones(principal))


@router.get("/accounts/{account_id}/history", tags=["registry"])
async def account_history(
    account_id: str, runtime: Runtime, principal: CurrentPrincipal
) -> list[HistoryRead]:
    """Every change to the account and its contacts: who, when, why, fields before and after."""
    async with runtime.uow() as uow:
        entries = await registry.account_history(uow, account_id)
    reveal = sees_full_phones(principal)
    return [HistoryRead.of(e, reveal=reveal) for e in entries]


@router.post("/accounts/{account_id}/contacts", tags=["registry"], status_code=201)
async def add_contact(
    account_id: str, body: ContactCreate, runtime: Runtime, maintainer: Maintainer
) -> ContactRead:
    """Register a contact of the account (roles admin, field), valid and verified as of now.

    An unusable number is refused (422, `field` phone); the same role and number twice is 409.
    Registering the first contact after an ownership transfer clears the account's flag.
    """
    async with runtime.uow() as uow:
        contact = await registry.add_contact(
            uow,
            account_id,
            registry.ContactInput(
                body.role, body.name, body.phone, body.preferred_channel, body.parsed_window()
            ),
            actor=maintainer.sub,
            reason=body.reason,
        )
        await uow.commit()
    return ContactRead.of(contact, reveal=True)


@router.patch("/contacts/{contact_id}", tags=["registry"])
async def update_contact(
    contact_id: RowId, body: ContactUpdate, runtime: Runtime, maintainer: Maintainer
) -> ContactRead:
    """Change a contact's name, number, preferred channel, call window or status, or confirm
    it (`verified`: true), with a reason (roles admin, field).

    Only the fields sent change. A new number or a confirmation makes it valid and verified as
    of now. 409 for a retired contact.
    """
    async with runtime.uow() as uow:
        contact = await registry.update_contact(
            uow, contact_id, _patch(body), actor=maintainer.sub, reason=body.reason
        )
        await uow.commit()
    return ContactRead.of(contact, reveal=True)


@router.post("/contacts/{contact_id}/retire", tags=["registry"])
async def retire_contact(
    contact_id: RowId, body: Reason, runtime: Runtime, maintainer: Maintainer
) -> ContactRead:
    """The person no longer answers for the account (roles admin, field): the contact is kept
    for history and never used again."""
    async with runtime.uow() as uow:
        contact = await registry.retire_contact(
            uow, contact_id, actor=maintainer.sub, reason=body.reason
        )
        await uow.commit()
    return ContactRead.of(contact, reveal=True)


@router.post("/accounts/{account_id}/transfer", tags=["registry"])
async def transfer_account(
    account_id: str,
    body: TransferCreate,
    runtime: Runtime,
    rules: RulesDep,
    maintainer: Maintainer,
) -> TransferRead:
    """Record an ownership transfer (roles admin, field).

    The old owner's contacts are retired; the account is flagged (a warning on every list, an
    item on the worklist) and told only by door-to-door slip until the new owner's first
    contact is registered.
    """
    async with runtime.uow() as uow:
        transfer = await registry.transfer_account(
            uow,
            account_id,
            new_name=body.new_name,
            reason=body.reason,
            actor=maintainer.sub,
            rules=rules,
        )
        await uow.commit()
    return TransferRead.of(transfer, reveal=True)


@router.put(
    "/areas/{area_id}",
    tags=["areas"],
    responses={201: {"model": AreaRead, "description": "The area was created."}},
)
async def put_area(
    area_id: str, body: AreaPut, response: Response, runtime: Runtime, maintainer: Maintainer
) -> AreaRead:
    """Create or replace an area (roles admin, field): a transformer area, or a residential
    compound spanning several transformer area nodes. 201 when new."""
    async with runtime.uow() as uow:
        view, created = await registry.put_area(
            uow,
            area_id,
            name=body.name,
            kind=body.kind,
            node_ids=body.node_ids,
            actor=maintainer.sub,
        )
        await uow.commit()
    if created:
        response.status_code = 201
    return AreaRead.of(view, reveal=True)


@router.get("/areas/{area_id}", tags=["areas"])
async def get_area(area_id: str, runtime: Runtime, principal: CurrentPrincipal) -> AreaRead:
    """An area, its contacts (active first) and subscriptions (any signed-in role)."""
    async with runtime.uow() as uow:
        view = await registry.get_area(uow, area_id)
    return AreaRead.of(view, reveal=sees_full_phones(principal))


@router.get("/areas/{area_id}/history", tags=["areas"])
async def area_history(
    area_id: str, runtime: Runtime, principal: CurrentPrincipal
) -> list[HistoryRead]:
    """Every change to the area's contacts."""
    async with runtime.uow() as uow:
        entries = await registry.area_history(uow, area_id)
    reveal = sees_full_phones(principal)
    return [HistoryRead.of(e, reveal=reveal) for e in entries]


@router.post("/areas/{area_id}/contacts", tags=["areas"], status_code=201)
async def add_area_contact(
    area_id: str, body: AreaContactCreate, runtime: Runtime, maintainer: Maintainer
) -> AreaContactRead:
    """Register a property management office, residents' or village committee of the area
    (roles admin, field): they get the notice to post and confirm the posting."""
    async with runtime.uow() as uow:
        contact = await registry.add_area_contact(
            uow,
            area_id,
            registry.ContactInput(body.role, body.name, body.phone, None, body.parsed_window()),
            actor=maintainer.sub,
            reason=body.reason,
        )
        await uow.commit()
    return AreaContactRead.of(contact, reveal=True)


@router.patch("/areas/{area_id}/contacts/{contact_id}", tags=["areas"])
async def update_area_contact(
    area_id: str,
    contact_id: RowId,
    body: ContactUpdate,
    runtime: Runtime,
    maintainer: Maintainer,
) -> AreaContactRead:
    """Change or confirm an area contact, with a reason (roles admin, field)."""
    async with runtime.uow() as uow:
        contact = await registry.update_area_contact(
            uow, area_id, contact_id, _patch(body), actor=maintainer.sub, reason=body.reason
        )
        await uow.commit()
    return AreaContactRead.of(contact, reveal=True)


@router.post("/areas/{area_id}/contacts/{contact_id}/retire", tags=["areas"])
async def retire_area_contact(
    area_id: str, contact_id: RowId, body: Reason, runtime: Runtime, maintainer: Maintainer
) -> AreaContactRead:
    """The office or committee no longer posts for the area (roles admin, field): kept for
    history, never told again."""
    async with runtime.uow() as uow:
        contact = await registry.retire_area_contact(
            uow, area_id, contact_id, actor=maintainer.sub, reason=body.reason
        )
        await uow.commit()
    return AreaContactRead.of(contact, reveal=True)


@router.post("/areas/{area_id}/subscriptions", tags=["areas"], status_code=201)
async def add_subscription(
    area_id: str, body: SubscriptionCreate, runtime: Runtime, _maintainer: Maintainer
) -> SubscriptionRead:
    """A WeChat Work group robot (`wechat`, the webhook key) or an app topic (`app_push`)
    that gets the area's notices (roles admin, field). 409 if the area has it already."""
    async with runtime.uow() as uow:
        subscription = await registry.add_subscription(
            uow, area_id, channel=body.channel, address=body.address, name=body.name
        )
        await uow.commit()
    return SubscriptionRead.of(subscription)


@router.delete("/areas/{area_id}/subscriptions/{subscription_id}", tags=["areas"], status_code=204)
async def remove_subscription(
    area_id: str, subscription_id: RowId, runtime: Runtime, _maintainer: Maintainer
) -> None:
    """Stop sending the area's notices to a group or topic (roles admin, field)."""
    async with runtime.uow() as uow:
        await registry.remove_subscription(uow, area_id, subscription_id)
        await uow.commit()


def _patch(body: ContactUpdate) -> ContactPatch:
    sent = body.model_fields_set

    def given(field: str, value: Any) -> Any:
        return value if field in sent else UNSET

    return ContactPatch(
        name=given("name", body.name) if body.name is not None else UNSET,
        phone=require_phone(body.phone, "phone") if body.phone is not None else UNSET,
        preferred_channel=given("preferred_channel", body.preferred_channel),
        call_window=given(
            "call_window", CallWindow.parse(body.call_window) if body.call_window else None
        ),
        status=body.status if body.status is not None else UNSET,
        verified=body.verified,
    )
