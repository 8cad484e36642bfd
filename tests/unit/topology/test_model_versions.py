"""A change batch turns a model into its next version by regrowing only the touched trees; the
result must be the model a fresh build of the changed network gives, and the old version must
stay as it was (a trace may still be running on it)."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st
from topology_networks import Network, build, networks, plans

from services.topology.domain.network import (
    ChangeKind,
    ElementChange,
    NetworkBuilder,
    NetworkModel,
    Touch,
)
from services.topology.domain.tracer import trace

TOUCH = Touch(datetime(2026, 11, 20, tzinfo=UTC), "CHG-1")


def describe(model: NetworkModel) -> dict[str, tuple]:
    """Everything the forest says about each node, in ids rather than numbers."""
    grid, forest = model.grid, model.forest
    described = {}
    for node_id, v in grid.node_index.items():
        tree = forest.tree(v)
        edge, area = forest.parent_edge[v], forest.area[v]
        described[node_id] = (
            grid.node_ids[tree.root],
            tree.sourced,
            grid.node_ids[tree.group],
            grid.device_ids[edge] if edge >= 0 else None,
            forest.pos[v],
            forest.size[v],
            grid.node_ids[area] if area >= 0 else None,
            tuple(model.accounts_at(v)),
            tuple(sorted(grid.device_ids[e] for e in tree.nontree.get(v, ()))),
        )
    return described


def device_record(start: str, end: str, closed: bool) -> dict:
    state = "closed" if closed else "open"
    return {"kind": "switch", "from_node": start, "to_node": end, "normal_state": state, "name": ""}


def customer_record(node: str) -> dict:
    return {"name": "用户", "node_id": node, "voltage_kv": 0.22, "category": "residential"}


@st.composite
def changed_networks(draw):
    """A network, a batch of valid changes to it, and the network the batch leaves."""
    network = draw(networks(meshed=True, max_size=16))
    nodes = {node_id: (kind, name) for node_id, kind, name in network.nodes}
    devices = {d: (a, b, closed) for d, a, b, closed in network.devices}
    customers = dict(network.customers)
    changes: list[ElementChange] = []
    for i in range(draw(st.integers(min_value=1, max_value=6))):
        kind = draw(st.sampled_from(list(ChangeKind)))
        node_ids = sorted(nodes)
        if kind is ChangeKind.NODE_ADD:
            node_kind = draw(st.sampled_from(["pole", "transformer_lv", "source"]))
            nodes[f"X{i}"] = (node_kind, "")
            changes.append(ElementChange(kind, f"X{i}", None, {"kind": node_kind, "name": ""}))
        elif kind is ChangeKind.NODE_RENAME:
            node = draw(st.sampled_from(node_ids))
            before = {"kind": nodes[node][0], "name": nodes[node][1]}
            nodes[node] = (nodes[node][0], f"名{i}")
            changes.append(ElementChange(kind, node, before, {**before, "name": f"名{i}"}))
        elif kind is ChangeKind.DEVICE_ADD:
            start = draw(st.sampled_from(node_ids))
            end = draw(st.sampled_from(node_ids).filter(lambda n, s=start: n != s))
            closed = draw(st.booleans())
            devices[f"Y{i}"] = (start, end, closed)
            changes.append(ElementChange(kind, f"Y{i}", None, device_record(start, end, closed)))
        elif kind is ChangeKind.DEVICE_REMOVE and devices:
            device = draw(st.sampled_from(sorted(devices)))
            start, end, closed = devices.pop(device)
            changes.append(ElementChange(kind, device, device_record(start, end, closed), None))
        elif kind is ChangeKind.DEVICE_STATE and devices:
            device = draw(st.sampled_from(sorted(devices)))
            start, end, closed = devices[device]
            devices[device] = (start, end, not closed)
            changes.append(
                ElementChange(
                    kind,
                    device,
                    device_record(start, end, closed),
                    device_record(start, end, not closed),
                )
            )
        elif kind is ChangeKind.CUSTOMER_NEW:
            node = draw(st.sampled_from(node_ids))
            customers[f"Z{i}"] = node
            changes.append(ElementChange(kind, f"Z{i}", None, customer_record(node)))
        elif kind is ChangeKind.CUSTOMER_CLOSE and customers:
            account = draw(st.sampled_from(sorted(customers)))
            node = customers.pop(account)
            changes.append(ElementChange(kind, account, customer_record(node), None))
        elif kind is ChangeKind.CUSTOMER_MOVE and customers:
            account = draw(st.sampled_from(sorted(customers)))
            node = draw(st.sampled_from(node_ids).filter(lambda n, a=account: n != customers[a]))
            changes.append(
                ElementChange(
                    kind, account, customer_record(customers[account]), customer_record(node)
                )
            )
            customers[account] = node
    after = Network(
        nodes=[(node_id, kind, name) for node_id, (kind, name) in nodes.items()],
        devices=[(d, a, b, closed) for d, (a, b, closed) in devices.items()],
        customers=sorted(customers.items()),
    )
    return network, changes, after


@settings(max_examples=250, derandomize=True, database=None, deadline=None)
@given(st.data())
def test_a_changed_model_equals_a_fresh_build_of_the_changed_network(data):
    before, changes, after = data.draw(changed_networks())
    model = before.model(version=7)
    untouched = describe(model)

    changed = model.with_changes(changes, version=8, touch=TOUCH)
    fresh = after.model(version=8)

    assert describe(changed) == describe(fresh)
    assert (changed.customer_count, changed.device_count, changed.normally_open_count) == (
        fresh.customer_count,
        fresh.device_count,
        fresh.normally_open_count,
    )
    assert describe(model) == untouched
    if after.devices:
        plan = data.draw(plans(after))
        mine, theirs = trace(changed, plan), trace(fresh, plan)
        assert mine.affected_accounts == theirs.affected_accounts
        assert (mine.transformers, mine.feeders, mine.warnings) == (
            theirs.transformers,
            theirs.feeders,
            theirs.warnings,
        )


def test_a_batch_records_when_it_touched_the_nodes_of_its_devices():
    model = build(
        [("S1", "source", ""), ("N1", "pole", ""), ("N2", "pole", "")],
        [("D1", "S1", "N1", True), ("D2", "N1", "N2", True)],
        [("A1", "N2")],
    )

    changed = model.with_changes(
        [
            ElementChange(
                ChangeKind.DEVICE_STATE,
                "D2",
                device_record("N1", "N2", True),
                device_record("N1", "N2", False),
            ),
            ElementChange(
                ChangeKind.CUSTOMER_MOVE, "A1", customer_record("N2"), customer_record("N1")
            ),
        ],
        version=8,
        touch=TOUCH,
    )

    assert {changed.grid.node_ids[v]: t for v, t in changed.touches.items()} == {
        "N1": TOUCH,
        "N2": TOUCH,
    }
    assert changed.version == 8
    assert changed.accounts_at(changed.node_position("N1")) == ["A1"]
    assert changed.normal_supply.unsupplied_customers == 0


def test_rows_that_named_a_missing_node_come_back_when_the_node_is_added():
    # What a lenient load of hand-edited tables sets aside: a device and a customer on N9.
    builder = NetworkBuilder(strict=False)
    builder.add_node("S1", "source", "")
    builder.add_node("N1", "pole", "")
    builder.add_device("D1", "S1", "N1", normally_closed=True, kind="line", name="")
    builder.add_device("D9", "N1", "N9", normally_closed=True, kind="line", name="")
    builder.add_customer("A9", "N9")
    loaded = builder.build(3)
    assert set(loaded.dangling.devices) == {"D9"}
    assert loaded.dangling.customers == {"A9": "N9"}
    assert (loaded.device_count, loaded.normal_supply.unsupplied_customers) == (1, 1)

    repaired = loaded.with_changes(
        [ElementChange(ChangeKind.NODE_ADD, "N9", None, {"kind": "transformer_lv", "name": ""})],
        version=4,
        touch=TOUCH,
    )

    assert not repaired.dangling
    assert repaired.device_count == 2
    assert repaired.accounts_at(repaired.node_position("N9")) == ["A9"]
    assert repaired.feeder_of(repaired.node_position("N9")) == repaired.node_position("S1")
    assert repaired.normal_supply.unsupplied_customers == 0
