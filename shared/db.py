"""Database access shared by the services: engines, sessions and the naming convention.

Each service owns its tables. On PostgreSQL they live in the service's own schema (tables are
declared without a schema and mapped onto it with ``schema_translate_map``); in embedded mode
each service gets its own SQLite file. The same models therefore run unchanged on both.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_metadata() -> MetaData:
    return MetaData(naming_convention=NAMING_CONVENTION)


class Database:
    """An engine and session factory bound to one service's schema or SQLite file."""

    def __init__(self, url: str, schema: str, *, pool_size: int = 10, echo: bool = False) -> None:
        self.url = url
        self.schema = schema
        self.is_postgres = url.startswith("postgresql")
        options: dict[str, Any] = {}
        kwargs: dict[str, Any] = {"echo": echo}
        if self.is_postgres:
            options["schema_translate_map"] = {None: schema}
            kwargs.update(pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)
        else:
            _ensure_sqlite_dir(url)
            kwargs["connect_args"] = {"timeout": 30}
        self.engine: AsyncEngine = create_async_engine(url, execution_options=options, **kwargs)
        if not self.is_postgres:
            _serialise_sqlite_writers(self.engine)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    async def create_tables(self, *metadatas: MetaData) -> None:
        async with self.engine.begin() as conn:
            if self.is_postgres:
                await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"'))
            for metadata in metadatas:
                await conn.run_sync(metadata.create_all)

    async def drop_schema(self) -> None:
        """Tests only: remove everything this service stored."""
        if self.is_postgres:
            async with self.engine.begin() as conn:
                await conn.execute(text(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE'))

    async def ping(self) -> bool:
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    def session(self) -> AsyncSession:
        return self.sessions()

    async def dispose(self) -> None:
        await self.engine.dispose()


def _ensure_sqlite_dir(url: str) -> None:
    _, _, path = url.partition(":///")
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)


def _serialise_sqlite_writers(engine: AsyncEngine) -> None:
    # SQLite's deferred transactions fail with "database is locked" when a reader later tries
    # to write while another connection writes; BEGIN IMMEDIATE takes the write lock up front
    # and busy_timeout makes the others wait for it instead of failing.
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def upsert_ignore(
    session: AsyncSession, table: Any, values: dict[str, Any] | list[dict[str, Any]]
) -> Any:
    """An ``INSERT … ON CONFLICT DO NOTHING`` statement for the session's dialect."""
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        return postgresql.insert(table).values(values).on_conflict_do_nothing()
    return sqlite.insert(table).values(values).on_conflict_do_nothing()
