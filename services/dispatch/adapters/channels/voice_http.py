"""Notice calls over HTTP: a text-to-speech platform plays the notice, keypress 1 confirms.

``POST /v1/calls {"message_id", "phone", "text", "confirm_key", "replay_key"}`` → 200
``{"call_id"}`` once the call is placed (not yet answered); ``GET /v1/calls/{message_id}`` →
200 if the platform has the call, 404 if not. How the call went (answered, confirmed,
no answer, busy) is pushed to receipts (``/v1/webhooks/voice-status``), like SMS reports.
The voice simulator (``tools.voice_sim``) speaks this API; errors follow :mod:`.json_api`.
"""

from __future__ import annotations

import httpx

from services.dispatch.adapters.channels.json_api import JsonProvider, classify_send_response
from services.dispatch.domain.messages import ClaimedMessage
from services.dispatch.domain.outcomes import LookupOutcome, SubmitOutcome

CONFIRM_KEY = "1"
REPLAY_KEY = "2"


class HttpVoiceGateway(JsonProvider):
    channel = "voice"

    async def submit(self, message: ClaimedMessage) -> SubmitOutcome:
        answer = await self.post(
            "/v1/calls",
            {
                "message_id": message.message_id,
                "phone": message.address,
                "text": message.text,
                "confirm_key": CONFIRM_KEY,
                "replay_key": REPLAY_KEY,
            },
        )
        if not isinstance(answer, httpx.Response):
            return answer
        return classify_send_response(answer, "call_id")

    async def lookup(self, message: ClaimedMessage) -> LookupOutcome:
        return await self.lookup_at(f"/v1/calls/{message.message_id}", "call_id")
