"""Settings of the contacts service, read from ``CONTACTS_*`` environment variables."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.config import ServiceSettings


class ContactsSettings(ServiceSettings):
    """Where the service listens, how large an import may be, and who must be called."""

    model_config = SettingsConfigDict(env_prefix="CONTACTS_", extra="ignore")

    service_name: ClassVar[str] = "contacts"

    host: str = Field(default="127.0.0.1", description="Interface `serve` binds to.")
    port: int = Field(default=8002, ge=1, le=65535)
    import_max_mb: int = Field(
        default=512,
        ge=1,
        description="Largest upload `POST /v1/import` accepts (both files together), in MiB.",
    )
    important_voltage_kv: float = Field(
        default=10.0,
        gt=0,
        description="Accounts supplied at this voltage or above must be called, like category "
        "`important`, whatever their mobiles.",
    )
