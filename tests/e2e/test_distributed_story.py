"""The same story with every service as its own app over real Kafka and PostgreSQL.

Nothing is shared in memory between the services: each has its own Kafka connection,
consumer groups and PostgreSQL schema; they meet only through topics and HTTP.
"""

from __future__ import annotations

import contextlib
import uuid

import httpx
import pytest

from services.contacts.app import create_app as create_contacts
from services.contacts.config import ContactsSettings
from services.demo import daytime, play_story
from services.dispatch.app import create_app as create_dispatch
from services.dispatch.clock import ShiftedClock
from services.dispatch.config import DispatchSettings
from services.receipts.app import create_app as create_receipts
from services.receipts.config import ReceiptsSettings
from services.sample import ensure_sample
from services.suite import Suite
from services.topology.app import create_app as create_topology
from services.topology.config import TopologySettings
from tools.carrier_sim import CarrierSimSettings
from tools.carrier_sim import create_app as create_carrier

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


async def test_the_story_holds_with_each_service_alone_on_kafka_and_postgres(
    tmp_path, make_settings, kafka_bootstrap
):
    namespace = f"e2e{uuid.uuid4().hex[:8]}."

    def settings(cls):
        return make_settings(
            cls,
            "postgres",
            kafka_bootstrap=kafka_bootstrap,
            kafka_idempotence=False,
            kafka_namespace=namespace,
        )

    # Daytime whatever the hour CI runs at: SMS are not sent in quiet hours.
    dispatch_clock = ShiftedClock(daytime())
    topology_settings = settings(TopologySettings)
    receipts = create_receipts(settings(ReceiptsSettings))
    carrier_settings = CarrierSimSettings(
        report_url="http://receipts/v1/webhooks/sms-status", report_delay_s=(3600, 3600)
    )
    carrier = create_carrier(carrier_settings, report_transport=httpx.ASGITransport(app=receipts))
    apps = {
        "topology": create_topology(topology_settings),
        "contacts": create_contacts(settings(ContactsSettings)),
        "dispatch": create_dispatch(
            settings(DispatchSettings),
            http_transport=httpx.ASGITransport(app=carrier),
            clock=dispatch_clock,
        ),
        "receipts": receipts,
        "carrier": carrier,
    }
    suite = Suite(
        bus=None,
        apps=apps,
        settings={"topology": topology_settings},
        carrier_settings=carrier_settings,
        now=dispatch_clock,
    )
    sample_dir = ensure_sample(tmp_path / "sample")
    async with contextlib.AsyncExitStack() as stack:
        for app in apps.values():
            await stack.enter_async_context(app.router.lifespan_context(app))
        stack.push_async_callback(suite.aclose)
        story = await play_story(suite, sample_dir, say=lambda _line: None, escalate=False)
        stats = (await suite.client("carrier").get("/v1/stats")).json()

    notice = story.coverage["notice"]
    assert story.self_approval_status == 403
    assert notice["sent"] == story.list_counts["first_wave_by_channel"]["sms"]
    assert notice["sent"] == len(story.notified_phones)
    assert notice["delivered"] > 0
    assert notice["failed"] + notice["expired"] > 0
    assert notice["pending"] == 0
    assert story.cancelled_phones == story.notified_phones
    assert stats["duplicate_submissions"] == 0
    assert stats["distinct_messages"] == 2 * len(story.notified_phones)
