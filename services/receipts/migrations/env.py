"""Alembic environment of the receipts service; the shared runner does the work.

On PostgreSQL the service's tables live in its own schema, which the engine reaches through a
``schema_translate_map``. Alembic does not go through that map when it looks for its
``alembic_version`` table or names the table of an ALTER, so without the search path below a
restarted service would find no version and migrate from the start again.
"""

from alembic import context

from services.receipts.adapters.db import metadata
from shared.migrations import run_env

connection = context.config.attributes["connection"]
schema = connection.get_execution_options().get("schema_translate_map", {}).get(None)
if connection.dialect.name == "postgresql" and schema:
    # LOCAL: only for the migration's transaction, not for the pooled connection afterwards.
    connection.exec_driver_sql(f'SET LOCAL search_path TO "{schema}"')
run_env(context, metadata)
