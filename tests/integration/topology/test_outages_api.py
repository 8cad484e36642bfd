"""Planning, tracing and cancelling outages over HTTP, with the events they publish."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest
from topology_harness import PLAN, START, Topology

from services.topology.app import create_app
from shared.bus.memory import MemoryBus
from shared.events import AffectedAccount, FeederScope, TransformerScope
from shared.timeutil import local, utcnow


@pytest.fixture
async def district(topology):
    assert (await topology.import_bundle()).status_code == 200
    return topology


def cut(account: str, device: str, node: str, feeder: str = "S1") -> AffectedAccount:
    return AffectedAccount(account_id=account, isolating_device=device, node_id=node, feeder=feeder)


async def test_a_planned_outage_is_traced_and_its_affected_accounts_published(district):
    response = await district.plan()

    assert response.status_code == 201, response.text
    outage = response.json()
    assert re.fullmatch(rf"OUT-{START:%Y%m%d}-[0-9A-F]{{4}}", outage["id"])
    assert outage["status"] == "planned"
    assert outage["details"]["planned_by"] == "alice"
    assert outage["details"]["starts_at"] == START.isoformat()
    assert outage["warnings"] == []

    (traced,) = await district.published("outage.traced")
    assert traced.outage_id == outage["id"]
    assert traced.affected_accounts == [
        cut("B1", "SW1", "TB"),
        cut("B2", "SW1", "TB"),
        cut("C1", "SW1", "TC"),
    ]
    assert traced.transformers == [
        TransformerScope(node_id="TB", name="幸福小区2号台区", customers=2),
        TransformerScope(node_id="TC", name="和平新村1号台区", customers=1),
    ]
    assert traced.feeders == [FeederScope(source_node="S1", name="城东变 10kV 东1线", customers=3)]
    assert traced.details.planned_by == "alice"
    assert traced.details.work == PLAN["work"]
    assert traced.model_version == 1
    assert traced.warnings == []

    stored = await district.client.get(
        f"/v1/outages/{outage['id']}", headers=district.auth("reviewer")
    )
    assert stored.json()["status"] == "traced"
    assert stored.json()["trace"]["affected_accounts"] == 3
    assert stored.json()["trace"]["feeders"] == [
        {"source_node": "S1", "name": "城东变 10kV 东1线", "customers": 3}
    ]


async def test_a_tie_closed_in_the_plan_keeps_the_transferred_customers_off_the_list(district):
    operations = [
        {"device_id": "TIE", "action": "close"},
        {"device_id": "L2", "action": "open"},
        {"device_id": "SW1", "action": "open"},
    ]
    await district.plan(id="OUT-TRANSFER", operations=operations)

    (traced,) = await district.published("outage.traced")

    assert traced.affected_accounts == [cut("B1", "SW1", "TB"), cut("B2", "SW1", "TB")]


async def test_an_unknown_device_is_refused_naming_it_and_nothing_is_registered(district):
    operations = [
        {"device_id": "SW1", "action": "open"},
        {"device_id": "B1", "action": "open"},
        {"device_id": "SW404", "action": "open"},
    ]

    response = await district.plan(operations=operations)

    assert response.status_code == 422
    assert response.json()["field"] == "operations[2].device_id"
    assert "SW404" in response.json()["detail"]
    await district.settle()
    assert district.bus.log["outage.planned"] == []
    listed = await district.client.get("/v1/outages", headers=district.auth("planner"))
    assert listed.json() == []


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"ends_at": (START - timedelta(hours=1)).isoformat()}, "ends_at"),
        ({"starts_at": START.replace(tzinfo=None).isoformat()}, "starts_at"),
        ({"operations": []}, "operations"),
    ],
)
async def test_a_bad_plan_is_refused_naming_the_field(district, overrides, field):
    response = await district.plan(**overrides)

    assert response.status_code == 422
    assert response.json()["field"] == field


async def test_an_outage_id_is_registered_once(district):
    assert (await district.plan(id="OUT-20261128-0001")).status_code == 201

    again = await district.plan(id="OUT-20261128-0001")

    assert again.status_code == 409


async def test_a_cancellation_is_published_once_and_a_second_one_conflicts(district):
    outage_id = (await district.plan()).json()["id"]
    await district.published("outage.traced")

    cancelled = await district.client.post(
        f"/v1/outages/{outage_id}/cancel",
        json={"reason": "雷雨天气，检修改期"},
        headers=district.auth("dispatcher", sub="dispatcher-zhao"),
    )
    again = await district.client.post(
        f"/v1/outages/{outage_id}/cancel",
        json={"reason": "再次取消"},
        headers=district.auth("planner"),
    )

    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["cancellation"]["cancelled_by"] == "dispatcher-zhao"
    assert cancelled.json()["trace"]["affected_accounts"] == 3
    assert again.status_code == 409
    (event,) = await district.published("outage.cancelled")
    await district.settle()
    assert len(district.bus.log["outage.cancelled"]) == 1
    assert (event.outage_id, event.reason, event.cancelled_by) == (
        outage_id,
        "雷雨天气，检修改期",
        "dispatcher-zhao",
    )


async def test_cancelling_needs_a_known_outage_and_the_right_role(district):
    outage_id = (await district.plan()).json()["id"]
    body = {"reason": "改期"}

    unknown = await district.client.post(
        "/v1/outages/OUT-404/cancel", json=body, headers=district.auth("planner")
    )
    reviewer = await district.client.post(
        f"/v1/outages/{outage_id}/cancel", json=body, headers=district.auth("reviewer")
    )

    assert unknown.status_code == 404
    assert reviewer.status_code == 403


async def test_planning_needs_a_token_and_the_planner_role(district):
    anonymous = await district.client.post("/v1/outages", json=PLAN)
    reviewer = await district.client.post(
        "/v1/outages", json=PLAN, headers=district.auth("reviewer")
    )

    assert anonymous.status_code == 401
    assert reviewer.status_code == 403


async def test_outages_are_listed_newest_first(district):
    for outage_id in ("OUT-A", "OUT-B", "OUT-C"):
        await district.plan(id=outage_id)

    listed = await district.client.get(
        "/v1/outages", params={"limit": 2}, headers=district.auth("field")
    )

    assert [outage["id"] for outage in listed.json()] == ["OUT-C", "OUT-B"]


async def test_a_what_if_trace_answers_without_registering_anything(district):
    response = await district.client.post(
        "/v1/trace",
        json={"operations": [{"device_id": "B1", "action": "open"}]},
        headers=district.auth("reviewer"),
    )

    assert response.status_code == 200
    body = response.json()
    assert [(a["account_id"], a["isolating_device"]) for a in body["affected_accounts"]] == [
        ("A1", "B1"),
        ("A2", "B1"),
        ("B1", "B1"),
        ("B2", "B1"),
        ("C1", "B1"),
    ]
    assert body["model_version"] == 1
    assert body["elapsed_ms"] >= 0
    assert body["warnings"] == []
    await district.settle()
    assert district.bus.log["outage.planned"] == []
    dispatcher = await district.client.post(
        "/v1/trace",
        json={"operations": [{"device_id": "B1", "action": "open"}]},
        headers=district.auth("dispatcher"),
    )
    assert dispatcher.status_code == 403


async def test_an_outage_cancelled_before_its_trace_is_never_traced(topology_settings):
    # The bus is not started until the cancellation is in: outage.planned waits in its queue.
    bus = MemoryBus()
    app = create_app(topology_settings, bus=bus)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        topology = Topology(app=app, client=client, bus=bus)
        await topology.import_bundle()
        outage_id = (await topology.plan()).json()["id"]
        cancel = await client.post(
            f"/v1/outages/{outage_id}/cancel",
            json={"reason": "取消"},
            headers=topology.auth("planner"),
        )
        assert cancel.status_code == 200

        await bus.start()
        try:
            await topology.settle()
        finally:
            await bus.stop()

        assert len(bus.log["outage.planned"]) == 1
        assert bus.log["outage.traced"] == []
        stored = await client.get(f"/v1/outages/{outage_id}", headers=topology.auth("planner"))
        assert stored.json()["status"] == "cancelled"
        assert stored.json()["trace"] is None


async def test_a_plan_inside_the_lead_time_is_accepted_flagged_for_planner_and_reviewer(district):
    soon = local(utcnow() + timedelta(days=2), "Asia/Shanghai").replace(microsecond=0)

    response = await district.plan(
        starts_at=soon.isoformat(), ends_at=(soon + timedelta(hours=4)).isoformat()
    )

    assert response.status_code == 201
    (warning,) = response.json()["warnings"]
    assert warning["code"] == "lead_time_short"
    assert "7 天" in warning["message"]
    (traced,) = await district.published("outage.traced")
    assert [w.code for w in traced.warnings] == ["lead_time_short"]


async def test_a_reschedule_is_announced_with_the_previous_times_until_cancelled(district):
    outage_id = (await district.plan()).json()["id"]
    later = START + timedelta(days=14)

    moved = await district.client.post(
        f"/v1/outages/{outage_id}/reschedule",
        json={
            "starts_at": later.isoformat(),
            "ends_at": (later + timedelta(hours=6)).isoformat(),
            "reason": "天气原因改期",
        },
        headers=district.auth("planner", sub="bob"),
    )
    reviewer = await district.client.post(
        f"/v1/outages/{outage_id}/reschedule",
        json={"starts_at": later.isoformat(), "ends_at": later.isoformat(), "reason": "x"},
        headers=district.auth("reviewer"),
    )

    assert moved.status_code == 200, moved.text
    assert moved.json()["details"]["starts_at"] == later.isoformat()
    assert moved.json()["reschedules"][0]["previous_starts_at"] == START.isoformat()
    assert reviewer.status_code == 403
    (event,) = await district.published("outage.rescheduled")
    assert (event.outage_id, event.reason, event.rescheduled_by) == (
        outage_id,
        "天气原因改期",
        "bob",
    )
    assert event.previous_starts_at == START
    assert event.details.starts_at == later

    await district.client.post(
        f"/v1/outages/{outage_id}/cancel", json={"reason": "取消"}, headers=district.auth("planner")
    )
    after_cancel = await district.client.post(
        f"/v1/outages/{outage_id}/reschedule",
        json={
            "starts_at": (later + timedelta(days=1)).isoformat(),
            "ends_at": (later + timedelta(days=1, hours=2)).isoformat(),
            "reason": "再改",
        },
        headers=district.auth("planner"),
    )
    assert after_cancel.status_code == 409


async def test_an_outage_is_completed_once_begun_and_then_closed_to_changes(district):
    started = local(utcnow() - timedelta(hours=1), "Asia/Shanghai").replace(microsecond=0)
    ahead = (await district.plan()).json()["id"]
    repair = (
        await district.plan(
            id="OUT-REPAIR",
            kind="emergency",
            starts_at=started.isoformat(),
            ends_at=(started + timedelta(hours=3)).isoformat(),
        )
    ).json()

    too_early = await district.client.post(
        f"/v1/outages/{ahead}/complete", headers=district.auth("field")
    )
    done = await district.client.post(
        "/v1/outages/OUT-REPAIR/complete", headers=district.auth("field", sub="field-li")
    )
    again = await district.client.post(
        "/v1/outages/OUT-REPAIR/complete", headers=district.auth("dispatcher")
    )
    cancel = await district.client.post(
        "/v1/outages/OUT-REPAIR/cancel", json={"reason": "x"}, headers=district.auth("planner")
    )
    reviewer = await district.client.post(
        f"/v1/outages/{ahead}/complete", headers=district.auth("reviewer")
    )

    assert repair["warnings"] == []  # an emergency needs no lead time
    assert too_early.status_code == 409
    assert done.status_code == 200
    assert (done.json()["status"], done.json()["completion"]["completed_by"]) == (
        "completed",
        "field-li",
    )
    assert (again.status_code, cancel.status_code, reviewer.status_code) == (409, 409, 403)
    (event,) = await district.published("outage.completed")
    assert (event.outage_id, event.completed_by) == ("OUT-REPAIR", "field-li")


async def test_an_end_state_paralleling_two_sources_is_traced_with_a_warning(district):
    response = await district.trace("close TIE")
    transfer = await district.trace("close TIE", "open SW1")

    assert response.status_code == 200
    assert [(w["code"], w["elements"]) for w in response.json()["warnings"]] == [
        ("parallel_sources", ["S1", "S2"]),
        ("no_customers_affected", []),
    ]
    # Opening SW1 once the tie is closed hands N2 onwards over to S2 (转供): the sources
    # are apart again, and nobody is cut off.
    assert [w["code"] for w in transfer.json()["warnings"]] == ["no_customers_affected"]
    assert transfer.json()["affected_accounts"] == []


async def test_a_what_if_on_an_unknown_device_is_refused_naming_the_operation(district):
    response = await district.trace("open SW1", "open SW404")

    assert response.status_code == 422
    assert response.json()["field"] == "operations[1].device_id"
