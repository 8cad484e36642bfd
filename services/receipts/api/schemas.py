"""Request and response bodies of the receipts API.

Times without an offset are read as local time (settings.timezone, Asia/Shanghai); times in
responses are local time with their offset.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from services.receipts.domain.calls import CallOutcome, CallReport
from services.receipts.domain.complaints import Cause, ComplaintType
from services.receipts.domain.coverage import Coverage, DeliveryTally
from services.receipts.domain.evidence import EvidencePack
from services.receipts.domain.ledger import TaskKind, TaskOutcome, TaskStatus
from services.receipts.domain.measures import GroupBy, GroupFigures, Percentiles
from services.receipts.domain.replies import Reply, ReplyIntent
from services.receipts.domain.reports import CarrierReport, assume_timezone
from services.receipts.domain.worklist import TaskClosing
from shared.timeutil import ensure_aware, local

MAX_REPORTS_PER_BATCH = 1000
EARLIEST = datetime(2000, 1, 1)
LATEST = datetime(2100, 1, 1)


def plausible(moment: datetime) -> datetime:
    """A time a notice could concern; anything else is a typo or a broken clock."""
    if not EARLIEST <= moment.replace(tzinfo=None) <= LATEST:
        raise ValueError("must lie between the years 2000 and 2100")
    return moment


Moment = Annotated[datetime, AfterValidator(plausible)]


def _local(moment: datetime | None, timezone: str) -> datetime | None:
    return local(moment, timezone) if moment is not None else None


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
    submitted_at: Moment | None = Field(
        default=None, description="Without an offset, read as local time (Asia/Shanghai)."
    )
    done_at: Moment | None = Field(
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


class ReplyIn(BaseModel):
    """One uplink SMS (a customer's reply) as the SMS platform pushes it."""

    model_config = ConfigDict(extra="ignore")

    phone: str = Field(min_length=1, max_length=32, description="Sender, E.164.")
    text: str = Field(max_length=1000)
    received_at: Moment = Field(description="When the platform received it; local if naive.")

    def to_domain(self, timezone: str) -> Reply:
        return Reply(self.phone, self.text, assume_timezone(self.received_at, timezone))


class ReplyBatch(BaseModel):
    model_config = ConfigDict(extra="ignore")

    replies: list[ReplyIn] = Field(min_length=1, max_length=MAX_REPORTS_PER_BATCH)


class CallIn(BaseModel):
    """The outcome of one notice call, as the voice platform reports it."""

    model_config = ConfigDict(extra="ignore")

    message_id: str = Field(min_length=1, max_length=100, description="Our id of the call.")
    outcome: CallOutcome = Field(
        description="answered, confirmed (the customer pressed the confirmation key), "
        "no_answer, busy or failed (could not be placed)."
    )
    at: Moment = Field(description="When the call ended; local time if naive.")

    def to_domain(self, timezone: str) -> CallReport:
        return CallReport(self.message_id, self.outcome, assume_timezone(self.at, timezone))


class CallBatch(BaseModel):
    model_config = ConfigDict(extra="ignore")

    calls: list[CallIn] = Field(min_length=1, max_length=MAX_REPORTS_PER_BATCH)


class WebhookAck(BaseModel):
    """The acknowledgement carriers expect: ``code`` 0 means do not push this batch again."""

    code: int = Field(default=0, description="0: received; the carrier stops retrying.")
    accepted: int = Field(description="Reports stored for the first time.")
    duplicates: int = Field(description="Reports already stored (a re-push), ignored.")


class ReplyAck(WebhookAck):
    acknowledged: int = Field(description="New replies that acknowledge a notice.")


class DeliveryTallyRead(BaseModel):
    sent: int = Field(description="Handed to the provider.")
    delivered: int = Field(description="Confirmed: delivered, answered, signed for, posted.")
    failed: int
    expired: int = Field(description="Expired SMS, unanswered or busy calls, slips not handed.")
    pending: int = Field(description="Sent, with no final outcome yet.")
    failed_at_submission: int = Field(description="Refused by the provider at submission.")

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


class PercentilesRead(BaseModel):
    count: int = Field(description="Delivered notices measured.")
    p50_s: float | None = Field(description="Median seconds from hand-over to delivery.")
    p90_s: float | None
    p99_s: float | None

    @classmethod
    def from_domain(cls, figures: Percentiles) -> PercentilesRead:
        return cls(count=figures.count, p50_s=figures.p50, p90_s=figures.p90, p99_s=figures.p99)


def _latencies(figures: Mapping[str, Percentiles]) -> dict[str, PercentilesRead]:
    return {channel: PercentilesRead.from_domain(p) for channel, p in figures.items()}


def _share(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


class CoverageRead(BaseModel):
    outage_id: str
    list_version: int | None = Field(description="Newest approved list version; null if none.")
    kind: str | None
    starts_at: datetime | None
    deadline: datetime | None = Field(description="When every account should be reached.")
    accounts_targeted: int = Field(description="Accounts on the newest approved list.")
    recipients: int = Field(description="Recipients (addresses on channels) on that list.")
    accounts_without_recipient: int = Field(
        description="Targeted accounts with no contact at all, so no notice could name them."
    )
    cancelled: bool
    cancelled_at: datetime | None = Field(description="Local time (settings.timezone).")
    notice: DeliveryTallyRead = Field(description="Outage notices by SMS (carrier reports).")
    cancellation: DeliveryTallyRead = Field(description="Cancellation notices by SMS.")
    by_channel: dict[str, DeliveryTallyRead] = Field(
        description="Outage notices on every channel, per channel."
    )
    cancellation_by_channel: dict[str, DeliveryTallyRead] = Field(
        description="Cancellation notices on every channel, per channel."
    )
    accounts_reached: int = Field(description="Targeted accounts with ≥ 1 confirmed delivery.")
    accounts_reached_by_deadline: int
    accounts_acknowledged: int = Field(
        description="Reached accounts that confirmed themselves (reply, keypress, signature)."
    )
    accounts_escalated: int = Field(description="Accounts moved past their first channel.")
    accounts_unreachable: int = Field(
        description="Accounts a field visit found no way to tell; every means was tried."
    )
    reached_pct: float | None = Field(description="Reached, in % of targeted.")
    reached_of_reachable_pct: float | None = Field(
        description="Reached, in % of targeted less unreachable."
    )
    accounts_unreached_count: int
    accounts_unreached: list[str] = Field(
        description="The first 100 unreached account ids that the list names, in id order."
    )
    accounts_unreached_at_start: int | None = Field(
        description="Accounts not reached before the start; null until it has begun."
    )
    open_tasks: int = Field(description="Field tasks still open on the worklist.")
    time_to_delivery: dict[str, PercentilesRead] = Field(
        description="Hand-over to confirmed delivery of outage notices, per channel."
    )

    @classmethod
    def from_domain(cls, coverage: Coverage, timezone: str) -> CoverageRead:
        return cls(
            outage_id=coverage.outage_id,
            list_version=coverage.list_version,
            kind=coverage.kind,
            starts_at=_local(coverage.starts_at, timezone),
            deadline=_local(coverage.deadline, timezone),
            accounts_targeted=coverage.accounts_targeted,
            recipients=coverage.recipients,
            accounts_without_recipient=coverage.accounts_without_recipient,
            cancelled=coverage.cancelled,
            cancelled_at=_local(coverage.cancelled_at, timezone),
            notice=DeliveryTallyRead.from_domain(coverage.notice),
            cancellation=DeliveryTallyRead.from_domain(coverage.cancellation),
            by_channel={
                channel: DeliveryTallyRead.from_domain(tally)
                for channel, tally in coverage.by_channel.items()
            },
            cancellation_by_channel={
                channel: DeliveryTallyRead.from_domain(tally)
                for channel, tally in coverage.cancellation_by_channel.items()
            },
            accounts_reached=coverage.accounts_reached,
            accounts_reached_by_deadline=coverage.accounts_reached_by_deadline,
            accounts_acknowledged=coverage.accounts_acknowledged,
            accounts_escalated=coverage.accounts_escalated,
            accounts_unreachable=coverage.accounts_unreachable,
            reached_pct=_share(coverage.accounts_reached, coverage.accounts_targeted),
            reached_of_reachable_pct=_share(coverage.accounts_reached, coverage.reachable),
            accounts_unreached_count=coverage.accounts_unreached,
            accounts_unreached=list(coverage.accounts_unreached_shown),
            accounts_unreached_at_start=coverage.accounts_unreached_at_start,
            open_tasks=coverage.open_tasks,
            time_to_delivery=_latencies(coverage.time_to_delivery),
        )


class GroupRead(BaseModel):
    group: str = Field(description='Feeder, outage kind or planner; "" when unknown.')
    outages: int
    accounts_targeted: int = Field(description="Accounts on approved lists (notified).")
    accounts_reached: int
    accounts_acknowledged: int
    accounts_escalated: int
    reached_pct: float | None
    outages_started: int = Field(description="Outages begun and not cancelled.")
    accounts_unreached_at_start: int = Field(description="Over the outages begun.")
    complaints: dict[str, int] = Field(description="Complaints by cause.")
    complaints_per_1000: dict[str, float] = Field(
        description="Complaints by cause per 1,000 accounts notified."
    )
    time_to_delivery: dict[str, PercentilesRead]

    @classmethod
    def from_domain(cls, figures: GroupFigures) -> GroupRead:
        return cls(
            group=figures.group,
            outages=figures.outages,
            accounts_targeted=figures.accounts_targeted,
            accounts_reached=figures.accounts_reached,
            accounts_acknowledged=figures.accounts_acknowledged,
            accounts_escalated=figures.accounts_escalated,
            reached_pct=_share(figures.accounts_reached, figures.accounts_targeted),
            outages_started=figures.outages_started,
            accounts_unreached_at_start=figures.accounts_unreached_at_start,
            complaints=dict(figures.complaints),
            complaints_per_1000=dict(figures.complaints_per_1000),
            time_to_delivery=_latencies(figures.time_to_delivery),
        )


class ReportRead(BaseModel):
    since: datetime = Field(serialization_alias="from")
    until: datetime = Field(serialization_alias="to")
    group_by: GroupBy
    groups: list[GroupRead]


class EvidenceEventRead(BaseModel):
    at: datetime
    kind: str
    channel: str
    summary: str
    message_id: str | None


class ContactRead(BaseModel):
    role: str
    name: str
    channel: str
    address: str = Field(description="Masked for phones (138****5678).")
    wave: int


class EvidenceRead(BaseModel):
    outage_id: str
    account_id: str
    account_name: str
    feeder: str
    outage_kind: str | None
    work: str
    area: str
    starts_at: datetime | None
    ends_at: datetime | None
    deadline: datetime | None
    cancelled_at: datetime | None
    list_version: int | None
    contacts: list[ContactRead]
    events: list[EvidenceEventRead] = Field(description="Everything that happened, in order.")
    first_sent_at: datetime | None
    first_confirmed_at: datetime | None
    confirmed_channel: str | None
    acknowledged_at: datetime | None
    lead_time_h: float | None = Field(description="First confirmed delivery to the start.")
    required_lead_h: float | None = Field(description="What the rules ask for this kind.")
    in_time: bool | None

    @classmethod
    def from_domain(cls, pack: EvidencePack, timezone: str) -> EvidenceRead:
        return cls(
            outage_id=pack.outage_id,
            account_id=pack.account_id,
            account_name=pack.account_name,
            feeder=pack.feeder,
            outage_kind=pack.outage_kind,
            work=pack.work,
            area=pack.area,
            starts_at=_local(pack.starts_at, timezone),
            ends_at=_local(pack.ends_at, timezone),
            deadline=_local(pack.deadline, timezone),
            cancelled_at=_local(pack.cancelled_at, timezone),
            list_version=pack.list_version,
            contacts=[
                ContactRead(
                    role=c.role, name=c.name, channel=c.channel, address=c.address, wave=c.wave
                )
                for c in pack.contacts
            ],
            events=[
                EvidenceEventRead(
                    at=local(e.at, timezone),
                    kind=e.kind.value,
                    channel=e.channel,
                    summary=e.summary,
                    message_id=e.message_id,
                )
                for e in pack.events
            ],
            first_sent_at=_local(pack.first_sent_at, timezone),
            first_confirmed_at=_local(pack.first_confirmed_at, timezone),
            confirmed_channel=pack.confirmed_channel,
            acknowledged_at=_local(pack.acknowledged_at, timezone),
            lead_time_h=(
                round(pack.lead_time.total_seconds() / 3600, 2) if pack.lead_time else None
            ),
            required_lead_h=(
                pack.required_lead.total_seconds() / 3600 if pack.required_lead else None
            ),
            in_time=pack.in_time,
        )


class TaskRead(BaseModel):
    task_id: str
    kind: TaskKind
    title: str
    outage_id: str
    outage_kind: str | None
    work: str | None
    area: str | None
    starts_at: datetime | None
    notice_kind: str
    message_id: str | None
    subject: str = Field(description="Account id (visit, door slip) or transformer area node.")
    account_ids: list[str]
    account_names: list[str]
    reason: str
    created_at: datetime
    due_at: datetime | None
    status: TaskStatus
    outcome: TaskOutcome | None
    completed_at: datetime | None
    signer: str
    photo_ref: str
    note: str
    closed_by: str

    @classmethod
    def from_row(cls, row: Mapping[str, Any], timezone: str, title: str, reason: str) -> TaskRead:
        return cls(
            task_id=row["task_id"],
            kind=TaskKind(row["kind"]),
            title=title,
            outage_id=row["outage_id"],
            outage_kind=row["outage_kind"],
            work=row["work"],
            area=row["area"],
            starts_at=_local(_aware(row["starts_at"]), timezone),
            notice_kind=row["notice_kind"],
            message_id=row["message_id"],
            subject=row["subject"],
            account_ids=list(row["account_ids"]),
            account_names=list(row["account_names"]),
            reason=reason,
            created_at=local(ensure_aware(row["created_at"]), timezone),
            due_at=_local(_aware(row["due_at"]), timezone),
            status=TaskStatus(row["status"]),
            outcome=TaskOutcome(row["outcome"]) if row["outcome"] else None,
            completed_at=_local(_aware(row["completed_at"]), timezone),
            signer=row["signer"],
            photo_ref=row["photo_ref"],
            note=row["note"],
            closed_by=row["closed_by"],
        )


class TaskClose(BaseModel):
    """The outcome field staff report for a task."""

    model_config = ConfigDict(extra="forbid")

    outcome: TaskOutcome = Field(
        description="visit / door_slip: signed, left or unreachable; posting: posted or not_posted."
    )
    at: Moment = Field(description="When it was handed over or posted; local if naive.")
    signer: str = Field(default="", max_length=100, description="Required when signed.")
    photo_ref: str = Field(
        default="", max_length=300, description="Reference of a photo in the field app's store."
    )
    note: str = Field(default="", max_length=1000)

    def to_domain(self, timezone: str) -> TaskClosing:
        return TaskClosing(
            outcome=self.outcome,
            at=assume_timezone(self.at, timezone),
            signer=self.signer,
            photo_ref=self.photo_ref,
            note=self.note,
        )


class PostingConfirm(BaseModel):
    model_config = ConfigDict(extra="forbid")

    at: Moment | None = Field(default=None, description="When it was put up; default now.")
    photo_ref: str = Field(default="", max_length=300)


class PostingRead(BaseModel):
    outage_id: str
    area_node: str
    confirmed_at: datetime
    confirmed_by: str


class ReplyRead(BaseModel):
    phone: str = Field(description="Masked (138****5678).")
    text: str
    intent: ReplyIntent
    received_at: datetime
    outage_ids: list[str] = Field(description="Outages whose notice it answers.")
    account_ids: list[str]

    @classmethod
    def from_row(cls, row: Mapping[str, Any], timezone: str) -> ReplyRead:
        return cls(
            phone=row["phone_masked"],
            text=row["text"],
            intent=ReplyIntent(row["intent"]),
            received_at=local(ensure_aware(row["received_at"]), timezone),
            outage_ids=list(row["outage_ids"]),
            account_ids=list(row["account_ids"]),
        )


class ComplaintCreate(BaseModel):
    """A customer-service work order about a notice (95598)."""

    model_config = ConfigDict(extra="forbid")

    work_order_id: str = Field(
        min_length=1, max_length=100, description="The work order's id; filing it again is a no-op."
    )
    outage_id: str = Field(min_length=1, max_length=100)
    account_id: str = Field(min_length=1, max_length=100)
    type: ComplaintType
    received_at: Moment = Field(description="When the customer complained; local if naive.")
    text: str = Field(default="", max_length=2000, description="What the customer said.")


class ComplaintRead(BaseModel):
    complaint_id: str
    work_order_id: str
    outage_id: str
    account_id: str
    type: ComplaintType
    text: str
    received_at: datetime
    cause: Cause
    finding: str
    detail: str
    what_if_affected: bool | None = Field(
        description="Whether today's model cuts the account off (null: not asked or no answer)."
    )
    filed_by: str
    classified_at: datetime

    @classmethod
    def from_row(cls, row: Mapping[str, Any], timezone: str) -> ComplaintRead:
        return cls(
            complaint_id=row["complaint_id"],
            work_order_id=row["work_order_id"],
            outage_id=row["outage_id"],
            account_id=row["account_id"],
            type=ComplaintType(row["complaint_type"]),
            text=row["text"],
            received_at=local(ensure_aware(row["received_at"]), timezone),
            cause=Cause(row["cause"]),
            finding=row["finding"],
            detail=row["detail"],
            what_if_affected=row["what_if_affected"],
            filed_by=row["filed_by"],
            classified_at=local(ensure_aware(row["classified_at"]), timezone),
        )


def _aware(moment: datetime | None) -> datetime | None:
    """Stored times come back naive from SQLite; they were stored in UTC."""
    return ensure_aware(moment) if moment is not None else None


def inline_schema(model: type[BaseModel]) -> dict[str, Any]:
    """``model``'s JSON schema with nested models written in place.

    The webhooks read their raw body (the signature covers the exact bytes), so FastAPI cannot
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
