"""Test-wide fixtures: real PostgreSQL and Kafka when available, SQLite and the memory bus always.

With ``CI=true`` a PostgreSQL or Kafka test never skips: a missing service fails the run.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from shared.config import ServiceSettings
from tests.fixtures.kafka import TansuBroker, start_tansu
from tests.fixtures.postgres import postgres_url_or_reason

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

S = TypeVar("S", bound=ServiceSettings)


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"required test service unavailable in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_url() -> str:
    url, reason = postgres_url_or_reason()
    if url is None:
        _unavailable(reason)
    assert url is not None
    return url


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    external = os.environ.get("KAFKA_BOOTSTRAP")
    if external:
        yield external
        return
    try:
        broker: TansuBroker = start_tansu()
    except Exception as exc:
        _unavailable(f"cannot start tansu: {exc}")
        raise
    try:
        yield broker.bootstrap
    finally:
        broker.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_backend(request: pytest.FixtureRequest) -> str:
    """Run a test on SQLite and on PostgreSQL."""
    return str(request.param)


SettingsFactory = Callable[..., Any]


@pytest.fixture
def make_settings(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Callable[..., ServiceSettings]]:
    """``make_settings(TopologySettings, backend="sqlite"|"postgres", **overrides)``.

    SQLite: a fresh file under tmp_path. PostgreSQL: a fresh schema, dropped afterwards.
    """
    schemas: list[tuple[str, str]] = []

    def factory(cls: type[S], backend: str = "sqlite", **overrides: Any) -> S:
        values: dict[str, Any] = {
            "var_dir": tmp_path,
            "outbox_poll_interval_s": 0.05,
            "kafka_bootstrap": "",
        }
        if backend == "postgres":
            url = request.getfixturevalue("postgres_url")
            schema = f"t_{uuid.uuid4().hex[:12]}_{cls.service_name}"
            values.update(database_url=url, database_schema=schema)
            schemas.append((url, schema))
        else:
            values["database_url"] = f"sqlite+aiosqlite:///{tmp_path / (cls.service_name + '.db')}"
        values.update(overrides)
        return cls(**values)

    yield factory
    if schemas:
        from tests.fixtures.postgres import drop_schemas

        drop_schemas(schemas)


@pytest.fixture
async def memory_bus() -> AsyncIterator[Any]:
    from shared.bus.memory import MemoryBus

    bus = MemoryBus()
    await bus.start()
    yield bus
    await bus.stop()
