"""The other channel adapters: SMS batches, voice calls, app push, WeChat Work robots, print."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from services.dispatch.adapters.channels.app_push import AppPushGateway
from services.dispatch.adapters.channels.printed import PrintQueue
from services.dispatch.adapters.channels.sms_http import HttpSmsGateway
from services.dispatch.adapters.channels.voice_http import HttpVoiceGateway
from services.dispatch.adapters.channels.wecom_robot import WeComRobotGateway
from services.dispatch.domain.messages import ClaimedMessage, NoticeKind
from services.dispatch.domain.outcomes import (
    Accepted,
    DailyCapReached,
    Deferred,
    LookupFailed,
    NotReceived,
    OutcomeUnknown,
    Received,
    Rejected,
)

Handler = Callable[[httpx.Request], Any]


def claimed(
    message_id: str = "m-1",
    channel: str = "sms",
    address: str = "+8613800138000",
    text: str = "停电通知",
) -> ClaimedMessage:
    return ClaimedMessage(
        message_id=message_id,
        outage_id="O1",
        list_version=1,
        notice_kind=NoticeKind.NOTICE,
        channel=channel,
        address=address,
        account_ids=("A",),
        sign_name="国网城东供电公司",
        text=text,
        attempts=1,
        checks=0,
        claim_token="t",
    )


def transport(handler: Handler) -> httpx.MockTransport:
    return httpx.MockTransport(handler)


async def test_a_batch_of_sms_is_one_request_with_an_outcome_per_message():
    seen: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.read()))
        return httpx.Response(
            200,
            json={
                "results": [
                    {"message_id": "m-1", "provider_message_id": "p-1", "parts": 2, "code": None},
                    {
                        "message_id": "m-2",
                        "status": 400,
                        "code": "INVALID_NUMBER",
                        "message": "空号",
                    },
                    {"message_id": "m-3", "status": 403, "code": "DAILY_LIMIT", "message": "明天"},
                    {"message_id": "m-4", "status": 429, "code": "THROTTLED", "message": "慢"},
                ]
            },
        )

    gateway = HttpSmsGateway(
        "http://sms", timeout_s=1, max_connections=1, transport=transport(handler), max_batch=10
    )
    messages = [claimed(f"m-{i}") for i in range(1, 6)]
    async with gateway:
        outcomes = await gateway.submit_many(messages)
    assert [m["message_id"] for m in seen[0]["messages"]] == ["m-1", "m-2", "m-3", "m-4", "m-5"]
    assert outcomes[0] == Accepted("p-1", 2)
    assert outcomes[1] == Rejected("INVALID_NUMBER", "空号")
    assert outcomes[2] == DailyCapReached("DAILY_LIMIT: 明天")
    assert outcomes[3] == Deferred("THROTTLED: 慢", throttled=True)
    # Left out of the answer: nobody can say it was not sent.
    assert isinstance(outcomes[4], OutcomeUnknown)


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        (httpx.Response(503, json={"code": "UNAVAILABLE", "message": "x"}), Deferred),
        (httpx.Response(502), OutcomeUnknown),
        (httpx.Response(200, text="ok"), OutcomeUnknown),
    ],
)
async def test_a_batch_refused_or_unreadable_as_a_whole_gives_every_message_that_outcome(
    response, expected
):
    gateway = HttpSmsGateway(
        "http://sms",
        timeout_s=1,
        max_connections=1,
        transport=transport(lambda r: response),
        max_batch=10,
    )
    async with gateway:
        outcomes = await gateway.submit_many([claimed("a"), claimed("b")])
    assert [type(o) for o in outcomes] == [expected, expected]


async def test_a_voice_call_carries_our_id_the_script_and_the_confirmation_key():
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.method == "GET":
            return httpx.Response(404, json={"code": "NOT_FOUND", "message": "no"})
        return httpx.Response(200, json={"call_id": "c-1"})

    gateway = HttpVoiceGateway(
        "http://voice", timeout_s=1, max_connections=1, transport=transport(handler)
    )
    message = claimed(channel="voice", text="您好，这里是供电公司……确认收到请按1")
    async with gateway:
        assert await gateway.submit(message) == Accepted("c-1", None)
        assert await gateway.lookup(message) == NotReceived()
    body = json.loads(seen[0].read())
    assert seen[0].url.path == "/v1/calls"
    assert body == {
        "message_id": "m-1",
        "phone": "+8613800138000",
        "text": "您好，这里是供电公司……确认收到请按1",
        "confirm_key": "1",
        "replay_key": "2",
    }
    assert seen[1].url.path == "/v1/calls/m-1"


async def test_app_push_sends_the_first_line_as_the_title_to_the_areas_topic():
    seen: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json={"message_id": "m-1", "push_id": "p-9"})
        seen.append(json.loads(request.read()))
        return httpx.Response(200, json={"push_id": "p-9"})

    gateway = AppPushGateway(
        "http://push", timeout_s=1, max_connections=1, transport=transport(handler)
    )
    message = claimed(channel="app_push", address="area:T1", text="计划停电通知\n3月5日停电。")
    async with gateway:
        assert await gateway.submit(message) == Accepted("p-9", None)
        assert await gateway.lookup(message) == Received("p-9")
    assert seen == [
        {"message_id": "m-1", "topic": "area:T1", "title": "计划停电通知", "body": "3月5日停电。"}
    ]


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ({"errcode": 0, "errmsg": "ok"}, Accepted("wecom:m-1", 1)),
        (
            {"errcode": 45009, "errmsg": "api freq out of limit"},
            Deferred("45009: api freq out of limit", 60.0, throttled=True),
        ),
        ({"errcode": -1, "errmsg": "system busy"}, Deferred("-1: system busy")),
        (
            {"errcode": 93000, "errmsg": "invalid webhook url"},
            Rejected("93000", "invalid webhook url"),
        ),
    ],
)
async def test_a_robots_errcode_decides_the_outcome(answer, expected):
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=answer)

    gateway = WeComRobotGateway(
        "http://qyapi", timeout_s=1, max_connections=1, transport=transport(handler)
    )
    message = claimed(channel="wechat", address="robot-key", text="【停电通知】\n3月5日停电")
    async with gateway:
        assert await gateway.submit(message) == expected
    assert seen[0].url.path == "/cgi-bin/webhook/send"
    assert seen[0].url.params["key"] == "robot-key"
    assert json.loads(seen[0].read()) == {
        "msgtype": "markdown",
        "markdown": {"content": "**【停电通知】**\n3月5日停电"},
    }


async def test_a_robot_cannot_be_asked_about_a_post_so_doubt_is_left_to_a_person():
    gateway = WeComRobotGateway(
        "http://qyapi",
        timeout_s=1,
        max_connections=1,
        transport=transport(lambda r: httpx.Response(200, text="<html>")),
    )
    async with gateway:
        assert isinstance(await gateway.submit(claimed(channel="wechat")), OutcomeUnknown)
        assert isinstance(await gateway.lookup(claimed(channel="wechat")), LookupFailed)
    assert gateway.can_lookup is False


async def test_printing_is_handing_over_at_once_and_always_known():
    queue = PrintQueue("door_slip")
    message = claimed(channel="door_slip", address="A1")
    async with queue:
        assert await queue.submit(message) == Accepted("print:m-1", 1)
        assert await queue.lookup(message) == Received("print:m-1")
