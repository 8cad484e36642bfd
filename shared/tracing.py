"""Distributed traces that follow an outage across HTTP and the bus.

The W3C ``traceparent`` travels in HTTP headers and, for events, in the CloudEvents
distributed-tracing extension attribute of the envelope (stored with the event in the outbox,
so a trace survives the hop through the relay and a crash in between). Without an exporter
configured the OpenTelemetry API is a no-op and costs next to nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Literal

from opentelemetry import context, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter
from opentelemetry.trace import Span, SpanKind
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

Exporter = Literal["none", "console", "otlp"]

tracer = trace.get_tracer("outage-notice")
_propagator = TraceContextTextMapPropagator()
_configured = False


def configure_tracing(exporter: Exporter, processor: SpanProcessor | None = None) -> None:
    """Install the process-wide tracer provider once (embedded mode hosts four services)."""
    global _configured
    if _configured or (exporter == "none" and processor is None):
        return
    provider = TracerProvider(resource=Resource.create({"service.name": "outage-notice"}))
    if processor is not None:
        provider.add_span_processor(processor)
    elif exporter == "console":
        provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        # Endpoint and headers come from the standard OTEL_EXPORTER_OTLP_* variables.
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    _configured = True


def current_traceparent() -> str | None:
    carrier: dict[str, str] = {}
    _propagator.inject(carrier)
    return carrier.get("traceparent")


def inject_headers(headers: dict[str, str]) -> None:
    """Add ``traceparent`` to outgoing HTTP headers (httpx request hooks call this)."""
    _propagator.inject(headers)


@contextmanager
def continued_span(
    name: str, traceparent: str | None, kind: SpanKind, attributes: Mapping[str, str]
) -> Iterator[Span]:
    """A span that continues the trace named by ``traceparent`` (or starts one)."""
    parent = _propagator.extract({"traceparent": traceparent} if traceparent else {})
    token = context.attach(parent)
    try:
        with tracer.start_as_current_span(name, kind=kind, attributes=dict(attributes)) as span:
            yield span
    finally:
        context.detach(token)
