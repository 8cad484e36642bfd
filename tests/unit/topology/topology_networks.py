"""Random networks for the property tests, and the slow obvious answers they are checked with.

A network is a forest hung from a few roots (most of them sources), with normally-open ties
and, when ``meshed``, normally-closed devices that close loops or parallel two sources.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from hypothesis import strategies as st

from services.topology.domain.network import NetworkBuilder, NetworkModel
from shared.events import Operation


@dataclass
class Network:
    nodes: list[tuple[str, str, str]]  # node_id, kind, name
    devices: list[tuple[str, str, str, bool]]  # device_id, from, to, normally closed
    customers: list[tuple[str, str]]  # account_id, node_id
    parent: dict[int, tuple[int, str]] = field(default_factory=dict)  # tree edges, radial part

    def model(self, version: int = 7) -> NetworkModel:
        return build(self.nodes, self.devices, self.customers, version)


def build(nodes, devices, customers, version=7) -> NetworkModel:
    builder = NetworkBuilder()
    for node_id, kind, name in nodes:
        builder.add_node(node_id, kind, name)
    for device_id, start, end, closed in devices:
        builder.add_device(device_id, start, end, normally_closed=closed, kind="switch", name="")
    for account_id, node_id in customers:
        builder.add_customer(account_id, node_id)
    return builder.build(version)


@st.composite
def networks(draw, *, meshed: bool = False, max_size: int = 24) -> Network:
    size = draw(st.integers(min_value=2, max_value=max_size))
    roots = draw(st.integers(min_value=1, max_value=min(3, size - 1)))
    sourced = [draw(st.booleans()) or r == 0 for r in range(roots)]
    nodes = []
    for v in range(size):
        if v < roots:
            kind = "source" if sourced[v] else "pole"
        else:
            kind = draw(st.sampled_from(["pole", "pole", "transformer_lv"]))
        nodes.append((f"N{v:02d}", kind, ""))
    network = Network(nodes, [], [])
    for v in range(roots, size):
        up = draw(st.integers(min_value=0, max_value=v - 1))
        network.parent[v] = (up, f"D{v:02d}")
        network.devices.append((f"D{v:02d}", f"N{up:02d}", f"N{v:02d}", True))
    extra = draw(st.integers(min_value=0, max_value=4 if meshed else 3))
    for t in range(extra):
        a = draw(st.integers(min_value=0, max_value=size - 1))
        b = draw(st.integers(min_value=0, max_value=size - 1).filter(lambda x, a=a: x != a))
        closed = meshed and draw(st.booleans())
        network.devices.append((f"T{t}", f"N{a:02d}", f"N{b:02d}", closed))
    network.customers = [
        (f"C{v:02d}-{i}", f"N{v:02d}")
        for v in range(size)
        for i in range(draw(st.integers(min_value=0, max_value=2)))
    ]
    return network


@st.composite
def plans(draw, network: Network) -> list[Operation]:
    steps = draw(
        st.lists(
            st.tuples(st.sampled_from(["open", "close"]), st.sampled_from(network.devices)),
            min_size=1,
            max_size=5,
        )
    )
    return [Operation(action=action, device_id=device[0]) for action, device in steps]


def supplied(network: Network, state: dict[str, bool]) -> set[str]:
    """Nodes some source reaches through devices closed in ``state``."""
    kinds = {node_id: kind for node_id, kind, _ in network.nodes}
    seen = {n for n, kind in kinds.items() if kind == "source"}
    queue = deque(seen)
    while queue:
        for other in neighbours(network, queue.popleft(), state):
            if other not in seen:
                seen.add(other)
                queue.append(other)
    return seen


def neighbours(network: Network, node: str, state: dict[str, bool]) -> list[str]:
    out = []
    for device_id, a, b, _ in network.devices:
        if state[device_id] and node in (a, b):
            out.append(b if node == a else a)
    return out


def end_state(network: Network, plan: list[Operation]) -> dict[str, bool]:
    state = {device_id: closed for device_id, _, _, closed in network.devices}
    for operation in plan:
        state[operation.device_id] = operation.action == "close"
    return state


def source_groups(network: Network, state: dict[str, bool]) -> list[list[str]]:
    """Groups of two or more sources joined through devices closed in ``state``."""
    sources = sorted(n for n, kind, _ in network.nodes if kind == "source")
    groups: list[list[str]] = []
    for source in sources:
        seen, queue = {source}, deque([source])
        while queue:
            for other in neighbours(network, queue.popleft(), state):
                if other not in seen:
                    seen.add(other)
                    queue.append(other)
        joined = sorted(s for s in sources if s in seen)
        if len(joined) > 1 and joined not in groups:
            groups.append(joined)
    return sorted(groups)


def new_parallels(network: Network, plan: list[Operation]) -> list[list[str]]:
    """The end state's source groups that the normal state does not already hold whole."""
    normal = source_groups(network, end_state(network, []))
    return [
        group
        for group in source_groups(network, end_state(network, plan))
        if not any(set(group) <= set(kept) for kept in normal)
    ]


def affected_accounts(network: Network, plan: list[Operation]) -> set[str]:
    before = supplied(network, end_state(network, []))
    after = supplied(network, end_state(network, plan))
    return {a for a, node in network.customers if node in before and node not in after}
