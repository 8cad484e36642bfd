"""Tables of the contacts service: the registry, its history and worklist, and the lists.

A list version keeps a snapshot of what the reviewer approved (accounts, their contacts and
channel plans, recipients, warnings) in its own rows, so later registry edits never change an
approved list. Accounts and recipients are stored as chunks of compact JSON: drafting the
list of a 20,000-account outage writes about a hundred rows, not a hundred thousand.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    Time,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from services.contacts.domain.changes import HistoryAction, Subject
from services.contacts.domain.listing import WarningSource
from services.contacts.domain.maintenance import ItemKind, ItemStatus, Outcome
from services.contacts.domain.phones import NumberType
from services.contacts.domain.registry import (
    AreaKind,
    AreaRole,
    Category,
    ContactRole,
    ContactStatus,
    Importance,
    PreferredChannel,
    RecentChange,
    SubscriptionChannel,
)
from services.contacts.domain.review import EditAction, ListStatus
from shared.db import new_metadata

metadata = new_metadata()

_Id = BigInteger().with_variant(Integer, "sqlite")
_Json = JSON().with_variant(JSONB(), "postgresql")
_ACTIVE = text("retired_at IS NULL")
_NOT_CLOSED = text("status <> 'closed'")


def _one_of(column: str, *enums: type[StrEnum]) -> CheckConstraint:
    values = ", ".join(sorted({f"'{member.value}'" for enum in enums for member in enum}))
    return CheckConstraint(f"{column} IN ({values})", name=column)


def _timestamps() -> list[Column[object]]:
    return [
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("updated_at", DateTime(timezone=True), nullable=False),
    ]


def _phone_columns() -> list[Column[object]]:
    """A registered number: as written, its E.164 form, and what keeps it from being used."""
    return [
        Column("name", String(100), nullable=False),
        Column("phone_raw", String(64), nullable=False),
        Column("phone_e164", String(20), nullable=True, index=True),
        # E.164 when valid, else the raw text: what makes a re-imported row the same contact.
        Column("phone_key", String(64), nullable=False),
        Column("number_type", String(16), nullable=False),
        Column("status", String(16), nullable=False),
        Column("source", String(255), nullable=False),
        Column("last_verified_at", DateTime(timezone=True), nullable=True),
        Column("call_earliest", Time, nullable=True),
        Column("call_latest", Time, nullable=True),
        Column("retired_at", DateTime(timezone=True), nullable=True),
        # Consecutive failed deliveries the carrier reported; a person's confirmation resets it.
        Column("failure_count", Integer, nullable=False, server_default="0"),
    ]


def _phone_checks() -> list[CheckConstraint]:
    return [
        _one_of("number_type", NumberType),
        _one_of("status", ContactStatus),
        CheckConstraint(
            "(number_type = 'invalid') = (phone_e164 IS NULL)", name="e164_iff_valid_number"
        ),
        CheckConstraint(
            "(call_earliest IS NULL) = (call_latest IS NULL)", name="call_window_complete"
        ),
    ]


accounts = Table(
    "accounts",
    metadata,
    Column("account_id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("node_id", String(64), nullable=False, index=True),
    Column("voltage_kv", Float, nullable=False),
    Column("category", String(16), nullable=False),
    # Markers such as 医院|养老院, "|"-separated as in the CSV files.
    Column("flags", String(500), nullable=False, server_default=""),
    Column("address", String(300), nullable=False, server_default=""),
    Column("transformer_area", String(64), nullable=False, server_default="", index=True),
    Column("importance", String(16), nullable=False, server_default=Importance.NORMAL.value),
    Column("transfer_pending_since", DateTime(timezone=True), nullable=True),
    Column("changed_at", DateTime(timezone=True), nullable=True),
    Column("change", String(16), nullable=True),
    *_timestamps(),
    _one_of("category", Category),
    _one_of("importance", Importance),
    _one_of("change", RecentChange),
)

contacts = Table(
    "contacts",
    metadata,
    Column("id", _Id, primary_key=True, autoincrement=True),
    Column("account_id", String(64), ForeignKey("accounts.account_id"), nullable=False, index=True),
    Column("role", String(16), nullable=False),
    *_phone_columns(),
    Column("preferred_channel", String(8), nullable=True),
    *_timestamps(),
    # Retired contacts stay for history; only the active ones must be distinct.
    Index(
        "uq_contacts_active_key",
        "account_id",
        "role",
        "phone_key",
        unique=True,
        sqlite_where=_ACTIVE,
        postgresql_where=_ACTIVE,
    ),
    _one_of("role", ContactRole),
    _one_of("preferred_channel", PreferredChannel),
    *_phone_checks(),
)

areas = Table(
    "areas",
    metadata,
    Column("area_id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(16), nullable=False),
    *_timestamps(),
    _one_of("kind", AreaKind),
)

area_nodes = Table(
    "area_nodes",
    metadata,
    Column(
        "area_id",
        String(64),
        ForeignKey("areas.area_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("node_id", String(64), primary_key=True, index=True),
)

area_contacts = Table(
    "area_contacts",
    metadata,
    Column("id", _Id, primary_key=True, autoincrement=True),
    Column("area_id", String(64), ForeignKey("areas.area_id"), nullable=False, index=True),
    Column("role", String(24), nullable=False),
    *_phone_columns(),
    *_timestamps(),
    Index(
        "uq_area_contacts_active_key",
        "area_id",
        "role",
        "phone_key",
        unique=True,
        sqlite_where=_ACTIVE,
        postgresql_where=_ACTIVE,
    ),
    _one_of("role", AreaRole),
    *_phone_checks(),
)

area_subscriptions = Table(
    "area_subscriptions",
    metadata,
    Column("id", _Id, primary_key=True, autoincrement=True),
    Column("area_id", String(64), ForeignKey("areas.area_id"), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("address", String(200), nullable=False),
    Column("name", String(100), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("area_id", "channel", "address"),
    _one_of("channel", SubscriptionChannel),
)

# Append-only: who changed which account or contact, when, why, and the fields before/after.
contact_history = Table(
    "contact_history",
    metadata,
    Column("id", _Id, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(100), nullable=False),
    Column("action", String(16), nullable=False),
    Column("reason", Text, nullable=False),
    Column("subject", String(16), nullable=False),
    Column("subject_id", String(64), nullable=False),
    Column("account_id", String(64), nullable=True, index=True),
    Column("area_id", String(64), nullable=True, index=True),
    Column("before", _Json, nullable=True),
    Column("after", _Json, nullable=True),
    Index("ix_contact_history_subject", "subject", "subject_id"),
    _one_of("action", HistoryAction),
    _one_of("subject", Subject),
)

maintenance_items = Table(
    "maintenance_items",
    metadata,
    Column("id", _Id, primary_key=True, autoincrement=True),
    Column("kind", String(24), nullable=False),
    Column("status", String(16), nullable=False),
    # What the item is about (kind and subject): one open item per finding.
    Column("key", String(200), nullable=False),
    Column("detail", Text, nullable=False),
    Column("account_id", String(64), nullable=True, index=True),
    Column("area_id", String(64), nullable=True),
    Column("contact_id", _Id, nullable=True),
    Column("area_contact_id", _Id, nullable=True),
    Column("phone", String(64), nullable=True),
    Column("account_ids", _Json, nullable=False),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("opened_by", String(100), nullable=False),
    Column("assignee", String(100), nullable=True),
    Column("assigned_at", DateTime(timezone=True), nullable=True),
    Column("closed_at", DateTime(timezone=True), nullable=True),
    Column("closed_by", String(100), nullable=True),
    Column("outcome", String(16), nullable=True),
    Column("note", Text, nullable=True),
    Index(
        "uq_maintenance_items_open_key",
        "key",
        unique=True,
        sqlite_where=_NOT_CLOSED,
        postgresql_where=_NOT_CLOSED,
    ),
    Index("ix_maintenance_items_status_kind", "status", "kind"),
    Index("ix_maintenance_items_key_closed", "key", "closed_at"),
    _one_of("kind", ItemKind),
    _one_of("status", ItemStatus),
    _one_of("outcome", Outcome),
    CheckConstraint("(status = 'closed') = (outcome IS NOT NULL)", name="closed_with_outcome"),
)

maintenance_scans = Table(
    "maintenance_scans",
    metadata,
    Column("id", _Id, primary_key=True, autoincrement=True),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True), nullable=False),
    Column("opened", Integer, nullable=False),
    Column("resolved", Integer, nullable=False),
)

notice_lists = Table(
    "notice_lists",
    metadata,
    Column("id", _Id, primary_key=True, autoincrement=True),
    Column("outage_id", String(100), nullable=False),
    Column("version", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("details", _Json, nullable=False),
    Column("planned_by", String(100), nullable=False),
    Column("model_version", Integer, nullable=False),
    Column("scope", _Json, nullable=False),
    Column("counts", _Json, nullable=False),
    # The area and outage-wide channel plans, compact JSON (see the repository).
    Column("area_plans", Text, nullable=False),
    Column("outage_plan", Text, nullable=False),
    # [[account id, feeder], …] of the accounts on the list (not removed), in trace order:
    # what list.approved names and what the next list on these feeders is compared with.
    Column("accounts", Text, nullable=False),
    Column("retrace_reason", Text, nullable=True),
    Column("compared_outage_id", String(100), nullable=True),
    Column("compared_version", Integer, nullable=True),
    Column("drafted_at", DateTime(timezone=True), nullable=False),
    Column("approved_by", String(100), nullable=True),
    Column("approved_at", DateTime(timezone=True), nullable=True),
    Column("approval_comment", Text, nullable=True),
    Column("recipients_sha256", String(64), nullable=True),
    Column("rejected_by", String(100), nullable=True),
    Column("rejected_at", DateTime(timezone=True), nullable=True),
    Column("rejection_reason", Text, nullable=True),
    Column("cancelled_at", DateTime(timezone=True), nullable=True),
    Column("cancellation_reason", Text, nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("outage_id", "version"),
    Index("ix_notice_lists_status_drafted", "status", "drafted_at"),
    _one_of("status", ListStatus),
    # The four-eyes rule, once more where no code path can get around it.
    CheckConstraint("approved_by <> planned_by", name="four_eyes"),
    CheckConstraint("status <> 'approved' OR approved_by IS NOT NULL", name="approver_named"),
)

# Which feeders each list version covers: finds the last approved list on the same feeders.
list_feeders = Table(
    "notice_list_feeders",
    metadata,
    Column("list_id", _Id, ForeignKey("notice_lists.id", ondelete="CASCADE"), primary_key=True),
    Column("feeder", String(64), primary_key=True, index=True),
)

# The accounts of a version in trace order, in chunks of JSON: where the trace found each,
# the registry snapshot, its contacts, channel plan and warning codes, and reviewer edits.
# ``codes`` counts the accounts of the chunk with each warning code, so a page filtered by one
# reads only the chunks holding it.
list_entries = Table(
    "notice_list_entries",
    metadata,
    Column("list_id", _Id, ForeignKey("notice_lists.id", ondelete="CASCADE"), primary_key=True),
    Column("chunk", Integer, primary_key=True),
    Column("size", Integer, nullable=False),
    Column("codes", _Json, nullable=False),
    Column("data", Text, nullable=False),
)

# The merged recipients of a version, in chunks of JSON in wave/channel/address order.
list_recipients = Table(
    "notice_list_recipients",
    metadata,
    Column("list_id", _Id, ForeignKey("notice_lists.id", ondelete="CASCADE"), primary_key=True),
    Column("chunk", Integer, primary_key=True),
    Column("size", Integer, nullable=False),
    Column("data", Text, nullable=False),
)

list_warnings = Table(
    "notice_list_warnings",
    metadata,
    Column("list_id", _Id, ForeignKey("notice_lists.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("rank", Integer, nullable=False),
    Column("code", String(64), nullable=False),
    Column("source", String(16), nullable=False),
    Column("account_id", String(64), nullable=True),
    Column("message", Text, nullable=False),
    Column("elements", _Json, nullable=False),
    Column("has_landline", Boolean, nullable=True),
    Index("ix_notice_list_warnings_rank", "list_id", "rank", "position"),
    _one_of("source", WarningSource),
)

list_edits = Table(
    "notice_list_edits",
    metadata,
    Column("id", _Id, primary_key=True, autoincrement=True),
    Column("list_id", _Id, ForeignKey("notice_lists.id", ondelete="CASCADE"), nullable=False),
    Column("action", String(8), nullable=False),
    Column("account_id", String(64), nullable=False),
    Column("reason", Text, nullable=False),
    Column("edited_by", String(100), nullable=False),
    Column("edited_at", DateTime(timezone=True), nullable=False),
    Index("ix_notice_list_edits_list", "list_id", "id"),
    _one_of("action", EditAction),
)

# An outage.cancelled may overtake its outage.traced (different topics): remembering the
# cancellation keeps a late trace from drafting a list for an outage that will not happen.
cancelled_outages = Table(
    "cancelled_outages",
    metadata,
    Column("outage_id", String(100), primary_key=True),
    Column("reason", Text, nullable=False),
    Column("cancelled_by", String(100), nullable=False),
    Column("cancelled_at", DateTime(timezone=True), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)
