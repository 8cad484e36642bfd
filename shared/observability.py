"""Metrics, structured logs and the outage id that ties them together.

Metrics live in the process-wide Prometheus registry with a ``service`` label, so the embedded
mode (four services in one process) and production (one each) expose the same series on
``/metrics``. Logs are JSON lines carrying the outage id being worked on; phone numbers are
masked on the way out (PIPL: a log is not a place for personal data).
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from opentelemetry.trace import SpanKind
from prometheus_client import Counter, Histogram

from shared.tracing import continued_span

current_outage: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "current_outage", default=None
)

HTTP_REQUESTS = Counter(
    "http_requests_total", "HTTP requests answered.", ["service", "method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "http_request_duration_seconds",
    "Time to answer an HTTP request.",
    ["service", "method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
EVENTS = Counter(
    "events_consumed_total",
    "Events a consumer took off the bus, by outcome.",
    ["consumer", "type", "outcome"],
)
EVENT_LATENCY = Histogram(
    "event_handle_duration_seconds",
    "Time to handle one event, inbox claim and commit included.",
    ["consumer", "type"],
)
OUTBOX_PUBLISHED = Counter(
    "outbox_published_total", "Events the outbox relay published.", ["service"]
)
NOTICES = Counter(
    "notices_total",
    "Notices by channel and what became of them (submitted, failed, delivered…).",
    ["service", "channel", "outcome"],
)

# Chinese mobiles, bare or with the country code; landlines with an area code.
_PHONE = re.compile(r"(?<!\d)(\+?86)?(1[3-9]\d)(\d{4})(\d{4})(?!\d)")


def mask_phones(text: str) -> str:
    """``13812345678`` → ``138****5678``."""
    return _PHONE.sub(lambda m: f"{m.group(1) or ''}{m.group(2)}****{m.group(4)}", text)


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "service": self.service,
            "message": mask_phones(record.getMessage()),
        }
        outage = current_outage.get()
        if outage:
            entry["outage_id"] = outage
        if record.exc_info:
            entry["error"] = mask_phones(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


class MaskingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        outage = current_outage.get()
        prefix = f"[{outage}] " if outage else ""
        return prefix + mask_phones(super().format(record))


def configure_logging(service: str, *, json_logs: bool, level: str = "INFO") -> None:
    """Install one handler on the root logger (idempotent: embedded mode calls it per service)."""
    root = logging.getLogger()
    root.setLevel(level.upper())
    # One line per outgoing request or migration step drowns what operators need to see.
    for chatty in ("httpx", "httpcore", "alembic.runtime.migration"):
        logging.getLogger(chatty).setLevel(max(logging.WARNING, root.level))
    for handler in root.handlers:
        if getattr(handler, "_outage_notice", False):
            return
    handler = logging.StreamHandler()
    handler._outage_notice = True  # type: ignore[attr-defined]  # marks our own handler
    handler.setFormatter(
        JsonFormatter(service)
        if json_logs
        else MaskingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    root.addHandler(handler)


ASGIApp = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


class MetricsMiddleware:
    """Counts and times requests by route template (not raw path: ids would explode labels)."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        token = current_outage.set(None)
        method = scope.get("method", "")
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", [])}
        try:
            with continued_span(
                f"{method} {scope.get('path', '')}",
                headers.get("traceparent"),
                SpanKind.SERVER,
                {"http.method": method, "service": self.service},
            ) as span:
                await self.app(scope, receive, send_wrapper)
                span.set_attribute("http.status_code", status)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", "unmatched")
            HTTP_REQUESTS.labels(self.service, method, template, str(status)).inc()
            HTTP_LATENCY.labels(self.service, method, template).observe(
                time.perf_counter() - started
            )
            current_outage.reset(token)
