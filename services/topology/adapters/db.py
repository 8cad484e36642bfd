"""Tables of the topology service.

The network tables hold exactly the last imported bundle; ``network_model`` holds its version,
which every replica compares with the model it has in memory. Devices and customers refer to
nodes without foreign keys: the import checks every reference before it writes, and is the only
writer, so millions of rows need not be checked twice.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    DateTime,
    Float,
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
    Column("imported_by", String(100), nullable=True),
)

outages = Table(
    "outages",
    metadata,
    Column("outage_id", String(ID_MAX_LENGTH), primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("status", String(16), nullable=False),
    Column("starts_at", DateTime(timezone=True), nullable=False),
    Column("ends_at", DateTime(timezone=True), nullable=False),
    Column("work", Text, nullable=False),
    Column("area", Text, nullable=False),
    Column("operations", JSON, nullable=False),
    Column("planned_by", String(100), nullable=False),
    Column("planned_at", DateTime(timezone=True), nullable=False, index=True),
    Column("model_version", Integer, nullable=True),
    Column("traced_at", DateTime(timezone=True), nullable=True),
    Column("affected_accounts", Integer, nullable=True),
    Column("transformers", JSON, nullable=True),
    Column("feeders", JSON, nullable=True),
    Column("warnings", JSON, nullable=True),
    Column("cancel_reason", Text, nullable=True),
    Column("cancelled_by", String(100), nullable=True),
    Column("cancelled_at", DateTime(timezone=True), nullable=True),
    CheckConstraint(f"status IN ({_STATUSES})", name="status"),
)
