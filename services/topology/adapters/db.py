"""Tables of the topology service.

``nodes``, ``devices`` and ``customers`` hold the current model: the last imported bundle with
every change batch since applied. ``network_model`` holds its version, which every replica
compares with the model it has in memory; ``model_versions`` says how each version came about
(an import or a change batch) and ``network_changes`` keeps every changed element before and
after, which is both the history people read and what a replica replays to catch up. Devices
and customers refer to nodes without foreign keys: imports and change batches check every
reference before they write, so millions of rows need not be checked twice.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from services.topology.domain.bundle import ID_MAX_LENGTH, KIND_MAX_LENGTH, NAME_MAX_LENGTH
from services.topology.domain.outage import OutageStatus
from shared.db import new_metadata

metadata = new_metadata()

_STATUSES = ", ".join(f"'{status.value}'" for status in OutageStatus)
_BATCH_ID_LENGTH = 40
_PERSON_LENGTH = 100

nodes = Table(
    "nodes",
    metadata,
    Column("node_id", String(ID_MAX_LENGTH), primary_key=True),
    Column("kind", String(KIND_MAX_LENGTH), nullable=False),
    Column("name", String(NAME_MAX_LENGTH), nullable=False),
)

devices = Table(
    "devices",
    metadata,
    Column("device_id", String(ID_MAX_LENGTH), primary_key=True),
    Column("kind", String(KIND_MAX_LENGTH), nullable=False),
    Column("from_node", String(ID_MAX_LENGTH), nullable=False),
    Column("to_node", String(ID_MAX_LENGTH), nullable=False),
    Column("normal_state", String(8), nullable=False),
    Column("name", String(NAME_MAX_LENGTH), nullable=False),
    CheckConstraint("normal_state IN ('closed', 'open')", name="normal_state"),
)

customers = Table(
    "customers",
    metadata,
    Column("account_id", String(ID_MAX_LENGTH), primary_key=True),
    Column("name", String(NAME_MAX_LENGTH), nullable=False),
    Column("node_id", String(ID_MAX_LENGTH), nullable=False),
    Column("voltage_kv", Float, nullable=False),
    Column("category", String(KIND_MAX_LENGTH), nullable=False),
)

# One row (id 1) once the first import has begun.
network_model = Table(
    "network_model",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("version", Integer, nullable=False),
    Column("imported_at", DateTime(timezone=True), nullable=True),
    Column("imported_by", String(_PERSON_LENGTH), nullable=True),
)

model_versions = Table(
    "model_versions",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("kind", String(16), nullable=False),
    Column("batch_id", String(_BATCH_ID_LENGTH), nullable=True, unique=True),
    Column("author", String(_PERSON_LENGTH), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("kind IN ('import', 'changes')", name="kind"),
)

network_changes = Table(
    "network_changes",
    metadata,
    Column("change_id", Integer, primary_key=True, autoincrement=True),
    Column("model_version", Integer, nullable=False, index=True),
    Column("batch_id", String(_BATCH_ID_LENGTH), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("kind", String(20), nullable=False),
    Column("element_type", String(10), nullable=False),
    Column("element_id", String(ID_MAX_LENGTH), nullable=False),
    Column("before", JSON, nullable=True),
    Column("after", JSON, nullable=True),
    Column("reason", Text, nullable=False),
    Column("origin", String(20), nullable=False),
    Column("ticket", String(_PERSON_LENGTH), nullable=False),
    Column("author", String(_PERSON_LENGTH), nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False, index=True),
    Index("ix_network_changes_element", "element_type", "element_id"),
)

spot_checks = Table(
    "spot_checks",
    metadata,
    Column("spot_check_id", String(_BATCH_ID_LENGTH), primary_key=True),
    Column("checked_by", String(_PERSON_LENGTH), nullable=False),
    Column("checked_at", DateTime(timezone=True), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("ticket", String(_PERSON_LENGTH), nullable=False),
    Column("note", Text, nullable=False),
    Column("model_version", Integer, nullable=False),
    Column("observations", JSON, nullable=False),
)

discrepancies = Table(
    "discrepancies",
    metadata,
    Column("discrepancy_id", String(_BATCH_ID_LENGTH), primary_key=True),
    Column("origin", String(16), nullable=False),
    Column("element_type", String(10), nullable=False),
    Column("element_id", String(ID_MAX_LENGTH), nullable=False),
    Column("observation_kind", String(20), nullable=True),
    Column("observed", String(NAME_MAX_LENGTH), nullable=True),
    Column("modelled", String(NAME_MAX_LENGTH), nullable=True),
    Column("detail", Text, nullable=False),
    Column("status", String(8), nullable=False, index=True),
    Column("opened_by", String(_PERSON_LENGTH), nullable=False),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("source_id", String(_BATCH_ID_LENGTH), nullable=False, index=True),
    Column("complaint_id", String(ID_MAX_LENGTH), nullable=True, unique=True),
    Column("outage_id", String(ID_MAX_LENGTH), nullable=True),
    Column("caused_by", JSON, nullable=True),
    Column("closed_batch_id", String(_BATCH_ID_LENGTH), nullable=True),
    Column("closed_version", Integer, nullable=True),
    Column("closed_by", String(_PERSON_LENGTH), nullable=True),
    Column("closed_at", DateTime(timezone=True), nullable=True),
    Index("ix_discrepancies_element", "element_type", "element_id"),
    CheckConstraint("status IN ('open', 'closed')", name="status"),
    CheckConstraint("origin IN ('spot_check', 'complaint')", name="origin"),
)

outages = Table(
    "outages",
    metadata,
    Column("outage_id", String(ID_MAX_LENGTH), primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("starts_at", DateTime(timezone=True), nullable=False),
    Column("ends_at", DateTime(timezone=True), nullable=False),
    Column("work", Text, nullable=False),
    Column("area", Text, nullable=False),
    Column("operations", JSON, nullable=False),
    Column("planned_by", String(_PERSON_LENGTH), nullable=False),
    Column("planned_at", DateTime(timezone=True), nullable=False, index=True),
    Column("plan_warnings", JSON, nullable=False),
    Column("model_version", Integer, nullable=True),
    Column("trace_version", Integer, nullable=True),
    Column("traced_at", DateTime(timezone=True), nullable=True),
    Column("affected_accounts", Integer, nullable=True),
    Column("transformers", JSON, nullable=True),
    Column("feeders", JSON, nullable=True),
    Column("warnings", JSON, nullable=True),
    # account → node of the last trace, which a retrace is compared with.
    Column("affected", JSON, nullable=True),
    Column("reschedules", JSON, nullable=False),
    Column("cancel_reason", Text, nullable=True),
    Column("cancelled_by", String(_PERSON_LENGTH), nullable=True),
    Column("cancelled_at", DateTime(timezone=True), nullable=True),
    Column("completed_by", String(_PERSON_LENGTH), nullable=True),
    Column("completed_at", DateTime(timezone=True), nullable=True),
    CheckConstraint(f"status IN ({_STATUSES})", name="status"),
)
