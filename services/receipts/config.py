"""Settings of the receipts service, read from ``RECEIPTS_*`` environment variables."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from services.receipts.domain.escalation import DEFAULT_WINDOWS, EscalationPolicy
from shared.config import ServiceSettings
from shared.events.catalog import Channel, OutageKind
from shared.signing import DEFAULT_TOLERANCE_S

DEFAULT_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")
CONFIRM_WINDOWS_MIN: dict[Channel, float] = {
    channel: window.total_seconds() / 60 for channel, window in DEFAULT_WINDOWS.items()
}
# 电力供应与使用条例 / 供电营业规则: planned work is announced 7 days ahead, temporary work
# 24 hours ahead; emergencies and load shedding follow the published order, with no lead time.
REQUIRED_NOTICE_H: dict[OutageKind, float] = {
    "planned": 168.0,
    "relocation": 168.0,
    "temporary": 24.0,
    "orderly_use": 24.0,
    "emergency": 0.0,
    "load_shedding": 0.0,
}


class ReceiptsSettings(ServiceSettings):
    """Where the service listens, how webhooks are authenticated, and when to escalate.

    ``RECEIPTS_WEBHOOK_SECRETS`` takes JSON, e.g. ``'["new-secret", "old-secret"]'``: during a
    rotation the carrier may sign with either, so both are accepted until the old one is dropped.
    The per-kind and per-channel tables take JSON too, e.g.
    ``RECEIPTS_DEADLINE_H='{"temporary": 4}'``; kinds or channels left out use the default.
    """

    model_config = SettingsConfigDict(env_prefix="RECEIPTS_", extra="ignore")

    service_name: ClassVar[str] = "receipts"

    host: str = Field(default="127.0.0.1", description="Interface `serve` binds to.")
    port: int = Field(default=8004, ge=1, le=65535)
    webhook_secrets: list[SecretStr] = Field(
        default=[SecretStr("dev-carrier-secret")],
        min_length=1,
        description="HMAC secrets carriers and the voice platform sign their pushes with.",
    )
    webhook_tolerance_s: int = Field(
        default=DEFAULT_TOLERANCE_S,
        ge=1,
        description="How far a signature's timestamp may be from now before it counts as a replay.",
    )
    topology_url: str = Field(
        default="http://127.0.0.1:8001",
        description="Base URL of the topology service (what-if traces for complaints).",
    )
    topology_timeout_s: float = Field(default=10.0, gt=0)

    default_deadline_h: float = Field(
        default=24.0, ge=0, description="Hours before the start by which all should be reached."
    )
    deadline_h: dict[OutageKind, float] = Field(
        default_factory=dict, description="The deadline per outage kind, overriding the default."
    )
    default_confirm_window_min: float = Field(
        default=120.0, gt=0, description="Minutes a channel is given to be confirmed."
    )
    confirm_window_min: dict[Channel, float] = Field(
        default_factory=lambda: dict(CONFIRM_WINDOWS_MIN),
        description="Confirmation window per channel before escalation moves on.",
    )
    visit_window_h: float = Field(
        default=12.0, ge=0, description="Hours field staff need for a visit before the deadline."
    )
    min_step_wait_min: float = Field(
        default=15.0, ge=0, description="Least time a rung gets before an unconfirmed move on."
    )
    escalation_interval_s: float = Field(
        default=30.0, gt=0, description="How often the escalation worker looks for due outages."
    )
    escalation_batch: int = Field(default=50, ge=1, description="Outages evaluated per round.")
    required_notice_h: dict[OutageKind, float] = Field(
        default_factory=lambda: dict(REQUIRED_NOTICE_H),
        description="Lead time the rules require per outage kind (evidence: told in time?).",
    )
    undeliverable_after: int = Field(
        default=2,
        ge=1,
        description="Consecutive failures of a number before contact.undeliverable is sent.",
    )
    font_path: Path = Field(
        default=DEFAULT_FONT,
        description="TrueType/TTC CJK font embedded in PDFs and charts (Debian: fonts-wqy-zenhei).",
    )
    font_index: int = Field(default=0, ge=0, description="Face of a .ttc collection to use.")

    def webhook_secret_values(self) -> list[str]:
        return [secret.get_secret_value() for secret in self.webhook_secrets]

    def escalation_policy(self) -> EscalationPolicy:
        return EscalationPolicy(
            default_deadline=timedelta(hours=self.default_deadline_h),
            deadlines={kind: timedelta(hours=h) for kind, h in self.deadline_h.items()},
            default_window=timedelta(minutes=self.default_confirm_window_min),
            windows={ch: timedelta(minutes=m) for ch, m in self.confirm_window_min.items()},
            visit_window=timedelta(hours=self.visit_window_h),
            min_wait=timedelta(minutes=self.min_step_wait_min),
        )

    def required_leads(self) -> dict[str, timedelta]:
        return {kind: timedelta(hours=h) for kind, h in self.required_notice_h.items()}

    def public_dict(self) -> dict[str, Any]:
        return self.model_dump(exclude={"jwt_secret", "webhook_secrets"})
