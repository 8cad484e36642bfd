"""The read API: roles, masking of phone numbers, counts and 404s."""

from __future__ import annotations

from services.dispatch.domain.messages import MessageStatus
from shared.auth import Role
from tests.integration.dispatch.conftest import FakeProvider, approved, phone, recipient


async def test_reviewers_see_masked_numbers_and_dispatchers_see_them_whole(start_dispatch):
    provider = FakeProvider(scripts={phone(2): [400]})
    dispatch = await start_dispatch(provider.app)
    await dispatch.publish(approved("O-1", [recipient(phone(1)), recipient(phone(2))]))
    found = await dispatch.wait_for(
        "O-1", lambda ms: {m["status"] for m in ms} == {"submitted", "failed"}
    )

    reviewer = await dispatch.client.get(
        "/v1/outages/O-1/messages", headers=dispatch.token(Role.REVIEWER)
    )
    assert reviewer.status_code == 200
    body = reviewer.json()
    assert sorted(m["address"] for m in body["messages"]) == ["138****0001", "138****0002"]
    notice = body["summaries"][0]
    assert notice["notice_kind"] == "notice"
    assert notice["total"] == 2
    assert notice["by_status"] == {s.value: 0 for s in MessageStatus} | {
        "submitted": 1,
        "failed": 1,
    }
    assert notice["by_delivery"]["pending"] == 1
    assert body["list_version"] == 1
    assert body["cancelled"] is False

    failed = await dispatch.client.get(
        "/v1/outages/O-1/messages",
        params={"status": "failed"},
        headers=dispatch.token(Role.PLANNER),
    )
    assert failed.json()["total"] == 1
    assert [m["status"] for m in failed.json()["messages"]] == ["failed"]

    message_id = found[0]["message_id"]
    one = await dispatch.client.get(
        f"/v1/messages/{message_id}", headers=dispatch.token(Role.DISPATCHER)
    )
    assert one.status_code == 200
    assert one.json()["address"] == found[0]["address"]
    assert one.json()["address"].startswith("+86138")


async def test_reading_needs_a_token_and_one_of_the_reading_roles(start_dispatch):
    dispatch = await start_dispatch(FakeProvider().app)
    assert (await dispatch.client.get("/v1/outages/O-1/messages")).status_code == 401
    field = await dispatch.client.get(
        "/v1/outages/O-1/messages", headers=dispatch.token(Role.FIELD)
    )
    assert field.status_code == 403


async def test_unknown_outages_and_messages_are_404_naming_the_field(start_dispatch):
    dispatch = await start_dispatch(FakeProvider().app)
    outage = await dispatch.client.get(
        "/v1/outages/nope/messages", headers=dispatch.token(Role.DISPATCHER)
    )
    assert outage.status_code == 404
    assert outage.json()["field"] == "outage_id"
    message = await dispatch.client.get(
        "/v1/messages/nope", headers=dispatch.token(Role.DISPATCHER)
    )
    assert message.status_code == 404
    assert message.json()["field"] == "message_id"
