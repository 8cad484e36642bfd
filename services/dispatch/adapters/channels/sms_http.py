"""The SMS gateway over HTTP (the carrier simulator speaks the same API).

``POST /v1/sms/send {"message_id", "phone", "text", "sign_name"}`` → 200
``{"provider_message_id", "parts"}``, 400 ``{"code", "message"}`` permanent, 429 / 503
transient; ``GET /v1/sms/{message_id}`` → 200 if the gateway received the message, 404 if not.

What each failure means for the message is decided here, because only here is it known
whether the request can have reached the gateway:

* no connection (connect error or timeout, no free connection): nothing was sent → retry;
* 429 and 503: the gateway says it did nothing → retry, after its Retry-After if it gives one;
* other 4xx: the message itself is refused → permanent;
* a timeout once the request went out, a dropped connection, another 5xx (a proxy's 502/504
  may hide an accepted request) or an unreadable 200: unknown → ask, never resend blind.
"""

from __future__ import annotations

import asyncio
import logging
from types import TracebackType
from typing import Any, Self

import httpx

from services.dispatch.domain.messages import ClaimedMessage, mask_address
from services.dispatch.domain.outcomes import (
    Accepted,
    Deferred,
    LookupFailed,
    LookupOutcome,
    NotReceived,
    OutcomeUnknown,
    Received,
    Rejected,
    SubmitOutcome,
)

log = logging.getLogger(__name__)

_NOTHING_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# Refusals that say the gateway did nothing with the request. 408: it did not get all of it.
_TRANSIENT_STATUSES = {408, 429, 503}


def _json(response: httpx.Response) -> dict[str, Any] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _retry_after_s(response: httpx.Response) -> float:
    value = response.headers.get("Retry-After", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return 0.0  # an HTTP-date or garbage: fall back to our own backoff


def _refusal(response: httpx.Response) -> tuple[str, str]:
    body = _json(response) or {}
    code = str(body.get("code") or f"HTTP_{response.status_code}")
    message = str(body.get("message") or response.text[:200] or response.reason_phrase)
    return code, message


def classify_send_response(response: httpx.Response) -> SubmitOutcome:
    """What a gateway's answer to a submission means for the message."""
    status = response.status_code
    if response.is_success:
        body = _json(response)
        provider_id = body.get("provider_message_id") if body else None
        if not isinstance(provider_id, str) or not provider_id:
            return OutcomeUnknown(f"HTTP {status} without a provider_message_id")
        parts = body.get("parts") if body else None
        return Accepted(provider_id, parts if isinstance(parts, int) and parts > 0 else None)
    code, message = _refusal(response)
    if status in _TRANSIENT_STATUSES:
        return Deferred(f"{code}: {message}", _retry_after_s(response))
    if 400 <= status < 500:
        return Rejected(code, message)
    return OutcomeUnknown(f"HTTP {status} {code}: {message}")


class HttpSmsGateway:
    channel = "sms"

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
            raise RuntimeError("HttpSmsGateway used outside 'async with'")
        return self._client

    async def submit(self, message: ClaimedMessage) -> SubmitOutcome:
        payload = {
            "message_id": message.message_id,
            "phone": message.address,
            "text": message.text,
            "sign_name": message.sign_name,
        }
        try:
            # httpx times each phase (connect, write, read) separately; the whole call must
            # end within the timeout, or one slow drip of bytes holds a claimed message.
            async with asyncio.timeout(self.timeout_s):
                response = await self.client.post("/v1/sms/send", json=payload)
        except _NOTHING_SENT as exc:
            return Deferred(f"cannot reach the SMS gateway: {exc!r}")
        except TimeoutError:
            return OutcomeUnknown(f"no answer within {self.timeout_s:g}s")
        except httpx.HTTPError as exc:
            return OutcomeUnknown(f"call broke off: {exc!r}")
        outcome = classify_send_response(response)
        if not isinstance(outcome, Accepted):
            log.info(
                "sms %s to %s: HTTP %d %s",
                message.message_id,
                mask_address(message.address),
                response.status_code,
                outcome,
            )
        return outcome

    async def lookup(self, message: ClaimedMessage) -> LookupOutcome:
        try:
            async with asyncio.timeout(self.timeout_s):
                response = await self.client.get(f"/v1/sms/{message.message_id}")
        except TimeoutError:
            return LookupFailed(f"no answer within {self.timeout_s:g}s")
        except httpx.HTTPError as exc:
            return LookupFailed(repr(exc))
        body = _json(response)
        if response.status_code == 404 and body is not None:
            # Only the gateway's own answer counts: an HTML 404 from a proxy in between
            # says nothing about the message, and taking it for "never received" would resend.
            return NotReceived()
        provider_id = body.get("provider_message_id") if body else None
        if response.is_success and isinstance(provider_id, str) and provider_id:
            return Received(provider_id)
        return LookupFailed(f"HTTP {response.status_code}")
