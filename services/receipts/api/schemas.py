"""Request and response bodies of the receipts API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from services.receipts.domain.coverage import Coverage, DeliveryTally
from services.receipts.domain.reports import CarrierReport, assume_timezone
from shared.timeutil import local

MAX_REPORTS_PER_BATCH = 1000


class SmsReportIn(BaseModel):
    """One delivery report as the carrier pushes it (SMPP/CMPP receipt fields)."""

    model_config = ConfigDict(extra="ignore")

    provider_message_id: str = Field(min_length=1, max_length=100)
    message_id: str = Field(min_length=1, max_length=100, description="Our id of the message.")
    phone: str = Field(default="", max_length=32, description="Destination, E.164.")
    stat: str = Field(
        min_length=1,
        max_length=32,
        description="Carrier status word (DELIVRD, UNDELIV, EXPIRED, …) or CMPP code (MK:0001).",
    )
    err: str = Field(default="", max_length=64, description="Carrier error code, kept as sent.")
    submitted_at: datetime | None = Field(
        default=None, description="Without an offset, read as local time (Asia/Shanghai)."
    )
    done_at: datetime | None = Field(
        default=None, description="When the carrier reached this state; local time if naive."
    )

    def to_domain(self, timezone: str) -> CarrierReport:
        return CarrierReport(
            provider_message_id=self.provider_message_id,
            message_id=self.message_id,
            phone=self.phone,
            stat=self.stat,
            err=self.err,
            submitted_at=assume_timezone(self.submitted_at, timezone)
            if self.submitted_at
            else None,
            done_at=assume_timezone(self.done_at, timezone) if self.done_at else None,
        )


class SmsStatusBatch(BaseModel):
    """A push of delivery reports; carriers batch several reports per request."""

    model_config = ConfigDict(extra="ignore")

    reports: list[SmsReportIn] = Field(min_length=1, max_length=MAX_REPORTS_PER_BATCH)


class WebhookAck(BaseModel):
    """The acknowledgement carriers expect: ``code`` 0 means do not push this batch again."""

    code: int = Field(default=0, description="0: received; the carrier stops retrying.")
    accepted: int = Field(description="Reports stored for the first time.")
    duplicates: int = Field(description="Reports already stored (a re-push), ignored.")


class DeliveryTallyRead(BaseModel):
    sent: int = Field(description="Handed to the carrier.")
    delivered: int
    failed: int
    expired: int
    pending: int = Field(description="Sent, with no final receipt yet.")
    failed_at_submission: int = Field(description="Refused by the carrier at submission.")

    @classmethod
    def from_domain(cls, tally: DeliveryTally) -> DeliveryTallyRead:
        return cls(
            sent=tally.sent,
            delivered=tally.delivered,
            failed=tally.failed,
            expired=tally.expired,
            pending=tally.pending,
            failed_at_submission=tally.failed_at_submission,
        )


class CoverageRead(BaseModel):
    outage_id: str
    list_version: int | None = Field(description="Newest approved list version; null if none.")
    accounts_targeted: int = Field(description="Accounts on the newest approved list.")
    recipients: int = Field(description="Recipients (distinct addresses) on that list.")
    accounts_without_recipient: int = Field(
        description="Targeted accounts with no valid number, so no notice could name them."
    )
    cancelled: bool
    cancelled_at: datetime | None = Field(description="Local time (settings.timezone).")
    notice: DeliveryTallyRead = Field(description="Outage notices.")
    cancellation: DeliveryTallyRead = Field(description="Cancellation notices.")
    accounts_reached: int = Field(description="Targeted accounts named by a delivered notice.")
    accounts_unreached_count: int
    accounts_unreached: list[str] = Field(
        description="The first 100 unreached account ids that the list names, in id order."
    )

    @classmethod
    def from_domain(cls, coverage: Coverage, timezone: str) -> CoverageRead:
        return cls(
            outage_id=coverage.outage_id,
            list_version=coverage.list_version,
            accounts_targeted=coverage.accounts_targeted,
            recipients=coverage.recipients,
            accounts_without_recipient=coverage.accounts_without_recipient,
            cancelled=coverage.cancelled,
            cancelled_at=local(coverage.cancelled_at, timezone) if coverage.cancelled_at else None,
            notice=DeliveryTallyRead.from_domain(coverage.notice),
            cancellation=DeliveryTallyRead.from_domain(coverage.cancellation),
            accounts_reached=coverage.accounts_reached,
            accounts_unreached_count=coverage.accounts_unreached,
            accounts_unreached=list(coverage.accounts_unreached_shown),
        )


class ErrorRead(BaseModel):
    error: str
    detail: str
    field: str | None = None


def inline_schema(model: type[BaseModel]) -> dict[str, Any]:
    """``model``'s JSON schema with nested models written in place.

    The webhook reads its raw body (the signature covers the exact bytes), so FastAPI cannot
    document the body itself; this schema goes into ``openapi_extra``, where ``$defs``
    references would not resolve.
    """
    schema = model.model_json_schema()
    definitions = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            reference = node.get("$ref")
            if isinstance(reference, str) and reference.startswith("#/$defs/"):
                return resolve(definitions[reference.removeprefix("#/$defs/")])
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    resolved: dict[str, Any] = resolve(schema)
    return resolved
