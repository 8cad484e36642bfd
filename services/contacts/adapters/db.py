"""Tables of the contacts service: the registry, and the notification lists with their rows.

A list version keeps a snapshot of what the reviewer approved (accounts, contacts, recipients,
warnings) in its own rows, so later registry edits never change an approved list, and the rows
stay queryable and editable one by one while the list is a draft.
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
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB

from services.contacts.domain.listing import WarningSource
from services.contacts.domain.phones import NumberType
from services.contacts.domain.registry import Category, ContactRole, ContactStatus
from services.contacts.domain.review import ListStatus
from shared.db import new_metadata

metadata = new_metadata()

_Id = BigInteger().with_variant(Integer, "sqlite")
_Json = JSON().with_variant(JSONB(), "postgresql")


def _one_of(column: str, enum: type[StrEnum]) -> CheckConstraint:
    values = ", ".join(f"'{member.value}'" for member in enum)
    return CheckConstraint(f"{column} IN ({values})", name=column)


def _timestamps() -> list[Column[object]]:
    return [
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("updated_at", DateTime(timezone=True), nullable=False),
    ]


accounts = Table(
    "accounts",
    metadata,
    Column("account_id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("node_id", String(64), nullable=False, index=True),
    Column("voltage_kv", Float, nullable=False),
    Column("category", String(16), nullable=False),
    Column("flags", _Json, nullable=False),
    *_timestamps(),
    _one_of("category", Category),
)

contacts = Table(
    "contacts",
    metadata,
    Column("id", _Id, primary_key=True, autoincrement=True),
    Column("account_id", String(64), ForeignKey("accounts.account_id"), nullable=False),
    Column("role", String(16), nullable=False),
    Column("name", String(100), nullable=False),
    Column("phone_raw", String(64), nullable=False),
    Column("phone_e164", String(20), nullable=True, index=True),
    # E.164 when valid, else the raw text: what makes a re-imported row the same contact.
    Column("phone_key", String(64), nullable=False),
    Column("number_type", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("source", String(255), nullable=False),
    Column("last_verified_at", DateTime(timezone=True), nullable=True),
    *_timestamps(),
    UniqueConstraint("account_id", "role", "phone_key"),
    _one_of("role", ContactRole),
    _one_of("number_type", NumberType),
    _one_of("status", ContactStatus),
    CheckConstraint(
        "(number_type = 'invalid') = (phone_e164 IS NULL)", name="e164_iff_valid_number"
    ),
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
    Column("account_count", Integer, nullable=False),
    Column("recipient_count", Integer, nullable=False),
    Column("without_valid_mobile_count", Integer, nullable=False),
    Column("unknown_account_count", Integer, nullable=False),
    Column("important_account_count", Integer, nullable=False),
    Column("warning_count", Integer, nullable=False),
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
    _one_of("status", ListStatus),
    # The four-eyes rule, once more where no code path can get around it.
    CheckConstraint("approved_by <> planned_by", name="four_eyes"),
    CheckConstraint("status <> 'approved' OR approved_by IS NOT NULL", name="approver_named"),
)

list_accounts = Table(
    "notice_list_accounts",
    metadata,
    Column("list_id", _Id, ForeignKey("notice_lists.id", ondelete="CASCADE"), primary_key=True),
    Column("account_id", String(64), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("node_id", String(64), nullable=False),
    Column("isolating_device", String(64), nullable=False),
    Column("feeder", String(64), nullable=False),
    Column("in_registry", Boolean, nullable=False),
    Column("name", String(200), nullable=True),
    Column("registry_node_id", String(64), nullable=True),
    Column("voltage_kv", Float, nullable=True),
    Column("category", String(16), nullable=True),
    Column("important", Boolean, nullable=False),
    Column("has_valid_mobile", Boolean, nullable=False),
    Column("has_landline", Boolean, nullable=False),
    Index("ix_notice_list_accounts_position", "list_id", "position", unique=True),
)

list_contacts = Table(
    "notice_list_contacts",
    metadata,
    Column("list_id", _Id, ForeignKey("notice_lists.id", ondelete="CASCADE"), primary_key=True),
    Column("contact_id", _Id, primary_key=True),
    Column("account_id", String(64), nullable=False),
    Column("role", String(16), nullable=False),
    Column("name", String(100), nullable=False),
    Column("phone_raw", String(64), nullable=False),
    Column("phone_e164", String(20), nullable=True),
    Column("number_type", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("can_sms", Boolean, nullable=False),
    Column("can_call", Boolean, nullable=False),
    Index("ix_notice_list_contacts_account", "list_id", "account_id"),
)

list_recipients = Table(
    "notice_list_recipients",
    metadata,
    Column("list_id", _Id, ForeignKey("notice_lists.id", ondelete="CASCADE"), primary_key=True),
    Column("channel", String(16), primary_key=True),
    Column("address", String(64), primary_key=True),
    Column("contact_name", String(100), nullable=False),
    Column("account_ids", _Json, nullable=False),
    Column("account_names", _Json, nullable=False),
    Column("contact_ids", _Json, nullable=False),
)

list_warnings = Table(
    "notice_list_warnings",
    metadata,
    Column("list_id", _Id, ForeignKey("notice_lists.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("code", String(64), nullable=False),
    Column("source", String(16), nullable=False),
    Column("account_id", String(64), nullable=True),
    Column("message", Text, nullable=False),
    Column("elements", _Json, nullable=False),
    Column("has_landline", Boolean, nullable=True),
    _one_of("source", WarningSource),
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
