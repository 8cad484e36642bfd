"""HTTP routes of the contacts service under ``/v1``; each module keeps its routes thin."""

from __future__ import annotations

from fastapi import APIRouter

from services.contacts.api import lists, maintenance, registry

router = APIRouter(prefix="/v1")
router.include_router(registry.router)
router.include_router(maintenance.router)
router.include_router(lists.router)
