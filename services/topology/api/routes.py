"""Routes of the topology service: the network model, outage plans and what-if traces."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from services.topology import usecases
from services.topology.api.deps import (
    Admin,
    Network,
    Planner,
    PlannerOrDispatcher,
    PlannerOrReviewer,
    Settings,
    Uow,
)
from services.topology.api.schemas import (
    ErrorRead,
    NetworkImportRead,
    NetworkSummaryRead,
    OutageCancel,
    OutageCreate,
    OutageRead,
    TraceRead,
    TraceRequest,
)
from services.topology.api.uploads import uploaded_files
from services.topology.domain import messages
from services.topology.domain.bundle import COLUMNS, CUSTOMERS_FILE, DEVICES_FILE, NODES_FILE
from shared.auth import CurrentPrincipal
from shared.errors import InvalidInput

router = APIRouter(prefix="/v1")

# Form field of each bundle file in an import upload.
UPLOAD_FIELDS = {"nodes": NODES_FILE, "devices": DEVICES_FILE, "customers": CUSTOMERS_FILE}

_AUTHENTICATED: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorRead, "description": "No valid bearer token."},
}
_AUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    **_AUTHENTICATED,
    403: {"model": ErrorRead, "description": "The token lacks the role."},
}
_IMPORT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": list(UPLOAD_FIELDS),
                    "properties": {
                        field: {
                            "type": "string",
                            "format": "binary",
                            "description": f"{file}: {','.join(COLUMNS[file])}",
                        }
                        for field, file in UPLOAD_FIELDS.items()
                    },
                }
            }
        },
    }
}


@router.post(
    "/network/import",
    tags=["network"],
    responses={
        **_AUTH_ERRORS,
        422: {
            "model": ErrorRead,
            "description": "A bad row; `file` and `row` name the first, `errors` up to 50.",
        },
    },
    openapi_extra=_IMPORT_BODY,
)
async def import_network(
    request: Request, principal: Admin, uow: Uow, network: Network, settings: Settings
) -> NetworkImportRead:
    """Replace the network model with a CSV bundle (role admin).

    Upload `nodes`, `devices` and `customers` as multipart files (UTF-8, exact headers). The
    import is all or nothing: every row is checked first, and any bad row answers 422 with
    the file and line number (header = line 1) of the first bad rows while the current model
    stays as it is. A good bundle replaces the whole model under the next `model_version`.
    Outages already planned keep the trace they have.
    """
    async with uploaded_files(
        request, UPLOAD_FIELDS, spool_bytes=settings.upload_spool_bytes
    ) as uploads:
        for field, file in UPLOAD_FIELDS.items():
            if field not in uploads:
                raise InvalidInput(
                    messages.UPLOAD_MISSING_FILE.format(field=field, file=file),
                    field=field,
                    file=file,
                )
        imported = await usecases.import_network(
            {file: uploads[field] for field, file in UPLOAD_FIELDS.items()},
            principal.sub,
            uow,
            chunk_size=settings.import_chunk_size,
        )
        await uow.commit()
    await network.install(imported.model)
    return NetworkImportRead(**imported.counts)


@router.get("/network/summary", tags=["network"], responses=_AUTHENTICATED)
async def network_summary(
    _principal: CurrentPrincipal, uow: Uow, network: Network, settings: Settings
) -> NetworkSummaryRead:
    """What the current network model holds (any role).

    Counts, the model version, and each source (feeder head) with the customers it supplies
    when every device is in its normal state. `unsupplied_customers` are connected to no source
    at all: the model does not match the field there, and their outages cannot be traced.
    """
    summary = await usecases.network_summary(uow, network)
    return NetworkSummaryRead.of(summary, settings.timezone)


@router.post(
    "/outages",
    tags=["outages"],
    status_code=201,
    responses={
        **_AUTH_ERRORS,
        409: {"model": ErrorRead, "description": "An outage with this id exists."},
        422: {"model": ErrorRead, "description": "`field` names the bad value."},
    },
)
async def plan_outage(
    body: OutageCreate, principal: Planner, uow: Uow, network: Network, settings: Settings
) -> OutageRead:
    """Register an outage plan (role planner) and trace it.

    Every operated device must exist in the current network model (422 names the operation,
    e.g. `operations[2].device_id`), and `ends_at` must be after `starts_at`, both with a UTC
    offset. The plan is stored as `planned` and announced as `outage.planned`; the trace follows
    at once and moves it to `traced`, emitting `outage.traced` with the affected accounts.
    """
    outage = await usecases.plan_outage(
        body.to_command(), principal.sub, uow, network, settings.timezone
    )
    await uow.commit()
    return OutageRead.of(outage, settings.timezone)


@router.get("/outages", tags=["outages"], responses=_AUTHENTICATED)
async def list_outages(
    _principal: CurrentPrincipal,
    uow: Uow,
    settings: Settings,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[OutageRead]:
    """The most recently planned outages first (any role)."""
    outages = await usecases.list_outages(limit, uow)
    return [OutageRead.of(outage, settings.timezone) for outage in outages]


@router.get(
    "/outages/{outage_id}",
    tags=["outages"],
    responses={**_AUTHENTICATED, 404: {"model": ErrorRead, "description": "No such outage."}},
)
async def get_outage(
    outage_id: str, _principal: CurrentPrincipal, uow: Uow, settings: Settings
) -> OutageRead:
    """One outage (any role): its plan, status (planned, traced or cancelled) and trace summary."""
    return OutageRead.of(await usecases.get_outage(outage_id, uow), settings.timezone)


@router.post(
    "/outages/{outage_id}/cancel",
    tags=["outages"],
    responses={
        **_AUTH_ERRORS,
        404: {"model": ErrorRead, "description": "No such outage."},
        409: {"model": ErrorRead, "description": "The outage is already cancelled."},
    },
)
async def cancel_outage(
    outage_id: str, body: OutageCancel, principal: PlannerOrDispatcher, uow: Uow, settings: Settings
) -> OutageRead:
    """Cancel an outage (role planner or dispatcher), e.g. for weather on the day.

    Emits `outage.cancelled`, so that every customer already notified is told it is off, and
    nobody else. An outage cancelled before its trace is never traced.
    """
    outage = await usecases.cancel_outage(outage_id, body.reason, principal.sub, uow)
    await uow.commit()
    return OutageRead.of(outage, settings.timezone)


@router.post(
    "/trace",
    tags=["trace"],
    responses={
        **_AUTH_ERRORS,
        422: {"model": ErrorRead, "description": "An unknown device; `field` names it."},
    },
)
async def trace_what_if(
    body: TraceRequest, _principal: PlannerOrReviewer, uow: Uow, network: Network
) -> TraceRead:
    """Trace switching operations without registering anything (role planner or reviewer).

    Answers what an outage plan with these operations would cut off: every affected account
    with the opened device that isolates it, its node and feeder, the transformer areas and
    feeders in the scope, and warnings (`parallel_sources`, `operation_no_effect`,
    `no_customers_affected`). `elapsed_ms` is the time the trace took inside the service.
    """
    what_if = await usecases.trace_what_if(body.operations, uow, network)
    return TraceRead.of(what_if.result, what_if.elapsed_ms)
