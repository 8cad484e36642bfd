"""Outages: plans, their traces and retraces, new times, completion and cancellation.

The ``outage.planned`` handler and ``POST /v1/trace`` share one tracer, :func:`traced`: the
trace with the back-office checks of the feeders it touches.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from services.topology.adapters.network_cache import NetworkCache
from services.topology.adapters.repository import OutageRepository
from services.topology.domain import checks, messages
from services.topology.domain.checks import CheckPolicy
from services.topology.domain.network import NetworkModel
from services.topology.domain.outage import Outage, OutageStatus, new_outage_id
from services.topology.domain.tracer import TraceResult, trace, unknown_devices
from services.topology.usecases.model import IMPORT_CHANGE_KIND
from shared.errors import InvalidInput, NotFound
from shared.events import ModelChanged, Operation
from shared.events.catalog import OutageKind
from shared.timeutil import utcnow
from shared.uow import UnitOfWork


def traced(
    model: NetworkModel, operations: Sequence[Operation], policy: CheckPolicy, now: datetime
) -> TraceResult:
    """The trace of ``operations`` with the checks' findings on the feeders it touches."""
    result = trace(model, operations)
    return result.with_warnings(checks.scope_warnings(model, result.scope, policy, now))


@dataclass(frozen=True)
class WhatIf:
    result: TraceResult
    elapsed_ms: float


async def trace_what_if(
    operations: Sequence[Operation], uow: UnitOfWork, network: NetworkCache, policy: CheckPolicy
) -> WhatIf:
    """Trace operations, with the checks of the touched feeders, without registering anything."""
    model = await network.current(uow.session)
    _require_known_devices(model, operations)
    now = utcnow()
    started = time.perf_counter()
    result = traced(model, operations, policy, now)
    return WhatIf(result, round((time.perf_counter() - started) * 1000, 3))


async def trace_planned_outage(
    outage_id: str, uow: UnitOfWork, network: NetworkCache, policy: CheckPolicy
) -> None:
    """Trace a planned outage on the current model and emit ``outage.traced``.

    Nothing happens when the outage was cancelled before its trace, or was traced already.
    """
    outages = OutageRepository(uow.session)
    outage = await outages.get(outage_id, for_update=True)
    if outage is None:
        raise NotFound(messages.OUTAGE_NOT_FOUND.format(outage_id=outage_id))
    if outage.status is not OutageStatus.PLANNED:
        return
    model = await network.current(uow.session)
    now = utcnow()
    event = outage.record_trace(traced(model, outage.operations, policy, now), now)
    if event is not None:
        await outages.update(outage)
        uow.emit(event)


async def retrace_outages(
    changed: ModelChanged, uow: UnitOfWork, network: NetworkCache, policy: CheckPolicy
) -> list[str]:
    """Trace again every outage still awaiting its notices whose trace predates the change.

    Those whose accounts changed emit ``outage.retraced`` with the difference, so their list
    must be confirmed again; the others only move to the new model version. Returns the ids
    of the outages retraced with a difference.
    """
    model = await network.current(uow.session)
    now = utcnow()
    if changed.changes and changed.changes[0].kind == IMPORT_CHANGE_KIND:
        reason = messages.RETRACE_AFTER_IMPORT.format(version=changed.model_version)
    else:
        reasons = list(dict.fromkeys(change.reason for change in changed.changes if change.reason))
        reason = messages.RETRACE_REASON.format(
            version=changed.model_version, batch=changed.batch_id, reasons="；".join(reasons)
        )
    outages = OutageRepository(uow.session)
    retraced = []
    for outage_id in await outages.awaiting_notice(now, model.version):
        outage = await outages.get(outage_id, for_update=True)
        if outage is None or not outage.awaits_notice(now):
            continue
        event = outage.record_retrace(traced(model, outage.operations, policy, now), now, reason)
        await outages.update(outage)
        if event is not None:
            uow.emit(event)
            retraced.append(outage_id)
    return retraced


@dataclass(frozen=True)
class PlanOutage:
    """What a planner registers; ``outage_id`` None asks for a generated one."""

    outage_id: str | None
    kind: OutageKind
    starts_at: datetime
    ends_at: datetime
    work: str
    area: str
    operations: list[Operation]


async def plan_outage(
    command: PlanOutage,
    planned_by: str,
    uow: UnitOfWork,
    network: NetworkCache,
    timezone: str,
    lead_times: Mapping[OutageKind, timedelta],
) -> Outage:
    """Register an outage plan on devices of the current model and emit ``outage.planned``.

    A plan naming a device the model lacks is refused, and so is an id already registered.
    A start closer than the kind's lead time is accepted with a ``lead_time_short`` warning.
    """
    model = await network.current(uow.session)
    _require_known_devices(model, command.operations)
    outages = OutageRepository(uow.session)
    outage_id = command.outage_id
    if outage_id is None:
        outage_id = new_outage_id(command.starts_at, timezone)
        while await outages.exists(outage_id):
            outage_id = new_outage_id(command.starts_at, timezone)
    outage, planned = Outage.plan(
        outage_id=outage_id,
        kind=command.kind,
        starts_at=command.starts_at,
        ends_at=command.ends_at,
        work=command.work,
        area=command.area,
        operations=command.operations,
        planned_by=planned_by,
        planned_at=utcnow(),
        lead_times=lead_times,
    )
    await outages.add(outage)
    uow.emit(planned)
    return outage


async def reschedule_outage(
    outage_id: str,
    starts_at: datetime,
    ends_at: datetime,
    reason: str,
    rescheduled_by: str,
    uow: UnitOfWork,
    lead_times: Mapping[OutageKind, timedelta],
) -> Outage:
    """New times for an outage and ``outage.rescheduled``; refused once cancelled or completed,
    and for the start once the outage has begun."""
    outages = OutageRepository(uow.session)
    outage = await _outage_for_update(outages, outage_id)
    uow.emit(outage.reschedule(starts_at, ends_at, reason, rescheduled_by, utcnow(), lead_times))
    await outages.update(outage)
    return outage


async def complete_outage(outage_id: str, completed_by: str, uow: UnitOfWork) -> Outage:
    """Record that the work ended and supply is back, and emit ``outage.completed``."""
    outages = OutageRepository(uow.session)
    outage = await _outage_for_update(outages, outage_id)
    uow.emit(outage.complete(completed_by, utcnow()))
    await outages.update(outage)
    return outage


async def cancel_outage(outage_id: str, reason: str, cancelled_by: str, uow: UnitOfWork) -> Outage:
    """Cancel an outage and emit ``outage.cancelled``; a second cancellation is a conflict."""
    outages = OutageRepository(uow.session)
    outage = await _outage_for_update(outages, outage_id)
    uow.emit(outage.cancel(reason, cancelled_by, utcnow()))
    await outages.update(outage)
    return outage


async def get_outage(outage_id: str, uow: UnitOfWork) -> Outage:
    outage = await OutageRepository(uow.session).get(outage_id)
    if outage is None:
        raise NotFound(messages.OUTAGE_NOT_FOUND.format(outage_id=outage_id))
    return outage


async def list_outages(limit: int, uow: UnitOfWork) -> list[Outage]:
    """The most recently planned outages first."""
    return await OutageRepository(uow.session).newest(limit)


async def _outage_for_update(outages: OutageRepository, outage_id: str) -> Outage:
    outage = await outages.get(outage_id, for_update=True)
    if outage is None:
        raise NotFound(messages.OUTAGE_NOT_FOUND.format(outage_id=outage_id))
    return outage


def _require_known_devices(model: NetworkModel, operations: Sequence[Operation]) -> None:
    positions = unknown_devices(model, operations)
    if not positions:
        return
    errors: list[dict[str, Any]] = [
        {
            "field": f"operations[{position}].device_id",
            "message": messages.UNKNOWN_DEVICE_IN_PLAN.format(
                device=operations[position].device_id, version=model.version
            ),
        }
        for position in positions
    ]
    raise InvalidInput(errors[0]["message"], field=errors[0]["field"], errors=errors)
