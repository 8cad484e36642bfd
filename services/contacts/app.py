"""Wiring of the contacts service: storage, consumers, the worklist scan, routes, review page."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI

from services.contacts.adapters.db import metadata
from services.contacts.api.routes import router
from services.contacts.api.web import pages
from services.contacts.config import ContactsSettings
from services.contacts.handlers.feedback import FeedbackHandlers
from services.contacts.handlers.outages import ListHandlers
from services.contacts.usecases import Rules
from services.contacts.usecases.maintenance import scan_when_due
from shared.bus import Bus
from shared.events import (
    ComplaintClassified,
    ContactUndeliverable,
    OutageCancelled,
    OutageRescheduled,
    OutageRetraced,
    OutageTraced,
)
from shared.runtime import ServiceRuntime
from shared.web import create_service_app

DESCRIPTION = """\
The customer contact registry and the reviewed notification list of every outage.

**Registry.** Accounts (category, voltage, importance, service address, transformer area) and
their contacts in roles (electrical, legal, billing, other) with a preferred channel, a call
window and a status (valid, suspect, invalid); area contacts (property management, residents'
and village committees) who post notices, and the WeChat groups or app topics of an area.
Numbers are normalised to E.164: mobiles take SMS, landlines calls; an unusable number typed
by a person is refused. CSV import (all or nothing, idempotent) and export; every change is
kept in a history (who, when, why); an ownership transfer retires the old owner's contacts.

**Worklist.** A periodic scan, failed deliveries (`contact.undeliverable`) and complaints
traced to a contact (`complaint.classified`) open maintenance items; closing one records what
was done in the registry.

**Lists.** On `outage.traced` (and `outage.retraced`) the list is drafted: every affected
account, its contacts and its channel plan from the channel policy, one recipient per channel
and address across accounts, and the warnings a reviewer must weigh. A reviewer who did not
plan the outage edits and approves it (`list.approved`); the review page is at `/review`.
"""


def create_app(
    settings: ContactsSettings | None = None,
    *,
    bus: Bus | None = None,
    rules: Rules | None = None,
) -> FastAPI:
    settings = settings or ContactsSettings()
    # The policy file is validated here, at start-up: a mistake stops the service with the
    # field at fault instead of drafting lists with the wrong channels.
    rules = rules or Rules.from_settings(settings)
    runtime = ServiceRuntime(settings, metadata, bus=bus)
    lists = ListHandlers(rules)
    runtime.consume(
        "lists",
        {
            OutageTraced: lists.on_outage_traced,
            OutageRetraced: lists.on_outage_retraced,
            OutageRescheduled: lists.on_outage_rescheduled,
            OutageCancelled: lists.on_outage_cancelled,
        },
    )
    feedback = FeedbackHandlers(rules)
    runtime.consume(
        "registry",
        {
            ContactUndeliverable: feedback.on_contact_undeliverable,
            ComplaintClassified: feedback.on_complaint_classified,
        },
    )
    if settings.maintenance_scan_hours > 0:
        interval = timedelta(hours=settings.maintenance_scan_hours)
        runtime.add_worker("maintenance-scan", lambda: scan_when_due(runtime.uow, rules, interval))
    app = create_service_app(
        title="Contacts", description=DESCRIPTION, runtime=runtime, routers=[router, pages]
    )
    app.state.rules = rules
    return app
