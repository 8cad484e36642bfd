"""Checks of the CSV bundle: each kind of bad row is reported at its file, line and field."""

from __future__ import annotations

import io

import pytest

from services.topology.domain.bundle import (
    BundleChanged,
    ErrorLog,
    RowError,
    bundle_rows,
    check_bundle,
)
from services.topology.domain.network import NetworkBuilder

NODES = "node_id,kind,name\nS1,source,东1线\nN1,pole,\nTA,transformer_lv,甲台区\n"
DEVICES = (
    "device_id,kind,from_node,to_node,normal_state,name\n"
    "B1,breaker,S1,N1,closed,出线断路器\n"
    "T1,transformer,N1,TA,closed,甲配变\n"
)
CUSTOMERS = (
    "account_id,name,node_id,voltage_kv,category\n"
    "A1,张三,TA,0.22,residential\n"
    "A2,李记超市,TA,0.4,commercial\n"
)


def check(nodes=NODES, devices=DEVICES, customers=CUSTOMERS, *, limit=50):
    """Check a bundle given as text (or bytes, to test encodings); return builder and errors."""

    def lines(content):
        raw = content if isinstance(content, bytes) else content.encode("utf-8")
        return io.BytesIO(raw)

    builder = NetworkBuilder()
    errors = ErrorLog(limit)
    check_bundle(
        {
            "nodes.csv": lines(nodes),
            "devices.csv": lines(devices),
            "customers.csv": lines(customers),
        },
        builder,
        errors,
    )
    return builder, errors


def only_error(**files) -> RowError:
    _, errors = check(**files)
    assert errors.total == 1, errors.listed
    return errors.listed[0]


def test_a_valid_bundle_builds_the_model_without_errors():
    builder, errors = check()

    assert not errors
    assert (builder.node_count, builder.device_count, builder.customer_count) == (3, 2, 2)


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (
            {"nodes": "node_id,type,name\nS1,source,x\n"},
            RowError("nodes.csv", 1, None, "表头应为 node_id,kind,name，实际为 node_id,type,name"),
        ),
        ({"customers": ""}, RowError("customers.csv", 1, None, "文件为空，缺少表头")),
        (
            {"devices": DEVICES + "B9,breaker,S1,N1,closed\n"},
            RowError("devices.csv", 4, None, "应有 6 列，实际有 5 列"),
        ),
        ({"nodes": NODES + ",pole,x\n"}, RowError("nodes.csv", 5, "node_id", "不能为空")),
        (
            {"devices": DEVICES + "K1,relay,S1,N1,closed,x\n"},
            RowError(
                "devices.csv",
                4,
                "kind",
                "取值“relay”无效，应为 line|switch|breaker|fuse|disconnector|transformer 之一",
            ),
        ),
        (
            {"devices": DEVICES + "K1,switch,S1,N1,on,x\n"},
            RowError("devices.csv", 4, "normal_state", "取值“on”无效，应为 closed|open 之一"),
        ),
        (
            {"customers": CUSTOMERS + "A3,王五,TA,220V,residential\n"},
            RowError("customers.csv", 4, "voltage_kv", "“220V”不是有效的数值"),
        ),
        (
            {"customers": CUSTOMERS + "A3,王五,TA,-0.4,residential\n"},
            RowError("customers.csv", 4, "voltage_kv", "应大于 0"),
        ),
        (
            {"customers": CUSTOMERS + "A3,王五,TA,0.22,vip\n"},
            RowError(
                "customers.csv",
                4,
                "category",
                "取值“vip”无效，应为 residential|commercial|industrial|important 之一",
            ),
        ),
        (
            {"customers": CUSTOMERS + "A3,,TA,0.22,residential\n"},
            RowError("customers.csv", 4, "name", "不能为空"),
        ),
        ({"nodes": NODES + "N1,pole,again\n"}, RowError("nodes.csv", 5, "node_id", "“N1”重复出现")),
        (
            {"devices": DEVICES + "B1,line,N1,TA,closed,\n"},
            RowError("devices.csv", 4, "device_id", "“B1”重复出现"),
        ),
        (
            {"customers": CUSTOMERS + "A1,张三,TA,0.22,residential\n"},
            RowError("customers.csv", 4, "account_id", "“A1”重复出现"),
        ),
        (
            {"devices": DEVICES + "L9,line,N1,N404,closed,\n"},
            RowError("devices.csv", 4, "to_node", "节点“N404”不在 nodes.csv 中"),
        ),
        (
            {"devices": DEVICES + "L9,line,N1,N1,closed,\n"},
            RowError("devices.csv", 4, "to_node", "from_node 与 to_node 不能是同一个节点“N1”"),
        ),
        (
            {"customers": CUSTOMERS + "A3,王五,T404,0.22,residential\n"},
            RowError("customers.csv", 4, "node_id", "节点“T404”不在 nodes.csv 中"),
        ),
        (
            {"nodes": NODES + ("N" * 65) + ",pole,\n"},
            RowError("nodes.csv", 5, "node_id", "不能超过 64 个字符"),
        ),
    ],
)
def test_each_kind_of_bad_row_is_reported_at_its_file_line_and_field(files, expected):
    assert only_error(**files) == expected


def test_a_file_saved_in_gbk_is_reported_at_its_first_line_that_is_not_utf8():
    customers = CUSTOMERS.encode() + "A3,王五,TA,0.22,residential\n".encode("gbk")

    error = only_error(customers=customers)

    assert (error.file, error.row, error.field) == ("customers.csv", 4, None)
    assert "UTF-8" in error.message


def test_a_byte_order_mark_and_blank_lines_are_accepted_and_lines_still_count():
    builder, errors = check(nodes="\ufeff" + NODES.replace("\nN1", "\n\nN1"))
    assert not errors
    assert builder.node_count == 3

    error = only_error(nodes="\ufeff" + NODES + "\n\nX,,\n")
    assert (error.row, error.field) == (7, "kind")


def test_a_quoted_line_break_keeps_the_following_rows_at_their_own_line_numbers():
    nodes = NODES + 'N7,pole,"两行\n的名字"\nN8,,\n'

    error = only_error(nodes=nodes)

    assert (error.row, error.field) == (7, "kind")


def test_every_error_is_counted_but_only_the_first_are_listed():
    bad_rows = "".join(f"A{i},张三,TA,abc,residential\n" for i in range(10, 80))

    _, errors = check(customers=CUSTOMERS + bad_rows)

    assert errors.total == 70
    assert len(errors.listed) == 50
    assert [e.row for e in errors.listed[:2]] == [4, 5]


def test_a_row_with_several_bad_fields_reports_each_of_them():
    _, errors = check(customers=CUSTOMERS + "A3,,TA,x,vip\n")

    assert [e.field for e in errors.listed] == ["name", "voltage_kv", "category"]


def test_a_wrong_nodes_header_is_reported_alone_rather_than_as_every_reference():
    _, errors = check(nodes="id,kind,name\nS1,source,x\n")

    assert [(e.file, e.row) for e in errors.listed] == [("nodes.csv", 1)]


def test_rows_are_typed_for_storage_on_the_second_reading():
    rows = list(bundle_rows("customers.csv", io.BytesIO(CUSTOMERS.encode())))

    assert rows[0] == {
        "account_id": "A1",
        "name": "张三",
        "node_id": "TA",
        "voltage_kv": 0.22,
        "category": "residential",
    }


def test_a_file_that_turned_bad_after_the_check_aborts_the_write():
    with pytest.raises(BundleChanged) as raised:
        list(bundle_rows("nodes.csv", io.BytesIO((NODES + ",pole,\n").encode())))

    assert raised.value.error.row == 5
