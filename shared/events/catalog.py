"""The event catalogue. Changes are additive; a breaking change needs a new schema_version."""

from __future__ import annotations

from datetime import datetime, time
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.events.envelope import Event, register

OutageKind = Literal[
    "planned", "temporary", "emergency", "relocation", "orderly_use", "load_shedding"
]
Channel = Literal["sms", "voice", "door_slip", "posted_notice", "newspaper", "wechat", "app_push"]


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Operation(_Part):
    """One switching step of a plan."""

    device_id: str
    action: Literal["open", "close"]


class OutageDetails(_Part):
    """What a notice must say about an outage; carried along so consumers need no lookup."""

    kind: OutageKind
    starts_at: datetime
    ends_at: datetime
    work: str = Field(description="The work done, e.g. 线路检修 / 配变增容.")
    area: str = Field(default="", description="Human description of the area, e.g. 东12线沿线.")
    planned_by: str
    district: str = Field(
        default="", description="District (区/县) the outage lies in; groups the newspaper digest."
    )


class TraceWarning(_Part):
    """A finding the reviewer should see before approving the list."""

    code: str
    message: str
    elements: list[str] = Field(default_factory=list)


class AffectedAccount(_Part):
    account_id: str
    isolating_device: str = Field(description="The opened device that cuts this account off.")
    node_id: str
    feeder: str = Field(description="Source node id of the feeder that supplied it.")


class TransformerScope(_Part):
    """A transformer area (台区) in the scope, with its customer count."""

    node_id: str
    name: str
    customers: int


class FeederScope(_Part):
    source_node: str
    name: str
    customers: int


class Recipient(_Part):
    """One address on one channel; a shared electrician is one recipient for many accounts.

    The approved list holds everyone who may be told, including the contacts kept for
    escalation (``wave`` > 0): escalation never reaches anyone a reviewer did not approve.
    """

    channel: Channel
    address: str = Field(
        description="E.164 phone for sms/voice; account id for door_slip; transformer area "
        "node id for posted_notice; webhook/group key for wechat and app_push; "
        "the digest date (YYYY-MM-DD) for newspaper."
    )
    contact_name: str = ""
    account_ids: list[str]
    account_names: list[str]
    role: str = Field(default="", description="electrical | legal | billing | other | area.")
    wave: int = Field(
        default=0, ge=0, description="0: told first; 1, 2, …: only when escalation asks."
    )
    audience: str = Field(
        default="",
        description="The channel-policy rule that chose it (important, standard, area, "
        "public…); picks who gets follow-ups such as the restoration notice.",
    )
    location: str = Field(
        default="",
        description="Where a door slip is delivered (the account's service address).",
    )
    call_earliest: time | None = Field(
        default=None,
        description="The person's call window (local time of day): do not call or text "
        "before this. Null: no window registered.",
    )
    call_latest: time | None = Field(
        default=None,
        description="The person's call window (local time of day): do not call or text after this.",
    )


@register("outage.planned")
class OutagePlanned(Event):
    """A planner registered an outage; the topology service will trace it."""

    outage_id: str
    details: OutageDetails
    operations: list[Operation]


@register("outage.traced")
class OutageTraced(Event):
    """The affected customers of an outage, as the network model says, for review."""

    outage_id: str
    details: OutageDetails
    model_version: int
    trace_version: int = 1
    affected_accounts: list[AffectedAccount]
    transformers: list[TransformerScope]
    feeders: list[FeederScope]
    warnings: list[TraceWarning] = Field(default_factory=list)


@register("list.approved")
class ListApproved(Event):
    """A reviewer (not the planner) approved a version of the notification list."""

    outage_id: str
    version: int
    details: OutageDetails
    approved_by: str
    approved_at: datetime
    account_count: int
    account_ids: list[str] = Field(
        default_factory=list, description="Every account on the list, reachable or not."
    )
    recipients: list[Recipient]
    recipients_sha256: str = Field(description="Digest of the approved recipients, for audit.")


@register("notice.sent")
class NoticeSent(Event):
    """A notice was handed to a channel provider (not yet delivered)."""

    outage_id: str
    message_id: str
    provider_message_id: str
    notice_kind: str = Field(description="notice | cancellation | reminder | …")
    list_version: int
    channel: Channel
    address: str
    account_ids: list[str]
    parts: int = 1
    sent_at: datetime


@register("notice.failed")
class NoticeFailed(Event):
    """A provider rejected a notice permanently; it will not be retried on this channel."""

    outage_id: str
    message_id: str
    notice_kind: str
    list_version: int
    channel: Channel
    address: str
    account_ids: list[str]
    reason: str
    failed_at: datetime


SmsStatus = Literal["delivered", "failed", "expired", "unknown", "accepted"]


@register("sms.delivered")
class SmsDelivered(Event):
    """A carrier delivery report, normalised. Despite the name it carries failures too."""

    message_id: str
    provider_message_id: str
    outage_id: str | None = None
    status: SmsStatus
    carrier_stat: str
    carrier_err: str = ""
    done_at: datetime | None = None

    def subject(self) -> str:
        return self.outage_id or self.message_id


@register("outage.cancelled")
class OutageCancelled(Event):
    """The outage will not happen; everyone who was told must be told, and nobody else."""

    outage_id: str
    reason: str
    cancelled_by: str
    cancelled_at: datetime


class AccountChange(_Part):
    account_id: str
    change: Literal["added", "removed"]
    node_id: str = ""


@register("outage.retraced")
class OutageRetraced(Event):
    """The model changed after the outage was traced and before its notices went out.

    Carries the whole new trace and the difference, so the list must be confirmed again.
    """

    outage_id: str
    details: OutageDetails
    model_version: int
    trace_version: int
    affected_accounts: list[AffectedAccount]
    transformers: list[TransformerScope]
    feeders: list[FeederScope]
    warnings: list[TraceWarning] = Field(default_factory=list)
    changes: list[AccountChange]
    reason: str = Field(description="Why the outage was traced again, e.g. the change batch.")


class ModelChange(_Part):
    kind: str = Field(description="customer_new | customer_close | customer_move | device_add | …")
    element_id: str
    origin: str = Field(description="field_patrol | marketing_process | spot_check | complaint | …")
    reason: str = ""
    ticket: str = ""


@register("model.changed")
class ModelChanged(Event):
    """A batch of changes was applied to the network model."""

    batch_id: str
    model_version: int
    author: str
    changes: list[ModelChange]
    changed_at: datetime

    def subject(self) -> str:
        return self.batch_id


@register("outage.rescheduled")
class OutageRescheduled(Event):
    """New times for an outage that was announced (a reschedule or an extension)."""

    outage_id: str
    details: OutageDetails
    previous_starts_at: datetime
    previous_ends_at: datetime
    reason: str
    rescheduled_by: str
    rescheduled_at: datetime


@register("outage.completed")
class OutageCompleted(Event):
    """The work ended and supply is restored."""

    outage_id: str
    completed_by: str
    completed_at: datetime


@register("escalation.requested")
class EscalationRequested(Event):
    """Receipts asks dispatch to try the next channel or contact of an unconfirmed account."""

    outage_id: str
    escalation_id: str
    account_ids: list[str]
    recipient: Recipient
    step: int = Field(ge=1)
    reason: str


@register("notice.acknowledged")
class NoticeAcknowledged(Event):
    """A customer confirmed they received the notice (reply, keypress or signed slip)."""

    outage_id: str
    message_id: str | None = None
    account_ids: list[str]
    channel: Channel
    via: str = Field(description="sms_reply | voice_keypress | signed_slip | posting_confirmed")
    acknowledged_at: datetime


@register("contact.undeliverable")
class ContactUndeliverable(Event):
    """A number keeps failing; the registry should mark it and put it on the worklist."""

    address: str
    account_ids: list[str]
    consecutive_failures: int
    last_reason: str
    reported_at: datetime

    def subject(self) -> str:
        return self.address


ComplaintCause = Literal["model_or_trace", "contact", "delivery", "customer_side", "unclassified"]


@register("complaint.classified")
class ComplaintClassified(Event):
    """A customer complaint about a notice, traced to its cause for the owning service."""

    complaint_id: str
    outage_id: str
    account_id: str
    complaint_type: str = Field(description="not_notified | no_outage | wrong_time | other")
    cause: ComplaintCause
    detail: str
    classified_at: datetime


# --- meter evidence and reconciliation ---------------------------------------------------------

MeterRestoreCause = Literal["restoration", "status_check"]


@register("meter.power_lost")
class MeterPowerLost(Event):
    """A smart meter lost supply: the power-off ("last gasp") event of the metering data
    acquisition system (用电信息采集系统). Keyed by meter id."""

    meter_id: str
    account_id: str = Field(
        default="",
        description="The account, when the metering system knows it; empty: the meter "
        "registry maps the meter to its account.",
    )
    occurred_at: datetime = Field(description="When the meter lost supply (the meter's clock).")
    source_system: str = Field(description="The metering system that reported it.")
    source_event_id: str = Field(default="", description="The source system's own event id.")

    def subject(self) -> str:
        return self.meter_id


@register("meter.power_restored")
class MeterPowerRestored(Event):
    """A smart meter has supply: back after a loss (power-on), or found on when the metering
    system read or pinged it (``cause`` = ``status_check``). Keyed by meter id."""

    meter_id: str
    account_id: str = Field(
        default="",
        description="The account, when the metering system knows it; empty: the meter "
        "registry maps the meter to its account.",
    )
    occurred_at: datetime = Field(description="When the meter had supply (the meter's clock).")
    source_system: str = Field(description="The metering system that reported it.")
    source_event_id: str = Field(default="", description="The source system's own event id.")
    cause: MeterRestoreCause = Field(
        default="restoration",
        description="restoration: supply came back, so it had been lost (even if the loss was "
        "never heard); status_check: a read or ping found supply present.",
    )

    def subject(self) -> str:
        return self.meter_id


class ReconciliationCounts(_Part):
    """How the notice list compared with the meters after an outage."""

    listed: int = Field(ge=0, description="Accounts on the list compared.")
    missed: int = Field(ge=0, description="Lost supply in the window but were not on the list.")
    wrong: int = Field(ge=0, description="On the list, but their meters had supply throughout.")
    confirmed: int = Field(ge=0, description="On the list, and their meters lost supply.")
    unknown: int = Field(ge=0, description="On the list, but no meter reported in the window.")


@register("outage.reconciled")
class OutageReconciled(Event):
    """After an outage's window (and a grace period), its notice list compared with what the
    meters saw. A later revision replaces an earlier one (late meter events)."""

    outage_id: str
    revision: int = Field(ge=1, description="1 first; each later revision replaces the last.")
    list_version: int = Field(
        ge=0,
        description="Version of the approved list compared; 0: the traced list (none approved).",
    )
    model_version: int | None = Field(
        default=None, description="Version of the network model the evidence was judged on."
    )
    window_starts_at: datetime
    window_ends_at: datetime
    counts: ReconciliationCounts
    missed_account_ids: list[str]
    wrong_account_ids: list[str]
    confirmed_account_ids: list[str]
    unknown_account_ids: list[str]
    suggestion_ids: list[str] = Field(
        default_factory=list, description="model.fix_suggested events this evidence supports."
    )
    reconciled_at: datetime


class _ProposedChange(_Part):
    reason: str
    origin: Literal["meter_reconciliation"] = "meter_reconciliation"
    ticket: str = Field(description="The suggestion id, so the applied batch can be traced back.")


class ProposedCustomerMove(_ProposedChange):
    kind: Literal["customer_move"] = "customer_move"
    account_id: str
    node_id: str = Field(description="The node the account is really fed from.")


class ProposedDeviceState(_ProposedChange):
    kind: Literal["device_state"] = "device_state"
    device_id: str
    normal_state: Literal["open", "closed"]


class ProposedDeviceAdd(_ProposedChange):
    kind: Literal["device_add"] = "device_add"
    device_id: str
    device_kind: Literal["switch", "line"]
    from_node: str
    to_node: str
    normal_state: Literal["open", "closed"]
    name: str = ""


ProposedChange = Annotated[
    ProposedCustomerMove | ProposedDeviceState | ProposedDeviceAdd, Field(discriminator="kind")
]


class FixEvidence(_Part):
    """What one outage's meters showed for a suggested fix."""

    outage_id: str
    explained_account_ids: list[str] = Field(
        description="Accounts whose meter readings the model gets right only with the fix."
    )
    contradicted_account_ids: list[str] = Field(
        default_factory=list, description="Accounts the model gets right now but not with it."
    )


@register("model.fix_suggested")
class ModelFixSuggested(Event):
    """Meter evidence says the network model is wrong here. Topology opens a discrepancy for a
    person to confirm; confirming applies ``changes`` as one change batch. Nothing changes the
    model by itself."""

    suggestion_id: str
    outage_id: str = Field(description="The outage whose reconciliation made the suggestion.")
    summary: str = Field(description="The fix in a sentence (zh-CN), for the person confirming.")
    changes: list[ProposedChange] = Field(
        min_length=1, description="The `changes` of a topology change batch, applied together."
    )
    evidence: list[FixEvidence]
    confidence: float = Field(ge=0, le=1)
    alternatives: list[str] = Field(
        default_factory=list,
        description="Other fixes the evidence explains equally well (zh-CN), to check on site.",
    )
    supersedes: list[str] = Field(
        default_factory=list, description="Earlier suggestions for the same elements it replaces."
    )
    suggested_at: datetime
