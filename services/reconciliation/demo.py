"""The reconciliation story for the suite's demo: an outage on a model with errors, what the
meters show, the fixes suggested and confirmed, and a clean second outage on the same feeder.

:func:`play_reconciliation` runs on a running embedded suite whose reconciliation app was built
with a :class:`ManualClock` (``build_suite(..., reconciliation_clock=clock)``), after the
sample district is loaded. It needs from topology the network export
(:mod:`services.reconciliation.adapters.topology`) and change batches of origin
``meter_reconciliation``; the person's confirmation is played by ``confirm``, by default
posting the suggested change batch to ``POST /v1/network/changes``.

The field is the model with errors a single outage can reveal: the part of the feeder behind
a switch fed from the next feeder (the switch open and a tie closed in the field), and a
customer connected to a transformer area the outage cuts off while the model has it on one
that stays supplied.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from services.reconciliation.clock import ManualClock
from shared.auth import Role
from shared.timeutil import local, utcnow
from tools.meter_sim import (
    BoundaryMoved,
    FieldTruth,
    Grid,
    InjectedError,
    WrongTransformer,
    describe,
    simulate,
    to_csv,
)

PLANNER = "planner-li"
REVIEWER = "reviewer-wang"
DISPATCHER = "dispatcher-zhao"
BATCH = 5000
MOVE_RADIUS = 8  # as the service's default: where a misattached customer is looked for

Confirm = Callable[[httpx.AsyncClient, dict[str, Any]], Awaitable[None]]


@dataclass
class ReconciliationStory:
    first_outage: str
    second_outage: str
    injected: list[str]
    first_counts: dict[str, int]
    suggestions: list[str]
    second_counts: dict[str, int]
    confirmed: list[str] = field(default_factory=list)


async def confirm_by_change_batch(topology: httpx.AsyncClient, suggestion: dict[str, Any]) -> None:
    """What the person confirming does: apply the suggestion's change batch."""
    response = await topology.post("/v1/network/changes", json={"changes": suggestion["changes"]})
    response.raise_for_status()


def demo_field(model: Grid) -> tuple[tuple[tuple[str, str], ...], FieldTruth]:
    """An outage (a sectionalising switch cutting 80-400 customers) and a field that differs
    from the model where that outage shows it unambiguously."""
    feeder_of = model.feeder_of
    areas = {n for n, k, _ in model.nodes if k == "transformer_lv"}
    for switch in (d for d in model.devices if d.kind == "switch" and d.closed):
        plan = ((switch.device_id, "open"),)
        lost = {model.nodes[v][0] for v in model.lost_nodes(plan)}
        if not 80 <= len(model.lost_accounts(plan)) <= 400:
            continue
        errors: list[InjectedError] = []
        boundary = _boundary_inside(model, switch.device_id, lost)
        if boundary is not None:
            errors.append(boundary)
        feeder = feeder_of[switch.from_node]
        for area in sorted(a for a in areas if a not in lost and feeder_of.get(a) == feeder):
            near = [a for a in model.hops(area, MOVE_RADIUS) if a in areas and a in lost]
            account = next((a for a, n in model.customers if n == area), None)
            if len(near) == 1 and account is not None:
                errors.append(WrongTransformer(account, area, near[0]))
                break
        if len(errors) == 2:
            return plan, FieldTruth(model, tuple(errors))
    raise RuntimeError("the sample district has no outage that shows both errors")


def _boundary_inside(model: Grid, cut: str, lost: set[str]) -> BoundaryMoved | None:
    """A tie from the cut-off part to another feeder, and a switch below the cut above it."""
    parent = model.parent_device
    for tie in (d for d in model.devices if not d.closed and d.kind == "switch"):
        inside = tie.from_node if tie.from_node in lost else tie.to_node
        if inside not in lost or (tie.to_node in lost and tie.from_node in lost):
            continue
        node = inside
        while node in parent:
            device = model.devices[parent[node]]
            if device.device_id == cut:
                break
            if (
                device.kind == "switch"
                and device.closed
                and model.served_nodes & model.below(device.device_id)
            ):
                return BoundaryMoved(device.device_id, tie.device_id)
            a, b = device.from_node, device.to_node
            node = a if b == node else b
    return None


async def play_reconciliation(
    suite: Any,
    sample_dir: Path,
    clock: ManualClock,
    say: Callable[[str], None] = print,
    confirm: Confirm = confirm_by_change_batch,
) -> ReconciliationStory:
    """Play the story; ``suite`` is a running :class:`services.suite.Suite`."""
    model = Grid.read(sample_dir)
    plan, truth = demo_field(model)
    injected = [describe(e) for e in truth.errors]
    say("7. The field differs from the model: " + "; ".join(injected))
    planner = suite.client("topology", suite.token(PLANNER, Role.PLANNER))
    topology_admin = suite.client("topology", suite.token("admin", Role.ADMIN))
    reviewer = suite.client("contacts", suite.token(REVIEWER, Role.REVIEWER))
    metering = suite.client("reconciliation", suite.token("ami", Role.SYSTEM))
    dispatcher = suite.client("reconciliation", suite.token(DISPATCHER, Role.DISPATCHER))

    first, first_counts = await _one_outage(
        suite, plan, truth, utcnow() + timedelta(days=9), clock,
        planner, reviewer, metering, dispatcher,
    )  # fmt: skip
    say(f"8. Outage {first} reconciled with the meters: {first_counts}")
    listed = await dispatcher.get("/v1/suggestions", params={"status": "suggested"})
    listed.raise_for_status()
    suggestions = [s for s in listed.json()["suggestions"] if s["outage_id"] == first]
    for suggestion in suggestions:
        say(f"   suggested ({suggestion['confidence']:.2f}): {suggestion['summary']}")
        await confirm(topology_admin, suggestion)
    await suite.settle()
    say(f"9. {len(suggestions)} fixes confirmed and applied to the model")

    second, second_counts = await _one_outage(
        suite, plan, truth, utcnow() + timedelta(days=16), clock,
        planner, reviewer, metering, dispatcher,
    )  # fmt: skip
    say(f"10. The next outage on the same feeder, {second}: {second_counts}")
    return ReconciliationStory(
        first_outage=first,
        second_outage=second,
        injected=injected,
        first_counts=first_counts,
        suggestions=[s["summary"] for s in suggestions],
        second_counts=second_counts,
        confirmed=[s["suggestion_id"] for s in suggestions],
    )


async def _one_outage(
    suite: Any,
    plan: tuple[tuple[str, str], ...],
    truth: FieldTruth,
    day: datetime,
    clock: ManualClock,
    planner: httpx.AsyncClient,
    reviewer: httpx.AsyncClient,
    metering: httpx.AsyncClient,
    dispatcher: httpx.AsyncClient,
) -> tuple[str, dict[str, int]]:
    starts = local(day).replace(hour=8, minute=0, second=0, microsecond=0)
    ends = starts + timedelta(hours=8)
    created = await planner.post(
        "/v1/outages",
        json={
            "kind": "planned",
            "starts_at": starts.isoformat(),
            "ends_at": ends.isoformat(),
            "work": "10kV线路检修",
            "area": "示范片区",
            "operations": [{"device_id": d, "action": a} for d, a in plan],
        },
    )
    created.raise_for_status()
    outage_id: str = created.json()["id"]
    await suite.settle()
    for _ in range(100):
        if (await reviewer.get(f"/v1/lists/{outage_id}")).status_code == 200:
            break
        await asyncio.sleep(0.1)
    approved = await reviewer.post(f"/v1/lists/{outage_id}/approve")
    approved.raise_for_status()
    await suite.settle()
    simulation = simulate(truth, plan, starts, ends, seed=starts.toordinal())
    for start in range(0, len(simulation.records), BATCH):
        body = to_csv(simulation.records[start : start + BATCH]).encode()
        sent = await metering.post(
            "/v1/meter-events", content=body, headers={"Content-Type": "text/csv"}
        )
        sent.raise_for_status()
    clock.set(ends + timedelta(minutes=5))
    reconciled = await dispatcher.post(f"/v1/outages/{outage_id}/reconcile")
    reconciled.raise_for_status()
    await suite.settle()
    counts: dict[str, int] = reconciled.json()["counts"]
    return outage_id, counts
