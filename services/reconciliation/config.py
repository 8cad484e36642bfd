"""Settings of the reconciliation service, read from ``RECONCILIATION_*`` environment variables."""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.reconciliation.domain.inference import InferenceSettings
from shared.config import ServiceSettings


class ReconciliationSettings(ServiceSettings):
    """Where the service listens, where the network model comes from, and how meter evidence is
    judged."""

    model_config = SettingsConfigDict(env_prefix="RECONCILIATION_", extra="ignore")

    service_name: ClassVar[str] = "reconciliation"

    host: str = Field(default="127.0.0.1", description="Interface `serve` binds to.")
    port: int = Field(default=8006, ge=1, le=65535)
    topology_url: str = Field(
        default="http://127.0.0.1:8001",
        description="Base URL of the topology service (the network model's CSV export).",
    )
    topology_timeout_s: float = Field(default=30.0, gt=0)
    grace_period_min: float = Field(
        default=120.0,
        ge=0,
        description="Minutes after an outage's window closes before it is reconciled, for the "
        "metering system's late events.",
    )
    loss_lead_min: float = Field(
        default=30.0,
        ge=0,
        description="A power-off this many minutes before the planned start still counts.",
    )
    restore_tail_min: float = Field(
        default=120.0,
        ge=0,
        description="A power-on this many minutes after the window still shows a loss in it.",
    )
    late_horizon_days: float = Field(
        default=14.0,
        ge=0,
        description="Meter events arriving this long after an outage's reconciliation reopen it.",
    )
    worker_interval_s: float = Field(
        default=60.0, gt=0, description="How often the worker looks for outages due."
    )
    worker_batch: int = Field(default=20, ge=1, description="Outages reconciled per round.")
    min_confidence: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description="Suggestions at least this confident are sent to topology (model."
        "fix_suggested); weaker ones wait for more evidence.",
    )
    history_outages: int = Field(
        default=30,
        ge=0,
        description="Earlier reconciled outages on the same feeders whose evidence is weighed.",
    )
    move_radius: int = Field(
        default=8,
        ge=1,
        description="Devices from the modelled node within which a misattached customer's real "
        "transformer area is looked for first.",
    )
    meter_prefix: str = Field(
        default="M", description="Default meter ids: this prefix instead of the account's."
    )
    account_prefix: str = Field(default="A", description="The prefix of account ids it replaces.")
    default_source_system: str = Field(
        default="用电信息采集系统", description="Source system of events that name none."
    )
    max_batch_events: int = Field(
        default=200_000, ge=1, description="Most meter events one bulk call may carry."
    )

    def grace(self) -> timedelta:
        return timedelta(minutes=self.grace_period_min)

    def inference(self) -> InferenceSettings:
        return InferenceSettings(move_radius=self.move_radius)
