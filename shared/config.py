"""Settings shared by every service.

Each service subclasses :class:`ServiceSettings` with its own env prefix (``TOPOLOGY_``,
``CONTACTS_``…). A variable is looked up with the service's prefix first and then without
it, so one ``DATABASE_URL`` / ``KAFKA_BOOTSTRAP`` switches the whole suite to production parts
while a single service can still be pointed elsewhere.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

DEV_JWT_SECRET = "dev-only-secret-change-me-0123456789abcdef"


class ApiKey(BaseModel):
    """A system-to-system caller. Only the key's SHA-256 is configured, never the key."""

    name: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    roles: list[str]


class ServiceSettings(BaseSettings):
    """What every service needs: where its data lives, the bus, auth and locale."""

    model_config = SettingsConfigDict(extra="ignore", env_prefix="")

    service_name: ClassVar[str] = "service"

    database_url: str = Field(
        default="",
        description="SQLAlchemy async URL. Empty: SQLite file under var_dir (embedded mode).",
    )
    database_schema: str = Field(
        default="",
        description="PostgreSQL schema owning this service's tables (default: the service name).",
    )
    var_dir: Path = Field(default=Path("var"), description="Where embedded mode keeps its files.")
    kafka_bootstrap: str = Field(
        default="", description="host:port of Kafka. Empty: the in-process bus (embedded mode)."
    )
    kafka_idempotence: bool = Field(
        default=True, description="Idempotent producer (off for brokers that lack it, e.g. tansu)."
    )
    kafka_max_request_bytes: int = Field(
        default=64 * 1024 * 1024,
        description="Largest record produced, before compression (the approved list of a "
        "100,000-recipient outage is about 23 MB; gzip makes it a few MB on the wire).",
    )
    kafka_create_topics: bool = Field(
        default=True,
        description="Create missing topics at start-up (off where an operator such as Strimzi "
        "owns them).",
    )
    kafka_namespace: str = Field(
        default="", description="Prefix of topic and group names (shared clusters, test runs)."
    )
    db_pool_size: int = Field(default=10, ge=1, description="PostgreSQL connections per process.")
    jwt_secret: SecretStr = Field(
        default=SecretStr(DEV_JWT_SECRET), description="HS256 key of the bearer tokens."
    )
    jwt_issuer: str = Field(default="outage-notice", description="Required `iss` of tokens.")
    jwt_audience: str = Field(default="outage-notice", description="Required `aud` of tokens.")
    timezone: str = Field(default="Asia/Shanghai", description="Local time of notices.")
    outbox_poll_interval_s: float = Field(
        default=0.5, ge=0.01, description="Longest wait of the outbox relay between polls."
    )
    consumer_max_attempts: int = Field(
        default=3, ge=1, description="Tries of a failing event handler before the DLQ."
    )
    otel_exporter: Literal["none", "console", "otlp"] = Field(
        default="none",
        description="Where traces go; otlp reads the standard OTEL_EXPORTER_OTLP_* variables.",
    )
    log_json: bool = Field(default=False, description="JSON log lines (production) or text.")
    log_level: str = Field(default="INFO", description="Root log level.")
    api_keys: list[ApiKey] = Field(
        default_factory=list,
        description='System callers: JSON list of {"name", "sha256" of the key, "roles"}; '
        "they send the key in X-API-Key.",
    )
    run_migrations: bool = Field(default=True, description="Create or upgrade tables at start-up.")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        unprefixed = EnvSettingsSource(settings_cls, env_prefix="")
        return (init_settings, env_settings, unprefixed, dotenv_settings, file_secret_settings)

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.var_dir / (self.service_name + '.db')}"

    def resolved_schema(self) -> str:
        return self.database_schema or self.service_name

    def public_dict(self) -> dict[str, Any]:
        """Settings without secrets, for logs and the embedded banner."""
        return self.model_dump(exclude={"jwt_secret"})
