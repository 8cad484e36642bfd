"""Routes that measure: coverage of an outage, evidence for one account, reports over time."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response

from services.receipts import usecases
from services.receipts.adapters.chart import render_coverage_png
from services.receipts.adapters.fonts import FontUnavailable
from services.receipts.adapters.pdf import render_evidence_pdf
from services.receipts.api.deps import Now, Policy, Settings, Uow
from services.receipts.api.schemas import (
    CoverageRead,
    EvidenceRead,
    GroupRead,
    Moment,
    ReportRead,
)
from services.receipts.domain.measures import CAUSES, GroupBy, GroupFigures
from services.receipts.domain.reports import assume_timezone
from shared.auth import CurrentPrincipal
from shared.errors import InvalidInput
from shared.timeutil import local
from shared.web import ErrorBody

router = APIRouter(prefix="/v1")

# Excel opens a UTF-8 CSV as GBK unless it starts with a byte order mark.
BOM = "\ufeff"
_AUTH: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "No or invalid bearer token."}
}
_OUTAGE: dict[int | str, dict[str, Any]] = {
    **_AUTH,
    404: {"model": ErrorBody, "description": "Nothing about this outage reached receipts."},
}
_FONT: dict[int | str, dict[str, Any]] = {
    503: {"model": ErrorBody, "description": "The CJK font is not installed."}
}
AccountId = Annotated[str, Query(min_length=1, max_length=100, description="The account.")]


@router.get("/outages/{outage_id}/coverage", tags=["coverage"], responses=_OUTAGE)
async def get_coverage(
    outage_id: str,
    _principal: CurrentPrincipal,
    settings: Settings,
    policy: Policy,
    now: Now,
    uow: Uow,
) -> CoverageRead:
    """How far the notices of an outage reached, on every channel (any role).

    Counts outage and cancellation notices by outcome (SMS, as the carriers report them, and
    every channel apart), and the
    targeted accounts of the newest approved list that were reached (≥ 1 confirmed delivery:
    a delivered SMS, an answered call, a signed or left slip, a confirmed posting, a successful
    visit), acknowledged, escalated, found unreachable, and not reached by the start; with
    the deadline and the time from hand-over to delivery per channel.
    """
    coverage = await usecases.outage_coverage(outage_id, policy, now, uow)
    return CoverageRead.from_domain(coverage, settings.timezone)


@router.get(
    "/outages/{outage_id}/coverage.csv",
    tags=["coverage"],
    responses={**_OUTAGE, 200: {"content": {"text/csv": {}}}},
    response_class=Response,
)
async def get_coverage_csv(
    outage_id: str, _principal: CurrentPrincipal, settings: Settings, uow: Uow
) -> Response:
    """One line per targeted account: reached when and how, acknowledged, escalation step."""
    lines = await usecases.coverage_by_account(outage_id, uow)
    tz = settings.timezone
    rows: list[Sequence[object]] = [
        (
            "account_id",
            "account_name",
            "feeder",
            "reached",
            "reached_at",
            "reached_via",
            "acknowledged_at",
            "escalation_step",
            "visit",
            "unreachable",
        )
    ]
    for line in lines:
        ledger = line.ledger
        first = ledger.first_confirmation
        rows.append(
            (
                ledger.account_id,
                line.account_name,
                line.feeder,
                int(ledger.reached),
                _iso(first.at if first else None, tz),
                first.channel if first else "",
                _iso(ledger.acknowledged_at, tz),
                ledger.step,
                ledger.visit.status.value if ledger.visit else "",
                int(ledger.unreachable),
            )
        )
    return _csv(rows, f"coverage-{outage_id}.csv")


@router.get(
    "/outages/{outage_id}/coverage.png",
    tags=["coverage"],
    responses={**_OUTAGE, **_FONT, 200: {"content": {"image/png": {}}}},
    response_class=Response,
)
async def get_coverage_chart(
    outage_id: str,
    _principal: CurrentPrincipal,
    settings: Settings,
    policy: Policy,
    now: Now,
    uow: Uow,
) -> Response:
    """Coverage over time as a PNG: accounts reached and acknowledged, deadline and start.

    The time axis runs from the list's approval (or the first notice) to the start of the
    outage, or to now when the start is unknown.
    """
    record, points = await usecases.outage_timeline(outage_id, uow)
    candidates = [m.sent_at for m in record.messages if m.sent_at]
    if record.approved is not None:
        candidates.append(record.approved.approved_at)
    candidates.extend(point.at for point in points[:1])
    since = min(candidates, default=now)
    timing = record.timing
    until = timing.starts_at if timing and timing.starts_at > since else max(now, since)
    try:
        png = render_coverage_png(
            points,
            outage_id=outage_id,
            targeted=len(record.targeted),
            since=since,
            until=until,
            deadline=policy.deadline(timing) if timing else None,
            starts_at=timing.starts_at if timing else None,
            font_path=settings.font_path,
            font_index=settings.font_index,
            timezone=settings.timezone,
        )
    except FontUnavailable as exc:
        return _font_missing(exc)
    return Response(png, media_type="image/png")


@router.get(
    "/outages/{outage_id}/evidence",
    tags=["evidence"],
    responses={**_OUTAGE, 404: {"model": ErrorBody, "description": "Unknown outage or account."}},
)
async def get_evidence(
    outage_id: str,
    account_id: AccountId,
    _principal: CurrentPrincipal,
    settings: Settings,
    policy: Policy,
    uow: Uow,
) -> EvidenceRead:
    """Was this customer told, and in time? Every notice, receipt and acknowledgement (any role).

    Lists the account's contacts on the approved list and, in order, every notice sent to it
    on every channel (to whom, masked), each carrier receipt, call result, reply, signature,
    posting confirmation, escalation and complaint; and the lead time achieved from the first
    confirmed delivery to the start, against the lead time the rules require for the kind.
    """
    pack = await usecases.account_evidence(
        outage_id, account_id, policy, settings.required_leads(), uow
    )
    return EvidenceRead.from_domain(pack, settings.timezone)


@router.get(
    "/outages/{outage_id}/evidence.pdf",
    tags=["evidence"],
    responses={
        **_OUTAGE,
        **_FONT,
        404: {"model": ErrorBody, "description": "Unknown outage or account."},
        200: {"content": {"application/pdf": {}}},
    },
    response_class=Response,
)
async def get_evidence_pdf(
    outage_id: str,
    account_id: AccountId,
    _principal: CurrentPrincipal,
    settings: Settings,
    policy: Policy,
    now: Now,
    uow: Uow,
) -> Response:
    """The same evidence as a PDF (A4, Chinese, its font embedded) to hand over or file."""
    pack = await usecases.account_evidence(
        outage_id, account_id, policy, settings.required_leads(), uow
    )
    try:
        pdf = render_evidence_pdf(
            pack,
            font_path=settings.font_path,
            font_index=settings.font_index,
            timezone=settings.timezone,
            generated_at=now,
        )
    except FontUnavailable as exc:
        return _font_missing(exc)
    filename = f"evidence-{outage_id}-{account_id}.pdf"
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )


Since = Annotated[
    Moment,
    Query(alias="from", description="Outages starting at or after this (local if naive)."),
]
Until = Annotated[
    Moment, Query(alias="to", description="Outages starting before this (local if naive).")
]
GroupedBy = Annotated[GroupBy, Query(description="feeder, kind or team (the planner).")]


@router.get("/reports", tags=["reports"], responses=_AUTH)
async def get_report(
    since: Since,
    until: Until,
    group_by: GroupedBy,
    _principal: CurrentPrincipal,
    settings: Settings,
    now: Now,
    uow: Uow,
) -> ReportRead:
    """Whether notices work, over the outages starting in ``[from, to)`` (any role).

    Per group: accounts targeted (notified), reached, acknowledged and escalated, those not
    reached by the start of outages that have begun, complaints by cause (total and per 1,000
    notified), and time-to-delivery percentiles per channel.
    """
    figures = await _report(since, until, group_by, settings.timezone, now, uow)
    return ReportRead(
        since=local(assume_timezone(since, settings.timezone), settings.timezone),
        until=local(assume_timezone(until, settings.timezone), settings.timezone),
        group_by=group_by,
        groups=[GroupRead.from_domain(group) for group in figures],
    )


@router.get(
    "/reports.csv",
    tags=["reports"],
    responses={**_AUTH, 200: {"content": {"text/csv": {}}}},
    response_class=Response,
)
async def get_report_csv(
    since: Since,
    until: Until,
    group_by: GroupedBy,
    _principal: CurrentPrincipal,
    settings: Settings,
    now: Now,
    uow: Uow,
) -> Response:
    """The report as CSV, one line per group (UTF-8 with BOM, for Excel)."""
    figures = await _report(since, until, group_by, settings.timezone, now, uow)
    channels = sorted({c for group in figures for c in group.time_to_delivery})
    header: list[str] = [
        group_by.value,
        "outages",
        "accounts_targeted",
        "accounts_reached",
        "reached_pct",
        "accounts_acknowledged",
        "accounts_escalated",
        "outages_started",
        "accounts_unreached_at_start",
        *(f"complaints_{cause}" for cause in CAUSES),
        *(f"complaints_per_1000_{cause}" for cause in CAUSES),
        *(f"time_to_delivery_{c}_{p}_s" for c in channels for p in ("p50", "p90", "p99")),
    ]
    rows: list[Sequence[object]] = [header]
    for group in figures:
        rows.append(_report_row(group, channels))
    return _csv(rows, f"report-{group_by.value}.csv")


async def _report(
    since: datetime, until: datetime, group_by: GroupBy, timezone: str, now: datetime, uow: Uow
) -> list[GroupFigures]:
    start, end = assume_timezone(since, timezone), assume_timezone(until, timezone)
    if end <= start:
        raise InvalidInput("`to` must be later than `from`", field="to")
    return await usecases.report(start, end, group_by, now, uow)


def _report_row(group: GroupFigures, channels: Iterable[str]) -> list[object]:
    share = group.reached_share
    row: list[object] = [
        group.group,
        group.outages,
        group.accounts_targeted,
        group.accounts_reached,
        "" if share is None else round(100 * share, 1),
        group.accounts_acknowledged,
        group.accounts_escalated,
        group.outages_started,
        group.accounts_unreached_at_start,
        *(group.complaints.get(cause, 0) for cause in CAUSES),
        *(group.complaints_per_1000.get(cause, 0.0) for cause in CAUSES),
    ]
    for channel in channels:
        figures = group.time_to_delivery.get(channel)
        for value in (figures.p50, figures.p90, figures.p99) if figures else (None,) * 3:
            row.append("" if value is None else round(value, 1))
    return row


def _iso(moment: datetime | None, timezone: str) -> str:
    return local(moment, timezone).isoformat() if moment else ""


def _csv(rows: Iterable[Sequence[object]], filename: str) -> Response:
    buffer = io.StringIO()
    buffer.write(BOM)
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return Response(
        buffer.getvalue().encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _font_missing(exc: FontUnavailable) -> JSONResponse:
    return JSONResponse({"error": "font_unavailable", "detail": str(exc)}, status_code=503)
