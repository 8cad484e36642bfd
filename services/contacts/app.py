"""Wiring of the contacts service: storage, the outage consumers and the routes."""

from __future__ import annotations

from fastapi import FastAPI

from services.contacts.adapters.db import metadata
from services.contacts.api.routes import router
from services.contacts.config import ContactsSettings
from services.contacts.domain.listing import ListingPolicy
from services.contacts.handlers.outages import ListHandlers
from shared.bus import Bus
from shared.events import OutageCancelled, OutageTraced
from shared.runtime import ServiceRuntime
from shared.web import create_service_app

DESCRIPTION = """\
The customer contact registry and the notification list of every outage.

Accounts and their contacts are imported from CSV (all or nothing; numbers checked against
the Chinese numbering plan). On `outage.traced` the list is drafted: each traced account's
usable mobiles become SMS recipients, one per phone even when it serves several accounts, and
accounts that need a call or a door-to-door slip are flagged. A reviewer who did not plan the
outage approves it, which emits `list.approved`; `outage.cancelled` cancels it.
"""


def create_app(settings: ContactsSettings | None = None, *, bus: Bus | None = None) -> FastAPI:
    settings = settings or ContactsSettings()
    runtime = ServiceRuntime(settings, metadata, bus=bus)
    handlers = ListHandlers(ListingPolicy(important_voltage_kv=settings.important_voltage_kv))
    runtime.consume(
        "lists",
        {
            OutageTraced: handlers.on_outage_traced,
            OutageCancelled: handlers.on_outage_cancelled,
        },
    )
    return create_service_app(
        title="Contacts", description=DESCRIPTION, runtime=runtime, routers=[router]
    )
