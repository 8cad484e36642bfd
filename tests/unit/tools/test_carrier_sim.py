"""Carrier simulator: submission, splitting, outcomes, signed delivery reports, faults, admin."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request, Response
from pydantic import ValidationError

from shared.signing import SIGNATURE_HEADER, SignatureError, verify
from tools.carrier_sim import (
    CarrierSimSettings,
    count_parts,
    create_app,
    flush_reports,
    get_sim,
    outcome,
)
from tools.carrier_sim import __main__ as carrier_main
from tools.carrier_sim.app import SendRequest

SECRET = "dev-carrier-secret"
PHONE = "+8613800138000"
LIVE_PHONE = "+8613800138001"
DEAD_PHONE = "+8613912340000"


@dataclass
class Call:
    path: str
    body: bytes
    signature: str | None
    status: int

    def payload(self) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self.body)
        return result


@dataclass
class Receiver:
    """Stands in for the receipts service: records pushes, answers with scripted statuses."""

    statuses: list[int] = field(default_factory=list)
    default_status: int = 200
    calls: list[Call] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.app = FastAPI()
        self._arrived = asyncio.Event()

        @self.app.post("/v1/webhooks/sms-status")
        @self.app.post("/v1/webhooks/sms-reply")
        async def receive(request: Request) -> Response:
            status = self.statuses.pop(0) if self.statuses else self.default_status
            self.calls.append(
                Call(
                    request.url.path,
                    await request.body(),
                    request.headers.get(SIGNATURE_HEADER),
                    status,
                )
            )
            self._arrived.set()
            return Response(status_code=status)

    def reports(self) -> list[dict[str, Any]]:
        """Reports of the pushes that were accepted."""
        return [r for c in self.calls if c.status < 300 for r in c.payload()["reports"]]

    async def wait_for_reports(self, count: int, timeout_s: float = 2.0) -> list[dict[str, Any]]:
        """Accepted reports once there are ``count`` of them (the scheduler pushes them)."""
        async with asyncio.timeout(timeout_s):
            while len(self.reports()) < count:
                self._arrived.clear()
                await self._arrived.wait()
        return self.reports()


def settings(**overrides: Any) -> CarrierSimSettings:
    """Reports far in the future (tests flush) and retries without real waiting."""
    values: dict[str, Any] = {"report_delay_s": (60.0, 60.0), "report_backoff_s": 0.001}
    return CarrierSimSettings(**(values | overrides))


Start = Callable[..., Awaitable[tuple[FastAPI, httpx.AsyncClient]]]


@pytest.fixture(autouse=True)
def _no_env_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    # A developer's exported CARRIER_SIM_* variables must not change what these tests see.
    for name in [n for n in os.environ if n.startswith("CARRIER_SIM_")]:
        monkeypatch.delenv(name)


@pytest.fixture
def receiver() -> Receiver:
    return Receiver()


@pytest.fixture
async def start(receiver: Receiver) -> AsyncIterator[Start]:
    """Start simulators (lifespan entered, ASGITransport does not) pushing to ``receiver``."""
    async with contextlib.AsyncExitStack() as stack:

        async def _start(
            sim_settings: CarrierSimSettings | None = None,
            *,
            transport: httpx.AsyncBaseTransport | None = None,
        ) -> tuple[FastAPI, httpx.AsyncClient]:
            app = create_app(
                sim_settings or settings(),
                report_transport=transport or httpx.ASGITransport(app=receiver.app),
            )
            await stack.enter_async_context(app.router.lifespan_context(app))
            client = await stack.enter_async_context(
                httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://carrier")
            )
            return app, client

        yield _start


@pytest.fixture
async def carrier(start: Start) -> httpx.AsyncClient:
    _, client = await start()
    return client


async def send(
    client: httpx.AsyncClient, message_id: str, phone: str = PHONE, text: str = "计划停电通知"
) -> httpx.Response:
    return await client.post(
        "/v1/sms/send", json={"message_id": message_id, "phone": phone, "text": text}
    )


async def stats(client: httpx.AsyncClient) -> dict[str, Any]:
    result: dict[str, Any] = (await client.get("/v1/stats")).json()
    return result


# --- submission -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("length", "parts"), [(1, 1), (70, 1), (71, 2), (134, 2), (135, 3), (201, 3), (202, 4)]
)
async def test_send_returns_provider_id_and_parts(
    carrier: httpx.AsyncClient, length: int, parts: int
) -> None:
    response = await send(carrier, "m1", text="停" * length)

    assert response.status_code == 200
    body = response.json()
    assert body["parts"] == parts
    assert body["provider_message_id"]


def test_parts_count_signature_and_wide_characters() -> None:
    # 【国网某供电公司】 is 9 characters and travels in the message.
    assert count_parts("停" * 61, "国网某供电公司") == 1
    assert count_parts("停" * 62, "国网某供电公司") == 2
    # Latin text is UCS-2 too once Chinese is around, so no 160-character GSM segments.
    assert count_parts("a" * 71) == 2
    # An emoji is two UTF-16 code units.
    assert count_parts("😀" * 35) == 1
    assert count_parts("😀" * 36) == 2


async def test_send_with_sign_name_counts_it(carrier: httpx.AsyncClient) -> None:
    response = await carrier.post(
        "/v1/sms/send",
        json={"message_id": "m1", "phone": PHONE, "text": "停" * 62, "sign_name": "国网某供电公司"},
    )

    assert response.json()["parts"] == 2


@pytest.mark.parametrize(
    "phone",
    [
        "13800138000",  # not E.164
        "+86 13800138000",
        "+8612800138000",  # 12x is not a mobile range
        "+861380013800",  # one digit short
        "+86138001380000",  # one digit long
        "+14155550100",  # not China
        "+861380013800０",  # full-width digit
        "",
    ],
)
async def test_invalid_number_is_permanent_400(carrier: httpx.AsyncClient, phone: str) -> None:
    response = await send(carrier, "m1", phone=phone)

    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_NUMBER"
    assert (await stats(carrier))["submissions"] == 0


@pytest.mark.parametrize("text", ["", "  \n"])
async def test_empty_text_is_400(carrier: httpx.AsyncClient, text: str) -> None:
    response = await send(carrier, "m1", text=text)

    assert response.status_code == 400
    assert response.json()["code"] == "EMPTY_TEXT"


async def test_malformed_request_is_400_in_gateway_shape(carrier: httpx.AsyncClient) -> None:
    response = await carrier.post("/v1/sms/send", json={"phone": PHONE})

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "INVALID_REQUEST"
    assert "message_id" in body["message"]


async def test_duplicate_submission_is_sent_again_and_counted(carrier: httpx.AsyncClient) -> None:
    first = (await send(carrier, "m1")).json()
    second = (await send(carrier, "m1")).json()
    await send(carrier, "m2", phone=LIVE_PHONE)

    assert first["provider_message_id"] != second["provider_message_id"]
    counts = await stats(carrier)
    assert counts["submissions"] == 3
    assert counts["distinct_messages"] == 2
    assert counts["duplicate_submissions"] == 1
    assert counts["by_phone"] == {PHONE: 2, LIVE_PHONE: 1}
    assert counts["pending_reports"] == 3  # one report per submission, as the carrier sent twice
    status = (await carrier.get("/v1/sms/m1")).json()
    assert status["submissions"] == 2
    assert status["provider_message_id"] == second["provider_message_id"]


# --- outcomes -------------------------------------------------------------------------------


def test_outcomes_follow_rates_and_are_deterministic() -> None:
    config = settings()
    ids = [f"msg-{i}" for i in range(2000)]

    stats_ = [outcome(config, i, LIVE_PHONE)[0] for i in ids]

    delivered = stats_.count("DELIVRD") / len(ids)
    undeliv = stats_.count("UNDELIV") / len(ids)
    expired = stats_.count("EXPIRED") / len(ids)
    assert 0.8 < delivered < 0.9
    assert 0.07 < undeliv < 0.13
    assert 0.03 < expired < 0.07
    same, reseeded = settings(), settings(seed=8)
    assert [outcome(same, i, LIVE_PHONE)[0] for i in ids] == stats_
    assert [outcome(reseeded, i, LIVE_PHONE)[0] for i in ids] != stats_


def test_outcome_error_codes() -> None:
    config = settings()
    pairs = {outcome(config, f"msg-{i}", LIVE_PHONE) for i in range(2000)}

    assert {err for stat, err in pairs if stat == "DELIVRD"} == {"000"}
    assert {err for stat, err in pairs if stat == "UNDELIV"} == {"MK:0000", "MK:0004", "MK:0005"}
    assert {err for stat, err in pairs if stat == "EXPIRED"} == {"MI:0013"}


def test_dead_suffix_is_always_undeliverable() -> None:
    config = settings(delivered_rate=1.0, undeliv_rate=0.0, dead_suffixes=["0000", "4444"])

    assert all(outcome(config, f"m{i}", DEAD_PHONE) == ("UNDELIV", "MK:0001") for i in range(200))
    assert outcome(config, "m1", "+8613912344444") == ("UNDELIV", "MK:0001")
    assert outcome(config, "m1", LIVE_PHONE) == ("DELIVRD", "000")


async def test_dead_suffix_report_end_to_end(start: Start, receiver: Receiver) -> None:
    app, client = await start(settings(delivered_rate=1.0, undeliv_rate=0.0))
    await send(client, "dead", phone=DEAD_PHONE)
    await send(client, "live", phone=LIVE_PHONE)

    await flush_reports(app)

    by_id = {r["message_id"]: r for r in receiver.reports()}
    assert (by_id["dead"]["stat"], by_id["dead"]["err"]) == ("UNDELIV", "MK:0001")
    assert (by_id["live"]["stat"], by_id["live"]["err"]) == ("DELIVRD", "000")
    assert (await client.get("/v1/sms/dead")).json()["status"] == "UNDELIV"


# --- delivery reports -----------------------------------------------------------------------


async def test_reports_are_pushed_signed(start: Start, receiver: Receiver) -> None:
    app, client = await start()
    sent = {f"m{i}": (await send(client, f"m{i}")).json() for i in range(3)}

    assert await flush_reports(app) == 3

    [call] = receiver.calls
    assert call.path == "/v1/webhooks/sms-status"
    verify([SECRET], call.body, call.signature)
    with pytest.raises(SignatureError):
        verify(["another-secret"], call.body, call.signature)
    reports = call.payload()["reports"]
    assert {r["message_id"] for r in reports} == set(sent)
    for report in reports:
        assert report["provider_message_id"] == sent[report["message_id"]]["provider_message_id"]
        assert report["phone"] == PHONE
        assert (report["stat"], report["err"]) == outcome(settings(), report["message_id"], PHONE)
        assert report["submitted_at"] <= report["done_at"]
    counts = await stats(client)
    assert (counts["reports_sent"], counts["reports_dropped"], counts["pending_reports"]) == (
        3,
        0,
        0,
    )


async def test_report_secret_and_url_are_configurable(start: Start, receiver: Receiver) -> None:
    app, client = await start(
        settings(report_secret="s3", report_url="http://rx/v1/webhooks/sms-status")
    )
    await send(client, "m1")

    await flush_reports(app)

    verify(["s3"], receiver.calls[0].body, receiver.calls[0].signature)


async def test_reports_are_batched(start: Start, receiver: Receiver) -> None:
    _, client = await start(settings(report_batch_size=2))
    for i in range(5):
        await send(client, f"m{i}")

    response = await client.post("/v1/admin/flush")

    assert response.json() == {"flushed": 5}
    assert [len(c.payload()["reports"]) for c in receiver.calls] == [2, 2, 1]


async def test_scheduler_pushes_due_reports_by_itself(start: Start, receiver: Receiver) -> None:
    _, client = await start(settings(report_delay_s=(0.01, 0.03)))
    for i in range(10):
        await send(client, f"m{i}")

    reports = await receiver.wait_for_reports(10)

    assert sorted(r["message_id"] for r in reports) == sorted(f"m{i}" for i in range(10))
    assert (await stats(client))["pending_reports"] == 0


async def test_scheduler_wakes_for_an_earlier_report(start: Start, receiver: Receiver) -> None:
    app, client = await start(settings(report_delay_s=(0.01, 0.01)))
    sim = get_sim(app)
    # A first report due in a minute puts the scheduler to sleep for a minute.
    sim.settings.report_delay_s = (60.0, 60.0)
    await send(client, "late")
    await asyncio.sleep(0.01)
    sim.settings.report_delay_s = (0.01, 0.01)
    await send(client, "soon")

    reports = await receiver.wait_for_reports(1)

    assert [r["message_id"] for r in reports] == ["soon"]


async def test_failed_push_is_retried(start: Start) -> None:
    flaky = Receiver(statuses=[500, 500])
    app, client = await start(transport=httpx.ASGITransport(app=flaky.app))
    await send(client, "m1")

    await flush_reports(app)

    assert [c.status for c in flaky.calls] == [500, 500, 200]
    assert [r["message_id"] for r in flaky.reports()] == ["m1"]
    counts = await stats(client)
    assert (counts["reports_sent"], counts["reports_dropped"]) == (1, 0)


async def test_push_that_keeps_failing_is_dropped(start: Start) -> None:
    down = Receiver(default_status=500)
    app, client = await start(
        settings(report_retries=2), transport=httpx.ASGITransport(app=down.app)
    )
    await send(client, "m1")
    await send(client, "m2")

    await flush_reports(app)

    assert len(down.calls) == 3  # the first attempt and two retries, both reports in one batch
    counts = await stats(client)
    assert (counts["reports_sent"], counts["reports_dropped"], counts["pending_reports"]) == (
        0,
        2,
        0,
    )
    # The carrier still knows the outcome; only its push was lost.
    assert (await client.get("/v1/sms/m1")).json()["status"] != "ACCEPTD"


async def test_connection_error_counts_as_failed_push(start: Start) -> None:
    attempts = 0

    def refuse(request: httpx.Request) -> httpx.Response:
        nonlocal attempts
        attempts += 1
        raise httpx.ConnectError("connection refused", request=request)

    app, client = await start(transport=httpx.MockTransport(refuse))
    await send(client, "m1")

    await flush_reports(app)

    assert attempts == 4
    assert (await stats(client))["reports_dropped"] == 1


# --- faults ---------------------------------------------------------------------------------


async def test_5xx_injection_does_not_record(start: Start) -> None:
    _, client = await start(settings(fail_5xx_rate=1.0))

    response = await send(client, "m1")

    assert response.status_code == 503
    assert response.json()["code"] == "UNAVAILABLE"
    assert (await client.get("/v1/sms/m1")).status_code == 404
    assert (await stats(client))["submissions"] == 0


async def test_429_injection_has_retry_after(start: Start) -> None:
    _, client = await start(settings(fail_429_rate=1.0))

    response = await send(client, "m1")

    assert response.status_code == 429
    assert response.json()["code"] == "THROTTLED"
    assert int(response.headers["Retry-After"]) >= 1
    assert (await stats(client))["submissions"] == 0


async def test_fault_injection_is_seeded(start: Start) -> None:
    async def statuses() -> list[int]:
        _, client = await start(settings(fail_5xx_rate=0.3, fail_429_rate=0.2))
        return [(await send(client, f"m{i}")).status_code for i in range(60)]

    first = await statuses()

    assert first == await statuses()
    assert set(first) == {200, 429, 503}


async def test_rate_limit(start: Start) -> None:
    _, client = await start(settings(rate_limit_per_s=2))

    codes = [(await send(client, f"m{i}")).status_code for i in range(3)]

    assert codes == [200, 200, 429]
    throttled = await send(client, "m9")
    assert throttled.headers["Retry-After"] == "1"
    assert (await stats(client))["submissions"] == 2


async def test_latency_answers_late_after_recording(start: Start) -> None:
    _, client = await start(settings(latency_s=0.2))

    started = time.monotonic()
    pending = asyncio.create_task(send(client, "m1"))
    status = await client.get("/v1/sms/m1")
    while status.status_code == 404 and time.monotonic() - started < 0.15:
        await asyncio.sleep(0.005)
        status = await client.get("/v1/sms/m1")

    # Received before the answer: what a dispatcher whose call timed out finds out.
    assert status.status_code == 200
    assert not pending.done()
    assert (await pending).status_code == 200
    assert time.monotonic() - started >= 0.2


# --- status, stats, admin -------------------------------------------------------------------


async def test_status_query(start: Start) -> None:
    app, client = await start(settings(delivered_rate=1.0, undeliv_rate=0.0))
    missing = await client.get("/v1/sms/never-sent")
    assert missing.status_code == 404
    assert missing.json()["code"] == "NOT_FOUND"

    provider_id = (await send(client, "m1", phone=LIVE_PHONE)).json()["provider_message_id"]
    assert (await client.get("/v1/sms/m1")).json() == {
        "message_id": "m1",
        "provider_message_id": provider_id,
        "status": "ACCEPTD",
        "submissions": 1,
    }

    await flush_reports(app)
    assert (await client.get("/v1/sms/m1")).json()["status"] == "DELIVRD"


async def test_reset_forgets_everything(start: Start, receiver: Receiver) -> None:
    app, client = await start()
    await send(client, "m1")
    await send(client, "m1")

    response = await client.post("/v1/admin/reset")

    assert response.json() == {
        "submissions": 0,
        "distinct_messages": 0,
        "duplicate_submissions": 0,
        "by_phone": {},
        "reports_sent": 0,
        "reports_dropped": 0,
        "pending_reports": 0,
    }
    assert (await client.get("/v1/sms/m1")).status_code == 404
    assert await flush_reports(app) == 0
    assert receiver.calls == []


async def test_many_messages(start: Start, receiver: Receiver) -> None:
    app, _ = await start()
    sim = get_sim(app)
    for i in range(20_000):
        sim.submit(SendRequest(message_id=f"m{i}", phone=f"+86138{i:08d}", text="计划停电"))

    assert await flush_reports(app) == 20_000

    assert len(receiver.calls) == 200
    assert sim.stats().reports_sent == 20_000


async def test_uplink_reply_is_forwarded_signed(
    carrier: httpx.AsyncClient, receiver: Receiver
) -> None:
    response = await carrier.post("/v1/sms/uplink", json={"phone": PHONE, "text": "收到"})

    assert response.json() == {"forwarded": True}
    [call] = receiver.calls
    assert call.path == "/v1/webhooks/sms-reply"
    verify([SECRET], call.body, call.signature)
    [reply] = call.payload()["replies"]
    assert (reply["phone"], reply["text"]) == (PHONE, "收到")
    assert reply["received_at"]


async def test_uplink_refused_is_502(start: Start) -> None:
    down = Receiver(default_status=500)
    _, client = await start(transport=httpx.ASGITransport(app=down.app))

    response = await client.post("/v1/sms/uplink", json={"phone": PHONE, "text": "收到"})

    assert response.status_code == 502
    assert response.json()["code"] == "UPLINK_FAILED"


async def test_healthz(carrier: httpx.AsyncClient) -> None:
    assert (await carrier.get("/healthz")).json() == {"status": "ok"}


# --- lifecycle and settings -----------------------------------------------------------------


async def test_shutdown_with_pending_reports_is_clean(receiver: Receiver) -> None:
    app = create_app(settings(), report_transport=httpx.ASGITransport(app=receiver.app))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://c") as client,
    ):
        await send(client, "m1")

    assert get_sim(app).stats().pending_reports == 1
    with pytest.raises(RuntimeError, match="lifespan"):
        await flush_reports(app)
    assert get_sim(app).stats().pending_reports == 1
    assert receiver.calls == []


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CARRIER_SIM_DELIVERED_RATE", "0.5")
    monkeypatch.setenv("CARRIER_SIM_UNDELIV_RATE", "0.5")
    monkeypatch.setenv("CARRIER_SIM_REPORT_DELAY_S", "[1, 2.5]")
    monkeypatch.setenv("CARRIER_SIM_DEAD_SUFFIXES", '["9999"]')

    config = CarrierSimSettings()

    assert (config.delivered_rate, config.undeliv_rate) == (0.5, 0.5)
    assert config.report_delay_s == (1.0, 2.5)
    assert config.dead_suffixes == ["9999"]


@pytest.mark.parametrize(
    "bad",
    [
        {"delivered_rate": 0.95, "undeliv_rate": 0.1},
        {"delivered_rate": 0.8, "undeliv_rate": 0.1, "expired_rate": 0.2},
        {"report_delay_s": (2.0, 1.0)},
        {"fail_5xx_rate": 0.6, "fail_429_rate": 0.6},
        {"dead_suffixes": [""]},
        {"no_such_setting": 1},
    ],
)
def test_settings_reject_nonsense(bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        CarrierSimSettings(**bad)


def test_expired_rate_may_be_given_when_consistent() -> None:
    config = CarrierSimSettings(delivered_rate=0.5, undeliv_rate=0.3, expired_rate=0.2)

    assert config.expired_rate == 0.2


def test_main_serves_with_uvicorn(monkeypatch: pytest.MonkeyPatch) -> None:
    served: dict[str, Any] = {}

    def fake_run(app: FastAPI, **kwargs: Any) -> None:
        served.update(kwargs, app=app)

    monkeypatch.setattr(uvicorn, "run", fake_run)

    carrier_main.main(["--port", "9005"])

    assert (served["host"], served["port"]) == ("127.0.0.1", 9005)
    assert isinstance(served["app"], FastAPI)
