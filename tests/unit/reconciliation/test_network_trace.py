"""The snapshot traces as topology does: supplied through closed devices from a source."""

from __future__ import annotations

import pytest
from reconciliation_grids import accounts, network, opening

from services.reconciliation.domain.network import Operation, Supply
from services.reconciliation.domain.snapshot import SnapshotError, parse_bundle


def test_opening_a_switch_cuts_off_everything_fed_through_it():
    assert network().affected_accounts(opening("SW2")) == set(accounts("T3"))
    assert network().affected_accounts(opening("SW1")) == set(accounts("T2") + accounts("T3"))


def test_closing_a_tie_keeps_the_far_part_supplied():
    operations = (Operation("SW2", "open"), Operation("TIE", "close"))
    assert network().affected_accounts(operations) == set()


def test_a_node_never_supplied_is_dark_not_lost():
    model = network(states={"SW2": False})
    trace = model.trace(opening("SW1"))
    assert trace.state(model.node_index["T3"]) is Supply.DARK
    assert trace.state(model.node_index["T2"]) is Supply.LOST
    assert trace.state(model.node_index["T1"]) is Supply.ON


def test_operations_on_unknown_devices_are_skipped():
    assert network().affected_accounts(opening("NOPE")) == set()


def test_the_export_is_read_by_column_name_and_refused_without_its_columns():
    model = parse_bundle(
        "node_id,kind,name\nS,source,变电站\nN,transformer_lv,台区\n",
        "device_id,kind,from_node,to_node,normal_state,name\nD,fuse,S,N,closed,熔断器\n",
        "account_id,name,node_id,voltage_kv,category\nA1,张三,N,0.22,residential\n",
        version=7,
    )
    assert model.version == 7
    assert model.affected_accounts(opening("D")) == {"A1"}
    with pytest.raises(SnapshotError):
        parse_bundle("id\n", "", "")
