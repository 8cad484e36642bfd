"""App push (e.g. the utility's customer app) over its push service's webhook.

``POST /v1/push {"message_id", "topic", "title", "body"}`` → 200 ``{"push_id"}``;
``GET /v1/push/{message_id}`` → 200 if the service has it, 404 if not. The recipient's
address is the topic (an area's subscribers, e.g. ``area:T-001``); the first line of the
rendered text is the title. The webhook simulator (``tools.webhook_sim``) speaks this API.
"""

from __future__ import annotations

import httpx

from services.dispatch.adapters.channels.json_api import JsonProvider, classify_send_response
from services.dispatch.domain.messages import ClaimedMessage
from services.dispatch.domain.outcomes import LookupOutcome, SubmitOutcome


def title_and_body(text: str) -> tuple[str, str]:
    title, _, body = text.partition("\n")
    return title.strip(), body.strip() or title.strip()


class AppPushGateway(JsonProvider):
    channel = "app_push"

    async def submit(self, message: ClaimedMessage) -> SubmitOutcome:
        title, body = title_and_body(message.text)
        answer = await self.post(
            "/v1/push",
            {
                "message_id": message.message_id,
                "topic": message.address,
                "title": title,
                "body": body,
            },
        )
        if not isinstance(answer, httpx.Response):
            return answer
        return classify_send_response(answer, "push_id")

    async def lookup(self, message: ClaimedMessage) -> LookupOutcome:
        return await self.lookup_at(f"/v1/push/{message.message_id}", "push_id")
