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
    """The body of every service's ``migrations/env.py``."""
    connection = context.config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=[metadata, messaging_metadata],
        # SQLite cannot ALTER most things in place; batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def upgrade(db: Database, service: str) -> None:
    """Bring the service's tables to the newest revision."""
    async with db.engine.begin() as conn:
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
            async with db.engine.begin() as conn:

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
    revision.add_argument("service", choices=["topology", "contacts", "dispatch", "receipts"])
    revision.add_argument("-m", "--message", required=True)
    args = parser.parse_args()
    asyncio.run(_autogenerate(args.service, args.message))


if __name__ == "__main__":
    main()
