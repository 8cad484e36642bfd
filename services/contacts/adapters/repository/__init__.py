"""Reading and writing the registry, its history and worklist, and the notification lists.

Everything here works on many rows at once: ids are looked up with ``IN`` in chunks (a trace
may name 20,000 accounts, an import a million) and rows are written with Core ``executemany``
in chunks, never as one ORM object per row. A list's per-account details are stored as compact
JSON text in one row per account, and its merged recipients as JSON chunks, because drafting a
list must stay well under a second for the largest outages.
"""

from __future__ import annotations

from services.contacts.adapters.repository.lists import ListRepository
from services.contacts.adapters.repository.maintenance import MaintenanceRepository
from services.contacts.adapters.repository.registry import RegistryRepository
from services.contacts.adapters.repository.rows import CHUNK_SIZE, chunked

__all__ = [
    "CHUNK_SIZE",
    "ListRepository",
    "MaintenanceRepository",
    "RegistryRepository",
    "chunked",
]
