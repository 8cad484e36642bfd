"""The carrier webhook: signatures, replay safety, duplicates, malformed batches, events."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from httpx import ASGITransport, AsyncClient
from receipts_harness import SECRET, notice_sent, report

from services.receipts.app import create_app
from services.receipts.config import ReceiptsSettings
from shared.signing import sign


async def test_validly_signed_batch_is_stored_and_emitted_with_the_notice_outage(receipts_app):
    await receipts_app.publish(notice_sent("m1", ["A1"]))

    response = await receipts_app.post_reports(
        [report("m1", "UNDELIV", err="MK:0001"), report("m2", "DELIVRD")]
    )

    assert response.status_code == 200
    assert response.json() == {"code": 0, "accepted": 2, "duplicates": 0}
    assert await receipts_app.stored_receipts() == 2
    events = {event.message_id: event for event in await receipts_app.emitted()}
    assert events["m1"].status == "failed"
    assert events["m1"].outage_id == "O-1"
    assert events["m1"].carrier_stat == "UNDELIV"
    assert events["m1"].carrier_err == "MK:0001"
    assert events["m1"].provider_message_id == "p-m1"
    assert events["m1"].done_at == datetime(2026, 5, 1, 8, 1, tzinfo=UTC)
    assert events["m2"].status == "delivered"
    assert events["m2"].outage_id is None  # its notice has not reached receipts


async def test_any_secret_of_a_rotation_is_accepted(make_settings, memory_bus):
    settings = make_settings(ReceiptsSettings, webhook_secrets=["new-secret", SECRET])
    app = create_app(settings, bus=memory_bus)
    body = json.dumps({"reports": [report("m1")]}).encode()
    async with (
        app.router.lifespan_context(app),
        AsyncClient(transport=ASGITransport(app=app), base_url="http://r") as client,
    ):
        for secret in ("new-secret", SECRET):
            response = await client.post(
                "/v1/webhooks/sms-status",
                content=body,
                headers={"X-Signature": sign(secret, body)},
            )
            assert response.status_code == 200, secret


BODY = json.dumps({"reports": [report("m1")]}).encode()
BAD_SIGNATURES: dict[str, Callable[[], tuple[bytes, str | None]]] = {
    "tampered body": lambda: (BODY.replace(b"DELIVRD", b"UNDELIV"), sign(SECRET, BODY)),
    "wrong secret": lambda: (BODY, sign("not-the-secret", BODY)),
    "missing header": lambda: (BODY, None),
    "malformed header": lambda: (BODY, "v1=" + sign(SECRET, BODY).split("v1=")[1]),
    "ten minutes old": lambda: (BODY, sign(SECRET, BODY, int(time.time()) - 600)),
    "ten minutes ahead": lambda: (BODY, sign(SECRET, BODY, int(time.time()) + 600)),
}


@pytest.mark.parametrize("case", BAD_SIGNATURES)
async def test_bad_signature_is_refused_and_nothing_is_stored(receipts_app, case):
    await receipts_app.publish(notice_sent("m1", ["A1"]))
    body, signature = BAD_SIGNATURES[case]()

    response = await receipts_app.post_raw(body, signature)

    assert response.status_code == 401
    assert response.json()["error"] == "unauthenticated"
    assert response.json()["detail"]
    assert await receipts_app.stored_receipts() == 0
    assert await receipts_app.emitted() == []
    coverage = await receipts_app.coverage()
    assert coverage["notice"]["pending"] == 1
    assert coverage["notice"]["delivered"] == 0


async def test_a_batch_pushed_again_stores_and_emits_nothing_new(receipts_app):
    batch = [report("m1", "DELIVRD"), report("m2", "EXPIRED", err="MI:0013")]

    first = await receipts_app.post_reports(batch)
    assert len(await receipts_app.emitted()) == 2
    again = await receipts_app.post_reports(batch)

    assert first.json() == {"code": 0, "accepted": 2, "duplicates": 0}
    assert again.status_code == 200
    assert again.json() == {"code": 0, "accepted": 0, "duplicates": 2}
    assert await receipts_app.stored_receipts() == 2
    assert len(await receipts_app.emitted()) == 2


async def test_a_report_repeated_within_a_batch_counts_once(receipts_app):
    response = await receipts_app.post_reports([report("m1"), report("m1"), report("m2")])

    assert response.json() == {"code": 0, "accepted": 2, "duplicates": 1}
    assert sorted(e.message_id for e in await receipts_app.emitted()) == ["m1", "m2"]


async def test_a_new_state_of_a_known_message_is_a_new_report(receipts_app):
    await receipts_app.post_reports([report("m1", "ACCEPTD", done_at="2026-05-01T08:00:30Z")])

    response = await receipts_app.post_reports([report("m1", "DELIVRD")])

    assert response.json()["accepted"] == 1
    assert [e.status for e in await receipts_app.emitted()] == ["accepted", "delivered"]


async def test_naive_carrier_times_are_read_as_beijing_time(receipts_app):
    await receipts_app.post_reports([report("m1", done_at="2026-05-01T16:01:00")])

    (event,) = await receipts_app.emitted()

    assert event.done_at == datetime(2026, 5, 1, 8, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("reports", "field"),
    [
        ([report(f"m{i}") for i in range(3)] + [{**report("m3"), "stat": ""}], "reports[3].stat"),
        ([{k: v for k, v in report("m1").items() if k != "message_id"}], "reports[0].message_id"),
        ([{**report("m1"), "done_at": "yesterday"}], "reports[0].done_at"),
        ([], "reports"),
    ],
)
async def test_malformed_batch_is_refused_naming_the_field_and_nothing_is_stored(
    receipts_app, reports, field
):
    response = await receipts_app.post_reports(reports)

    assert response.status_code == 422
    assert response.json()["field"] == field
    assert field in response.json()["detail"]
    assert await receipts_app.stored_receipts() == 0


async def test_a_body_that_is_not_json_is_refused_as_invalid(receipts_app):
    body = b"{not json"

    response = await receipts_app.post_raw(body, sign(SECRET, body))

    assert response.status_code == 422
    assert response.json()["field"] == "body"


async def test_concurrent_pushes_of_one_batch_store_it_once(receipts_app):
    batch = [report("m1", "DELIVRD"), report("m2", "UNDELIV", err="MK:0000")]

    responses = await asyncio.gather(*(receipts_app.post_reports(batch) for _ in range(6)))

    assert {response.status_code for response in responses} == {200}
    assert sum(response.json()["accepted"] for response in responses) == 2
    assert sum(response.json()["duplicates"] for response in responses) == 10
    assert len(await receipts_app.emitted()) == 2


async def test_concurrent_reports_of_one_message_settle_by_the_rule(receipts_app):
    await receipts_app.publish(notice_sent("m1", ["A1"]))
    stats = ["ACCEPTD", "UNKNOWN", "EXPIRED", "DELIVRD", "ENROUTE"]

    await asyncio.gather(
        *(
            receipts_app.post_reports([report("m1", stat, done_at=f"2026-05-01T08:0{i}:00Z")])
            for i, stat in enumerate(stats)
        )
    )

    assert (await receipts_app.coverage())["notice"]["delivered"] == 1
    assert await receipts_app.stored_receipts() == len(stats)
