"""Settings of the receipts service, read from ``RECEIPTS_*`` environment variables."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from shared.config import ServiceSettings
from shared.signing import DEFAULT_TOLERANCE_S


class ReceiptsSettings(ServiceSettings):
    """Where the service listens and how carrier webhooks are authenticated.

    ``RECEIPTS_WEBHOOK_SECRETS`` takes JSON, e.g. ``'["new-secret", "old-secret"]'``: during a
    rotation the carrier may sign with either, so both are accepted until the old one is dropped.
    """

    model_config = SettingsConfigDict(env_prefix="RECEIPTS_", extra="ignore")

    service_name: ClassVar[str] = "receipts"

    host: str = Field(default="127.0.0.1", description="Interface `serve` binds to.")
    port: int = Field(default=8004, ge=1, le=65535)
    webhook_secrets: list[SecretStr] = Field(
        default=[SecretStr("dev-carrier-secret")],
        min_length=1,
        description="HMAC secrets a carrier may sign delivery reports with (X-Signature).",
    )
    webhook_tolerance_s: int = Field(
        default=DEFAULT_TOLERANCE_S,
        ge=1,
        description="How far a signature's timestamp may be from now before it counts as a replay.",
    )

    def webhook_secret_values(self) -> list[str]:
        return [secret.get_secret_value() for secret in self.webhook_secrets]

    def public_dict(self) -> dict[str, Any]:
        return self.model_dump(exclude={"jwt_secret", "webhook_secrets"})
