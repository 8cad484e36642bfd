"""Signed webhooks: carrier delivery reports, customer replies and call results."""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi import APIRouter, Request
from pydantic import BaseModel, ValidationError

from services.receipts import usecases
from services.receipts.api.deps import Settings, Uow
from services.receipts.api.schemas import (
    CallBatch,
    ReplyAck,
    ReplyBatch,
    SmsStatusBatch,
    WebhookAck,
    inline_schema,
)
from shared.errors import InvalidInput, Unauthenticated
from shared.signing import SIGNATURE_HEADER, SignatureError, verify
from shared.web import ErrorBody

router = APIRouter(prefix="/v1", tags=["webhooks"])

B = TypeVar("B", bound=BaseModel)


def _signed(batch: type[BaseModel]) -> dict[str, Any]:
    """OpenAPI of a webhook whose raw body is signed: the header and the body schema."""
    return {
        "responses": {
            401: {"model": ErrorBody, "description": "Signature missing, wrong or too old."},
            422: {"model": ErrorBody, "description": "Malformed batch; `field` names the item."},
        },
        "openapi_extra": {
            "parameters": [
                {
                    "name": SIGNATURE_HEADER,
                    "in": "header",
                    "required": True,
                    "description": (
                        "`t=<unix seconds>,v1=<hex HMAC-SHA256(secret, '<t>.<raw body>')>`"
                    ),
                    "schema": {"type": "string"},
                }
            ],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": inline_schema(batch)}},
            },
        },
    }


async def _verified(request: Request, settings: Settings, model: type[B]) -> B:
    """The body, once its signature is checked (before it is even parsed)."""
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
        return model.model_validate_json(body)
    except ValidationError as exc:
        raise _invalid_batch(exc) from exc


@router.post("/webhooks/sms-status", **_signed(SmsStatusBatch))
async def receive_sms_status(request: Request, settings: Settings, uow: Uow) -> WebhookAck:
    """Receive a batch of carrier delivery reports (SMPP/CMPP ``stat`` words or codes).

    Authenticated by the ``X-Signature`` HMAC over the raw body instead of a bearer token; a
    signature older than the tolerance window is refused, so a captured request cannot be
    replayed later. Reports already stored are counted as duplicates and change nothing, so a
    carrier may safely push a batch again. Each new report emits one ``sms.delivered``.
    """
    batch = await _verified(request, settings, SmsStatusBatch)
    reports = [report.to_domain(settings.timezone) for report in batch.reports]
    intake = await usecases.record_delivery_reports(reports, uow)
    await uow.commit()
    return WebhookAck(code=0, accepted=intake.accepted, duplicates=intake.duplicates)


@router.post("/webhooks/sms-reply", **_signed(ReplyBatch))
async def receive_sms_replies(request: Request, settings: Settings, uow: Uow) -> ReplyAck:
    """Receive customers' replies to notice SMS (uplink messages), signed like reports.

    A reply such as 1, 收到 or 确认 acknowledges the newest notice its phone was sent for each
    outage not yet ended (``notice.acknowledged``); from an area contact it also confirms the
    area's posting. Every reply is kept and listed at ``GET /v1/replies`` for the operators.
    """
    batch = await _verified(request, settings, ReplyBatch)
    replies = [reply.to_domain(settings.timezone) for reply in batch.replies]
    intake = await usecases.record_replies(replies, uow)
    await uow.commit()
    return ReplyAck(
        code=0,
        accepted=intake.accepted,
        duplicates=intake.duplicates,
        acknowledged=intake.acknowledged,
    )


@router.post("/webhooks/voice-status", **_signed(CallBatch))
async def receive_voice_status(request: Request, settings: Settings, uow: Uow) -> WebhookAck:
    """Receive the outcomes of notice calls from the voice platform, signed like reports.

    ``answered`` and ``confirmed`` (keypress) are deliveries, and ``confirmed`` acknowledges the
    notice; ``no_answer`` and ``busy`` leave it unconfirmed (a later attempt may still get
    through); ``failed`` means the call could not be placed. Repeats change nothing.
    """
    batch = await _verified(request, settings, CallBatch)
    calls = [call.to_domain(settings.timezone) for call in batch.calls]
    intake = await usecases.record_call_reports(calls, uow)
    await uow.commit()
    return WebhookAck(code=0, accepted=intake.accepted, duplicates=intake.duplicates)


def _invalid_batch(exc: ValidationError) -> InvalidInput:
    errors = [
        {"field": _field_path(error["loc"]), "message": error["msg"]}
        for error in exc.errors(include_url=False)
    ]
    first = errors[0] if errors else {"field": "body", "message": "invalid"}
    return InvalidInput(
        f"invalid batch: {first['field']}: {first['message']}",
        field=first["field"],
        errors=errors,
    )


def _field_path(location: tuple[Any, ...]) -> str:
    """``("reports", 3, "stat")`` → ``reports[3].stat``."""
    path = ""
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "body"
