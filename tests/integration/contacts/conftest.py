"""The contacts app on a fresh database and the memory bus (see ``contacts_harness``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
from contacts_harness import Contacts

from services.contacts.app import create_app
from services.contacts.config import ContactsSettings
from shared.bus.memory import MemoryBus


@pytest.fixture
async def contacts(
    make_settings: Callable[..., ContactsSettings], memory_bus: MemoryBus, db_backend: str
) -> AsyncIterator[Contacts]:
    # No background scan: a test scans when it means to (POST /v1/maintenance/scan).
    settings = make_settings(ContactsSettings, db_backend, maintenance_scan_hours=0)
    app = create_app(settings, bus=memory_bus)
    async with app.router.lifespan_context(app):
        yield Contacts(app=app, bus=memory_bus)
