"""Planning, tracing and cancelling outages over HTTP, with the events they publish."""

from __future__ import annotations

import re

import httpx
import pytest
from topology_harness import PLAN, Topology

from services.topology.app import create_app
from shared.bus.memory import MemoryBus
from shared.events import AffectedAccount, FeederScope, TransformerScope


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
    assert re.fullmatch(r"OUT-20261128-[0-9A-F]{4}", outage["id"])
    assert outage["status"] == "planned"
    assert outage["details"]["planned_by"] == "alice"
    assert outage["details"]["starts_at"] == "2026-11-28T08:00:00+08:00"

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
        ({"ends_at": "2026-11-28T07:00:00+08:00"}, "ends_at"),
        ({"starts_at": "2026-11-28T08:00:00"}, "starts_at"),
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
