"""Change batches over HTTP: versioned, atomic, in the history, and tracing again the outages
whose notices have not gone out (see ``topology_harness`` for the district)."""

from __future__ import annotations

import pytest
from topology_harness import BUNDLE, CUSTOMERS

from shared.events import AccountChange


@pytest.fixture
async def district(topology):
    assert (await topology.import_bundle()).status_code == 200
    return topology


MOVE_C1 = {"kind": "customer_move", "account_id": "C1", "node_id": "TA"}


async def test_a_batch_moves_the_model_to_the_next_version_and_is_in_the_history(district):
    response = await district.change(
        {"kind": "node_add", "node_id": "TD", "node_kind": "transformer_lv", "name": "新台区"},
        {
            "kind": "device_add",
            "device_id": "T4",
            "device_kind": "transformer",
            "from_node": "N3",
            "to_node": "TD",
            "normal_state": "closed",
            "name": "4号配变",
        },
        {
            "kind": "customer_new",
            "account_id": "D1",
            "name": "赵六",
            "node_id": "TD",
            "voltage_kv": 0.22,
            "category": "residential",
            "origin": "marketing_process",
            "ticket": "YX-2026-001",
            "reason": "新装",
        },
        MOVE_C1,
    )

    assert response.status_code == 201, response.text
    batch = response.json()
    assert batch["model_version"] == 2
    assert batch["author"] == "field-li"
    assert [c["kind"] for c in batch["changes"]] == [
        "node_add",
        "device_add",
        "customer_new",
        "customer_move",
    ]
    assert batch["changes"][3]["before"]["node_id"] == "TC"
    _imported, changed = await district.published("model.changed", count=2)
    assert (changed.batch_id, changed.model_version, changed.author) == (
        batch["batch_id"],
        2,
        "field-li",
    )
    assert changed.changes[2].origin == "marketing_process"

    history = await district.client.get(
        "/v1/network/history", params={"account_id": "D1"}, headers=district.auth("reviewer")
    )
    assert history.status_code == 200
    body = history.json()
    assert body["current"] == {
        "name": "赵六",
        "node_id": "TD",
        "voltage_kv": 0.22,
        "category": "residential",
    }
    (entry,) = body["changes"]
    assert (entry["kind"], entry["reason"], entry["origin"], entry["ticket"], entry["author"]) == (
        "customer_new",
        "新装",
        "marketing_process",
        "YX-2026-001",
        "field-li",
    )
    assert entry["model_version"] == 2
    assert body["imported_by"] == "admin"

    trace = await district.trace("open L2")
    assert [(a["account_id"], a["node_id"]) for a in trace.json()["affected_accounts"]] == [
        ("D1", "TD")
    ]
    assert trace.json()["model_version"] == 2


async def test_a_refused_change_refuses_the_batch_and_changes_nothing(district):
    response = await district.change(
        MOVE_C1,
        {"kind": "customer_move", "account_id": "B1", "node_id": "N404"},
        {"kind": "device_state", "device_id": "TIE", "normal_state": "open"},
    )

    assert response.status_code == 422
    body = response.json()
    assert body["field"] == "changes[1].node_id"
    assert [e["field"] for e in body["errors"]] == [
        "changes[1].node_id",
        "changes[2].normal_state",
    ]
    summary = await district.client.get("/v1/network/summary", headers=district.auth("planner"))
    assert summary.json()["model_version"] == 1
    history = await district.client.get(
        "/v1/network/history", params={"account_id": "C1"}, headers=district.auth("planner")
    )
    assert history.json()["changes"] == []
    assert history.json()["current"]["node_id"] == "TC"
    await district.settle()
    assert len(district.bus.log["model.changed"]) == 1  # the import's


async def test_a_bad_change_body_names_the_field_and_only_field_staff_or_systems_change(district):
    bad_kind = await district.change({"kind": "customer_teleport", "account_id": "C1"})
    bad_origin = await district.change({**MOVE_C1, "origin": "guess"})
    planner = await district.client.post(
        "/v1/network/changes",
        json={"changes": [{**MOVE_C1, "reason": "x", "origin": "field_patrol"}]},
        headers=district.auth("planner"),
    )
    system = await district.client.post(
        "/v1/network/changes",
        json={"changes": [{**MOVE_C1, "reason": "营销过户", "origin": "marketing_process"}]},
        headers=district.auth("system", sub="marketing"),
    )
    both = await district.client.get(
        "/v1/network/history",
        params={"account_id": "C1", "device_id": "SW1"},
        headers=district.auth("planner"),
    )

    assert (bad_kind.status_code, bad_kind.json()["field"]) == (422, "changes[0]")
    assert (bad_origin.status_code, bad_origin.json()["field"]) == (
        422,
        "changes[0].customer_move.origin",
    )
    assert planner.status_code == 403
    assert system.status_code == 201
    assert system.json()["author"] == "marketing"
    assert both.status_code == 422


async def test_moving_a_customer_after_the_trace_and_before_approval_retraces_naming_it(district):
    outage_id = (await district.plan()).json()["id"]
    (traced,) = await district.published("outage.traced")
    assert [a.account_id for a in traced.affected_accounts] == ["B1", "B2", "C1"]

    moved = await district.change(
        {**MOVE_C1, "reason": "现场核实用户接在甲台区", "ticket": "XJ-7"},
        {"kind": "customer_move", "account_id": "A1", "node_id": "TB"},
    )
    assert moved.status_code == 201

    (retraced,) = await district.published("outage.retraced")
    assert retraced.outage_id == outage_id
    assert retraced.changes == [
        AccountChange(account_id="A1", change="added", node_id="TB"),
        AccountChange(account_id="C1", change="removed", node_id="TC"),
    ]
    assert [a.account_id for a in retraced.affected_accounts] == ["A1", "B1", "B2"]
    assert (retraced.model_version, retraced.trace_version) == (2, 2)
    assert moved.json()["batch_id"] in retraced.reason
    assert "现场核实用户接在甲台区" in retraced.reason
    assert retraced.details.planned_by == "alice"
    stored = await district.client.get(f"/v1/outages/{outage_id}", headers=district.auth("planner"))
    assert stored.json()["trace"]["trace_version"] == 2
    assert stored.json()["trace"]["affected_accounts"] == 3


async def test_a_change_that_does_not_touch_an_outages_accounts_only_moves_its_model(district):
    outage_id = (await district.plan()).json()["id"]
    cancelled_id = (await district.plan(id="OUT-CANCELLED")).json()["id"]
    await district.published("outage.traced", count=2)
    await district.client.post(
        f"/v1/outages/{cancelled_id}/cancel",
        json={"reason": "取消"},
        headers=district.auth("planner"),
    )

    assert (
        await district.change({"kind": "node_rename", "node_id": "N1", "name": "1号杆"})
    ).status_code == 201
    assert (await district.change(MOVE_C1)).status_code == 201
    await district.settle()

    (retraced,) = await district.published("outage.retraced")
    assert retraced.outage_id == outage_id  # the cancelled one is left alone
    assert retraced.model_version == 3
    renamed_only = await district.client.get(
        f"/v1/outages/{cancelled_id}", headers=district.auth("planner")
    )
    assert renamed_only.json()["trace"]["model_version"] == 1


async def test_a_new_import_retraces_the_outages_awaiting_notice(district):
    await district.plan()
    await district.published("outage.traced")

    without_c1 = CUSTOMERS.replace("C1,刘洋,TC,0.22,residential\n", "")
    assert (await district.import_bundle({**BUNDLE, "customers": without_c1})).status_code == 200

    (retraced,) = await district.published("outage.retraced")
    assert retraced.changes == [AccountChange(account_id="C1", change="removed", node_id="TC")]
    assert "重新导入" in retraced.reason
