"""The receipts app on a fresh database and the memory bus (see ``receipts_harness``)."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
from receipts_harness import SENT_AT, Receipts, TopologyFake

from services.receipts.app import create_app
from services.receipts.clock import ManualClock
from services.receipts.config import ReceiptsSettings
from shared.auth import Role, mint_token
from shared.bus.memory import MemoryBus
from shared.db import Database
from shared.migrations import upgrade
from tests.fixtures.postgres import run_in_fresh_loop


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file at the newest revision, copied for each test instead of migrating anew.

    Each test still starts the app, whose migration step then finds nothing to do; building
    the tables once saves most of a test's set-up.
    """
    path = tmp_path_factory.mktemp("receipts-template") / "receipts.db"

    async def migrate() -> None:
        db = Database(f"sqlite+aiosqlite:///{path}", "receipts")
        try:
            await upgrade(db, "receipts")
        finally:
            await db.dispose()

    run_in_fresh_loop(migrate)
    return path


@pytest.fixture
async def receipts_app(
    make_settings: Callable[..., ReceiptsSettings],
    memory_bus: MemoryBus,
    db_backend: str,
    request: pytest.FixtureRequest,
) -> AsyncIterator[Receipts]:
    # The worker's own loop waits an hour between rounds: tests run rounds themselves.
    settings = make_settings(ReceiptsSettings, db_backend, escalation_interval_s=3600)
    if db_backend == "sqlite":
        template: Path = request.getfixturevalue("migrated_sqlite")
        shutil.copyfile(template, settings.database_url.removeprefix("sqlite+aiosqlite:///"))
    clock = ManualClock(SENT_AT)
    topology = TopologyFake(calls=[])
    app = create_app(settings, bus=memory_bus, clock=clock, http_transport=topology.transport())
    token = mint_token(app.state.token_config, "auditor-1", [Role.FIELD])
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://receipts"
        ) as client,
    ):
        yield Receipts(
            app=app, client=client, bus=memory_bus, token=token, clock=clock, topology=topology
        )
