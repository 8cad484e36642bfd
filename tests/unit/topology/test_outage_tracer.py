"""The tracer on small hand-built networks, with answers worked out by hand.

The test district (``open`` marks the only normally-open device)::

    S1 ─B1─ N1 ─L1─ N2 ─SW1─ N3 ─L2─ N4 ─TIE(open)─ M1 ─B2─ S2
                    │        │       │              │
                    T1       F1      T2             T3
                    │        │       │              │
                   TA       H1      TB             TC
                 A1,A2      HV1   B1,B2,B3          C1

    I1 ─IL─ I2 (X1)        an island no source reaches

S1 and S2 are sources, TA/TB/TC transformer areas, H1 a high-voltage customer's point.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from topology_networks import (
    Network,
    affected_accounts,
    build,
    end_state,
    networks,
    new_parallels,
    plans,
)

from services.topology.domain.tracer import trace, unknown_devices
from shared.events import AffectedAccount, FeederScope, Operation, TransformerScope

NODES = [
    ("S1", "source", "东1线"),
    ("N1", "pole", ""),
    ("N2", "pole", ""),
    ("N3", "pole", ""),
    ("N4", "pole", ""),
    ("TA", "transformer_lv", "甲台区"),
    ("TB", "transformer_lv", "乙台区"),
    ("H1", "hv_customer_point", "水厂受电点"),
    ("S2", "source", "东2线"),
    ("M1", "pole", ""),
    ("TC", "transformer_lv", "丙台区"),
    ("I1", "pole", ""),
    ("I2", "pole", ""),
]
DEVICES = [
    ("B1", "S1", "N1", True),
    ("L1", "N1", "N2", True),
    ("SW1", "N2", "N3", True),
    ("L2", "N3", "N4", True),
    ("T1", "N2", "TA", True),
    ("F1", "N3", "H1", True),
    ("T2", "N4", "TB", True),
    ("TIE", "N4", "M1", False),
    ("B2", "S2", "M1", True),
    ("T3", "M1", "TC", True),
    ("IL", "I1", "I2", True),
]
CUSTOMERS = [
    ("A1", "TA"),
    ("A2", "TA"),
    ("HV1", "H1"),
    ("B1-1", "TB"),
    ("B1-2", "TB"),
    ("B1-3", "TB"),
    ("C1", "TC"),
    ("X1", "I2"),
]


DISTRICT = build(NODES, DEVICES, CUSTOMERS)


def ops(*steps: str) -> list[Operation]:
    """``ops("open SW1", "close TIE")``"""
    return [
        Operation(action=action, device_id=device)
        for action, device in (step.split() for step in steps)
    ]


def cut(account: str, device: str, node: str, feeder: str) -> AffectedAccount:
    return AffectedAccount(account_id=account, isolating_device=device, node_id=node, feeder=feeder)


def codes(result) -> list[str]:
    return [warning.code for warning in result.warnings]


def test_opening_a_mid_feeder_switch_cuts_off_exactly_the_customers_downstream():
    result = trace(DISTRICT, ops("open SW1"))

    assert result.affected_accounts == [
        cut("B1-1", "SW1", "TB", "S1"),
        cut("B1-2", "SW1", "TB", "S1"),
        cut("B1-3", "SW1", "TB", "S1"),
        cut("HV1", "SW1", "H1", "S1"),
    ]
    assert result.transformers == [TransformerScope(node_id="TB", name="乙台区", customers=3)]
    assert result.feeders == [FeederScope(source_node="S1", name="东1线", customers=4)]
    assert result.warnings == []
    assert result.model_version == 7


def test_each_customer_is_isolated_by_the_opened_device_nearest_to_it():
    result = trace(DISTRICT, ops("open SW1", "open L2"))

    assert {a.account_id: a.isolating_device for a in result.affected_accounts} == {
        "B1-1": "L2",
        "B1-2": "L2",
        "B1-3": "L2",
        "HV1": "SW1",
    }


def test_closing_a_tie_keeps_the_transferred_customers_in_supply():
    result = trace(DISTRICT, ops("close TIE", "open L2", "open SW1"))

    assert result.affected_accounts == [cut("HV1", "SW1", "H1", "S1")]
    assert result.feeders == [FeederScope(source_node="S1", name="东1线", customers=1)]
    assert result.transformers == []
    assert codes(result) == []


def test_opening_the_breaker_at_the_feeder_head_cuts_off_the_whole_feeder_and_nothing_else():
    result = trace(DISTRICT, ops("open B1"))

    assert [a.account_id for a in result.affected_accounts] == [
        "A1",
        "A2",
        "B1-1",
        "B1-2",
        "B1-3",
        "HV1",
    ]
    assert {a.isolating_device for a in result.affected_accounts} == {"B1"}
    assert result.transformers == [
        TransformerScope(node_id="TA", name="甲台区", customers=2),
        TransformerScope(node_id="TB", name="乙台区", customers=3),
    ]
    assert result.feeders == [FeederScope(source_node="S1", name="东1线", customers=6)]


def test_an_end_state_joining_two_sources_is_traced_but_warned():
    result = trace(DISTRICT, ops("close TIE"))

    assert result.affected_accounts == []
    parallel = result.warnings[0]
    assert parallel.code == "parallel_sources"
    assert parallel.elements == ["S1", "S2"]
    assert codes(result) == ["parallel_sources", "no_customers_affected"]


def test_a_tie_closed_only_while_switching_is_not_warned_as_parallel():
    result = trace(DISTRICT, ops("close TIE", "open SW1", "open TIE"))

    assert "parallel_sources" not in codes(result)
    assert len(result.affected_accounts) == 4


def test_opening_a_device_already_open_is_warned_and_changes_nothing():
    result = trace(DISTRICT, ops("open TIE"))

    assert result.affected_accounts == []
    assert codes(result) == ["operation_no_effect", "no_customers_affected"]
    assert result.warnings[0].elements == ["TIE"]
    assert "第 1 步" in result.warnings[0].message


def test_a_repeated_operation_is_warned_at_its_own_step():
    result = trace(DISTRICT, ops("open SW1", "open SW1", "close B2"))

    assert [w.message.split("：")[0] for w in result.warnings] == [
        "第 2 步断开 SW1",
        "第 3 步合上 B2",
    ]
    assert len(result.affected_accounts) == 4


def test_opening_and_closing_again_leaves_everyone_in_supply():
    result = trace(DISTRICT, ops("open SW1", "close SW1"))

    assert result.affected_accounts == []
    assert codes(result) == ["no_customers_affected"]


def test_customers_a_source_never_reached_are_not_affected():
    result = trace(DISTRICT, ops("open IL"))

    assert result.affected_accounts == []
    assert codes(result) == ["no_customers_affected"]


def test_an_unknown_device_is_skipped_and_warned_while_the_rest_is_traced():
    result = trace(DISTRICT, ops("open GONE", "open SW1"))

    assert unknown_devices(DISTRICT, ops("open GONE", "open SW1", "open GONE2")) == [0, 2]
    assert len(result.affected_accounts) == 4
    assert codes(result) == ["unknown_device"]
    assert result.warnings[0].elements == ["GONE"]


def test_trace_does_not_depend_on_the_order_rows_were_given_in():
    # A normally meshed feeder: TA is two equal hops from S1 either way round the ring, so
    # the isolating device depends on how ties in the breadth-first search are broken.
    nodes = [
        ("S1", "source", ""),
        ("P", "pole", ""),
        ("Q", "pole", ""),
        ("TA", "transformer_lv", ""),
    ]
    devices = [
        ("D1", "S1", "P", True),
        ("D2", "S1", "Q", True),
        ("D3", "P", "TA", True),
        ("D4", "Q", "TA", True),
    ]
    plan = ops("open D1", "open D2")
    forward = trace(build(nodes, devices, [("A", "TA")]), plan)
    backward = trace(build(nodes[::-1], devices[::-1], [("A", "TA")]), plan)

    assert forward == backward
    assert forward.affected_accounts == [cut("A", "D1", "TA", "S1")]
    assert forward.transformers == [TransformerScope(node_id="TA", name="TA", customers=1)]


def test_the_normal_supply_counts_each_feeders_customers_and_the_unreachable_ones():
    supply = DISTRICT.normal_supply

    assert supply.feeders == [
        FeederScope(source_node="S1", name="东1线", customers=6),
        FeederScope(source_node="S2", name="东2线", customers=1),
    ]
    assert supply.unsupplied_customers == 1


# --- Property: the tracer agrees with a brute-force reference on random networks ---


def radial_reference(network: Network, plan: list[Operation]):
    """Isolating device, transformer area and feeder of each affected account, found by
    walking each node's tree path to its root (the only path in a radial network)."""
    kinds = {node_id: kind for node_id, kind, _ in network.nodes}
    end = end_state(network, plan)
    affected, areas, feeders = set(), {}, {}
    for account in affected_accounts(network, plan):
        node_id = dict(network.customers)[account]
        v, isolating, area = int(node_id[1:]), None, None
        while v in network.parent:  # walk from the node towards its root, the source
            if area is None and kinds[f"N{v:02d}"] == "transformer_lv":
                area = f"N{v:02d}"
            up, device = network.parent[v]
            if isolating is None and not end[device]:
                isolating = device
            v = up
        feeder = f"N{v:02d}"
        affected.add((account, isolating, node_id, feeder))
        feeders[feeder] = feeders.get(feeder, 0) + 1
        if area is not None:
            areas[area] = areas.get(area, 0) + 1
    return affected, areas, feeders


@settings(max_examples=300, derandomize=True, database=None, deadline=None)
@given(st.data())
def test_the_tracer_agrees_with_a_brute_force_search_on_random_radial_networks(data):
    network = data.draw(networks())
    plan = data.draw(plans(network))
    affected, areas, feeders = radial_reference(network, plan)

    result = trace(network.model(), plan)

    assert {
        (a.account_id, a.isolating_device, a.node_id, a.feeder) for a in result.affected_accounts
    } == affected
    assert {t.node_id: t.customers for t in result.transformers} == areas
    assert {f.source_node: f.customers for f in result.feeders} == feeders
    assert sorted(w.elements for w in result.warnings if w.code == "parallel_sources") == (
        new_parallels(network, plan)
    )
    assert ("no_customers_affected" in codes(result)) == (not affected)


@settings(max_examples=300, derandomize=True, database=None, deadline=None)
@given(st.data())
def test_on_meshed_networks_the_tracer_finds_exactly_who_loses_supply(data):
    # Normally-closed devices close loops and parallel sources: which device isolates a
    # customer is then a matter of the spanning tree, but who loses supply is not.
    network = data.draw(networks(meshed=True))
    plan = data.draw(plans(network))

    result = trace(network.model(), plan)

    assert set(result.account_ids) == affected_accounts(network, plan)
    assert len(result.account_ids) == len(set(result.account_ids))
    assert sorted(w.elements for w in result.warnings if w.code == "parallel_sources") == (
        new_parallels(network, plan)
    )
