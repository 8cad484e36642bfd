"""Voice simulator: calls placed once per request, outcomes reproducible, results pushed signed."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request

from shared.signing import SIGNATURE_HEADER, verify
from tools.voice_sim import VoiceSimSettings, call_outcome, create_app, get_sim

MOBILE = "+8613800138000"
LANDLINE = "+862188880000"


class Receipts:
    """Stands in for the receipts service's voice webhook."""

    def __init__(self) -> None:
        self.app = FastAPI()
        self.pushes: list[tuple[bytes, str | None]] = []

        @self.app.post("/v1/webhooks/voice-status")
        async def receive(request: Request) -> dict[str, int]:
            self.pushes.append((await request.body(), request.headers.get(SIGNATURE_HEADER)))
            return {"code": 0}

    def calls(self) -> list[dict[str, Any]]:
        return [c for body, _ in self.pushes for c in json.loads(body)["calls"]]


@pytest.fixture
async def voice() -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient, Receipts]]:
    receipts = Receipts()
    app = create_app(
        VoiceSimSettings(call_delay_s=(600.0, 600.0), report_backoff_s=0.001),
        report_transport=httpx.ASGITransport(app=receipts.app),
    )
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://voice"
        ) as client,
    ):
        yield app, client, receipts


def call(message_id: str, phone: str = MOBILE, text: str = "您好，停电通知，确认请按1") -> dict:
    return {"message_id": message_id, "phone": phone, "text": text}


async def test_a_call_is_placed_and_its_result_pushed_signed_to_receipts(voice):
    app, client, receipts = voice
    placed = await client.post("/v1/calls", json=call("m-1"))
    assert placed.status_code == 200
    assert (await client.get("/v1/calls/m-1")).json()["status"] == "ringing"
    assert (await client.post("/v1/admin/flush")).json() == {"flushed": 1}
    [result] = receipts.calls()
    expected = call_outcome(get_sim(app).settings, "m-1", MOBILE)
    assert result["message_id"] == "m-1"
    assert result["outcome"] == expected
    body, signature = receipts.pushes[0]
    verify(["dev-carrier-secret"], body, signature)
    assert (await client.get("/v1/calls/m-1")).json()["status"] == expected


async def test_landlines_can_be_called_and_bad_numbers_are_refused(voice):
    _, client, _ = voice
    assert (await client.post("/v1/calls", json=call("m-1", LANDLINE))).status_code == 200
    refused = await client.post("/v1/calls", json=call("m-2", "12345"))
    assert refused.status_code == 400
    assert refused.json()["code"] == "INVALID_NUMBER"
    assert (await client.get("/v1/calls/m-2")).status_code == 404


async def test_calling_a_message_twice_rings_twice_and_is_counted(voice):
    app, client, _ = voice
    for _ in range(2):
        await client.post("/v1/calls", json=call("m-1"))
    stats = get_sim(app).stats()
    assert (stats.calls, stats.distinct_messages, stats.duplicate_calls) == (2, 1, 1)
    assert (await client.get("/v1/calls/m-1")).json()["calls"] == 2


def test_outcomes_follow_the_rates_and_dead_numbers_fail():
    settings = VoiceSimSettings()
    outcomes = [call_outcome(settings, f"m-{i}", MOBILE) for i in range(2000)]
    share = {o: outcomes.count(o) / len(outcomes) for o in set(outcomes)}
    assert share["confirmed"] == pytest.approx(0.6, abs=0.05)
    assert share["busy"] == pytest.approx(0.1, abs=0.05)
    assert call_outcome(settings, "m-1", "+8613800000000") == "failed"
    assert outcomes == [call_outcome(settings, f"m-{i}", MOBILE) for i in range(2000)]


async def test_faults_on_demand(voice):
    app, client, _ = voice
    get_sim(app).settings.fail_5xx_rate = 1.0
    unavailable = await client.post("/v1/calls", json=call("m-1"))
    assert unavailable.status_code == 503
    assert (await client.get("/v1/calls/m-1")).status_code == 404


async def test_a_slow_answer_still_placed_the_call(voice):
    app, client, _ = voice
    get_sim(app).settings.latency_s = 5.0
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(client.post("/v1/calls", json=call("m-1")), 0.05)
    assert (await client.get("/v1/calls/m-1")).status_code == 200


def test_rates_that_add_up_to_more_than_everything_are_refused():
    with pytest.raises(ValueError, match="must not exceed 1"):
        VoiceSimSettings(confirmed_rate=0.7, answered_rate=0.4)
