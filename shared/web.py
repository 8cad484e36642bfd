"""The FastAPI shell every service shares: lifespan, health, errors, auth config, AsyncAPI."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, Field

from shared.auth import TokenConfig
from shared.errors import (
    AppError,
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    Unauthenticated,
)
from shared.observability import MetricsMiddleware, configure_logging
from shared.runtime import ServiceRuntime
from shared.tracing import configure_tracing

STATUS_BY_ERROR: dict[type[AppError], int] = {
    InvalidInput: 422,
    NotFound: 404,
    Conflict: 409,
    PermissionDenied: 403,
    Unauthenticated: 401,
}


def status_for(error: AppError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 400


class ErrorBody(BaseModel):
    """Every expected failure: a stable code, a sentence, and what to fix."""

    error: str = Field(examples=["invalid_input"])
    detail: str
    field: str | None = Field(default=None, examples=["operations[2].device_id"])
    file: str | None = None
    row: int | None = None
    errors: list[dict[str, Any]] | None = None


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": description}
    for status, description in (
        (401, "Missing, expired or invalid credentials"),
        (403, "The caller's role may not do this"),
        (404, "No such object"),
        (409, "The object's state forbids this"),
        (422, "Invalid input; `field`, `file` and `row` say where"),
    )
}


def field_path(location: Sequence[int | str]) -> str:
    """``("body", "operations", 2, "device_id")`` → ``operations[2].device_id``."""
    parts = list(location)
    if len(parts) > 1 and parts[0] in {"body", "query", "path", "header"}:
        parts = parts[1:]
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def create_service_app(
    *,
    title: str,
    description: str,
    runtime: ServiceRuntime,
    routers: Sequence[APIRouter],
    version: str = "0.1.0",
) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(
        title=title,
        description=description,
        version=version,
        lifespan=lifespan,
        responses=ERROR_RESPONSES,
    )
    settings = runtime.settings
    app.state.runtime = runtime
    app.state.settings = settings
    app.state.token_config = TokenConfig(
        settings.jwt_secret.get_secret_value(),
        settings.jwt_issuer,
        settings.jwt_audience,
        TokenConfig.keyed([(k.name, k.sha256, k.roles) for k in settings.api_keys]),
    )
    configure_logging(runtime.name, json_logs=settings.log_json, level=settings.log_level)
    configure_tracing(settings.otel_exporter)
    app.add_middleware(MetricsMiddleware, service=runtime.name)

    @app.exception_handler(AppError)
    async def _app_error(_request: Request, exc: AppError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, Unauthenticated) else None
        return JSONResponse(exc.body(), status_code=status_for(exc), headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"field": field_path(e["loc"]), "message": e["msg"]} for e in exc.errors()]
        first = errors[0]["field"] if errors else None
        body: dict[str, Any] = {
            "error": "invalid_input",
            "detail": "request validation failed",
            "field": first,
            "errors": errors,
        }
        return JSONResponse(body, status_code=422)

    health = APIRouter(tags=["health"])

    @health.get("/healthz")
    async def healthz() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok", "service": runtime.name}

    @health.get("/readyz")
    async def readyz() -> JSONResponse:
        """The database and the bus are reachable."""
        checks = await runtime.ready()
        ok = all(checks.values())
        return JSONResponse({"ready": ok, "checks": checks}, status_code=200 if ok else 503)

    @health.get("/metrics", response_class=PlainTextResponse)
    async def metrics() -> PlainTextResponse:
        """Prometheus metrics: requests, events, outbox, notices."""
        return PlainTextResponse(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    @health.get("/asyncapi.json", tags=["events"])
    async def asyncapi() -> dict[str, Any]:
        """The AsyncAPI 3 document of every event the suite exchanges."""
        from shared.asyncapi import build_document

        return build_document()

    app.include_router(health)
    for router in routers:
        app.include_router(router)
    return app
