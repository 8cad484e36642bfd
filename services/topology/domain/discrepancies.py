"""Where the model and the field disagree, and which change let it through.

A spot check records what field staff found, one observation per element; each observation the
model contradicts opens a discrepancy, linked to the last change that touched the element (or
to the import that brought it in), so the process that let the error through can be found. A
complaint traced to the model or the trace opens one too. A discrepancy is closed by the
change batch that fixes it: automatically when the batch makes the model agree with what the
field saw, or by naming it when there was no observation (a complaint).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from services.topology.domain import messages
from services.topology.domain.changes import ModelView
from shared.errors import Conflict, InvalidInput
from shared.timeutil import local

DiscrepancyOrigin = Literal["spot_check", "complaint"]


class ObservationKind(StrEnum):
    """What field staff can report about one element."""

    CUSTOMER_NODE = "customer_node"  # the account is connected at node ``value``
    CUSTOMER_ABSENT = "customer_absent"  # there is no such account on site
    DEVICE_STATE = "device_state"  # the device's normal state is ``value`` (open | closed)
    DEVICE_ABSENT = "device_absent"  # there is no such device on site
    NODE_NAME = "node_name"  # the node's name on site is ``value``

    @property
    def element_type(self) -> str:
        return self.value.split("_", 1)[0]


_OBSERVED = {
    ObservationKind.CUSTOMER_NODE: messages.OBSERVED_CUSTOMER_NODE,
    ObservationKind.CUSTOMER_ABSENT: messages.OBSERVED_CUSTOMER_ABSENT,
    ObservationKind.DEVICE_STATE: messages.OBSERVED_DEVICE_STATE,
    ObservationKind.DEVICE_ABSENT: messages.OBSERVED_DEVICE_ABSENT,
    ObservationKind.NODE_NAME: messages.OBSERVED_NODE_NAME,
}


@dataclass(frozen=True)
class Observation:
    kind: ObservationKind
    element_id: str
    value: str = ""

    @property
    def text(self) -> str:
        return _OBSERVED[self.kind].format(element=self.element_id, value=self.value)


def modelled(view: ModelView, observation: Observation) -> str | None:
    """What the model says about the observed property; None when it lacks the element."""
    kind, element = observation.kind, observation.element_id
    if kind in (ObservationKind.CUSTOMER_NODE, ObservationKind.CUSTOMER_ABSENT):
        customer = view.customer(element)
        return None if customer is None else str(customer["node_id"])
    if kind in (ObservationKind.DEVICE_STATE, ObservationKind.DEVICE_ABSENT):
        device = view.device(element)
        return None if device is None else str(device["normal_state"])
    node = view.node(element)
    return None if node is None else str(node["name"])


def agrees(view: ModelView, observation: Observation) -> bool:
    """Whether the model says what the field saw."""
    value = modelled(view, observation)
    if observation.kind in (ObservationKind.CUSTOMER_ABSENT, ObservationKind.DEVICE_ABSENT):
        return value is None
    return value == observation.value


@dataclass(frozen=True)
class Provenance:
    """The last change of an element before a discrepancy was found: a change batch, or the
    import that brought the element in (``change_id`` None)."""

    model_version: int
    change_id: int | None
    batch_id: str | None
    kind: str
    author: str
    origin: str
    ticket: str
    reason: str
    at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "model_version": self.model_version,
            "change_id": self.change_id,
            "batch_id": self.batch_id,
            "kind": self.kind,
            "author": self.author,
            "origin": self.origin,
            "ticket": self.ticket,
            "reason": self.reason,
            "at": self.at.isoformat(),
        }

    @classmethod
    def of(cls, values: Mapping[str, Any]) -> Provenance:
        return cls(**{**values, "at": datetime.fromisoformat(values["at"])})


@dataclass(frozen=True)
class Closure:
    batch_id: str
    model_version: int
    closed_by: str
    closed_at: datetime


@dataclass(frozen=True)
class Discrepancy:
    """A disagreement between the model and the field about one element."""

    id: str
    origin: DiscrepancyOrigin
    element_type: str
    element_id: str
    observation: Observation | None  # None for a complaint: nothing was observed on site
    modelled: str | None
    detail: str
    opened_by: str
    opened_at: datetime
    source_id: str  # the spot check or the complaint
    outage_id: str | None
    caused_by: Provenance | None
    closure: Closure | None = None

    @property
    def is_open(self) -> bool:
        return self.closure is None

    def fixed_in(self, view: ModelView) -> bool:
        """Whether the model ``view`` shows agrees with what was observed."""
        return self.observation is not None and agrees(view, self.observation)

    def close(self, closure: Closure) -> Discrepancy:
        return replace(self, closure=closure)


def new_discrepancy_id(at: datetime, timezone: str) -> str:
    """``DSC-<local date>-<8 hex digits>``, e.g. ``DSC-20261128-3F9A0C1B``: people read and
    quote them, and a day's ids do not collide in practice."""
    return _new_id("DSC", at, timezone)


def new_spot_check_id(at: datetime, timezone: str) -> str:
    return _new_id("SPC", at, timezone)


def new_batch_id(at: datetime, timezone: str) -> str:
    return _new_id("CHG", at, timezone)


def _new_id(prefix: str, at: datetime, timezone: str) -> str:
    return f"{prefix}-{local(at, timezone):%Y%m%d}-{secrets.token_hex(4).upper()}"


def complaint_detail(complaint_id: str, outage_id: str, complaint_type: str, detail: str) -> str:
    return messages.COMPLAINT_DETAIL.format(
        complaint=complaint_id, outage=outage_id, complaint_type=complaint_type, detail=detail
    )


def unfixed(discrepancy: Discrepancy, view: ModelView) -> str:
    """Why naming an observed discrepancy in a batch that does not fix it is refused."""
    assert discrepancy.observation is not None
    value = modelled(view, discrepancy.observation)
    return messages.DISCREPANCY_NOT_FIXED.format(
        observed=discrepancy.observation.text,
        modelled=messages.ABSENT if value is None else value,
        discrepancy=discrepancy.id,
    )


def settle(
    view: ModelView,
    touched: Sequence[Discrepancy],
    named: Sequence[tuple[str, Discrepancy | None]],
    closure: Closure,
) -> list[Discrepancy]:
    """The discrepancies a change batch closes, as closed.

    ``touched`` are the open discrepancies on elements the batch changed: each closes when
    the model ``view`` (after the batch) agrees with what was observed. ``named`` are the ids
    the batch says it resolves, with the discrepancy found under each: unknown, already
    closed, or observed and still contradicted, it refuses the batch.
    """
    closing: dict[str, Discrepancy] = {d.id: d for d in touched if d.fixed_in(view)}
    for index, (discrepancy_id, discrepancy) in enumerate(named):
        field = f"resolves[{index}]"
        if discrepancy is None:
            raise InvalidInput(
                messages.DISCREPANCY_UNKNOWN.format(discrepancy=discrepancy_id), field=field
            )
        if not discrepancy.is_open:
            raise Conflict(
                messages.DISCREPANCY_CLOSED.format(discrepancy=discrepancy_id), field=field
            )
        if discrepancy.observation is not None and not discrepancy.fixed_in(view):
            raise InvalidInput(unfixed(discrepancy, view), field=field)
        closing[discrepancy.id] = discrepancy
    return [closing[key].close(closure) for key in sorted(closing)]
