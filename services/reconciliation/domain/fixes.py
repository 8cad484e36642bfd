"""Model changes that meter evidence can call for, and a fix: the changes made together.

Three kinds of single change explain what meters see and the model does not:

* a customer connected at another node (``户变关系`` wrong: the account hangs on the wrong
  transformer area);
* a device with the other normal state (a switch open in the field that the model has closed,
  or a tie closed in the field);
* a connection the model lacks (a tie, closed in the field).

A fix is one change, or the two that move a feeder boundary together: a switch found open and
the tie (existing or missing) that feeds the part behind it from another feeder. The model is
radial, so one without the other would leave customers that the meters show supplied with no
supply at all.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from services.reconciliation.domain import messages
from services.reconciliation.domain.network import Device, Network

ORIGIN = "meter_reconciliation"


@dataclass(frozen=True, order=True)
class MoveCustomer:
    account_id: str
    node_id: str  # where the account is really connected


@dataclass(frozen=True, order=True)
class SetNormalState:
    device_id: str
    closed: bool


@dataclass(frozen=True, order=True)
class AddTie:
    from_node: str
    to_node: str


Change = MoveCustomer | SetNormalState | AddTie


def _key(change: Change) -> str:
    if isinstance(change, MoveCustomer):
        return f"move:{change.account_id}>{change.node_id}"
    if isinstance(change, SetNormalState):
        return f"state:{change.device_id}={'closed' if change.closed else 'open'}"
    ends = sorted((change.from_node, change.to_node))
    return f"tie:{ends[0]}~{ends[1]}"


@dataclass(frozen=True)
class Fix:
    changes: tuple[Change, ...]

    @property
    def key(self) -> str:
        return "|".join(sorted(_key(c) for c in self.changes))

    @property
    def suggestion_id(self) -> str:
        """Stable for the same changes, so suggesting a fix again is recognised."""
        digest = hashlib.sha256(self.key.encode()).hexdigest()[:10].upper()
        return f"FIX-{digest}"

    @property
    def elements(self) -> set[str]:
        """The model elements the fix changes (a later fix for them replaces this one)."""
        out: set[str] = set()
        for change in self.changes:
            if isinstance(change, MoveCustomer):
                out.add(change.account_id)
            elif isinstance(change, SetNormalState):
                out.add(change.device_id)
            else:
                out.add(tie_device_id(change))
        return out

    def apply(self, network: Network) -> Network:
        """The model with the fix applied."""
        devices = list(network.devices)
        moves: dict[str, int] = {}
        for change in self.changes:
            if isinstance(change, MoveCustomer):
                moves[change.account_id] = network.node_index[change.node_id]
            elif isinstance(change, SetNormalState):
                edge = network.device_index[change.device_id]
                old = devices[edge]
                devices[edge] = Device(
                    old.device_id, old.kind, old.from_node, old.to_node, change.closed, old.name
                )
            else:
                devices.append(
                    Device(tie_device_id(change), "switch", change.from_node, change.to_node, True)
                )
        if devices != network.devices:
            network = network.with_devices(devices)
        if moves:
            network = network.with_accounts(moves)
        return network

    def describe(self, network: Network) -> str:
        return messages.JOIN.join(describe(change, network) for change in self.changes)

    def proposed_changes(
        self, network: Network, *, outage_id: str, ticket: str
    ) -> list[dict[str, Any]]:
        """The fix as the ``changes`` of a topology change batch (``POST /v1/network/changes``)."""
        summary = self.describe(network)
        reason = messages.REASON.format(outage=outage_id, summary=summary)[:500]
        common = {"reason": reason, "origin": ORIGIN, "ticket": ticket}
        out: list[dict[str, Any]] = []
        for change in self.changes:
            if isinstance(change, MoveCustomer):
                out.append(
                    {
                        "kind": "customer_move",
                        "account_id": change.account_id,
                        "node_id": change.node_id,
                        **common,
                    }
                )
            elif isinstance(change, SetNormalState):
                out.append(
                    {
                        "kind": "device_state",
                        "device_id": change.device_id,
                        "normal_state": "closed" if change.closed else "open",
                        **common,
                    }
                )
            else:
                out.append(
                    {
                        "kind": "device_add",
                        "device_id": tie_device_id(change),
                        "device_kind": "switch",
                        "from_node": change.from_node,
                        "to_node": change.to_node,
                        "normal_state": "closed",
                        "name": messages.TIE_NAME.format(
                            from_node=change.from_node, to_node=change.to_node
                        ),
                        **common,
                    }
                )
        return out


def tie_device_id(tie: AddTie) -> str:
    ends = "~".join(sorted((tie.from_node, tie.to_node)))
    return "TIE-" + hashlib.sha256(ends.encode()).hexdigest()[:10].upper()


def _node(network: Network, node_id: str) -> str:
    vertex = network.node_index.get(node_id)
    return network.node_names[vertex] if vertex is not None else node_id


def describe(change: Change, network: Network) -> str:
    if isinstance(change, MoveCustomer):
        vertex = network.account_vertex.get(change.account_id)
        from_node = network.node_ids[vertex] if vertex is not None else "?"
        return messages.MOVE_CUSTOMER.format(
            account=change.account_id,
            to_node=change.node_id,
            to_name=_node(network, change.node_id),
            from_node=from_node,
            from_name=_node(network, from_node),
        )
    if isinstance(change, SetNormalState):
        edge = network.device_index.get(change.device_id)
        name = network.devices[edge].name if edge is not None else change.device_id
        return messages.DEVICE_STATE.format(
            device=change.device_id,
            device_name=name or change.device_id,
            state=messages.STATE_WORDS[change.closed],
            model_state=messages.STATE_WORDS[not change.closed],
        )
    return messages.ADD_TIE.format(
        from_node=change.from_node,
        from_name=_node(network, change.from_node),
        to_node=change.to_node,
        to_name=_node(network, change.to_node),
    )


def apply_all(network: Network, fixes: Sequence[Fix]) -> Network:
    for fix in fixes:
        network = fix.apply(network)
    return network
