"""A trace started by an HTTP caller continues through the outbox into the consumer."""

from __future__ import annotations

import httpx
from fastapi import APIRouter, Request
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from shared.config import ServiceSettings
from shared.db import new_metadata
from shared.events import OutageCancelled
from shared.runtime import ServiceRuntime
from shared.tracing import configure_tracing
from shared.web import create_service_app

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


class TracedSettings(ServiceSettings):
    service_name = "traced"


async def test_an_event_carries_the_callers_trace_to_its_consumer(make_settings, memory_bus):
    exporter = InMemorySpanExporter()
    configure_tracing("none", processor=SimpleSpanProcessor(exporter))
    runtime = ServiceRuntime(make_settings(TracedSettings), new_metadata(), bus=memory_bus)
    handled: list[str] = []

    async def on_cancelled(event, envelope, _uow) -> None:
        handled.append(envelope.traceparent or "")

    runtime.consume("tracer", {OutageCancelled: on_cancelled})
    router = APIRouter()

    @router.post("/v1/cancel")
    async def cancel(request: Request) -> dict[str, str]:
        """Emit one event."""
        async with runtime.uow() as uow:
            uow.emit(
                OutageCancelled(
                    outage_id="OUT-T",
                    reason="r",
                    cancelled_by="p",
                    cancelled_at="2026-12-01T00:00:00Z",
                )
            )
            await uow.commit()
        return {"ok": "yes"}

    app = create_service_app(title="t", description="t", runtime=runtime, routers=[router])
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        response = await client.post("/v1/cancel", headers={"traceparent": CALLER})
        assert response.status_code == 200
        await runtime.relay.publish_pending()
        await memory_bus.drain()

    assert handled
    assert handled[0].split("-")[1] == TRACE_ID
    spans = {span.name: span for span in exporter.get_finished_spans()}
    server = spans["POST /v1/cancel"]
    consumer = spans["consume outage.cancelled"]
    assert f"{server.context.trace_id:032x}" == TRACE_ID
    assert f"{consumer.context.trace_id:032x}" == TRACE_ID
    assert consumer.attributes["outage.id"] == "OUT-T"
