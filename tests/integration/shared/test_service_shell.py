"""What every service app gets from the shell: health, metrics, API keys, error bodies."""

from __future__ import annotations

import httpx
from fastapi import APIRouter, Depends

from shared.auth import Principal, Role, key_digest, require
from shared.config import ApiKey, ServiceSettings
from shared.db import new_metadata
from shared.runtime import ServiceRuntime
from shared.web import create_service_app


class ShellSettings(ServiceSettings):
    service_name = "shell"


router = APIRouter()


@router.get("/v1/whoami")
async def whoami(principal: Principal = Depends(require(Role.PLANNER))) -> dict[str, str]:
    """Who the caller is."""
    return {"sub": principal.sub}


async def test_health_metrics_and_api_keys(make_settings, memory_bus):
    settings = make_settings(
        ShellSettings,
        api_keys=[ApiKey(name="pms", sha256=key_digest("k-123"), roles=["planner"])],
    )
    app = create_service_app(
        title="shell",
        description="test",
        runtime=ServiceRuntime(settings, new_metadata(), bus=memory_bus),
        routers=[router],
    )
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        assert (await client.get("/healthz")).json()["status"] == "ok"
        assert (await client.get("/readyz")).json() == {
            "ready": True,
            "checks": {"database": True, "bus": True},
        }
        assert (await client.get("/v1/whoami", headers={"X-API-Key": "k-123"})).json() == {
            "sub": "pms"
        }
        wrong = await client.get("/v1/whoami", headers={"X-API-Key": "nope"})
        assert (wrong.status_code, wrong.json()["error"]) == (401, "unauthenticated")
        missing = await client.get("/v1/whoami")
        assert missing.status_code == 401
        assert "X-API-Key" in missing.json()["detail"]
        metrics = (await client.get("/metrics")).text
        assert (
            'http_requests_total{method="GET",route="/v1/whoami",service="shell",status="200"}'
            in metrics
        )
        assert 'route="/v1/whoami",service="shell",status="401"' in metrics
