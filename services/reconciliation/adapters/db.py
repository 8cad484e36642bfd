"""Tables of the reconciliation service.

``meter_events`` holds every meter report once (a duplicate hits the unique key and is
dropped); ``meters`` the imported meter → account registry. ``outages`` is the service's view
of an outage, filled from topology's and contacts' events, and the outcome of its last
reconciliation with the evidence kept for later inference. ``suggestions`` holds the fixes
inferred: pending (not confident enough yet), suggested (sent to topology), applied (topology
applied them) or superseded.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)

from services.reconciliation.domain.outage import OutageStatus
from shared.db import new_metadata

metadata = new_metadata()


class UtcDateTime(TypeDecorator[datetime]):
    """An aware datetime, stored in UTC and read back aware (SQLite keeps no offset)."""

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


SUGGESTION_STATUSES = ("pending", "suggested", "applied", "superseded")
_OUTAGE_STATUSES = ", ".join(f"'{s.value}'" for s in OutageStatus)

meter_events = Table(
    "meter_events",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("meter_id", String(64), nullable=False),
    Column("account_id", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("cause", String(16), nullable=False),
    Column("occurred_at", UtcDateTime(), nullable=False),
    Column("source_system", String(100), nullable=False),
    Column("received_at", UtcDateTime(), nullable=False),
    UniqueConstraint("meter_id", "kind", "cause", "occurred_at", name="uq_meter_events_report"),
    Index("ix_meter_events_occurred_at", "occurred_at"),
)

meters = Table(
    "meters",
    metadata,
    Column("meter_id", String(64), primary_key=True),
    Column("account_id", String(64), nullable=False, index=True),
    Column("imported_at", UtcDateTime(), nullable=False),
)

outages = Table(
    "outages",
    metadata,
    Column("outage_id", String(100), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("starts_at", UtcDateTime(), nullable=True),
    Column("ends_at", UtcDateTime(), nullable=True),
    Column("completed_at", UtcDateTime(), nullable=True),
    Column("operations", JSON, nullable=False),
    Column("trace_version", Integer, nullable=False),
    Column("traced", JSON, nullable=False),
    Column("list_version", Integer, nullable=False),
    Column("listed", JSON, nullable=False),
    Column("due_at", UtcDateTime(), nullable=True, index=True),
    Column("revision", Integer, nullable=False),
    Column("reconciled_at", UtcDateTime(), nullable=True),
    Column("model_version", Integer, nullable=True),
    Column("compared_version", Integer, nullable=True),
    Column("counts", JSON, nullable=True),
    Column("classes", JSON, nullable=True),  # {"missed": [...], "wrong": [...], ...}
    Column("feeders", JSON, nullable=True),
    Column("evidence", JSON, nullable=True),  # {"lost": [...], "on": [...]}
    Column("suggestion_ids", JSON, nullable=True),
    Column("updated_at", UtcDateTime(), nullable=False),
    CheckConstraint(f"status IN ({_OUTAGE_STATUSES})", name="status"),
)

suggestions = Table(
    "suggestions",
    metadata,
    Column("suggestion_id", String(32), primary_key=True),
    Column("outage_id", String(100), nullable=False, index=True),
    Column("status", String(16), nullable=False),
    Column("summary", Text, nullable=False),
    Column("changes", JSON, nullable=False),
    Column("elements", JSON, nullable=False),
    Column("evidence", JSON, nullable=False),
    Column("confidence", Float, nullable=False),
    Column("alternatives", JSON, nullable=False),
    Column("supersedes", JSON, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("applied_batch", String(100), nullable=True),
    CheckConstraint(
        "status IN (" + ", ".join(f"'{s}'" for s in SUGGESTION_STATUSES) + ")", name="status"
    ),
)
