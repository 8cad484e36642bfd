"""Settings of the contacts service, read from ``CONTACTS_*`` environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.channel_policy import DEFAULT_POLICY_PATH
from shared.config import ServiceSettings


class ContactsSettings(ServiceSettings):
    """Where the service listens, how large an import may be, and how contacts are kept."""

    model_config = SettingsConfigDict(env_prefix="CONTACTS_", extra="ignore")

    service_name: ClassVar[str] = "contacts"

    host: str = Field(default="127.0.0.1", description="Interface `serve` binds to.")
    port: int = Field(default=8002, ge=1, le=65535)
    import_max_mb: int = Field(
        default=512,
        ge=1,
        description="Largest upload `POST /v1/import` accepts (all files together), in MiB.",
    )
    channel_policy: Path = Field(
        default=DEFAULT_POLICY_PATH,
        description="The channel policy file (YAML or TOML) that plans who is told on which "
        "channel; read and validated at start-up.",
    )
    recent_change_days: int = Field(
        default=30,
        ge=0,
        description="A list warns about accounts moved, renamed or transferred this recently.",
    )
    unverified_after_days: int = Field(
        default=365,
        ge=1,
        description="A contact not confirmed (or registered) for this long goes on the "
        "maintenance worklist.",
    )
    shared_number_accounts: int = Field(
        default=5,
        ge=2,
        description="A number that is the contact of this many accounts goes on the worklist.",
    )
    reopen_after_days: int = Field(
        default=90,
        ge=0,
        description="A closed worklist item is not reopened by the scan for this long.",
    )
    invalid_after_failures: int = Field(
        default=3,
        ge=1,
        description="Consecutive failed deliveries after which a number is invalid (before: "
        "suspect).",
    )
    maintenance_scan_hours: float = Field(
        default=24.0,
        ge=0,
        description="Hours between scans of the registry for the worklist; 0: only on demand "
        "(`POST /v1/maintenance/scan`).",
    )
