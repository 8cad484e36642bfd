"""The SMS gateway adapter: which answers mean sent, refused, retry or unknown."""

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from services.dispatch.adapters.channels.sms_http import HttpSmsGateway
from services.dispatch.domain.messages import ClaimedMessage, NoticeKind
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

Handler = Callable[[httpx.Request], Any]

MESSAGE = ClaimedMessage(
    message_id="m-1",
    outage_id="O1",
    list_version=1,
    notice_kind=NoticeKind.NOTICE,
    channel="sms",
    address="+8613800138000",
    account_ids=("A",),
    sign_name="国网城东供电公司",
    text="停电通知",
    attempts=1,
    checks=0,
    claim_token="t",
)


async def submit_with(handler: Handler, timeout_s: float = 1.0) -> SubmitOutcome:
    gateway = HttpSmsGateway(
        "http://carrier",
        timeout_s=timeout_s,
        max_connections=1,
        transport=httpx.MockTransport(handler),
    )
    async with gateway:
        return await gateway.submit(MESSAGE)


async def lookup_with(handler: Handler) -> LookupOutcome:
    gateway = HttpSmsGateway(
        "http://carrier", timeout_s=1.0, max_connections=1, transport=httpx.MockTransport(handler)
    )
    async with gateway:
        return await gateway.lookup(MESSAGE)


async def test_the_request_carries_our_id_phone_text_and_signature():
    seen = []

    def handler(request):
        seen.append(request)
        return httpx.Response(200, json={"provider_message_id": "p-1", "parts": 1})

    assert await submit_with(handler) == Accepted("p-1", 1)
    assert seen[0].url.path == "/v1/sms/send"
    assert json.loads(seen[0].read()) == {
        "message_id": "m-1",
        "phone": "+8613800138000",
        "text": "停电通知",
        "sign_name": "国网城东供电公司",
    }


async def test_a_400_is_a_permanent_rejection_with_the_providers_code():
    outcome = await submit_with(
        lambda r: httpx.Response(400, json={"code": "INVALID_NUMBER", "message": "空号"})
    )
    assert outcome == Rejected("INVALID_NUMBER", "空号")


@pytest.mark.parametrize("status", [429, 503])
async def test_throttling_and_unavailability_are_retried_after_retry_after(status):
    outcome = await submit_with(
        lambda r: httpx.Response(
            status, json={"code": "BUSY", "message": "later"}, headers={"Retry-After": "7"}
        )
    )
    assert outcome == Deferred("BUSY: later", 7.0, throttled=status == 429)


@pytest.mark.parametrize("status", [500, 502, 504])
async def test_other_server_errors_leave_the_outcome_unknown(status):
    assert isinstance(await submit_with(lambda r: httpx.Response(status)), OutcomeUnknown)


async def test_a_200_without_a_provider_id_is_unknown_rather_than_sent():
    assert isinstance(await submit_with(lambda r: httpx.Response(200, text="ok")), OutcomeUnknown)


async def test_no_connection_means_nothing_was_sent():
    def refuse(request):
        raise httpx.ConnectError("connection refused", request=request)

    assert isinstance(await submit_with(refuse), Deferred)


async def test_a_read_error_after_sending_is_unknown():
    def drop(request):
        raise httpx.ReadError("connection reset", request=request)

    assert isinstance(await submit_with(drop), OutcomeUnknown)


async def test_a_call_that_outlives_the_timeout_is_unknown():
    async def slow(request):
        await asyncio.sleep(5)
        return httpx.Response(200, json={"provider_message_id": "late"})

    outcome = await submit_with(slow, timeout_s=0.05)
    assert outcome == OutcomeUnknown("no answer within 0.05s")


async def test_a_lookup_tells_received_from_never_received_from_cannot_tell():
    assert await lookup_with(
        lambda r: httpx.Response(200, json={"message_id": "m-1", "provider_message_id": "p-7"})
    ) == Received("p-7")
    assert (
        await lookup_with(
            lambda r: httpx.Response(404, json={"code": "NOT_FOUND", "message": "no"})
        )
        == NotReceived()
    )
    assert isinstance(await lookup_with(lambda r: httpx.Response(404, text="<html>")), LookupFailed)
    assert isinstance(await lookup_with(lambda r: httpx.Response(503)), LookupFailed)
