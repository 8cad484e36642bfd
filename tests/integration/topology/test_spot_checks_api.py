"""Spot checks, discrepancies and the back-office check over HTTP: a contradiction is traced to
the change that let it through and closed by the batch that fixes it (district: see
``topology_harness``)."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import insert
from topology_harness import Topology

from services.topology.adapters.db import devices
from services.topology.app import create_app
from shared.bus.memory import MemoryBus
from shared.events import ComplaintClassified

CHECKED_AT = "2026-11-20T10:00:00+08:00"


@pytest.fixture
async def district(topology):
    assert (await topology.import_bundle()).status_code == 200
    return topology


async def spot_check(topology, *observations, sub="field-wang"):
    return await topology.client.post(
        "/v1/network/spot-checks",
        json={"checked_at": CHECKED_AT, "ticket": "JC-11", "observations": list(observations)},
        headers=topology.auth("field", sub=sub),
    )


async def test_a_spot_check_that_contradicts_the_model_is_linked_to_the_change_that_caused_it(
    district,
):
    # Marketing moved C1 to TA by mistake; the field finds it still fed from TC.
    moved = await district.change(
        {
            "kind": "customer_move",
            "account_id": "C1",
            "node_id": "TA",
            "origin": "marketing_process",
            "ticket": "YX-42",
            "reason": "营销系统改接",
        },
        sub="marketing-zhou",
    )
    change_id = moved.json()["changes"][0]["change_id"]

    response = await spot_check(
        district,
        {"kind": "customer_node", "account_id": "C1", "node_id": "TC"},
        {"kind": "customer_node", "account_id": "B1", "node_id": "TB"},
        {"kind": "device_state", "device_id": "TIE", "normal_state": "closed"},
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["discrepancies_opened"] == 2
    assert [(o["element_id"], o["agrees"], o["modelled"]) for o in body["observations"]] == [
        ("C1", False, "TA"),
        ("B1", True, "TB"),
        ("TIE", False, "open"),
    ]
    customer_id = body["observations"][0]["discrepancy_id"]
    customer = (
        await district.client.get(
            f"/v1/network/discrepancies/{customer_id}", headers=district.auth("reviewer")
        )
    ).json()
    assert (customer["origin"], customer["status"], customer["observed"], customer["modelled"]) == (
        "spot_check",
        "open",
        "TC",
        "TA",
    )
    assert customer["source_id"] == body["spot_check_id"]
    caused = customer["caused_by"]
    assert (caused["change_id"], caused["batch_id"], caused["author"], caused["ticket"]) == (
        change_id,
        moved.json()["batch_id"],
        "marketing-zhou",
        "YX-42",
    )
    assert (caused["origin"], caused["kind"]) == ("marketing_process", "customer_move")

    tie = (
        await district.client.get(
            f"/v1/network/discrepancies/{body['observations'][2]['discrepancy_id']}",
            headers=district.auth("planner"),
        )
    ).json()
    # Never changed since the import: the import is what let it through.
    assert (tie["caused_by"]["kind"], tie["caused_by"]["author"]) == ("import", "admin")
    assert tie["caused_by"]["change_id"] is None


async def test_the_batch_that_fixes_a_discrepancy_closes_it_and_a_repeat_finding_reuses_it(
    district,
):
    first = await spot_check(district, {"kind": "node_name", "node_id": "N2", "name": "东1线#2杆A"})
    again = await spot_check(district, {"kind": "node_name", "node_id": "N2", "name": "东1线#2杆A"})
    discrepancy_id = first.json()["observations"][0]["discrepancy_id"]
    assert again.json()["observations"][0] == {
        **first.json()["observations"][0],
        "already_open": True,
    }
    assert again.json()["discrepancies_opened"] == 0

    fixed = await district.change(
        {"kind": "node_rename", "node_id": "N2", "name": "东1线#2杆A", "origin": "spot_check"}
    )

    assert fixed.json()["closed_discrepancies"] == [discrepancy_id]
    listed = await district.client.get(
        "/v1/network/discrepancies", params={"status": "closed"}, headers=district.auth("planner")
    )
    (closed,) = listed.json()
    assert (closed["id"], closed["closed_by_batch"]) == (discrepancy_id, fixed.json()["batch_id"])
    still_open = await district.client.get(
        "/v1/network/discrepancies", params={"status": "open"}, headers=district.auth("planner")
    )
    assert still_open.json() == []


async def test_naming_a_discrepancy_a_batch_does_not_fix_refuses_the_batch(district):
    seen = await spot_check(district, {"kind": "customer_absent", "account_id": "A2"})
    discrepancy_id = seen.json()["observations"][0]["discrepancy_id"]

    refused = await district.change(
        {"kind": "node_rename", "node_id": "N1", "name": "1号杆"}, resolves=[discrepancy_id]
    )
    closed = await district.change(
        {"kind": "customer_close", "account_id": "A2"}, resolves=[discrepancy_id]
    )
    twice = await district.change(
        {"kind": "node_rename", "node_id": "N1", "name": "1号杆"}, resolves=[discrepancy_id]
    )

    assert (refused.status_code, refused.json()["field"]) == (422, "resolves[0]")
    assert closed.json()["closed_discrepancies"] == [discrepancy_id]
    assert (twice.status_code, twice.json()["field"]) == (409, "resolves[0]")


async def test_a_complaint_blaming_the_model_opens_a_discrepancy_once_on_its_account(district):
    await district.change({"kind": "customer_move", "account_id": "B2", "node_id": "TC"})

    def complaint(complaint_id: str, cause: str) -> ComplaintClassified:
        return ComplaintClassified(
            complaint_id=complaint_id,
            outage_id="OUT-1",
            account_id="B2",
            complaint_type="not_notified",
            cause=cause,
            detail="停电了没收到短信",
            classified_at=datetime(2026, 11, 21, 3, 0, tzinfo=UTC),
        )

    await district.deliver(complaint("CMP-1", "model_or_trace"))
    await district.deliver(complaint("CMP-1", "model_or_trace"))  # a new event, same complaint
    await district.deliver(complaint("CMP-2", "contact"))

    listed = await district.client.get(
        "/v1/network/discrepancies", params={"element_id": "B2"}, headers=district.auth("planner")
    )
    (found,) = listed.json()
    assert (found["origin"], found["source_id"], found["outage_id"]) == (
        "complaint",
        "CMP-1",
        "OUT-1",
    )
    assert found["observation"] is None
    assert found["modelled"] == "TC"
    assert "停电了没收到短信" in found["detail"]
    assert found["caused_by"]["kind"] == "customer_move"

    closed = await district.change(
        {"kind": "customer_move", "account_id": "B2", "node_id": "TB", "origin": "complaint"},
        resolves=[found["id"]],
    )
    assert closed.json()["closed_discrepancies"] == [found["id"]]


async def test_the_check_reports_what_the_tables_hold_and_travels_with_traces(
    district, topology_settings
):
    clean = await district.client.get("/v1/network/checks", headers=district.auth("reviewer"))
    assert (clean.json()["total"], clean.json()["counts"]) == (0, {})

    # A transformer area without customers on 东1线, and a device row written by hand that
    # names a node the model lacks: the model is rebuilt from the tables at start-up.
    await district.change(
        {"kind": "node_add", "node_id": "TD", "node_kind": "transformer_lv", "name": "空台区"},
        {
            "kind": "device_add",
            "device_id": "T4",
            "device_kind": "transformer",
            "from_node": "N3",
            "to_node": "TD",
            "normal_state": "closed",
        },
    )
    async with district.app.state.runtime.uow() as uow:
        await uow.session.execute(
            insert(devices).values(
                device_id="DX",
                kind="line",
                from_node="N2",
                to_node="N404",
                normal_state="closed",
                name="",
            )
        )
        await uow.commit()
    restarted = create_app(topology_settings, bus=MemoryBus())
    async with (
        restarted.router.lifespan_context(restarted),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=restarted), base_url="http://t"
        ) as client,
    ):
        fresh = Topology(app=restarted, client=client, bus=MemoryBus())
        checks = await client.get("/v1/network/checks", headers=fresh.auth("reviewer"))
        one_feeder = await client.get(
            "/v1/network/checks", params={"feeder": "S2"}, headers=fresh.auth("reviewer")
        )
        not_a_feeder = await client.get(
            "/v1/network/checks", params={"feeder": "N1"}, headers=fresh.auth("reviewer")
        )
        trace = await fresh.trace("open SW1")

    body = checks.json()
    assert body["model_version"] == 2
    assert body["counts"] == {"empty_transformer": 1, "missing_node": 1}
    assert {(f["code"], tuple(f["elements"])) for f in body["findings"]} == {
        ("empty_transformer", ("TD",)),
        ("missing_node", ("DX", "N404")),
    }
    assert all(f["feeders"] == ["S1"] for f in body["findings"])
    assert one_feeder.json()["total"] == 0
    assert (not_a_feeder.status_code, not_a_feeder.json()["field"]) == (422, "feeder")
    assert {w["code"] for w in trace.json()["warnings"]} == {"empty_transformer", "missing_node"}
