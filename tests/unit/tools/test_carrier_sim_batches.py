"""Carrier simulator extensions: the batch API and the per-number daily cap."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
from fastapi import FastAPI

from tools.carrier_sim import CarrierSimSettings, create_app, get_sim

PHONE = "+8613800138000"


@pytest.fixture
async def open_sim() -> AsyncIterator[Callable[..., Awaitable[tuple[FastAPI, httpx.AsyncClient]]]]:
    """``await open_sim(settings)``: a running simulator and a client to it."""
    async with contextlib.AsyncExitStack() as stack:

        async def start(settings: CarrierSimSettings) -> tuple[FastAPI, httpx.AsyncClient]:
            app = create_app(settings)
            await stack.enter_async_context(app.router.lifespan_context(app))
            client = await stack.enter_async_context(
                httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://c")
            )
            return app, client

        yield start


def quiet(**overrides) -> CarrierSimSettings:
    return CarrierSimSettings(report_delay_s=(600.0, 600.0), **overrides)


def message(i: int, phone: str = PHONE, text: str = "停电通知") -> dict[str, str]:
    return {"message_id": f"m-{i}", "phone": phone, "text": text, "sign_name": "国网"}


async def test_a_batch_answers_each_message_on_its_own(open_sim):
    app, client = await open_sim(quiet())
    response = await client.post(
        "/v1/sms/batch",
        json={
            "messages": [
                message(1),
                message(2, phone="+1202555"),
                message(3, text=" "),
                message(4, text="长" * 80),
            ]
        },
    )
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["message_id"] for r in results] == ["m-1", "m-2", "m-3", "m-4"]
    assert results[0]["provider_message_id"]
    assert results[0]["parts"] == 1
    assert (results[1]["status"], results[1]["code"]) == (400, "INVALID_NUMBER")
    assert (results[2]["status"], results[2]["code"]) == (400, "EMPTY_TEXT")
    assert results[3]["parts"] == 2
    stats = get_sim(app).stats()
    assert stats.submissions == 2
    assert (await client.get("/v1/sms/m-4")).status_code == 200


async def test_a_batch_larger_than_allowed_or_over_the_rate_is_refused_whole(open_sim):
    _, client = await open_sim(quiet(max_batch=2, rate_limit_per_s=2))
    too_big = await client.post("/v1/sms/batch", json={"messages": [message(i) for i in range(3)]})
    assert too_big.status_code == 400
    assert too_big.json()["code"] == "INVALID_REQUEST"
    assert (
        await client.post("/v1/sms/batch", json={"messages": [message(1), message(2)]})
    ).status_code == 200
    throttled = await client.post("/v1/sms/batch", json={"messages": [message(3), message(4)]})
    assert throttled.status_code == 429
    assert int(throttled.headers["Retry-After"]) >= 1


async def test_a_number_over_its_daily_cap_is_refused_until_tomorrow(open_sim):
    app, client = await open_sim(quiet(daily_cap_per_number=2))
    for i in range(2):
        assert (await client.post("/v1/sms/send", json=message(i))).status_code == 200
    refused = await client.post("/v1/sms/send", json=message(9))
    assert refused.status_code == 403
    assert refused.json()["code"] == "DAILY_LIMIT"
    other = await client.post("/v1/sms/send", json=message(10, phone="+8613900139000"))
    assert other.status_code == 200
    batch = await client.post("/v1/sms/batch", json={"messages": [message(11)]})
    assert batch.json()["results"][0]["code"] == "DAILY_LIMIT"
    assert get_sim(app).stats().by_phone == {PHONE: 2, "+8613900139000": 1}
