"""What a JSON provider's answers mean, and an HTTP client that never raises.

The SMS gateway, the voice platform and the app push service speak the same conventions
(the simulators implement them): 2xx with the provider's id means accepted; 400-class
``{"code", "message"}`` is a permanent refusal of that message; 429 and 503 say nothing was
done (retry, after ``Retry-After`` if given); ``DAILY_LIMIT`` is the per-number daily cap.

What each failure means for the message is decided here, because only here is it known
whether the request can have reached the provider:

* no connection (connect error or timeout, no free connection): nothing was sent → retry;
* 408, 429 and 503: the provider says it did nothing → retry;
* ``DAILY_LIMIT``: not today → the next day;
* other 4xx: the message itself is refused → permanent;
* a timeout once the request went out, a dropped connection, another 5xx (a proxy's 502/504
  may hide an accepted request) or an unreadable 2xx: unknown → ask, never resend blind.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from types import TracebackType
from typing import Any, Self

import httpx

from services.dispatch.domain.messages import ClaimedMessage
from services.dispatch.domain.outcomes import (
    Accepted,
    DailyCapReached,
    Deferred,
    LookupFailed,
    LookupOutcome,
    NotReceived,
    OutcomeUnknown,
    Received,
    Rejected,
    SubmitOutcome,
)

NOTHING_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# Refusals that say the provider did nothing with the request. 408: it did not get all of it.
TRANSIENT_STATUSES = {408, 429, 503}
DAILY_LIMIT = "DAILY_LIMIT"


def json_body(response: httpx.Response) -> dict[str, Any] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def retry_after_s(response: httpx.Response) -> float:
    value = response.headers.get("Retry-After", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return 0.0  # an HTTP-date or garbage: fall back to our own backoff


def refusal(response: httpx.Response) -> tuple[str, str]:
    body = json_body(response) or {}
    code = str(body.get("code") or f"HTTP_{response.status_code}")
    message = str(body.get("message") or response.text[:200] or response.reason_phrase)
    return code, message


def accepted(body: dict[str, Any] | None, id_field: str, status: int) -> SubmitOutcome:
    provider_id = body.get(id_field) if body else None
    if not isinstance(provider_id, str) or not provider_id:
        return OutcomeUnknown(f"HTTP {status} without a {id_field}")
    parts = body.get("parts") if body else None
    return Accepted(provider_id, parts if isinstance(parts, int) and parts > 0 else None)


def classify_refusal(status: int, code: str, message: str, retry_after: float) -> SubmitOutcome:
    if code == DAILY_LIMIT:
        return DailyCapReached(f"{code}: {message}")
    if status in TRANSIENT_STATUSES:
        return Deferred(f"{code}: {message}", retry_after, throttled=status == 429)
    if 400 <= status < 500:
        return Rejected(code, message)
    return OutcomeUnknown(f"HTTP {status} {code}: {message}")


def classify_send_response(response: httpx.Response, id_field: str) -> SubmitOutcome:
    """What a provider's answer to one submission means for the message."""
    if response.is_success:
        return accepted(json_body(response), id_field, response.status_code)
    code, message = refusal(response)
    return classify_refusal(response.status_code, code, message, retry_after_s(response))


class JsonProvider(ABC):
    """An HTTP client for one provider, opened for as long as the sender runs.

    Subclasses say where to post and what to post; :meth:`post` and :meth:`get` turn every
    failure into an outcome, bounded by one whole-call timeout.
    """

    channel: str = ""
    can_lookup = True
    max_batch = 1

    def __init__(
        self,
        base_url: str,
        *,
        timeout_s: float,
        max_connections: int,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url
        self.timeout_s = timeout_s
        self._max_connections = max_connections
        self._transport = transport
        self._client: httpx.AsyncClient | None = None

    async def __aenter__(self) -> Self:
        self._client = httpx.AsyncClient(
            base_url=self.base_url,
            transport=self._transport,
            timeout=httpx.Timeout(self.timeout_s),
            limits=httpx.Limits(max_connections=self._max_connections),
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            raise RuntimeError(f"{type(self).__name__} used outside 'async with'")
        return self._client

    async def post(
        self, path: str, payload: dict[str, Any], **kwargs: Any
    ) -> httpx.Response | SubmitOutcome:
        """The provider's response, or the outcome when there is none to read."""
        try:
            # httpx times each phase (connect, write, read) separately; the whole call must
            # end within the timeout, or one slow drip of bytes holds a claimed message.
            async with asyncio.timeout(self.timeout_s):
                return await self.client.post(path, json=payload, **kwargs)
        except NOTHING_SENT as exc:
            return Deferred(f"cannot reach the {self.channel} provider: {exc!r}")
        except TimeoutError:
            return OutcomeUnknown(f"no answer within {self.timeout_s:g}s")
        except httpx.HTTPError as exc:
            return OutcomeUnknown(f"call broke off: {exc!r}")

    async def lookup_at(self, path: str, id_field: str) -> LookupOutcome:
        """Ask whether the provider received a message: 200 with its id, or its own 404."""
        try:
            async with asyncio.timeout(self.timeout_s):
                response = await self.client.get(path)
        except TimeoutError:
            return LookupFailed(f"no answer within {self.timeout_s:g}s")
        except httpx.HTTPError as exc:
            return LookupFailed(repr(exc))
        body = json_body(response)
        if response.status_code == 404 and body is not None:
            # Only the provider's own answer counts: an HTML 404 from a proxy in between
            # says nothing about the message, and taking it for "never received" would resend.
            return NotReceived()
        provider_id = body.get(id_field) if body else None
        if response.is_success and isinstance(provider_id, str) and provider_id:
            return Received(provider_id)
        return LookupFailed(f"HTTP {response.status_code}")

    async def submit_many(self, messages: list[ClaimedMessage]) -> list[SubmitOutcome]:
        """Submit several messages; providers without a batch API get them one by one."""
        return list(await asyncio.gather(*(self.submit(m) for m in messages)))

    @abstractmethod
    async def submit(self, message: ClaimedMessage) -> SubmitOutcome:
        """Hand one message over. Never raises: every failure is one of the outcomes."""

    @abstractmethod
    async def lookup(self, message: ClaimedMessage) -> LookupOutcome:
        """Ask whether the provider received the message. Never raises."""
