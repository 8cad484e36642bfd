"""Settings of the topology service, read from ``TOPOLOGY_*`` environment variables."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.config import ServiceSettings


class TopologySettings(ServiceSettings):
    """Where the service listens and how network imports are written."""

    model_config = SettingsConfigDict(env_prefix="TOPOLOGY_", extra="ignore")

    service_name: ClassVar[str] = "topology"

    host: str = Field(default="127.0.0.1", description="Interface `serve` binds to.")
    port: int = Field(default=8001, ge=1, le=65535)
    import_chunk_size: int = Field(
        default=5000,
        ge=1,
        description="Rows per bulk INSERT while an import writes the network tables.",
    )
    upload_spool_bytes: int = Field(
        default=8 * 1024 * 1024,
        ge=0,
        description="An uploaded CSV file larger than this is spooled to a temporary file.",
    )
