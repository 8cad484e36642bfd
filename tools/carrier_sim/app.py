"""Carrier simulator: an HTTP SMS gateway that behaves like a Chinese carrier / SMS platform.

It stands in for the real gateway in tests, the demo and benchmarks. What it models, because
the dispatcher and the receipts service must cope with it:

* Submission (``POST /v1/sms/send``) is acknowledged with a provider message id and the number
  of billed parts. Carriers are not idempotent: a resubmitted ``message_id`` is sent again and
  gets a new provider id. The simulator counts such duplicates so that tests can prove the
  dispatcher never double-sends.
* Length: one UCS-2 segment holds 70 characters; a longer text is split into parts of 67
  (3 of the 70 go to the concatenation header). A ``sign_name`` is sent as ``【签名】`` in
  front of the text, as Chinese platforms do, and counts toward the length.
* The outcome of a message is a pure function of ``(seed, message_id)`` and the configured
  rates, so runs are reproducible; numbers ending in a dead suffix are always ``UNDELIV``.
* Delivery reports arrive later, in batches, pushed by one background scheduler (a heap of due
  times, so 100k+ messages cost no task each), signed with :func:`shared.signing.sign` and
  retried with backoff; a push that keeps failing is dropped and counted, like a carrier that
  gives up.
* Faults on demand: random 503 / 429 (seeded), a token-bucket rate limit, and latency between
  accepting a message and answering, so that a client timeout leaves a message the carrier did
  receive. ``GET /v1/sms/{message_id}`` tells whether it did.

Error codes in delivery reports (``err``), in the ``<class>:<nnnn>`` style of CMPP gateways.
Gateways differ in their meanings, so consumers should decide by ``stat`` and keep ``err`` for
the operator; these are the meanings the simulator gives them:

=========  ===========  ====================================================================
stat       err          meaning
=========  ===========  ====================================================================
DELIVRD    ``000``      delivered to the handset
UNDELIV    ``MK:0001``  空号: number not assigned (every number ending in a dead suffix)
UNDELIV    ``MK:0000``  停机: line suspended, e.g. for arrears
UNDELIV    ``MK:0004``  暂停使用: line temporarily out of use
UNDELIV    ``MK:0005``  关机 or unknown error from the MSC
EXPIRED    ``MI:0013``  handset off or out of coverage until the validity period ran out
=========  ===========  ====================================================================

Send errors (HTTP body ``{"code", "message"}``): 400 ``INVALID_NUMBER``, ``EMPTY_TEXT`` or
``INVALID_REQUEST`` (permanent, do not retry); 429 ``THROTTLED`` with ``Retry-After``;
503 ``UNAVAILABLE`` (transient); 403 ``DAILY_LIMIT`` when a number already got
``daily_cap_per_number`` messages today (carriers' per-number flow control, counted at
submission whatever the outcome, until local midnight of ``cap_timezone``).

``POST /v1/sms/batch {"messages": [...]}`` submits up to ``max_batch`` messages in one
request, as the batch APIs of Chinese SMS platforms do: 200 ``{"results": [...]}`` with, per
message, ``{"message_id", "provider_message_id", "parts"}`` or ``{"message_id", "status",
"code", "message"}``. Faults that refuse the whole request (503, the rate limit, the random
429) refuse the batch; the token bucket is charged one token per message.
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
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Final, Literal
from zoneinfo import ZoneInfo

import httpx
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from shared.signing import SIGNATURE_HEADER, sign
from tools.carrier_sim.settings import CarrierSimSettings

logger = logging.getLogger(__name__)

Stat = Literal["ACCEPTD", "DELIVRD", "UNDELIV", "EXPIRED"]

STAT_ACCEPTED: Final = "ACCEPTD"
STAT_DELIVERED: Final = "DELIVRD"
STAT_UNDELIVERABLE: Final = "UNDELIV"
STAT_EXPIRED: Final = "EXPIRED"

ERR_OK = "000"
ERR_EMPTY_NUMBER = "MK:0001"
ERR_SUSPENDED = "MK:0000"
ERR_OUT_OF_USE = "MK:0004"
ERR_SWITCHED_OFF = "MK:0005"
ERR_EXPIRED = "MI:0013"
_RANDOM_UNDELIV_ERRS = (ERR_SUSPENDED, ERR_OUT_OF_USE, ERR_SWITCHED_OFF)

SINGLE_PART_CHARS = 70
MULTI_PART_CHARS = 67

# ASCII digits only: ``\d`` would accept full-width and other Unicode digits.
_CN_MOBILE = re.compile(r"\+861[3-9][0-9]{9}")


class SendRequest(BaseModel):
    message_id: str = Field(min_length=1, description="Our id of the message (a UUID).")
    phone: str = Field(description="E.164 Chinese mobile number, +861[3-9]xxxxxxxxx.")
    text: str
    sign_name: str | None = Field(
        default=None, description="Sender signature, e.g. 国网某供电公司."
    )


class SendResponse(BaseModel):
    provider_message_id: str
    parts: int


class BatchRequest(BaseModel):
    messages: list[SendRequest] = Field(min_length=1)


class BatchItem(BaseModel):
    """One message of a batch: accepted (provider id and parts) or refused (status, code)."""

    message_id: str
    provider_message_id: str | None = None
    parts: int | None = None
    status: int | None = None
    code: str | None = None
    message: str | None = None


class BatchResponse(BaseModel):
    results: list[BatchItem]


class StatusResponse(BaseModel):
    message_id: str
    provider_message_id: str = Field(description="Id of the latest submission.")
    status: Stat
    submissions: int


class StatsResponse(BaseModel):
    submissions: int
    distinct_messages: int
    duplicate_submissions: int
    by_phone: dict[str, int]
    reports_sent: int
    reports_dropped: int
    pending_reports: int


class UplinkRequest(BaseModel):
    phone: str
    text: str


class UplinkResponse(BaseModel):
    forwarded: bool


class FlushResponse(BaseModel):
    flushed: int = Field(description="Reports pushed or, after all retries failed, dropped.")


class GatewayError(Exception):
    """A refusal the gateway answers with ``{"code", "message"}`` and an HTTP status."""

    def __init__(
        self, status: int, code: str, message: str, *, retry_after_s: int | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.retry_after_s = retry_after_s


def count_parts(text: str, sign_name: str | None = None) -> int:
    """Billed parts of a message as a Chinese carrier splits it (UCS-2, 70 / 67 per part)."""
    content = f"【{sign_name}】{text}" if sign_name else text
    # UCS-2 segments hold UTF-16 code units: a character outside the BMP (emoji) takes two.
    units = len(content.encode("utf-16-le")) // 2
    if units <= SINGLE_PART_CHARS:
        return 1
    return math.ceil(units / MULTI_PART_CHARS)


def outcome(settings: CarrierSimSettings, message_id: str, phone: str) -> tuple[Stat, str]:
    """Return the ``(stat, err)`` the carrier will report; the same inputs give the same answer."""
    if phone.endswith(tuple(settings.dead_suffixes)):
        return STAT_UNDELIVERABLE, ERR_EMPTY_NUMBER
    # blake2b rather than hash(): str hashes are salted per process (PYTHONHASHSEED).
    digest = hashlib.blake2b(f"{settings.seed}:{message_id}".encode(), digest_size=8).digest()
    draw = int.from_bytes(digest[:7], "big") / 2**56
    if draw < settings.delivered_rate:
        return STAT_DELIVERED, ERR_OK
    if draw < settings.delivered_rate + settings.undeliv_rate:
        return STAT_UNDELIVERABLE, _RANDOM_UNDELIV_ERRS[digest[7] % len(_RANDOM_UNDELIV_ERRS)]
    return STAT_EXPIRED, ERR_EXPIRED


def _iso_now() -> str:
    return datetime.now(UTC).isoformat()


@dataclass(slots=True)
class _Message:
    """What the carrier knows about one of our message ids, over all its submissions."""

    message_id: str
    provider_message_id: str
    submissions: int = 1
    stat: Stat = STAT_ACCEPTED


@dataclass(slots=True)
class _Report:
    """A delivery report waiting in the scheduler's heap (one per submission)."""

    message: _Message
    provider_message_id: str
    phone: str
    stat: Stat
    err: str
    submitted_at: str


class _TokenBucket:
    """Allows ``rate`` submissions per second with bursts of up to one second's worth."""

    def __init__(self, rate: float) -> None:
        self._rate = rate
        self._capacity = max(1.0, rate)
        self._tokens = self._capacity
        self._stamp = time.monotonic()

    def take(self, count: int = 1) -> float:
        """Take ``count`` tokens; return 0 if there were enough, else the seconds until."""
        now = time.monotonic()
        self._tokens = min(self._capacity, self._tokens + (now - self._stamp) * self._rate)
        self._stamp = now
        if self._tokens >= count:
            self._tokens -= count
            return 0.0
        return (count - self._tokens) / self._rate


class CarrierSim:
    """State and behaviour of one simulated gateway; the FastAPI app is a thin shell on it.

    All state changes happen between awaits on one event loop, so no locking is needed except
    around pushes, which ``flush`` and ``reset`` must not interleave with.
    """

    def __init__(
        self,
        settings: CarrierSimSettings,
        *,
        report_transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = settings
        self._transport = report_transport
        self._client: httpx.AsyncClient | None = None
        self._wake = asyncio.Event()
        self._push_lock = asyncio.Lock()
        # Provider ids stay unique across resets and (by the random prefix) across restarts,
        # so a receipts store that outlives one simulator run never sees an id twice.
        self._id_prefix = uuid.uuid4().hex[:8]
        self._id_seq = itertools.count(1)
        self._heap_seq = itertools.count()
        self._clear()

    def _clear(self) -> None:
        self._rng = random.Random(self.settings.seed)
        rate = self.settings.rate_limit_per_s
        self._bucket = _TokenBucket(rate) if rate > 0 else None
        self._messages: dict[str, _Message] = {}
        self._by_phone: dict[str, int] = {}
        self._today: dict[tuple[date, str], int] = {}
        # (due monotonic time, tie-breaker, report): heapq never compares two reports.
        self._heap: list[tuple[float, int, _Report]] = []
        self._submissions = 0
        self._reports_sent = 0
        self._reports_dropped = 0
        self._in_flight = 0

    async def reset(self) -> None:
        """Forget every message, pending report and counter (waits for a push in progress)."""
        async with self._push_lock:
            self._clear()

    def submit(self, request: SendRequest) -> SendResponse:
        """Accept one submission or raise :class:`GatewayError`; schedule its report."""
        self._admit()
        return self._accept(request)

    def submit_batch(self, request: BatchRequest) -> BatchResponse:
        """Accept a batch: the whole request may be refused, then each message on its own."""
        if len(request.messages) > self.settings.max_batch:
            raise GatewayError(
                400,
                "INVALID_REQUEST",
                f"at most {self.settings.max_batch} messages per batch",
            )
        self._admit(len(request.messages))
        results: list[BatchItem] = []
        for item in request.messages:
            try:
                accepted = self._accept(item)
            except GatewayError as exc:
                results.append(
                    BatchItem(
                        message_id=item.message_id,
                        status=exc.status,
                        code=exc.code,
                        message=exc.message,
                    )
                )
                continue
            results.append(
                BatchItem(
                    message_id=item.message_id,
                    provider_message_id=accepted.provider_message_id,
                    parts=accepted.parts,
                )
            )
        return BatchResponse(results=results)

    def _count_today(self, phone: str) -> None:
        """Refuse a number over its daily cap; otherwise count this submission."""
        cap = self.settings.daily_cap_per_number
        if cap <= 0:
            return
        key = (datetime.now(ZoneInfo(self.settings.cap_timezone)).date(), phone)
        if self._today.get(key, 0) >= cap:
            raise GatewayError(
                403, "DAILY_LIMIT", f"this number got {cap} messages today; try tomorrow"
            )
        self._today[key] = self._today.get(key, 0) + 1

    def _accept(self, request: SendRequest) -> SendResponse:
        if not _CN_MOBILE.fullmatch(request.phone):
            raise GatewayError(
                400, "INVALID_NUMBER", f"not a Chinese mobile number in E.164: {request.phone!r}"
            )
        if not request.text.strip():
            raise GatewayError(400, "EMPTY_TEXT", "text is empty")
        self._count_today(request.phone)
        provider_message_id = f"{self._id_prefix}{next(self._id_seq):012d}"
        message = self._messages.get(request.message_id)
        if message is None:
            message = _Message(request.message_id, provider_message_id)
            self._messages[request.message_id] = message
        else:
            message.submissions += 1
            message.provider_message_id = provider_message_id
        self._submissions += 1
        self._by_phone[request.phone] = self._by_phone.get(request.phone, 0) + 1
        stat, err = outcome(self.settings, request.message_id, request.phone)
        report = _Report(message, provider_message_id, request.phone, stat, err, _iso_now())
        due = time.monotonic() + self._rng.uniform(*self.settings.report_delay_s)
        heapq.heappush(self._heap, (due, next(self._heap_seq), report))
        if self._heap[0][2] is report:
            # The scheduler sleeps until the previous head was due; this one is due sooner.
            self._wake.set()
        return SendResponse(
            provider_message_id=provider_message_id,
            parts=count_parts(request.text, request.sign_name),
        )

    def _admit(self, count: int = 1) -> None:
        """Refuse the way an overloaded gateway does, before looking at the message."""
        if self._bucket is not None:
            wait_s = self._bucket.take(count)
            if wait_s > 0:
                raise GatewayError(
                    429,
                    "THROTTLED",
                    "submission rate limit exceeded",
                    retry_after_s=max(1, math.ceil(wait_s)),
                )
        fail_5xx, fail_429 = self.settings.fail_5xx_rate, self.settings.fail_429_rate
        if fail_5xx + fail_429 > 0:
            draw = self._rng.random()
            if draw < fail_5xx:
                raise GatewayError(503, "UNAVAILABLE", "gateway temporarily unavailable")
            if draw < fail_5xx + fail_429:
                raise GatewayError(429, "THROTTLED", "gateway busy", retry_after_s=1)

    def status(self, message_id: str) -> StatusResponse | None:
        """The carrier's view of ``message_id``, or None if it never received it."""
        message = self._messages.get(message_id)
        if message is None:
            return None
        return StatusResponse(
            message_id=message.message_id,
            provider_message_id=message.provider_message_id,
            status=message.stat,
            submissions=message.submissions,
        )

    def stats(self) -> StatsResponse:
        distinct = len(self._messages)
        return StatsResponse(
            submissions=self._submissions,
            distinct_messages=distinct,
            duplicate_submissions=self._submissions - distinct,
            by_phone=dict(self._by_phone),
            reports_sent=self._reports_sent,
            reports_dropped=self._reports_dropped,
            pending_reports=len(self._heap) + self._in_flight,
        )

    async def flush(self) -> int:
        """Push every report pending now, due or not; return how many were pushed or dropped."""
        self._running_client()  # fail before popping reports that could then not be pushed
        async with self._push_lock:
            # Only what is pending now: under a steady stream of sends "empty" may never come.
            pending = len(self._heap)
            done = 0
            while done < pending and self._heap:
                batch = self._pop_batch(
                    math.inf, min(self.settings.report_batch_size, pending - done)
                )
                await self._push_reports(batch)
                done += len(batch)
            return done

    async def uplink(self, request: UplinkRequest) -> bool:
        """Forward a customer's reply to ``uplink_url``; return whether it was accepted."""
        if not _CN_MOBILE.fullmatch(request.phone):
            raise GatewayError(
                400, "INVALID_NUMBER", f"not a Chinese mobile number in E.164: {request.phone!r}"
            )
        reply = {"phone": request.phone, "text": request.text, "received_at": _iso_now()}
        return await self._post_signed(self.settings.uplink_url, {"replies": [reply]})

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Open the push client and run the report scheduler for the duration of the block."""
        # Fresh primitives for this event loop: one app may be served by several loops in turn
        # (a test fixture per test), and asyncio primitives stay bound to the first one.
        self._wake = asyncio.Event()
        self._push_lock = asyncio.Lock()
        async with httpx.AsyncClient(
            transport=self._transport, timeout=self.settings.report_timeout_s
        ) as client:
            self._client = client
            scheduler = asyncio.create_task(self._run_scheduler(), name="carrier-sim-reports")
            try:
                yield
            finally:
                scheduler.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await scheduler
                self._client = None

    async def _run_scheduler(self) -> None:
        while True:
            wait_s = self._heap[0][0] - time.monotonic() if self._heap else None
            if wait_s is not None and wait_s <= 0:
                async with self._push_lock:
                    batch = self._pop_batch(time.monotonic(), self.settings.report_batch_size)
                    if batch:
                        await self._push_reports(batch)
                continue
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait_s)

    def _pop_batch(self, due_by: float, size: int) -> list[_Report]:
        batch: list[_Report] = []
        while self._heap and len(batch) < size and self._heap[0][0] <= due_by:
            batch.append(heapq.heappop(self._heap)[2])
        return batch

    async def _push_reports(self, batch: list[_Report]) -> None:
        done_at = _iso_now()
        reports: list[dict[str, Any]] = []
        for report in batch:
            # The handset has answered: from now on the carrier knows the final state, even if
            # the push below fails.
            report.message.stat = report.stat
            reports.append(
                {
                    "provider_message_id": report.provider_message_id,
                    "message_id": report.message.message_id,
                    "phone": report.phone,
                    "stat": report.stat,
                    "err": report.err,
                    "submitted_at": report.submitted_at,
                    "done_at": done_at,
                }
            )
        self._in_flight += len(batch)
        try:
            delivered = await self._post_signed(self.settings.report_url, {"reports": reports})
        finally:
            self._in_flight -= len(batch)
        if delivered:
            self._reports_sent += len(batch)
        else:
            self._reports_dropped += len(batch)

    def _running_client(self) -> httpx.AsyncClient:
        if self._client is None:
            raise RuntimeError("carrier simulator is not running: enter the app's lifespan")
        return self._client

    async def _post_signed(self, url: str, payload: dict[str, Any]) -> bool:
        """POST ``payload`` signed, retrying with doubling backoff; return whether a 2xx came."""
        client = self._running_client()
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        attempts = self.settings.report_retries + 1
        for attempt in range(attempts):
            if attempt:
                await asyncio.sleep(self.settings.report_backoff_s * 2 ** (attempt - 1))
            # Signed per attempt so that a late retry still falls inside the replay window.
            headers = {
                "Content-Type": "application/json",
                SIGNATURE_HEADER: sign(self.settings.report_secret, body),
            }
            try:
                response = await client.post(url, content=body, headers=headers)
            except httpx.HTTPError as exc:
                logger.warning("push to %s failed (%d/%d): %r", url, attempt + 1, attempts, exc)
                continue
            if response.is_success:
                return True
            logger.warning(
                "push to %s refused (%d/%d): HTTP %d",
                url,
                attempt + 1,
                attempts,
                response.status_code,
            )
        return False


def create_app(
    settings: CarrierSimSettings | None = None,
    *,
    report_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """Build the simulator app; ``report_transport`` routes report and uplink pushes (tests)."""
    sim = CarrierSim(settings or CarrierSimSettings(), report_transport=report_transport)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with sim.running():
            yield

    app = FastAPI(title="Carrier simulator", version="1", lifespan=lifespan)
    app.state.sim = sim

    @app.exception_handler(GatewayError)
    async def gateway_error(_: Request, exc: GatewayError) -> JSONResponse:
        headers = {"Retry-After": str(exc.retry_after_s)} if exc.retry_after_s else None
        return JSONResponse(
            {"code": exc.code, "message": exc.message}, status_code=exc.status, headers=headers
        )

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        # Gateways answer a malformed request with their own 400, not FastAPI's 422 shape.
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
            for error in exc.errors()
        )
        return JSONResponse({"code": "INVALID_REQUEST", "message": problems}, status_code=400)

    @app.post("/v1/sms/send")
    async def send(request: SendRequest) -> SendResponse:
        response = sim.submit(request)
        if sim.settings.latency_s > 0:
            # After recording: a client that times out here leaves a message that was received.
            await asyncio.sleep(sim.settings.latency_s)
        return response

    @app.post("/v1/sms/batch")
    async def send_batch(request: BatchRequest) -> BatchResponse:
        response = sim.submit_batch(request)
        if sim.settings.latency_s > 0:
            await asyncio.sleep(sim.settings.latency_s)
        return response

    @app.get("/v1/sms/{message_id}", responses={404: {"description": "Never received."}})
    async def message_status(message_id: str) -> StatusResponse:
        status = sim.status(message_id)
        if status is None:
            raise GatewayError(404, "NOT_FOUND", f"no message {message_id!r} was received")
        return status

    @app.post("/v1/sms/uplink", responses={502: {"description": "The receiver refused it."}})
    async def uplink(request: UplinkRequest) -> UplinkResponse:
        if not await sim.uplink(request):
            raise GatewayError(502, "UPLINK_FAILED", f"{sim.settings.uplink_url} refused the reply")
        return UplinkResponse(forwarded=True)

    @app.get("/v1/stats")
    async def stats() -> StatsResponse:
        return sim.stats()

    @app.post("/v1/admin/flush")
    async def flush() -> FlushResponse:
        return FlushResponse(flushed=await sim.flush())

    @app.post("/v1/admin/reset")
    async def reset() -> StatsResponse:
        await sim.reset()
        return sim.stats()

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def get_sim(app: FastAPI) -> CarrierSim:
    """The simulator behind an app made by :func:`create_app`."""
    sim = app.state.sim
    if not isinstance(sim, CarrierSim):
        raise TypeError("not a carrier simulator app")
    return sim


async def flush_reports(app: FastAPI) -> int:
    """Push all pending delivery reports now (the app's lifespan must be running)."""
    return await get_sim(app).flush()
