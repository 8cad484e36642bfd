"""Routes: meter events in bulk, the meter registry, reconciliations, suggestions, reports."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request

from services.reconciliation import usecases
from services.reconciliation.api.deps import (
    Dispatcher,
    Metering,
    Network,
    Now,
    Reader,
    Settings,
    Uow,
)
from services.reconciliation.api.schemas import (
    IngestRead,
    MetersImportRead,
    ReconciliationRead,
    ReportRead,
    SuggestionPage,
    SuggestionRead,
)
from services.reconciliation.domain.meters import CSV_COLUMNS
from shared.web import ErrorBody

router = APIRouter(prefix="/v1")

_AUTH: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "No or invalid bearer token."},
    403: {"model": ErrorBody, "description": "The caller's role may not do this."},
}
_INPUT: dict[int | str, dict[str, Any]] = {
    **_AUTH,
    422: {"model": ErrorBody, "description": "A bad row; `row` and `field` say which."},
}
_OUTAGE: dict[int | str, dict[str, Any]] = {
    **_AUTH,
    404: {"model": ErrorBody, "description": "Nothing about this outage reached the service."},
}
_EVENT_SCHEMA = {
    "type": "object",
    "required": ["meter_id", "event", "occurred_at"],
    "properties": {
        "meter_id": {"type": "string", "maxLength": 64},
        "account_id": {"type": "string", "maxLength": 64},
        "event": {"type": "string", "enum": ["power_lost", "power_restored"]},
        "cause": {"type": "string", "enum": ["restoration", "status_check"]},
        "occurred_at": {"type": "string", "format": "date-time"},
        "source_system": {"type": "string", "maxLength": 100},
    },
}


@router.post(
    "/meter-events",
    tags=["meters"],
    responses=_INPUT,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "text/csv": {
                    "schema": {"type": "string"},
                    "example": ",".join(CSV_COLUMNS)
                    + "\nM00000042,,power_lost,,2026-11-28T08:00:05+08:00,用电信息采集系统\n",
                },
                "application/json": {"schema": {"type": "array", "items": _EVENT_SCHEMA}},
            },
        }
    },
)
async def post_meter_events(
    request: Request, _caller: Metering, settings: Settings, uow: Uow
) -> IngestRead:
    """Receive a batch of meter power-off / power-on events from the metering system.

    The body is CSV (``text/csv``: ``meter_id,account_id,event,cause,occurred_at,
    source_system``; ``account_id``, ``cause`` and ``source_system`` may be left out) or JSON
    (``application/json``: an array of objects with those fields), up to
    ``RECONCILIATION_MAX_BATCH_EVENTS`` events. ``event`` is ``power_lost`` or
    ``power_restored``; a restoration's ``cause`` is ``restoration`` (supply came back) or
    ``status_check`` (a read or ping found supply). Times without an offset are local time.
    One bad row rejects the batch (422 naming the row and field). Events already received are
    counted as duplicates and change nothing; events for the window of an outage already
    reconciled have it reconciled again.
    """
    events = usecases.parse_batch(
        await request.body(), request.headers.get("content-type", ""), settings
    )
    result = await usecases.ingest(events, uow, settings)
    await uow.commit()
    return IngestRead(
        received=result.received,
        stored=result.stored,
        duplicates=result.duplicates,
        reopened_outages=result.reopened,
    )


@router.post(
    "/meters/import",
    tags=["meters"],
    responses=_INPUT,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "text/csv": {
                    "schema": {"type": "string"},
                    "example": "meter_id,account_id\nM00000042,A00000042\n",
                }
            },
        }
    },
)
async def import_meters(request: Request, _caller: Metering, uow: Uow) -> MetersImportRead:
    """Load meter → account pairs (``meters.csv``: ``meter_id,account_id``), all or nothing.

    Until the contact registry serves them, this is where meters whose id does not follow the
    default rule (``M`` + the account id without its prefix) are mapped. A meter already known
    is mapped again to the account given.
    """
    result = await usecases.import_meters(await request.body(), uow)
    await uow.commit()
    return MetersImportRead(**result)


@router.get("/outages/{outage_id}/reconciliation", tags=["reconciliation"], responses=_OUTAGE)
async def get_reconciliation(
    outage_id: str, _reader: Reader, settings: Settings, uow: Uow
) -> ReconciliationRead:
    """An outage's notice list against its meters: missed, wrong, confirmed and unknown
    accounts, and the model fixes the evidence suggested."""
    view = await usecases.reconciliation_view(outage_id, uow)
    return ReconciliationRead.of(view, settings.timezone)


@router.post(
    "/outages/{outage_id}/reconcile",
    tags=["reconciliation"],
    responses={
        **_OUTAGE,
        409: {"model": ErrorBody, "description": "Cancelled, not traced, or not over yet."},
        503: {"model": ErrorBody, "description": "The topology service did not answer."},
    },
)
async def reconcile_now(
    outage_id: str,
    _caller: Dispatcher,
    settings: Settings,
    network: Network,
    now: Now,
    request: Request,
    uow: Uow,
) -> ReconciliationRead:
    """Reconcile an outage now, without waiting for the grace period (its window must be over).

    The worker does this by itself once the window and ``RECONCILIATION_GRACE_PERIOD_MIN`` have
    passed; this is for a supervisor who does not want to wait, and for demonstrations.
    """
    await usecases.reconcile(
        outage_id,
        uow_factory=request.app.state.runtime.uow,
        network=network,
        settings=settings,
        now=now,
        force=True,
    )
    view = await usecases.reconciliation_view(outage_id, uow)
    return ReconciliationRead.of(view, settings.timezone)


SuggestionStatus = Literal["pending", "suggested", "applied", "superseded"]


@router.get("/suggestions", tags=["suggestions"], responses=_AUTH)
async def list_suggestions(
    _reader: Reader,
    settings: Settings,
    uow: Uow,
    status: Annotated[SuggestionStatus | None, Query(description="Only this status.")] = None,
    outage_id: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> SuggestionPage:
    """Model fixes inferred from meter evidence, newest first."""
    total, rows = await usecases.list_suggestions(status, outage_id, limit, offset, uow)
    return SuggestionPage(
        total=total, suggestions=[SuggestionRead.of(r, settings.timezone) for r in rows]
    )


@router.get(
    "/suggestions/{suggestion_id}",
    tags=["suggestions"],
    responses={**_AUTH, 404: {"model": ErrorBody, "description": "No such suggestion."}},
)
async def get_suggestion(
    suggestion_id: str, _reader: Reader, settings: Settings, uow: Uow
) -> SuggestionRead:
    """One suggested fix: the change batch it proposes, its evidence, its alternatives."""
    return SuggestionRead.of(await usecases.suggestion(suggestion_id, uow), settings.timezone)


@router.get("/reports", tags=["reports"], responses=_INPUT)
async def get_report(
    _reader: Reader,
    settings: Settings,
    uow: Uow,
    since: Annotated[
        datetime,
        Query(alias="from", description="Windows ending at or after this (local if naive)."),
    ],
    until: Annotated[
        datetime, Query(alias="to", description="Windows ending before this (local if naive).")
    ],
) -> ReportRead:
    """Measured missed-notice and wrong-notice rates of the outages reconciled in a period."""
    since, until = usecases.assume_local(since, settings), usecases.assume_local(until, settings)
    report = await usecases.report(since, until, uow)
    return ReportRead.of(report, since, until, settings.timezone)
