"""Change batches: what field patrols, the marketing process, spot checks and complaints change
in the model, checked all together before any of it is applied.

A batch is checked change by change against the model as the earlier changes of the same batch
leave it (:class:`ModelView`), so a batch may add a node, then a device to it, then a customer
on it. Any refused change refuses the whole batch, naming it (``changes[2].node_id``).
Customers are not held by the model in a form one can look up by account, so the caller
passes the stored rows of the accounts the batch names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from services.topology.domain import messages
from services.topology.domain.network import ChangeKind, ElementChange, NetworkModel, Record
from shared.errors import InvalidInput

Origin = Literal["field_patrol", "marketing_process", "spot_check", "complaint"]
ORIGINS: tuple[Origin, ...] = ("field_patrol", "marketing_process", "spot_check", "complaint")


@dataclass(frozen=True)
class ChangeRequest:
    """One requested change. ``values`` holds the fields of the element the kind sets:
    node_add ``kind, name``; node_rename ``name``; device_add ``kind, from_node, to_node,
    normal_state, name``; device_state ``normal_state``; customer_new ``name, node_id,
    voltage_kv, category``; customer_move ``node_id``; removals and closures nothing."""

    kind: ChangeKind
    element_id: str
    values: Mapping[str, Any]
    reason: str
    origin: Origin
    ticket: str


@dataclass(frozen=True)
class PlannedChange:
    """A checked change: the element before and after, and why it changes."""

    change: ElementChange
    reason: str
    origin: Origin
    ticket: str


class ModelView:
    """The model as the changes seen so far leave it, element by element.

    ``customers`` are the stored rows (None: no such account) of every account the caller
    will ask about; asking about another one is a programming error.
    """

    def __init__(self, model: NetworkModel, customers: Mapping[str, Record | None]) -> None:
        self.model = model
        self._customers = customers
        self._overlay: dict[tuple[str, str], Record | None] = {}

    def node(self, node_id: str) -> Record | None:
        key = ("node", node_id)
        if key in self._overlay:
            return self._overlay[key]
        grid = self.model.grid
        vertex = grid.node_index.get(node_id)
        if vertex is None:
            return None
        return {"kind": grid.node_kinds[vertex], "name": grid.node_names[vertex]}

    def device(self, device_id: str) -> Record | None:
        key = ("device", device_id)
        if key in self._overlay:
            return self._overlay[key]
        edge = self.model.grid.device_index.get(device_id)
        if edge is not None:
            return self.model.grid.device_record(edge)
        return self.model.dangling.devices.get(device_id)

    def customer(self, account_id: str) -> Record | None:
        key = ("customer", account_id)
        if key in self._overlay:
            return self._overlay[key]
        return self._customers[account_id]

    def element(self, element_type: str, element_id: str) -> Record | None:
        if element_type == "node":
            return self.node(element_id)
        if element_type == "device":
            return self.device(element_id)
        return self.customer(element_id)

    def apply(self, change: ElementChange) -> None:
        self._overlay[(change.kind.element_type, change.element_id)] = change.after


def account_ids(requests: Sequence[ChangeRequest]) -> set[str]:
    """The accounts a batch names, whose stored rows :func:`plan_batch` needs."""
    return {r.element_id for r in requests if r.kind.element_type == "customer"}


def plan_batch(view: ModelView, requests: Sequence[ChangeRequest]) -> list[PlannedChange]:
    """Check every change in order against ``view`` (which it advances) and return them with
    the element before and after each; InvalidInput lists every refused change."""
    planned: list[PlannedChange] = []
    errors: list[dict[str, Any]] = []
    for index, request in enumerate(requests):
        try:
            change = _check(view, request)
        except _Refused as refused:
            errors.append(
                {"field": f"changes[{index}].{refused.field}", "message": refused.message}
            )
            continue
        view.apply(change)
        planned.append(PlannedChange(change, request.reason, request.origin, request.ticket))
    if errors:
        first = errors[0]
        raise InvalidInput(
            messages.BATCH_INVALID.format(
                field=first["field"], message=first["message"], total=len(errors)
            ),
            field=first["field"],
            errors=errors,
        )
    return planned


class _Refused(Exception):
    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message


def _check(view: ModelView, request: ChangeRequest) -> ElementChange:
    kind, element, values = request.kind, request.element_id, request.values
    before = view.element(kind.element_type, element)
    after: dict[str, Any] | None

    def existing_node(field: str) -> str:
        node_id = str(values[field])
        if view.node(node_id) is None:
            raise _Refused(field, messages.NODE_UNKNOWN.format(node=node_id))
        return node_id

    if kind is ChangeKind.NODE_ADD:
        if before is not None:
            raise _Refused("node_id", messages.NODE_EXISTS.format(node=element))
        after = {"kind": values["kind"], "name": values["name"]}
    elif kind is ChangeKind.NODE_RENAME:
        if before is None:
            raise _Refused("node_id", messages.NODE_UNKNOWN.format(node=element))
        if before["name"] == values["name"]:
            raise _Refused(
                "name", messages.NODE_NAME_UNCHANGED.format(node=element, name=values["name"])
            )
        after = {**before, "name": values["name"]}
    elif kind is ChangeKind.DEVICE_ADD:
        if before is not None:
            raise _Refused("device_id", messages.DEVICE_EXISTS.format(device=element))
        start, end = existing_node("from_node"), existing_node("to_node")
        if start == end:
            raise _Refused("to_node", messages.DEVICE_SAME_NODE.format(node=end))
        after = {
            "kind": values["kind"],
            "from_node": start,
            "to_node": end,
            "normal_state": values["normal_state"],
            "name": values["name"],
        }
    elif kind is ChangeKind.DEVICE_REMOVE:
        if before is None:
            raise _Refused("device_id", messages.DEVICE_UNKNOWN.format(device=element))
        after = None
    elif kind is ChangeKind.DEVICE_STATE:
        if before is None:
            raise _Refused("device_id", messages.DEVICE_UNKNOWN.format(device=element))
        if before["normal_state"] == values["normal_state"]:
            raise _Refused(
                "normal_state",
                messages.DEVICE_STATE_UNCHANGED.format(
                    device=element, state=values["normal_state"]
                ),
            )
        after = {**before, "normal_state": values["normal_state"]}
    elif kind is ChangeKind.CUSTOMER_NEW:
        if before is not None:
            raise _Refused("account_id", messages.CUSTOMER_EXISTS.format(account=element))
        after = {
            "name": values["name"],
            "node_id": existing_node("node_id"),
            "voltage_kv": values["voltage_kv"],
            "category": values["category"],
        }
    elif kind is ChangeKind.CUSTOMER_CLOSE:
        if before is None:
            raise _Refused("account_id", messages.CUSTOMER_UNKNOWN.format(account=element))
        after = None
    else:
        if before is None:
            raise _Refused("account_id", messages.CUSTOMER_UNKNOWN.format(account=element))
        node_id = existing_node("node_id")
        if before["node_id"] == node_id:
            raise _Refused(
                "node_id", messages.CUSTOMER_ALREADY_THERE.format(account=element, node=node_id)
            )
        after = {**before, "node_id": node_id}
    return ElementChange(kind, element, None if before is None else dict(before), after)
