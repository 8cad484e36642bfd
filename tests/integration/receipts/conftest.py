"""The receipts app on a fresh database and the memory bus (see ``receipts_harness``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from receipts_harness import Receipts

from services.receipts.app import create_app
from services.receipts.config import ReceiptsSettings
from shared.auth import Role, mint_token
from shared.bus.memory import MemoryBus


@pytest.fixture
async def receipts_app(
    make_settings: Callable[..., ReceiptsSettings], memory_bus: MemoryBus, db_backend: str
) -> AsyncIterator[Receipts]:
    settings = make_settings(ReceiptsSettings, db_backend)
    app = create_app(settings, bus=memory_bus)
    token = mint_token(app.state.token_config, "auditor-1", [Role.FIELD])
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://receipts"
        ) as client,
    ):
        yield Receipts(app=app, client=client, bus=memory_bus, token=token)
