"""Change batches are checked change by change against the model as the batch leaves it, and
refused whole, naming each bad change; observations are compared with the model, and a batch
closes the discrepancies it fixes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from topology_networks import build

from services.topology.domain.changes import ChangeRequest, ModelView, account_ids, plan_batch
from services.topology.domain.discrepancies import (
    Closure,
    Discrepancy,
    Observation,
    ObservationKind,
    agrees,
    modelled,
    settle,
)
from services.topology.domain.network import ChangeKind
from shared.errors import Conflict, InvalidInput

NOW = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
MODEL = build(
    [("S1", "source", "东1线"), ("N1", "pole", "1号杆"), ("TA", "transformer_lv", "甲台区")],
    [("B1", "S1", "N1", True), ("T1", "N1", "TA", True), ("TIE", "N1", "S1", False)],
    [("A1", "TA")],
)
STORED = {
    "A1": {"name": "张伟", "node_id": "TA", "voltage_kv": 0.22, "category": "residential"},
    "A2": None,
    "A404": None,
}


def change(change_kind: str, element: str, /, **values) -> ChangeRequest:
    return ChangeRequest(
        ChangeKind(change_kind), element, values, "巡线发现", "field_patrol", "T-1"
    )


def view() -> ModelView:
    return ModelView(MODEL, STORED)


def test_a_batch_may_build_on_its_own_earlier_changes():
    batch = [
        change("node_add", "TB", kind="transformer_lv", name="乙台区"),
        change(
            "device_add",
            "T2",
            kind="transformer",
            from_node="N1",
            to_node="TB",
            normal_state="closed",
            name="乙配变",
        ),
        change(
            "customer_new", "A2", name="王芳", node_id="TB", voltage_kv=0.22, category="residential"
        ),
        change("customer_move", "A1", node_id="TB"),
        change("node_rename", "TB", name="乙台区（新）"),
    ]

    planned = plan_batch(view(), batch)

    assert [(p.change.kind.value, p.change.element_id) for p in planned] == [
        ("node_add", "TB"),
        ("device_add", "T2"),
        ("customer_new", "A2"),
        ("customer_move", "A1"),
        ("node_rename", "TB"),
    ]
    move = planned[3].change
    assert move.before == STORED["A1"]
    assert move.after == {**STORED["A1"], "node_id": "TB"}
    assert planned[4].change.before == {"kind": "transformer_lv", "name": "乙台区"}
    assert (planned[0].reason, planned[0].origin, planned[0].ticket) == (
        "巡线发现",
        "field_patrol",
        "T-1",
    )
    assert account_ids(batch) == {"A1", "A2"}


@pytest.mark.parametrize(
    ("request_", "field", "said"),
    [
        (change("node_add", "N1", kind="pole", name=""), "node_id", "节点“N1”已存在"),
        (change("node_rename", "N9", name="x"), "node_id", "节点“N9”不在网络模型中"),
        (change("node_rename", "N1", name="1号杆"), "name", "已经叫“1号杆”"),
        (
            change(
                "device_add",
                "B1",
                kind="line",
                from_node="S1",
                to_node="N1",
                normal_state="closed",
                name="",
            ),
            "device_id",
            "设备“B1”已存在",
        ),
        (
            change(
                "device_add",
                "L9",
                kind="line",
                from_node="N1",
                to_node="N9",
                normal_state="closed",
                name="",
            ),
            "to_node",
            "节点“N9”不在网络模型中",
        ),
        (
            change(
                "device_add",
                "L9",
                kind="line",
                from_node="N1",
                to_node="N1",
                normal_state="closed",
                name="",
            ),
            "to_node",
            "不能是同一个节点",
        ),
        (change("device_remove", "D404"), "device_id", "设备“D404”不在网络模型中"),
        (change("device_state", "B1", normal_state="closed"), "normal_state", "已经是 closed"),
        (
            change(
                "customer_new",
                "A1",
                name="x",
                node_id="TA",
                voltage_kv=0.22,
                category="residential",
            ),
            "account_id",
            "用户“A1”已存在",
        ),
        (change("customer_close", "A404"), "account_id", "用户“A404”不在网络模型中"),
        (change("customer_move", "A1", node_id="TA"), "node_id", "已经接在节点“TA”"),
        (change("customer_move", "A1", node_id="N9"), "node_id", "节点“N9”不在网络模型中"),
    ],
)
def test_each_refused_change_is_named_by_its_position_and_field(request_, field, said):
    with pytest.raises(InvalidInput) as raised:
        plan_batch(view(), [change("device_state", "TIE", normal_state="closed"), request_])

    assert raised.value.field == f"changes[1].{field}"
    assert said in raised.value.detail


def test_every_refused_change_is_listed_and_a_later_change_may_not_use_a_refused_one():
    batch = [
        change("node_add", "N1", kind="pole", name=""),
        change("customer_close", "A1"),
        change("customer_move", "A1", node_id="N1"),  # closed just before
    ]

    with pytest.raises(InvalidInput) as raised:
        plan_batch(view(), batch)

    assert [error["field"] for error in raised.value.errors] == [
        "changes[0].node_id",
        "changes[2].account_id",
    ]
    assert "共 2 处错误" in raised.value.detail


def observed(kind: str, element: str, value: str = "") -> Observation:
    return Observation(ObservationKind(kind), element, value)


@pytest.mark.parametrize(
    ("observation", "agreed", "said"),
    [
        (observed("customer_node", "A1", "TA"), True, "TA"),
        (observed("customer_node", "A1", "N1"), False, "TA"),
        (observed("customer_node", "A2", "TA"), False, None),
        (observed("customer_absent", "A1"), False, "TA"),
        (observed("customer_absent", "A2"), True, None),
        (observed("device_state", "TIE", "open"), True, "open"),
        (observed("device_state", "TIE", "closed"), False, "open"),
        (observed("device_state", "D404", "closed"), False, None),
        (observed("device_absent", "B1"), False, "closed"),
        (observed("node_name", "N1", "1号杆"), True, "1号杆"),
        (observed("node_name", "N1", "2号杆"), False, "1号杆"),
    ],
)
def test_an_observation_agrees_with_the_model_or_says_what_the_model_holds(
    observation, agreed, said
):
    assert agrees(view(), observation) is agreed
    assert modelled(view(), observation) == said


def discrepancy(ident: str, observation: Observation | None, **overrides) -> Discrepancy:
    values = {
        "id": ident,
        "origin": "spot_check" if observation else "complaint",
        "element_type": "customer",
        "element_id": "A1",
        "observation": observation,
        "modelled": "TA",
        "detail": "",
        "opened_by": "field-li",
        "opened_at": NOW,
        "source_id": "SPC-1",
        "outage_id": None,
        "caused_by": None,
    }
    values.update(overrides)
    return Discrepancy(**values)


CLOSURE = Closure("CHG-9", 9, "field-li", NOW)


def after_moving_a1_to_n1() -> ModelView:
    moved = view()
    plan_batch(moved, [change("customer_move", "A1", node_id="N1")])
    return moved


def test_a_batch_closes_the_observed_discrepancies_it_fixes_and_leaves_the_others():
    fixed = discrepancy("DSC-1", observed("customer_node", "A1", "N1"))
    not_fixed = discrepancy("DSC-2", observed("customer_node", "A1", "N2"))

    closed = settle(after_moving_a1_to_n1(), [fixed, not_fixed], [], CLOSURE)

    assert [(d.id, d.closure) for d in closed] == [("DSC-1", CLOSURE)]
    assert not closed[0].is_open


def test_a_complaint_is_closed_only_by_a_batch_that_names_it():
    complaint = discrepancy("DSC-3", None, source_id="CMP-1")

    assert settle(after_moving_a1_to_n1(), [complaint], [], CLOSURE) == []
    (closed,) = settle(after_moving_a1_to_n1(), [], [("DSC-3", complaint)], CLOSURE)
    assert closed.closure == CLOSURE


def test_naming_a_discrepancy_the_batch_does_not_fix_refuses_the_batch():
    observed_elsewhere = discrepancy("DSC-2", observed("customer_node", "A1", "N2"))
    closed_already = discrepancy("DSC-4", None).close(CLOSURE)
    moved = after_moving_a1_to_n1()

    with pytest.raises(InvalidInput) as unfixed:
        settle(moved, [], [("DSC-2", observed_elsewhere)], CLOSURE)
    with pytest.raises(InvalidInput) as unknown:
        settle(moved, [], [("DSC-1", None), ("DSC-404", None)], CLOSURE)
    with pytest.raises(Conflict) as closed:
        settle(
            moved, [], [("DSC-2", discrepancy("DSC-2", None)), ("DSC-4", closed_already)], CLOSURE
        )

    assert unfixed.value.field == "resolves[0]"
    assert "模型：N1" in unfixed.value.detail
    assert unknown.value.field == "resolves[0]"
    assert closed.value.field == "resolves[1]"
