"""Tables of the dispatch service."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from services.dispatch.domain.messages import DeliveryStatus, MessageStatus, NoticeKind
from shared.db import new_metadata

metadata = new_metadata()

# Text where the value comes from another service or a carrier: a length we guessed wrong
# would make PostgreSQL reject a whole approved list.


def _one_of(values: list[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)


# What dispatch knows of an outage: the details notices are worded from (latest approved list
# or reschedule), its revision (reschedules so far) and whether it was cancelled or completed.
# A cancellation may come before any list was approved, so the details are nullable; the row
# then only records that nothing may be sent.
outages = Table(
    "outages",
    metadata,
    Column("outage_id", String(128), primary_key=True),
    Column("kind", String(32), nullable=True),
    Column("starts_at", DateTime(timezone=True), nullable=True),
    Column("ends_at", DateTime(timezone=True), nullable=True),
    Column("work", Text, nullable=True),
    Column("area", Text, nullable=True),
    Column("district", Text, nullable=True),
    Column("planned_by", Text, nullable=True),
    Column("list_version", Integer, nullable=True),
    Column("approved_by", Text, nullable=True),
    Column("first_approved_at", DateTime(timezone=True), nullable=True),
    Column("revision", Integer, nullable=False, default=0),
    Column("previous_starts_at", DateTime(timezone=True), nullable=True),
    Column("previous_ends_at", DateTime(timezone=True), nullable=True),
    Column("reschedule_reason", Text, nullable=True),
    Column("cancelled_at", DateTime(timezone=True), nullable=True),
    Column("cancelled_by", Text, nullable=True),
    Column("cancel_reason", Text, nullable=True),
    Column("completed_at", DateTime(timezone=True), nullable=True),
    Column("completed_by", Text, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

messages = Table(
    "messages",
    metadata,
    Column("message_id", String(36), primary_key=True),
    Column("outage_id", String(128), nullable=False),
    Column("list_version", Integer, nullable=False),
    Column("revision", Integer, nullable=False, default=0),
    Column("notice_kind", String(20), nullable=False),
    Column("channel", String(20), nullable=False),
    Column("address", String(255), nullable=False),
    Column("contact_name", Text, nullable=False, default=""),
    Column("account_ids", JSON, nullable=False),
    Column("account_names", JSON, nullable=False),
    Column("role", String(40), nullable=False, default=""),
    Column("wave", SmallInteger, nullable=False, default=0),
    Column("audience", String(64), nullable=False, default=""),
    Column("location", Text, nullable=False, default=""),
    # The outage as this message words it (OutageDetails as JSON text, serialised once per
    # batch): documents are printed from it, and what was said stays on record after a
    # reschedule.
    Column("details", Text, nullable=False),
    Column("sign_name", String(64), nullable=False),
    Column("text", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("delivery_status", String(16), nullable=True),
    Column("carrier_stat", Text, nullable=True),
    Column("carrier_err", Text, nullable=True),
    Column("delivery_reported_at", DateTime(timezone=True), nullable=True),
    Column("provider_message_id", String(255), nullable=True),
    Column("parts", SmallInteger, nullable=False),
    Column("priority", SmallInteger, nullable=False),
    # Held back by quiet hours (SMS and calls of kinds and moments not exempt).
    Column("quiet", Boolean, nullable=False, default=False),
    # The person's call window, local "HH:MM:SS"; null: none registered.
    Column("call_earliest", String(8), nullable=True),
    Column("call_latest", String(8), nullable=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("checks", Integer, nullable=False, default=0),
    Column("claim_token", String(36), nullable=True),
    Column("claimed_by", String(128), nullable=True),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("last_error", Text, nullable=True),
    # The message this one corrects or follows up (a cancellation names the notice).
    Column("refers_to", String(36), nullable=True),
    Column("escalation_id", String(128), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("submitted_at", DateTime(timezone=True), nullable=True),
    # The idempotency key: a redelivered or re-sent event can never queue a second message
    # of the same notice version to the same address on the same channel.
    UniqueConstraint("outage_id", "list_version", "notice_kind", "revision", "channel", "address"),
    CheckConstraint(f"status IN ({_one_of([s.value for s in MessageStatus])})", name="status"),
    CheckConstraint(
        f"delivery_status IS NULL OR delivery_status IN "
        f"({_one_of([s.value for s in DeliveryStatus])})",
        name="delivery_status",
    ),
    CheckConstraint(f"notice_kind IN ({_one_of([k.value for k in NoticeKind])})", name="kind"),
)
# The sender's query: due messages of one status, most urgent first.
Index("ix_messages_due", messages.c.status, messages.c.priority, messages.c.next_attempt_at)
Index("ix_messages_addressee", messages.c.outage_id, messages.c.channel, messages.c.address)
# Documents: an outage's slips and notices, a day's newspaper digest.
Index("ix_messages_documents", messages.c.channel, messages.c.address, messages.c.status)

# Follow-ups due later (the reminder the day before): kept here so a restart loses none.
schedules = Table(
    "schedules",
    metadata,
    Column("outage_id", String(128), primary_key=True),
    Column("notice_kind", String(20), primary_key=True),
    Column("revision", Integer, primary_key=True),
    Column("due_at", DateTime(timezone=True), nullable=False),
    Column("status", String(16), nullable=False),
    Column("note", Text, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("status IN ('pending', 'done', 'cancelled')", name="status"),
)
Index("ix_schedules_due", schedules.c.status, schedules.c.due_at)

# Messages handed to a provider per number and local day, counted when claimed (carriers
# count a submission whatever becomes of it), against the carriers' per-number daily caps.
daily_counts = Table(
    "daily_counts",
    metadata,
    Column("channel", String(20), primary_key=True),
    Column("address", String(255), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("count", Integer, nullable=False),
)

# escalation.requested, once per escalation id, and what came of it.
escalations = Table(
    "escalations",
    metadata,
    Column("escalation_id", String(128), primary_key=True),
    Column("outage_id", String(128), nullable=False),
    Column("channel", String(20), nullable=False),
    Column("address", String(255), nullable=False),
    Column("step", Integer, nullable=False),
    Column("outcome", String(32), nullable=False),
    Column("message_id", String(36), nullable=True),
    Column("received_at", DateTime(timezone=True), nullable=False),
)
