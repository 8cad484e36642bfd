"""Every channel against its simulator, and the printed documents dispatch serves."""

from __future__ import annotations

import io
from typing import Any

import pypdf

from shared.auth import Role
from tests.integration.dispatch.conftest import approved, phone, recipient
from tools.carrier_sim import get_sim as sms_stats
from tools.voice_sim import get_sim as voice_stats
from tools.webhook_sim import get_sim as webhook_stats

DAY = "2026-03-05"


def every_channel() -> list[Any]:
    return [
        recipient(phone(1), "A1", audience="important"),
        recipient(phone(1), "A1", channel="voice", audience="important"),
        recipient("A1", "A1", channel="door_slip", contact_name="城东机械厂", location="城东路1号"),
        recipient("T1", "A1", "A2", channel="posted_notice", contact_name="幸福里1号配变"),
        recipient("robot-1", "A1", "A2", channel="wechat", contact_name="幸福里业主群"),
        recipient("area:T1", "A1", "A2", channel="app_push"),
        recipient(DAY, "A1", "A2", channel="newspaper", contact_name="城东日报"),
        recipient(phone(2), "A1", wave=1, role="legal"),
    ]


def fonts_embedded(content: bytes) -> bool:
    for page in pypdf.PdfReader(io.BytesIO(content)).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            owner = (
                font["/DescendantFonts"][0].get_object() if font["/Subtype"] == "/Type0" else font
            )
            descriptor = owner["/FontDescriptor"].get_object()
            if "/FontFile2" not in descriptor and "/FontFile3" not in descriptor:
                return False
    return True


def pdf_text(content: bytes) -> str:
    return "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(content)).pages)


async def test_each_channel_is_handed_to_its_provider_once_and_later_waves_wait(
    start_dispatch, carrier_sim, voice_sim, webhook_sim
):
    dispatch = await start_dispatch(
        carrier_sim, providers={"voice": voice_sim, "wechat": webhook_sim, "app_push": webhook_sim}
    )
    await dispatch.publish(approved("O-1", every_channel()))

    found = await dispatch.wait_for(
        "O-1", lambda ms: sum(m["status"] == "submitted" for m in ms) == 7
    )
    by_channel = {(m["channel"], m["wave"]): m for m in found}
    assert by_channel[("sms", 1)]["status"] == "held"
    assert sms_stats(carrier_sim).stats().by_phone == {phone(1): 1}
    assert voice_stats(voice_sim).stats().by_phone == {phone(1): 1}
    hooks = webhook_stats(webhook_sim)
    assert hooks.stats().robot_posts == {"robot-1": 1}
    assert hooks.stats().by_topic == {"area:T1": 1}
    [post] = hooks.robot_messages["robot-1"]
    assert post.content.startswith("**【计划停电通知】**\n停电时间：3月5日08:00至17:00")
    assert "确认收到请按1" in by_channel[("voice", 0)]["text"]
    for channel in ("door_slip", "posted_notice", "newspaper"):
        assert by_channel[(channel, 0)]["provider_message_id"].startswith("print:")
    sent = await dispatch.wait_for_events("notice.sent", 7)
    assert {e["channel"] for e in sent} == {
        "sms",
        "voice",
        "door_slip",
        "posted_notice",
        "wechat",
        "app_push",
        "newspaper",
    }


async def test_the_printouts_carry_the_notice_in_chinese_with_the_font_embedded(
    start_dispatch, carrier_sim, voice_sim, webhook_sim
):
    dispatch = await start_dispatch(
        carrier_sim, providers={"voice": voice_sim, "wechat": webhook_sim, "app_push": webhook_sim}
    )
    await dispatch.publish(approved("O-1", every_channel()))
    await dispatch.wait_for("O-1", lambda ms: sum(m["status"] == "submitted" for m in ms) == 7)

    field = dispatch.token(Role.FIELD)
    documents = {
        "/v1/outages/O-1/documents/door-slips.pdf": ["停电通知单", "城东路1号", "签收人", "回"],
        "/v1/outages/O-1/documents/posted-notices.pdf": ["停电公告", "幸福里1号配变", "95598"],
        f"/v1/newspaper/{DAY}.pdf": ["2026年3月5日停电信息", "城东日报", "东12线沿线"],
    }
    for path, expected in documents.items():
        headers = dispatch.token(Role.DISPATCHER) if "newspaper" in path else field
        response = await dispatch.client.get(path, headers=headers)
        assert response.status_code == 200, (path, response.text)
        assert response.headers["content-type"] == "application/pdf"
        text = pdf_text(response.content)
        for words in expected:
            assert words in text, (path, words)
        assert "3月5日08:00至" in text
        assert fonts_embedded(response.content), path


async def test_printouts_are_for_those_who_print_and_missing_ones_are_404(
    start_dispatch, carrier_sim
):
    dispatch = await start_dispatch(carrier_sim)
    await dispatch.publish(approved("O-1", [recipient(phone(1))]))
    await dispatch.wait_for("O-1", lambda ms: ms[0]["status"] == "submitted")
    slips = "/v1/outages/O-1/documents/door-slips.pdf"
    assert (
        await dispatch.client.get(slips, headers=dispatch.token(Role.REVIEWER))
    ).status_code == 403
    missing = await dispatch.client.get(slips, headers=dispatch.token(Role.FIELD))
    assert missing.status_code == 404
    assert missing.json()["field"] == "outage_id"
    no_digest = await dispatch.client.get(
        "/v1/newspaper/2026-03-09.pdf", headers=dispatch.token(Role.PLANNER)
    )
    assert no_digest.status_code == 404
    bad_day = await dispatch.client.get(
        "/v1/newspaper/yesterday.pdf", headers=dispatch.token(Role.PLANNER)
    )
    assert bad_day.status_code == 422


async def test_a_robot_over_its_rate_is_retried_and_an_unknown_key_fails_with_its_errcode(
    start_dispatch, carrier_sim, webhook_sim
):
    webhook_stats(webhook_sim).settings.robot_per_minute = 1
    # Our own rate limit off: the robot's 45009 is what is under test.
    dispatch = await start_dispatch(carrier_sim, providers={"wechat": webhook_sim}, rate_limits={})
    await dispatch.publish(
        approved(
            "O-1",
            [
                recipient("robot-1", "A1", channel="wechat"),
                recipient("robot-9", "A2", channel="wechat"),
            ],
        )
    )
    first = await dispatch.wait_for(
        "O-1", lambda ms: {m["status"] for m in ms} == {"submitted", "failed"}
    )
    [unknown_key] = [m for m in first if m["status"] == "failed"]
    assert unknown_key["last_error"] == "93000: invalid webhook url"

    await dispatch.publish(approved("O-2", [recipient("robot-1", "A3", channel="wechat")]))
    [throttled] = await dispatch.wait_for(
        "O-2", lambda ms: ms[0]["status"] == "queued" and ms[0]["attempts"] == 1
    )
    assert throttled["last_error"] == "45009: api freq out of limit"
    assert webhook_stats(webhook_sim).stats().robot_posts == {"robot-1": 1}


async def test_a_lost_robot_answer_is_left_for_a_dispatcher_to_resolve_never_resent(
    start_dispatch, carrier_sim, webhook_sim
):
    hooks = webhook_stats(webhook_sim)
    hooks.settings.latency_s = 5.0
    dispatch = await start_dispatch(
        carrier_sim, providers={"wechat": webhook_sim}, provider_timeout_s=0.2
    )
    await dispatch.publish(approved("O-1", [recipient("robot-1", "A1", channel="wechat")]))
    [message] = await dispatch.wait_for("O-1", lambda ms: ms[0]["status"] == "unresolved")
    assert "cannot be asked" in message["last_error"]
    assert hooks.stats().robot_posts == {"robot-1": 1}

    path = f"/v1/messages/{message['message_id']}/resolve"
    denied = await dispatch.client.post(
        path, json={"sent": True}, headers=dispatch.token(Role.REVIEWER)
    )
    assert denied.status_code == 403
    resolved = await dispatch.client.post(
        path, json={"sent": True}, headers=dispatch.token(Role.DISPATCHER)
    )
    assert resolved.status_code == 200
    assert resolved.json()["status"] == "submitted"
    again = await dispatch.client.post(
        path, json={"sent": False}, headers=dispatch.token(Role.DISPATCHER)
    )
    assert again.status_code == 409
    [sent] = await dispatch.wait_for_events("notice.sent", 1)
    assert sent["message_id"] == message["message_id"]
    assert hooks.stats().robot_posts == {"robot-1": 1}
