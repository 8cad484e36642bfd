"""Routes of the topology service: the network model and its history, checks, spot checks and
discrepancies, outage plans and what-if traces."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Query, Request, UploadFile

from services.topology.api.deps import (
    Admin,
    Completer,
    FieldStaff,
    ModelEditor,
    Network,
    Planner,
    PlannerOrDispatcher,
    PlannerOrReviewer,
    Settings,
    Uow,
)
from services.topology.api.schemas import (
    ChangeBatchCreate,
    ChangeBatchRead,
    ChecksRead,
    DiscrepancyRead,
    ErrorRead,
    HistoryRead,
    NetworkImportRead,
    NetworkSummaryRead,
    OutageCancel,
    OutageCreate,
    OutageRead,
    OutageReschedule,
    SpotCheckCreate,
    SpotCheckRead,
    TraceRead,
    TraceRequest,
)
from services.topology.api.uploads import UploadRoute, uploaded_files
from services.topology.domain.bundle import COLUMNS, CUSTOMERS_FILE, DEVICES_FILE, NODES_FILE
from services.topology.domain.checks import FindingCode
from services.topology.domain.messages import HISTORY_ONE_ELEMENT
from services.topology.usecases import discrepancies, model, outages
from shared.auth import CurrentPrincipal
from shared.errors import InvalidInput

router = APIRouter(prefix="/v1")
uploads = APIRouter(prefix="/v1", route_class=UploadRoute)

# Form field of each bundle file in an import upload.
UPLOAD_FIELDS = {"nodes": NODES_FILE, "devices": DEVICES_FILE, "customers": CUSTOMERS_FILE}

_AUTHENTICATED: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorRead, "description": "No valid bearer token."},
}
_AUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    **_AUTHENTICATED,
    403: {"model": ErrorRead, "description": "The token lacks the role."},
}
_OUTAGE_ERRORS: dict[int | str, dict[str, Any]] = {
    **_AUTH_ERRORS,
    404: {"model": ErrorRead, "description": "No such outage."},
    409: {"model": ErrorRead, "description": "Not in this status (cancelled, completed, …)."},
    422: {"model": ErrorRead, "description": "`field` names the bad value."},
}


def _bundle_file(field: str) -> Any:
    file = UPLOAD_FIELDS[field]
    return File(description=f"{file} (required): {','.join(COLUMNS[file])}")


@uploads.post(
    "/network/import",
    tags=["network"],
    responses={
        **_AUTH_ERRORS,
        422: {
            "model": ErrorRead,
            "description": "A bad row; `file` and `row` name the first, `errors` up to 50. "
            "A missing file names its field; a body that is not a whole form names `body`.",
        },
    },
)
async def import_network(
    request: Request,
    principal: Admin,
    uow: Uow,
    network: Network,
    settings: Settings,
    nodes: Annotated[UploadFile | None, _bundle_file("nodes")] = None,
    devices: Annotated[UploadFile | None, _bundle_file("devices")] = None,
    customers: Annotated[UploadFile | None, _bundle_file("customers")] = None,
) -> NetworkImportRead:
    """Replace the network model with a CSV bundle (role admin).

    Upload `nodes`, `devices` and `customers` as multipart files (UTF-8, exact headers). The
    import is all or nothing: every row is checked first, and any bad row answers 422 with
    the file and line number (header = line 1) of the first bad rows while the current model
    stays as it is. A good bundle replaces the whole model under the next `model_version` and
    emits `model.changed`, so that outages still awaiting their notices are traced again.
    """
    files = await uploaded_files(
        request, {"nodes": nodes, "devices": devices, "customers": customers}, UPLOAD_FIELDS
    )
    imported = await model.import_network(
        files, principal.sub, uow, chunk_size=settings.import_chunk_size
    )
    await uow.commit()
    await network.install(imported.model)
    return NetworkImportRead(**imported.counts)


@router.get("/network/summary", tags=["network"], responses=_AUTHENTICATED)
async def network_summary(
    _principal: CurrentPrincipal, uow: Uow, network: Network, settings: Settings
) -> NetworkSummaryRead:
    """What the current network model holds (any role).

    Counts, the model version, and each source (feeder head) with the customers its supply
    tree reaches when every device is in its normal state. `unsupplied_customers` are
    connected to no source at all: the model does not match the field there, and their
    outages cannot be traced (see `GET /v1/network/checks`).
    """
    summary = await model.network_summary(uow, network)
    return NetworkSummaryRead.of(summary, settings.timezone)


@router.post(
    "/network/changes",
    tags=["network"],
    status_code=201,
    responses={
        **_AUTH_ERRORS,
        409: {"model": ErrorRead, "description": "A discrepancy in `resolves` is closed."},
        422: {
            "model": ErrorRead,
            "description": "A refused change, e.g. `changes[2].node_id`; `errors` lists all.",
        },
    },
)
async def apply_changes(
    body: ChangeBatchCreate, principal: ModelEditor, uow: Uow, network: Network, settings: Settings
) -> ChangeBatchRead:
    """Apply a batch of model changes atomically (role field or system).

    Kinds: `customer_new`, `customer_close`, `customer_move`, `device_add`, `device_remove`,
    `device_state` (normal state), `node_add`, `node_rename`; each with its `reason`, `origin`
    (`field_patrol`, `marketing_process`, `spot_check`, `complaint`) and `ticket`, the
    author being the caller. Changes apply in order, each checked against the model as the
    ones before leave it; one refused change refuses the batch and nothing changes. The model
    moves to the next version and `model.changed` is emitted: outages traced but still ahead
    are traced again, and those whose accounts changed emit `outage.retraced`. Open
    discrepancies the batch fixes are closed with it.
    """
    applied = await model.apply_changes(
        body.to_command(), principal.sub, uow, network, settings.timezone
    )
    await uow.commit()
    await network.install(applied.model)
    return ChangeBatchRead.of(applied, principal.sub, settings.timezone)


@router.get(
    "/network/history",
    tags=["network"],
    responses={
        **_AUTHENTICATED,
        422: {"model": ErrorRead, "description": "Not exactly one element named."},
    },
)
async def network_history(
    _principal: CurrentPrincipal,
    uow: Uow,
    network: Network,
    settings: Settings,
    account_id: str | None = None,
    device_id: str | None = None,
    node_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> HistoryRead:
    """Who changed one element, what and why, newest first (any role).

    Name exactly one of `account_id`, `device_id`, `node_id`. `current` is what the model
    holds now; changes older than the last import are those of the model it replaced.
    """
    named: dict[str, str] = {
        element_type: value
        for element_type, value in (
            ("customer", account_id),
            ("device", device_id),
            ("node", node_id),
        )
        if value
    }
    if len(named) != 1:
        raise InvalidInput(HISTORY_ONE_ELEMENT, field="account_id")
    ((element_type, element_id),) = named.items()
    history = await model.element_history(element_type, element_id, limit, uow, network)
    return HistoryRead.of(history, settings.timezone)


@router.get(
    "/network/checks",
    tags=["network"],
    responses={
        **_AUTHENTICATED,
        422: {"model": ErrorRead, "description": "`feeder` is not a source node."},
    },
)
async def network_checks(
    _principal: CurrentPrincipal,
    uow: Uow,
    network: Network,
    settings: Settings,
    feeder: str | None = Query(default=None, description="A source node id: only its feeder."),
    code: FindingCode | None = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> ChecksRead:
    """The back-office check of the model (any role); the same checks run before every trace.

    Findings: `island` (nodes no source supplies in the normal state), `sources_paralleled`
    (two sources joined through closed devices), `closed_loop` (a loop inside one feeder),
    `missing_node` (stored devices or customers naming a node the model lacks),
    `duplicate_name` (within a feeder), `empty_transformer` (a transformer area without
    customers), `busy_branch_changed` (a branch node carrying many customers changed
    recently). Each names its elements and the feeders it concerns; those on the feeders an
    outage touches travel with its trace as warnings.
    """
    report = await model.check_network(uow, network, settings.check_policy, feeder)
    return ChecksRead.of(report, code, limit, settings.timezone)


@router.post(
    "/network/spot-checks",
    tags=["network"],
    status_code=201,
    responses={**_AUTH_ERRORS, 422: {"model": ErrorRead, "description": "`field` names it."}},
)
async def record_spot_check(
    body: SpotCheckCreate, principal: FieldStaff, uow: Uow, network: Network, settings: Settings
) -> SpotCheckRead:
    """Record what field staff found on site (role field).

    Observations: `customer_node` (the account is fed from this node), `customer_absent`,
    `device_state` (its normal state), `device_absent`, `node_name`. Each one the model
    contradicts opens a discrepancy linked to the last change of the element, or to the import
    that brought it in, so the process that let it through can be found; one already open for
    the same observation is reused.
    """
    result = await discrepancies.record_spot_check(
        body.to_command(), principal.sub, uow, network, settings.timezone
    )
    await uow.commit()
    return SpotCheckRead.of(result)


@router.get("/network/discrepancies", tags=["network"], responses=_AUTHENTICATED)
async def list_discrepancies(
    _principal: CurrentPrincipal,
    uow: Uow,
    settings: Settings,
    status: Literal["open", "closed"] | None = None,
    element_id: str | None = None,
    source_id: str | None = Query(default=None, description="A spot check or complaint id."),
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[DiscrepancyRead]:
    """Discrepancies between the model and the field, newest first (any role)."""
    found = await discrepancies.list_discrepancies(
        uow, status=status, element_id=element_id, source_id=source_id, limit=limit
    )
    return [DiscrepancyRead.of(d, settings.timezone) for d in found]


@router.get(
    "/network/discrepancies/{discrepancy_id}",
    tags=["network"],
    responses={**_AUTHENTICATED, 404: {"model": ErrorRead, "description": "No such record."}},
)
async def get_discrepancy(
    discrepancy_id: str, _principal: CurrentPrincipal, uow: Uow, settings: Settings
) -> DiscrepancyRead:
    """One discrepancy (any role), with the change that let it through."""
    return DiscrepancyRead.of(
        await discrepancies.get_discrepancy(discrepancy_id, uow), settings.timezone
    )


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
    offset. A start closer than the kind's minimum lead time (planned 7 days, temporary 24
    hours by default) is accepted with a `lead_time_short` warning, here and on every trace.
    The plan is stored as `planned` and announced as `outage.planned`; the trace follows at
    once and moves it to `traced`, emitting `outage.traced` with the affected accounts.
    """
    outage = await outages.plan_outage(
        body.to_command(), principal.sub, uow, network, settings.timezone, settings.lead_times
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
    newest = await outages.list_outages(limit, uow)
    return [OutageRead.of(outage, settings.timezone) for outage in newest]


@router.get(
    "/outages/{outage_id}",
    tags=["outages"],
    responses={**_AUTHENTICATED, 404: {"model": ErrorRead, "description": "No such outage."}},
)
async def get_outage(
    outage_id: str, _principal: CurrentPrincipal, uow: Uow, settings: Settings
) -> OutageRead:
    """One outage (any role): its plan, status and the summary of its last trace."""
    return OutageRead.of(await outages.get_outage(outage_id, uow), settings.timezone)


@router.post("/outages/{outage_id}/cancel", tags=["outages"], responses=_OUTAGE_ERRORS)
async def cancel_outage(
    outage_id: str, body: OutageCancel, principal: PlannerOrDispatcher, uow: Uow, settings: Settings
) -> OutageRead:
    """Cancel an outage (role planner or dispatcher), e.g. for weather on the day.

    Emits `outage.cancelled`, so that every customer already notified is told it is off, and
    nobody else. An outage cancelled before its trace is never traced; a completed outage
    cannot be cancelled.
    """
    outage = await outages.cancel_outage(outage_id, body.reason, principal.sub, uow)
    await uow.commit()
    return OutageRead.of(outage, settings.timezone)


@router.post("/outages/{outage_id}/reschedule", tags=["outages"], responses=_OUTAGE_ERRORS)
async def reschedule_outage(
    outage_id: str, body: OutageReschedule, principal: Planner, uow: Uow, settings: Settings
) -> OutageRead:
    """Move an outage to new times, or extend it once begun (role planner).

    Emits `outage.rescheduled` with the previous times, so that everyone told is told again.
    Refused (409) once the outage is cancelled or completed, and for a new start once it has
    begun: then only `ends_at` may move. A new start is checked against the lead time again.
    """
    outage = await outages.reschedule_outage(
        outage_id,
        body.starts_at,
        body.ends_at,
        body.reason,
        principal.sub,
        uow,
        settings.lead_times,
    )
    await uow.commit()
    return OutageRead.of(outage, settings.timezone)


@router.post("/outages/{outage_id}/complete", tags=["outages"], responses=_OUTAGE_ERRORS)
async def complete_outage(
    outage_id: str, principal: Completer, uow: Uow, settings: Settings
) -> OutageRead:
    """Record that the work ended and supply is restored (role planner, dispatcher or field).

    Emits `outage.completed`. Refused (409) before the outage has begun, and once cancelled
    or completed.
    """
    outage = await outages.complete_outage(outage_id, principal.sub, uow)
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
    body: TraceRequest,
    _principal: PlannerOrReviewer,
    uow: Uow,
    network: Network,
    settings: Settings,
) -> TraceRead:
    """Trace switching operations without registering anything (role planner or reviewer).

    Answers what an outage plan with these operations would cut off: every affected account
    with the opened device that isolates it, its node and feeder, the transformer areas and
    feeders in the scope, and warnings (`parallel_sources`, `operation_no_effect`,
    `no_customers_affected`, and the checks' findings on the touched feeders). `elapsed_ms`
    is the time the trace and those checks took inside the service.
    """
    what_if = await outages.trace_what_if(body.operations, uow, network, settings.check_policy)
    return TraceRead.of(what_if.result, what_if.elapsed_ms)
