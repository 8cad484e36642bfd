"""The SMS gateway over HTTP: the generic JSON provider API (the carrier simulator speaks it).

``POST /v1/sms/send {"message_id", "phone", "text", "sign_name"}`` → 200
``{"provider_message_id", "parts"}``; ``POST /v1/sms/batch {"messages": [...]}`` → 200
``{"results": [{"message_id", "provider_message_id", "parts"} | {"message_id", "code",
"message"}]}`` (like the batch APIs of Chinese SMS platforms, one request for many numbers);
``GET /v1/sms/{message_id}`` → 200 if the gateway received the message, 404 if not. Errors
follow :mod:`.json_api`. Our message id travels with every submission, so delivery reports
and status queries are matched by it; the gateway splits long texts (70 characters, or 67
per part) and bills the parts it reports.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx

from services.dispatch.adapters.channels.json_api import (
    JsonProvider,
    accepted,
    classify_refusal,
    classify_send_response,
    json_body,
    retry_after_s,
)
from services.dispatch.domain.messages import ClaimedMessage, mask_address
from services.dispatch.domain.outcomes import (
    Accepted,
    LookupOutcome,
    OutcomeUnknown,
    SubmitOutcome,
)

log = logging.getLogger(__name__)


def _payload(message: ClaimedMessage) -> dict[str, Any]:
    return {
        "message_id": message.message_id,
        "phone": message.address,
        "text": message.text,
        "sign_name": message.sign_name,
    }


class HttpSmsGateway(JsonProvider):
    channel = "sms"

    def __init__(
        self,
        base_url: str,
        *,
        timeout_s: float,
        max_connections: int,
        transport: httpx.AsyncBaseTransport | None = None,
        max_batch: int = 1,
    ) -> None:
        super().__init__(
            base_url, timeout_s=timeout_s, max_connections=max_connections, transport=transport
        )
        self.max_batch = max_batch

    async def submit(self, message: ClaimedMessage) -> SubmitOutcome:
        answer = await self.post("/v1/sms/send", _payload(message))
        if not isinstance(answer, httpx.Response):
            return answer
        outcome = classify_send_response(answer, "provider_message_id")
        if not isinstance(outcome, Accepted):
            log.info(
                "sms %s to %s: HTTP %d %s",
                message.message_id,
                mask_address(message.address),
                answer.status_code,
                outcome,
            )
        return outcome

    async def submit_many(self, messages: list[ClaimedMessage]) -> list[SubmitOutcome]:
        """One batch request; each message gets its own outcome, or all share the request's.

        An answer that leaves a message out says nothing about it: unknown, to be asked.
        """
        if self.max_batch <= 1 or len(messages) == 1:
            return await super().submit_many(messages)
        answer = await self.post("/v1/sms/batch", {"messages": [_payload(m) for m in messages]})
        if not isinstance(answer, httpx.Response):
            return [answer] * len(messages)
        body = json_body(answer)
        results = body.get("results") if body else None
        if not answer.is_success or not isinstance(results, list):
            outcome = classify_send_response(answer, "provider_message_id")
            if isinstance(outcome, Accepted):
                outcome = OutcomeUnknown(f"HTTP {answer.status_code} without results")
            return [outcome] * len(messages)
        by_id = {r.get("message_id"): r for r in results if isinstance(r, dict)}
        return [self._item(by_id.get(m.message_id), answer) for m in messages]

    @staticmethod
    def _item(result: dict[str, Any] | None, answer: httpx.Response) -> SubmitOutcome:
        if result is None:
            return OutcomeUnknown("left out of the batch answer")
        if result.get("code"):
            status = int(result.get("status") or 400)
            return classify_refusal(
                status,
                str(result["code"]),
                str(result.get("message") or ""),
                retry_after_s(answer),
            )
        return accepted(result, "provider_message_id", answer.status_code)

    async def lookup(self, message: ClaimedMessage) -> LookupOutcome:
        return await self.lookup_at(f"/v1/sms/{message.message_id}", "provider_message_id")
