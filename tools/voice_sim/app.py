"""Voice simulator: a text-to-speech call platform for notice calls, for tests and demos.

``POST /v1/calls {"message_id", "phone", "text", "confirm_key", "replay_key"}`` places a call
and answers 200 ``{"call_id"}`` (placed, not yet answered); 400 ``INVALID_NUMBER`` or
``EMPTY_TEXT`` refuse it for good; 429 ``THROTTLED`` (with ``Retry-After``) and 503
``UNAVAILABLE`` say nothing was done. Like SMS gateways the platform is not idempotent: a
``message_id`` placed twice rings twice, and the simulator counts it so tests can prove
dispatch never does that. ``GET /v1/calls/{message_id}`` says whether it has the call.

How a call ends is a pure function of ``(seed, message_id)`` and the rates: ``confirmed``
(answered, the customer pressed 1), ``answered`` (no keypress), ``no_answer`` (rang out),
``busy``; numbers ending in a dead suffix cannot be called (``failed``). The result is pushed
later, in batches, signed with :func:`shared.signing.sign`, to ``report_url`` as
``{"calls": [{"message_id", "outcome", "at"}]}`` (the receipts service's voice webhook),
retried with backoff and dropped after the last retry, like a platform that gives up.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import heapq
import itertools
import json
import logging
import math
import random
import re
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import httpx
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from shared.signing import SIGNATURE_HEADER, sign
from tools.voice_sim.settings import VoiceSimSettings

logger = logging.getLogger(__name__)

Outcome = Literal["confirmed", "answered", "no_answer", "busy", "failed"]
CallState = Literal["ringing", "confirmed", "answered", "no_answer", "busy", "failed"]
# A Chinese mobile, or a landline with its area code (+86 10…, +86 571…).
_CN_NUMBER = re.compile(r"\+86(1[3-9][0-9]{9}|[2-9][0-9]{8,10}|10[0-9]{8})")


class CallRequest(BaseModel):
    message_id: str = Field(min_length=1, description="Our id of the notice (a UUID).")
    phone: str = Field(description="E.164 Chinese mobile or landline.")
    text: str = Field(description="What the text-to-speech voice reads.")
    confirm_key: str = Field(default="1", description="The key that confirms the notice.")
    replay_key: str = Field(default="2", description="The key that plays it again.")


class CallResponse(BaseModel):
    call_id: str


class CallStatus(BaseModel):
    message_id: str
    call_id: str = Field(description="Id of the latest call placed for this message.")
    status: CallState
    calls: int = Field(description="Times this message was called.")


class VoiceStats(BaseModel):
    calls: int
    distinct_messages: int
    duplicate_calls: int
    by_phone: dict[str, int]
    by_outcome: dict[str, int]
    reports_sent: int
    reports_dropped: int
    pending_reports: int


class FlushResponse(BaseModel):
    flushed: int


class SimError(Exception):
    def __init__(self, status: int, code: str, message: str, retry_after_s: int = 0) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.retry_after_s = (
            status,
            code,
            message,
            retry_after_s,
        )


def call_outcome(settings: VoiceSimSettings, message_id: str, phone: str) -> Outcome:
    """How the call of ``message_id`` ends; the same inputs give the same answer."""
    if phone.endswith(tuple(settings.dead_suffixes)):
        return "failed"
    digest = hashlib.blake2b(f"{settings.seed}:{message_id}".encode(), digest_size=8).digest()
    draw = int.from_bytes(digest[:7], "big") / 2**56
    ladder: tuple[tuple[Outcome, float], ...] = (
        ("confirmed", settings.confirmed_rate),
        ("answered", settings.answered_rate),
        ("no_answer", settings.no_answer_rate),
    )
    for outcome, rate in ladder:
        if draw < rate:
            return outcome
        draw -= rate
    return "busy"


@dataclass(slots=True)
class _Call:
    message_id: str
    call_id: str
    phone: str
    calls: int = 1
    status: CallState = "ringing"


class VoiceSim:
    """State of one simulated platform; the FastAPI app is a thin shell on it."""

    def __init__(
        self,
        settings: VoiceSimSettings,
        *,
        report_transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = settings
        self._transport = report_transport
        self._client: httpx.AsyncClient | None = None
        self._wake = asyncio.Event()
        self._push_lock = asyncio.Lock()
        self._id_prefix = uuid.uuid4().hex[:8]
        self._ids = itertools.count(1)
        self._seq = itertools.count()
        self._clear()

    def _clear(self) -> None:
        self._rng = random.Random(self.settings.seed)
        self._calls: dict[str, _Call] = {}
        self._by_phone: Counter[str] = Counter()
        self._by_outcome: Counter[str] = Counter()
        self._placed = 0
        self._heap: list[tuple[float, int, _Call, Outcome]] = []
        self._reports_sent = 0
        self._reports_dropped = 0
        self._in_flight = 0
        self._tokens = max(1.0, self.settings.rate_limit_per_s)
        self._stamp = time.monotonic()

    async def reset(self) -> None:
        async with self._push_lock:
            self._clear()

    def _admit(self) -> None:
        rate = self.settings.rate_limit_per_s
        if rate > 0:
            now = time.monotonic()
            self._tokens = min(max(1.0, rate), self._tokens + (now - self._stamp) * rate)
            self._stamp = now
            if self._tokens < 1:
                raise SimError(
                    429,
                    "THROTTLED",
                    "call rate limit exceeded",
                    math.ceil((1 - self._tokens) / rate),
                )
            self._tokens -= 1
        draw = self._rng.random()
        if draw < self.settings.fail_5xx_rate:
            raise SimError(503, "UNAVAILABLE", "platform temporarily unavailable")
        if draw < self.settings.fail_5xx_rate + self.settings.fail_429_rate:
            raise SimError(429, "THROTTLED", "platform busy", 1)

    def place(self, request: CallRequest) -> CallResponse:
        self._admit()
        if not _CN_NUMBER.fullmatch(request.phone):
            raise SimError(
                400, "INVALID_NUMBER", f"not a Chinese number in E.164: {request.phone!r}"
            )
        if not request.text.strip():
            raise SimError(400, "EMPTY_TEXT", "nothing to read")
        call_id = f"{self._id_prefix}{next(self._ids):010d}"
        call = self._calls.get(request.message_id)
        if call is None:
            call = self._calls[request.message_id] = _Call(
                request.message_id, call_id, request.phone
            )
        else:
            call.calls += 1
            call.call_id = call_id
        self._placed += 1
        self._by_phone[request.phone] += 1
        outcome = call_outcome(self.settings, request.message_id, request.phone)
        due = time.monotonic() + self._rng.uniform(*self.settings.call_delay_s)
        heapq.heappush(self._heap, (due, next(self._seq), call, outcome))
        if self._heap[0][2] is call:
            self._wake.set()
        return CallResponse(call_id=call_id)

    def status(self, message_id: str) -> CallStatus | None:
        call = self._calls.get(message_id)
        if call is None:
            return None
        return CallStatus(
            message_id=message_id,
            call_id=call.call_id,
            status=call.status,
            calls=call.calls,
        )

    def stats(self) -> VoiceStats:
        return VoiceStats(
            calls=self._placed,
            distinct_messages=len(self._calls),
            duplicate_calls=self._placed - len(self._calls),
            by_phone=dict(self._by_phone),
            by_outcome=dict(self._by_outcome),
            reports_sent=self._reports_sent,
            reports_dropped=self._reports_dropped,
            pending_reports=len(self._heap) + self._in_flight,
        )

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Open the push client and end calls on time for the duration of the block."""
        self._wake = asyncio.Event()
        self._push_lock = asyncio.Lock()
        async with httpx.AsyncClient(
            transport=self._transport, timeout=self.settings.report_timeout_s
        ) as client:
            self._client = client
            task = asyncio.create_task(self._run(), name="voice-sim-reports")
            try:
                yield
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                self._client = None

    async def flush(self) -> int:
        """End every call pending now and push the results; return how many."""
        async with self._push_lock:
            pending = len(self._heap)
            done = 0
            while done < pending and self._heap:
                batch = self._pop(math.inf, min(self.settings.report_batch_size, pending - done))
                await self._push(batch)
                done += len(batch)
            return done

    async def _run(self) -> None:
        while True:
            wait_s = self._heap[0][0] - time.monotonic() if self._heap else None
            if wait_s is not None and wait_s <= 0:
                async with self._push_lock:
                    batch = self._pop(time.monotonic(), self.settings.report_batch_size)
                    if batch:
                        await self._push(batch)
                continue
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait_s)

    def _pop(self, due_by: float, size: int) -> list[tuple[_Call, Outcome]]:
        batch: list[tuple[_Call, Outcome]] = []
        while self._heap and len(batch) < size and self._heap[0][0] <= due_by:
            _, _, call, outcome = heapq.heappop(self._heap)
            batch.append((call, outcome))
        return batch

    async def _push(self, batch: list[tuple[_Call, Outcome]]) -> None:
        at = datetime.now(UTC).isoformat()
        results: list[dict[str, Any]] = []
        for call, outcome in batch:
            call.status = outcome
            self._by_outcome[outcome] += 1
            results.append({"message_id": call.message_id, "outcome": outcome, "at": at})
        self._in_flight += len(batch)
        try:
            delivered = await self._post_signed({"calls": results})
        finally:
            self._in_flight -= len(batch)
        if delivered:
            self._reports_sent += len(batch)
        else:
            self._reports_dropped += len(batch)

    async def _post_signed(self, payload: dict[str, Any]) -> bool:
        if self._client is None:
            raise RuntimeError("voice simulator is not running: enter the app's lifespan")
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        attempts = self.settings.report_retries + 1
        for attempt in range(attempts):
            if attempt:
                await asyncio.sleep(self.settings.report_backoff_s * 2 ** (attempt - 1))
            headers = {
                "Content-Type": "application/json",
                SIGNATURE_HEADER: sign(self.settings.report_secret, body),
            }
            try:
                response = await self._client.post(
                    self.settings.report_url, content=body, headers=headers
                )
            except httpx.HTTPError as exc:
                logger.warning("call results push failed (%d/%d): %r", attempt + 1, attempts, exc)
                continue
            if response.is_success:
                return True
            logger.warning(
                "call results push refused (%d/%d): HTTP %d",
                attempt + 1,
                attempts,
                response.status_code,
            )
        return False


def create_app(
    settings: VoiceSimSettings | None = None,
    *,
    report_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """Build the simulator; ``report_transport`` routes result pushes (tests, embedded mode)."""
    sim = VoiceSim(settings or VoiceSimSettings(), report_transport=report_transport)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with sim.running():
            yield

    app = FastAPI(title="Voice call simulator", version="1", lifespan=lifespan)
    app.state.sim = sim

    @app.exception_handler(SimError)
    async def sim_error(_: Request, exc: SimError) -> JSONResponse:
        headers = {"Retry-After": str(exc.retry_after_s)} if exc.retry_after_s else None
        return JSONResponse(
            {"code": exc.code, "message": exc.message}, status_code=exc.status, headers=headers
        )

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        return JSONResponse({"code": "INVALID_REQUEST", "message": problems}, status_code=400)

    @app.post("/v1/calls")
    async def place_call(request: CallRequest) -> CallResponse:
        """Place a notice call (the platform rings, reads the text, waits for a key)."""
        response = sim.place(request)
        if sim.settings.latency_s > 0:
            # After placing: a client that times out here leaves a call that was placed.
            await asyncio.sleep(sim.settings.latency_s)
        return response

    @app.get("/v1/calls/{message_id}", responses={404: {"description": "Never placed."}})
    async def call_status(message_id: str) -> CallStatus:
        """Whether the platform has the call of this message, and how it ended so far."""
        status = sim.status(message_id)
        if status is None:
            raise SimError(404, "NOT_FOUND", f"no call for message {message_id!r}")
        return status

    @app.get("/v1/stats")
    async def stats() -> VoiceStats:
        """Calls placed (duplicates counted), by number and by outcome; pushes."""
        return sim.stats()

    @app.post("/v1/admin/flush")
    async def flush() -> FlushResponse:
        """End every pending call now and push the results."""
        return FlushResponse(flushed=await sim.flush())

    @app.post("/v1/admin/reset")
    async def reset() -> VoiceStats:
        """Forget every call and counter."""
        await sim.reset()
        return sim.stats()

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def get_sim(app: FastAPI) -> VoiceSim:
    sim = app.state.sim
    if not isinstance(sim, VoiceSim):
        raise TypeError("not a voice simulator app")
    return sim
