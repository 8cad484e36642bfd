"""Settings of the topology service, read from ``TOPOLOGY_*`` environment variables."""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.topology.domain.checks import CheckPolicy
from services.topology.domain.outage import DEFAULT_LEAD_TIMES
from shared.config import ServiceSettings
from shared.events.catalog import OutageKind


class TopologySettings(ServiceSettings):
    """Where the service listens, how imports are written, notice lead times and checks."""

    model_config = SettingsConfigDict(env_prefix="TOPOLOGY_", extra="ignore")

    service_name: ClassVar[str] = "topology"

    host: str = Field(default="127.0.0.1", description="Interface `serve` binds to.")
    port: int = Field(default=8001, ge=1, le=65535)
    import_chunk_size: int = Field(
        default=20_000,
        ge=1,
        description="Rows per bulk write (COPY on PostgreSQL) while an import writes the tables.",
    )
    lead_time_hours: dict[OutageKind, float] = Field(
        default_factory=lambda: {
            kind: span.total_seconds() / 3600 for kind, span in DEFAULT_LEAD_TIMES.items()
        },
        description="Minimum notice per outage kind, in hours, as JSON, e.g. "
        '{"planned": 168, "temporary": 24}; a plan starting sooner is flagged '
        "`lead_time_short`. A kind left out needs none.",
    )
    busy_branch_customers: int = Field(
        default=500,
        ge=1,
        description="A branch node carrying at least this many customers is checked when a "
        "change batch touched it recently.",
    )
    recent_change_days: int = Field(
        default=30, ge=1, description="How far back a change counts as recent for the checks."
    )
    listed_elements: int = Field(
        default=20, ge=1, description="Elements a finding names before it only counts them."
    )

    @property
    def lead_times(self) -> dict[OutageKind, timedelta]:
        return {kind: timedelta(hours=hours) for kind, hours in self.lead_time_hours.items()}

    @property
    def check_policy(self) -> CheckPolicy:
        return CheckPolicy(
            busy_branch_customers=self.busy_branch_customers,
            recent_change_days=self.recent_change_days,
            listed_elements=self.listed_elements,
        )
