"""The migration history builds exactly the tables the code declares."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from services.receipts.adapters.db import metadata
from shared.outbox import messaging_metadata


async def test_migrations_leave_no_difference_from_the_declared_tables(receipts_app):
    db = receipts_app.app.state.runtime.db

    def differences(connection: Any) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, [metadata, messaging_metadata]))  # type: ignore[arg-type]  # lists work

    async with db.engine.connect() as connection:
        if db.is_postgres:
            # The inspector reads the default schema; the service's tables live in its own.
            await connection.execute(text(f'SET search_path TO "{db.schema}"'))
        found = await connection.run_sync(differences)

    assert found == []
