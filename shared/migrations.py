"""Alembic, one migration history per service, run at start-up or from the command line.

Each service keeps ``migrations/`` (``env.py`` calls :func:`run_env`) and its own
``alembic_version`` table inside its own schema (PostgreSQL) or SQLite file, so services upgrade
independently. ``python -m shared.migrations revision SERVICE -m "what changed"`` autogenerates
a revision against a scratch SQLite database at the current head.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import tempfile
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData, text

from shared.db import Database
from shared.outbox import messaging_metadata

SERVICES_DIR = Path(__file__).resolve().parent.parent / "services"


def script_location(service: str) -> Path:
    return SERVICES_DIR / service / "migrations"


def _config(service: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location(service)))
    return config


def run_env(context: Any, metadata: MetaData) -> None:
    """The body of every service's ``migrations/env.py``.

    On PostgreSQL a service's tables live in its own schema, which the engine reaches through
    a ``schema_translate_map``. Alembic does not go through that map when it looks for its
    ``alembic_version`` table or names the table of an ALTER, so without the search path a
    restarted service would find no version and migrate from the start again.
    """
    connection = context.config.attributes["connection"]
    schema = connection.get_execution_options().get("schema_translate_map", {}).get(None)
    if connection.dialect.name == "postgresql" and schema:
        # LOCAL: only for the migration's transaction, not for the pooled connection afterwards.
        connection.exec_driver_sql(f'SET LOCAL search_path TO "{schema}"')
    context.configure(
        connection=connection,
        target_metadata=[metadata, messaging_metadata],
        # SQLite cannot ALTER most things in place; batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


# Alembic's ``context`` is one module-level proxy: two services of one process (the embedded
# suite) migrating at once would configure it over each other.
_alembic_in_use = asyncio.Lock()


def services_with_migrations() -> list[str]:
    return sorted(p.parent.name for p in SERVICES_DIR.glob("*/migrations/env.py"))


async def upgrade(db: Database, service: str) -> None:
    """Bring the service's tables to the newest revision."""
    async with _alembic_in_use, db.engine.begin() as conn:
        if db.is_postgres:
            # Replicas start together; the lock makes one migrate while the others wait.
            await conn.execute(
                text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
                {"key": f"migrate:{db.schema}"},
            )
            await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{db.schema}"'))

        def run(sync_conn: Any) -> None:
            config = _config(service)
            config.attributes["connection"] = sync_conn
            command.upgrade(config, "head")

        await conn.run_sync(run)


async def _autogenerate(service: str, message: str) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        db = Database(f"sqlite+aiosqlite:///{scratch}/scratch.db", service)
        try:
            await upgrade(db, service)
            importlib.import_module(f"services.{service}.adapters.db")
            async with _alembic_in_use, db.engine.begin() as conn:

                def revise(sync_conn: Any) -> None:
                    config = _config(service)
                    config.attributes["connection"] = sync_conn
                    command.revision(config, message=message, autogenerate=True)

                await conn.run_sync(revise)
        finally:
            await db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m shared.migrations")
    commands = parser.add_subparsers(dest="command", required=True)
    revision = commands.add_parser("revision", help="autogenerate a revision for one service")
    revision.add_argument("service", choices=services_with_migrations())
    revision.add_argument("-m", "--message", required=True)
    args = parser.parse_args()
    asyncio.run(_autogenerate(args.service, args.message))


if __name__ == "__main__":
    main()
