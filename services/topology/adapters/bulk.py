"""Bulk writes of millions of model rows, through each driver's fastest path.

An import writes a city's nodes, devices and customers in one transaction. Going through the
ORM-less ``insert(table)`` executemany still costs SQLAlchemy's per-row parameter handling;
here PostgreSQL gets ``COPY`` (asyncpg ``copy_records_to_table``) and SQLite a plain
``executemany`` of tuples, both on the session's own connection, so the rows stay inside the
caller's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncSession


async def bulk_insert(session: AsyncSession, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts keyed by column name) into ``table`` in the session's transaction."""
    if not rows:
        return
    connection = await session.connection()
    columns = [column.name for column in table.columns]
    records = [tuple(row[column] for column in columns) for row in rows]
    raw = await connection.get_raw_connection()
    driver: Any = raw.driver_connection
    if connection.dialect.name == "postgresql":
        # asyncpg's adapter opens the transaction with the first statement it runs; one
        # cheap statement makes sure COPY runs inside it rather than on its own.
        await connection.exec_driver_sql("SELECT 1")
        # Tables are declared without a schema and mapped onto the service's own one.
        schema_map = connection.sync_engine.get_execution_options().get("schema_translate_map", {})
        await driver.copy_records_to_table(
            table.name, records=records, columns=columns, schema_name=schema_map.get(None)
        )
    elif connection.dialect.name == "sqlite":
        placeholders = ", ".join("?" for _ in columns)
        await driver.executemany(
            f'INSERT INTO "{table.name}" ({", ".join(columns)}) VALUES ({placeholders})', records
        )
    else:
        await session.execute(insert(table), list(rows))
