"""Tables of the receipts service.

``deliveries`` holds the delivery state per message and ``notices`` what dispatch said it sent;
they are joined only when read. A receipt may arrive before its ``notice.sent`` (the carrier
is faster than the outbox relay), and keeping the state apart from the notice means neither
writer waits for, or depends on, the other. Call results and field outcomes move the same
delivery states, so every channel is measured alike.

``outages`` is receipts' own view of an outage (times, operations, feeders, when to look at it
again for escalation), filled from topology's and contacts' events; ``escalations`` and
``tasks`` hold what escalation did, so a restarted worker carries on where it stopped.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Index,
    Integer,
    String,
    Table,
    Text,
    TypeDecorator,
)

from services.receipts.domain.calls import CallOutcome
from services.receipts.domain.complaints import Cause, ComplaintType
from services.receipts.domain.ledger import Submission, TaskKind, TaskOutcome, TaskStatus
from services.receipts.domain.replies import ReplyIntent
from services.receipts.domain.status import ReceiptStatus
from shared.db import new_metadata

metadata = new_metadata()


class UtcDateTime(TypeDecorator[datetime]):
    """An aware datetime, stored in UTC and read back aware.

    SQLite keeps no offset: it would store the wall time of ``08:00+08:00`` as ``08:00`` and
    read it back as 08:00 UTC. Converting to UTC on the way in makes both databases agree, and
    comparisons in queries (``next_check_at <= :now``) compare instants on SQLite too.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None or value.tzinfo is None:
            return value
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None or value.tzinfo is not None:
            return value
        return value.replace(tzinfo=UTC)


def _one_of(values: type[StrEnum]) -> str:
    return ", ".join(f"'{v.value}'" for v in values)


_STATUSES = _one_of(ReceiptStatus)
_SUBMISSIONS = _one_of(Submission)

receipts = Table(
    "receipts",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("report_key", String(64), nullable=False, unique=True),
    Column("message_id", String(100), nullable=False, index=True),
    Column("provider_message_id", String(100), nullable=False),
    Column("phone_masked", String(32), nullable=False),
    Column("carrier_stat", String(32), nullable=False),
    Column("carrier_err", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("reason_zh", Text, nullable=False),
    Column("reason_en", Text, nullable=False),
    Column("submitted_at", UtcDateTime(), nullable=True),
    Column("done_at", UtcDateTime(), nullable=True),
    Column("received_at", UtcDateTime(), nullable=False),
    CheckConstraint(f"status IN ({_STATUSES})", name="status"),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("message_id", String(100), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("provider_message_id", String(100), nullable=False),
    Column("carrier_stat", String(32), nullable=False),
    Column("carrier_err", String(64), nullable=False),
    Column("done_at", UtcDateTime(), nullable=True),
    Column("updated_at", UtcDateTime(), nullable=False),
    # The state last fed back to the number's health (see domain.feedback); a state that
    # moved on since (expired, then delivered) is fed back again.
    Column("feedback_status", String(16), nullable=True),
    CheckConstraint(f"status IN ({_STATUSES})", name="status"),
)

notices = Table(
    "notices",
    metadata,
    Column("message_id", String(100), primary_key=True),
    Column("outage_id", String(100), nullable=False, index=True),
    Column("notice_kind", String(32), nullable=False),
    Column("channel", String(20), nullable=False),
    Column("address", String(64), nullable=False, index=True),
    Column("account_ids", JSON, nullable=False),
    Column("list_version", Integer, nullable=False),
    Column("submission", String(16), nullable=False),
    Column("provider_message_id", String(100), nullable=True),
    Column("parts", Integer, nullable=True),
    Column("sent_at", UtcDateTime(), nullable=True),
    Column("failed_at", UtcDateTime(), nullable=True),
    Column("failure_reason", Text, nullable=True),
    Column("recorded_at", UtcDateTime(), nullable=False),
    CheckConstraint(f"submission IN ({_SUBMISSIONS})", name="submission"),
)

approved_lists = Table(
    "approved_lists",
    metadata,
    Column("outage_id", String(100), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("account_count", Integer, nullable=False),
    Column("recipients", Integer, nullable=False),
    Column("account_ids", JSON, nullable=False),
    Column("entries", JSON, nullable=False),
    Column("approved_by", String(100), nullable=False),
    Column("approved_at", UtcDateTime(), nullable=False),
    Column("recorded_at", UtcDateTime(), nullable=False),
)

cancellations = Table(
    "cancellations",
    metadata,
    Column("outage_id", String(100), primary_key=True),
    Column("reason", Text, nullable=False),
    Column("cancelled_by", String(100), nullable=False),
    Column("cancelled_at", UtcDateTime(), nullable=False),
    Column("recorded_at", UtcDateTime(), nullable=False),
)

outages = Table(
    "outages",
    metadata,
    Column("outage_id", String(100), primary_key=True),
    Column("kind", String(20), nullable=True),
    Column("starts_at", UtcDateTime(), nullable=True),
    Column("ends_at", UtcDateTime(), nullable=True),
    Column("work", Text, nullable=False),
    Column("area", Text, nullable=False),
    Column("planned_by", String(100), nullable=False),
    Column("operations", JSON, nullable=True),
    Column("feeders", JSON, nullable=False),
    Column("trace_version", Integer, nullable=False),
    Column("rescheduled_at", UtcDateTime(), nullable=True),
    Column("completed_at", UtcDateTime(), nullable=True),
    Column("next_check_at", UtcDateTime(), nullable=True, index=True),
    Column("updated_at", UtcDateTime(), nullable=False),
)

traced_accounts = Table(
    "traced_accounts",
    metadata,
    Column("outage_id", String(100), primary_key=True),
    Column("account_id", String(100), primary_key=True),
    Column("feeder", String(100), nullable=False),
    Column("node_id", String(100), nullable=False),
    Column("isolating_device", String(100), nullable=False),
)

call_reports = Table(
    "call_reports",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("report_key", String(64), nullable=False, unique=True),
    Column("message_id", String(100), nullable=False, index=True),
    Column("outcome", String(16), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Column("received_at", UtcDateTime(), nullable=False),
    CheckConstraint(f"outcome IN ({_one_of(CallOutcome)})", name="outcome"),
)

replies = Table(
    "replies",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("reply_key", String(64), nullable=False, unique=True),
    Column("phone_masked", String(32), nullable=False, index=True),
    Column("text", Text, nullable=False),
    Column("intent", String(16), nullable=False),
    Column("received_at", UtcDateTime(), nullable=False, index=True),
    Column("outage_ids", JSON, nullable=False),
    Column("message_ids", JSON, nullable=False),
    Column("account_ids", JSON, nullable=False),
    Column("recorded_at", UtcDateTime(), nullable=False),
    CheckConstraint(f"intent IN ({_one_of(ReplyIntent)})", name="intent"),
)

acknowledgements = Table(
    "acknowledgements",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("ack_key", String(200), nullable=False, unique=True),
    Column("outage_id", String(100), nullable=True, index=True),
    Column("message_id", String(100), nullable=True, index=True),
    Column("account_ids", JSON, nullable=True),
    Column("channel", String(20), nullable=False),
    Column("via", String(32), nullable=False),
    Column("address", String(100), nullable=False),
    Column("actor", String(100), nullable=False),
    Column("photo_ref", String(300), nullable=False),
    Column("acknowledged_at", UtcDateTime(), nullable=False),
    # Set once notice.acknowledged is emitted; a call confirmed before its notice.sent is
    # announced by the escalation worker once the notice, and so its outage, is known.
    Column("announced_at", UtcDateTime(), nullable=True),
    Column("recorded_at", UtcDateTime(), nullable=False),
)
Index(
    "ix_acknowledgements_unannounced",
    acknowledgements.c.id,
    postgresql_where=acknowledgements.c.announced_at.is_(None),
    sqlite_where=acknowledgements.c.announced_at.is_(None),
)

tasks = Table(
    "tasks",
    metadata,
    Column("task_id", String(36), primary_key=True),
    Column("task_key", String(200), nullable=False, unique=True),
    Column("outage_id", String(100), nullable=False, index=True),
    Column("kind", String(16), nullable=False),
    Column("notice_kind", String(32), nullable=False),
    Column("message_id", String(100), nullable=True),
    Column("subject", String(100), nullable=False),
    Column("account_ids", JSON, nullable=False),
    Column("account_names", JSON, nullable=False),
    Column("reason", String(40), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("due_at", UtcDateTime(), nullable=True),
    Column("status", String(16), nullable=False, index=True),
    Column("outcome", String(16), nullable=True),
    Column("completed_at", UtcDateTime(), nullable=True),
    Column("signer", String(100), nullable=False),
    Column("photo_ref", String(300), nullable=False),
    Column("note", Text, nullable=False),
    Column("closed_by", String(100), nullable=False),
    Column("closed_at", UtcDateTime(), nullable=True),
    CheckConstraint(f"kind IN ({_one_of(TaskKind)})", name="kind"),
    CheckConstraint(f"status IN ({_one_of(TaskStatus)})", name="status"),
    CheckConstraint(f"outcome IS NULL OR outcome IN ({_one_of(TaskOutcome)})", name="outcome"),
)

escalations = Table(
    "escalations",
    metadata,
    Column("outage_id", String(100), primary_key=True),
    Column("account_id", String(100), primary_key=True),
    Column("step", Integer, primary_key=True),
    Column("wave", Integer, nullable=True),
    Column("reason", String(40), nullable=False),
    Column("requested_at", UtcDateTime(), nullable=False),
)

number_health = Table(
    "number_health",
    metadata,
    Column("address", String(64), primary_key=True),
    Column("consecutive_failures", Integer, nullable=False),
    Column("last_reason", Text, nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)

complaints = Table(
    "complaints",
    metadata,
    Column("complaint_id", String(36), primary_key=True),
    Column("work_order_id", String(100), nullable=False, unique=True),
    Column("outage_id", String(100), nullable=False, index=True),
    Column("account_id", String(100), nullable=False),
    Column("complaint_type", String(20), nullable=False),
    Column("text", Text, nullable=False),
    Column("received_at", UtcDateTime(), nullable=False),
    Column("cause", String(20), nullable=False),
    Column("finding", String(40), nullable=False),
    Column("detail", Text, nullable=False),
    Column("what_if_affected", Boolean, nullable=True),
    Column("filed_by", String(100), nullable=False),
    Column("classified_at", UtcDateTime(), nullable=False),
    CheckConstraint(f"complaint_type IN ({_one_of(ComplaintType)})", name="complaint_type"),
    CheckConstraint(f"cause IN ({_one_of(Cause)})", name="cause"),
)
