"""Alembic environment of the receipts service; the shared runner does the work."""

from alembic import context

from services.receipts.adapters.db import metadata
from shared.migrations import run_env

run_env(context, metadata)
