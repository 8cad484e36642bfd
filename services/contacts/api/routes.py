"""HTTP routes of the contacts service: thin, they parse, call a use case and shape the answer."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request

from services.contacts import usecases
from services.contacts.api.schemas import (
    AccountRead,
    ApprovalCreate,
    DecisionRead,
    ImportRead,
    ListRead,
    RejectionCreate,
    sees_full_phones,
)
from services.contacts.api.uploads import read_csv_uploads
from services.contacts.config import ContactsSettings
from services.contacts.domain.imports import InvalidPhonePolicy
from shared.auth import CurrentPrincipal, Principal, Role, require
from shared.runtime import ServiceRuntime

router = APIRouter(prefix="/v1")

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
                            "description": "customers.csv: "
                            "account_id,name,node_id,voltage_kv,category[,flags]",
                        },
                        "contacts": {
                            "type": "string",
                            "format": "binary",
                            "description": "contacts.csv: account_id,role,name,phone",
                        },
                    },
                }
            }
        },
    }
}


def _runtime(request: Request) -> ServiceRuntime:
    runtime: ServiceRuntime = request.app.state.runtime
    return runtime


def _settings(request: Request) -> ContactsSettings:
    settings: ContactsSettings = request.app.state.settings
    return settings


Runtime = Annotated[ServiceRuntime, Depends(_runtime)]
Settings = Annotated[ContactsSettings, Depends(_settings)]
Admin = Annotated[Principal, Depends(require(Role.ADMIN))]
ListReader = Annotated[Principal, Depends(require(Role.PLANNER, Role.REVIEWER, Role.DISPATCHER))]
Reviewer = Annotated[Principal, Depends(require(Role.REVIEWER))]


@router.post("/import", tags=["registry"], openapi_extra=_IMPORT_BODY)
async def import_registry(
    request: Request,
    runtime: Runtime,
    settings: Settings,
    _admin: Admin,
    invalid_phones: Annotated[
        InvalidPhonePolicy,
        Query(
            description="`reject`: any invalid number refuses the import. `flag`: invalid "
            "numbers are stored as invalid (never used) and counted, to be fixed."
        ),
    ] = InvalidPhonePolicy.REJECT,
) -> ImportRead:
    """Import customers and/or their contacts from CSV files (role admin).

    Multipart fields `customers` (customers.csv) and `contacts` (contacts.csv), UTF-8 or
    GB18030. All or nothing: every row is checked first; any problem refuses the whole import
    with 422 naming `file`, `row` (1-based line, the header is line 1) and `field`, and up to
    50 problems in `errors`. Contacts must belong to an account in the customers file or in
    the registry. Re-importing the same files changes nothing: accounts are matched by id,
    contacts by account, role and number. Contacts missing from a new file are kept, and the
    answer says how many.
    """
    uploads = await read_csv_uploads(
        request, fields=UPLOAD_FIELDS, max_bytes=settings.import_max_mb * 1024 * 1024
    )
    async with runtime.uow() as uow:
        report = await usecases.import_registry(
            uow,
            customers=uploads.get("customers"),
            contacts=uploads.get("contacts"),
            invalid_phones=invalid_phones,
        )
        await uow.commit()
    return ImportRead.of(report)


@router.get("/accounts/{account_id}", tags=["registry"])
async def get_account(
    account_id: str, runtime: Runtime, principal: CurrentPrincipal
) -> AccountRead:
    """An account and its contacts (any signed-in role).

    Numbers are shown whole to admins, reviewers and dispatchers, masked (`138****8000`) to
    everyone else.
    """
    async with runtime.uow() as uow:
        view = await usecases.get_account(uow, account_id)
    return AccountRead.of(view, reveal=sees_full_phones(principal))


@router.get("/lists/{outage_id}", tags=["lists"])
async def get_list(
    outage_id: str,
    runtime: Runtime,
    principal: ListReader,
    version: Annotated[
        int | None, Query(ge=1, description="A given version; default the newest.")
    ] = None,
    limit: Annotated[
        int, Query(ge=1, le=5000, description="Page size of `accounts` and `recipients`.")
    ] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> ListRead:
    """The notification list of an outage (roles planner, reviewer, dispatcher).

    Status, version, outage details, counts, then every warning the reviewer must weigh
    (accounts unknown to the registry, important customers to call, accounts without a usable
    mobile and whether a landline exists, the trace's own findings), then one page of the SMS
    recipients (one per phone, naming all its accounts) and of the accounts with their
    contacts. Planners see numbers masked.
    """
    async with runtime.uow() as uow:
        view = await usecases.get_list(uow, outage_id, version=version, limit=limit, offset=offset)
    return ListRead.of(view, limit=limit, offset=offset, reveal=sees_full_phones(principal))


@router.post("/lists/{outage_id}/approve", tags=["lists"])
async def approve_list(
    outage_id: str,
    runtime: Runtime,
    principal: Reviewer,
    body: Annotated[ApprovalCreate | None, Body()] = None,
) -> DecisionRead:
    """Approve the newest version of the list (role reviewer) and release it for sending.

    Four eyes: 403 when the reviewer planned the outage. 404 without a list; 409 when the
    list is no longer a draft (approved, rejected, cancelled) or, with `version`, when it has
    changed since the reviewer read it. Emits `list.approved` with the recipients.
    """
    approval = body or ApprovalCreate()
    async with runtime.uow() as uow:
        decided = await usecases.approve_list(
            uow,
            outage_id,
            principal.sub,
            comment=approval.comment,
            seen_version=approval.version,
        )
        await uow.commit()
    return DecisionRead.approval(decided)


@router.post("/lists/{outage_id}/reject", tags=["lists"])
async def reject_list(
    outage_id: str, runtime: Runtime, principal: Reviewer, body: RejectionCreate
) -> DecisionRead:
    """Send the newest version of the list back with a reason (role reviewer).

    Nothing is sent; the next trace of the outage drafts a new version. 404 without a list,
    409 when it is no longer a draft or has changed since the given `version`.
    """
    async with runtime.uow() as uow:
        decided = await usecases.reject_list(
            uow, outage_id, principal.sub, reason=body.reason, seen_version=body.version
        )
        await uow.commit()
    return DecisionRead.rejection(decided)
