"""Routes of the receipts service: the carrier webhook and outage coverage."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import ValidationError

from services.receipts import usecases
from services.receipts.api.deps import Settings, Uow
from services.receipts.api.schemas import (
    CoverageRead,
    ErrorRead,
    SmsStatusBatch,
    WebhookAck,
    inline_schema,
)
from shared.auth import CurrentPrincipal
from shared.errors import InvalidInput, Unauthenticated
from shared.signing import SIGNATURE_HEADER, SignatureError, verify

router = APIRouter(prefix="/v1")


@router.post(
    "/webhooks/sms-status",
    tags=["webhooks"],
    responses={
        401: {"model": ErrorRead, "description": "Signature missing, wrong or too old."},
        422: {"model": ErrorRead, "description": "Malformed batch; `field` names the report."},
    },
    openapi_extra={
        "parameters": [
            {
                "name": SIGNATURE_HEADER,
                "in": "header",
                "required": True,
                "description": "`t=<unix seconds>,v1=<hex HMAC-SHA256(secret, '<t>.<raw body>')>`",
                "schema": {"type": "string"},
            }
        ],
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": inline_schema(SmsStatusBatch)}},
        },
    },
)
async def receive_sms_status(request: Request, settings: Settings, uow: Uow) -> WebhookAck:
    """Receive a batch of carrier delivery reports (SMPP/CMPP ``stat`` words or codes).

    Authenticated by the ``X-Signature`` HMAC over the raw body instead of a bearer token; a
    signature older than the tolerance window is refused, so a captured request cannot be
    replayed later. Reports already stored are counted as duplicates and change nothing, so a
    carrier may safely push a batch again. Each new report emits one ``sms.delivered``.
    """
    body = await request.body()
    try:
        verify(
            settings.webhook_secret_values(),
            body,
            request.headers.get(SIGNATURE_HEADER),
            tolerance_s=settings.webhook_tolerance_s,
        )
    except SignatureError as exc:
        raise Unauthenticated(str(exc), field=SIGNATURE_HEADER) from exc
    try:
        batch = SmsStatusBatch.model_validate_json(body)
    except ValidationError as exc:
        raise _invalid_batch(exc) from exc
    reports = [report.to_domain(settings.timezone) for report in batch.reports]
    intake = await usecases.record_delivery_reports(reports, uow)
    await uow.commit()
    return WebhookAck(code=0, accepted=intake.accepted, duplicates=intake.duplicates)


@router.get(
    "/outages/{outage_id}/coverage",
    tags=["coverage"],
    responses={
        401: {"model": ErrorRead, "description": "No or invalid bearer token."},
        404: {"model": ErrorRead, "description": "Nothing about this outage reached receipts."},
    },
)
async def get_coverage(
    outage_id: str, _principal: CurrentPrincipal, settings: Settings, uow: Uow
) -> CoverageRead:
    """How far the notices of an outage reached, as the carriers' delivery reports tell.

    Counts outage notices and cancellation notices separately (sent, delivered, failed,
    expired, pending, refused at submission) and the targeted accounts of the newest approved
    list that a delivered notice named. Any authenticated role may read it.
    """
    coverage = await usecases.outage_coverage(outage_id, uow)
    return CoverageRead.from_domain(coverage, settings.timezone)


def _invalid_batch(exc: ValidationError) -> InvalidInput:
    errors = [
        {"field": _field_path(error["loc"]), "message": error["msg"]}
        for error in exc.errors(include_url=False)
    ]
    first = errors[0] if errors else {"field": "body", "message": "invalid"}
    return InvalidInput(
        f"invalid delivery report batch: {first['field']}: {first['message']}",
        field=first["field"],
        errors=errors,
    )


def _field_path(location: tuple[Any, ...]) -> str:
    """``("reports", 3, "stat")`` → ``reports[3].stat``."""
    path = ""
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "body"
