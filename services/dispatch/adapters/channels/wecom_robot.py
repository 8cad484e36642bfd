"""WeChat Work (企业微信) group robots: a notice posted into an area's group chat.

``POST {base}/cgi-bin/webhook/send?key=<robot key>`` with ``{"msgtype": "markdown",
"markdown": {"content"}}`` answers HTTP 200 ``{"errcode", "errmsg"}``: 0 is posted, -1 is
"system busy" and 45009 the robot's rate limit (20 messages a minute), both worth another
try; 93000 (the key is not a robot), 40008 and 44004 (a malformed or empty message) refuse
the message for good. The recipient's address is the robot key, a secret of the group.

The robot API has no status query and no idempotency key: a call whose answer is lost
leaves a message nobody can settle automatically, so it becomes ``unresolved`` for a
dispatcher to check in the group, never sent twice blind.
"""

from __future__ import annotations

import httpx

from services.dispatch.adapters.channels.app_push import title_and_body
from services.dispatch.adapters.channels.json_api import (
    JsonProvider,
    classify_refusal,
    json_body,
    refusal,
    retry_after_s,
)
from services.dispatch.domain.messages import ClaimedMessage
from services.dispatch.domain.outcomes import (
    Accepted,
    Deferred,
    LookupFailed,
    LookupOutcome,
    OutcomeUnknown,
    Rejected,
    SubmitOutcome,
)

SYSTEM_BUSY = -1
RATE_LIMITED = 45009
# The robot allows 20 messages a minute: after 45009 wait for the minute to roll over.
RATE_LIMIT_WAIT_S = 60.0


class WeComRobotGateway(JsonProvider):
    channel = "wechat"
    can_lookup = False

    async def submit(self, message: ClaimedMessage) -> SubmitOutcome:
        title, body = title_and_body(message.text)
        content = f"**{title}**\n{body}" if body != title else title
        answer = await self.post(
            "/cgi-bin/webhook/send",
            {"msgtype": "markdown", "markdown": {"content": content}},
            params={"key": message.address},
        )
        if not isinstance(answer, httpx.Response):
            return answer
        if not answer.is_success:
            code, text = refusal(answer)
            return classify_refusal(answer.status_code, code, text, retry_after_s(answer))
        body_json = json_body(answer)
        errcode = body_json.get("errcode") if body_json else None
        errmsg = str(body_json.get("errmsg", "")) if body_json else ""
        if not isinstance(errcode, int):
            return OutcomeUnknown(f"HTTP {answer.status_code} without an errcode")
        if errcode == 0:
            return Accepted(f"wecom:{message.message_id}", 1)
        if errcode == RATE_LIMITED:
            return Deferred(f"{errcode}: {errmsg}", RATE_LIMIT_WAIT_S, throttled=True)
        if errcode == SYSTEM_BUSY:
            return Deferred(f"{errcode}: {errmsg}")
        return Rejected(str(errcode), errmsg)

    async def lookup(self, message: ClaimedMessage) -> LookupOutcome:
        return LookupFailed("WeChat Work robots have no status query")
