"""Tables of the receipts service.

``deliveries`` holds the delivery state per message and ``notices`` what dispatch said it sent;
they are joined only when read. A receipt may arrive before its ``notice.sent`` (the carrier
is faster than the outbox relay), and keeping the state apart from the notice means neither
writer waits for, or depends on, the other.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    Integer,
    String,
    Table,
    Text,
)

from services.receipts.domain.coverage import Submission
from services.receipts.domain.status import ReceiptStatus
from shared.db import new_metadata

metadata = new_metadata()

_STATUSES = ", ".join(f"'{s.value}'" for s in ReceiptStatus)
_SUBMISSIONS = ", ".join(f"'{s.value}'" for s in Submission)

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
    Column("submitted_at", DateTime(timezone=True), nullable=True),
    Column("done_at", DateTime(timezone=True), nullable=True),
    Column("received_at", DateTime(timezone=True), nullable=False),
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
    Column("done_at", DateTime(timezone=True), nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    CheckConstraint(f"status IN ({_STATUSES})", name="status"),
)

notices = Table(
    "notices",
    metadata,
    Column("message_id", String(100), primary_key=True),
    Column("outage_id", String(100), nullable=False, index=True),
    Column("notice_kind", String(32), nullable=False),
    Column("channel", String(20), nullable=False),
    Column("address", String(64), nullable=False),
    Column("account_ids", JSON, nullable=False),
    Column("list_version", Integer, nullable=False),
    Column("submission", String(16), nullable=False),
    Column("provider_message_id", String(100), nullable=True),
    Column("parts", Integer, nullable=True),
    Column("sent_at", DateTime(timezone=True), nullable=True),
    Column("failed_at", DateTime(timezone=True), nullable=True),
    Column("failure_reason", Text, nullable=True),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
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
    Column("approved_by", String(100), nullable=False),
    Column("approved_at", DateTime(timezone=True), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)

cancellations = Table(
    "cancellations",
    metadata,
    Column("outage_id", String(100), primary_key=True),
    Column("reason", Text, nullable=False),
    Column("cancelled_by", String(100), nullable=False),
    Column("cancelled_at", DateTime(timezone=True), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)
