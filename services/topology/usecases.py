"""The topology service layer: the routes, the ``outage.planned`` handler and the CLI call these.

Each function works inside the caller's open unit of work and leaves the commit to it, so an
outage and the event announcing it are committed together or not at all.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any, TypeVar

from services.topology.adapters.network_cache import NetworkCache
from services.topology.adapters.repository import NetworkRepository, OutageRepository
from services.topology.domain import messages
from services.topology.domain.bundle import (
    BUNDLE_FILES,
    BundleChanged,
    ErrorLog,
    bundle_rows,
    check_bundle,
)
from services.topology.domain.network import NetworkBuilder, NetworkModel
from services.topology.domain.outage import Outage, OutageStatus, new_outage_id
from services.topology.domain.tracer import TraceResult, trace, unknown_devices
from shared.errors import InvalidInput, NotFound
from shared.events import FeederScope, Operation
from shared.events.catalog import OutageKind
from shared.timeutil import utcnow
from shared.uow import UnitOfWork

T = TypeVar("T")


@dataclass(frozen=True)
class ImportedNetwork:
    """The model an import built, to install once the import has committed."""

    model: NetworkModel

    @property
    def counts(self) -> dict[str, int]:
        return {
            "model_version": self.model.version,
            "nodes": self.model.node_count,
            "devices": self.model.device_count,
            "customers": self.model.customer_count,
        }


async def import_network(
    files: Mapping[str, IO[bytes]], imported_by: str, uow: UnitOfWork, *, chunk_size: int
) -> ImportedNetwork:
    """Replace the stored network with the bundle in ``files`` (keyed by file name).

    All or nothing: every row of every file is checked, and the model built, before anything
    is written; any bad row makes it fail listing the first bad rows, having changed nothing.
    The rows are then written in chunks in the caller's transaction under the next model
    version. Once the caller has committed, it hands the returned model to
    :meth:`NetworkCache.install`.
    """
    builder = NetworkBuilder()
    errors = ErrorLog()
    # Checking millions of rows is CPU work; off the event loop.
    await asyncio.to_thread(check_bundle, _from_start(files), builder, errors)
    if errors:
        first = errors.listed[0]
        raise InvalidInput(
            messages.BUNDLE_INVALID.format(
                file=first.file,
                row=first.row,
                field=first.field or "",
                message=first.message,
                total=errors.total,
            ),
            file=first.file,
            row=first.row,
            field=first.field,
            errors=[error.as_dict() for error in errors.listed],
        )
    repository = NetworkRepository(uow.session)
    version = await repository.lock_next_version()
    await repository.clear()
    readable = _from_start(files)
    for file in BUNDLE_FILES:
        try:
            for chunk in _chunks(bundle_rows(file, readable[file]), chunk_size):
                await repository.insert_rows(file, chunk)
        except BundleChanged as changed:
            raise InvalidInput(str(changed), file=file, row=changed.error.row) from changed
    await repository.set_version(version, utcnow(), imported_by)
    return ImportedNetwork(await asyncio.to_thread(builder.build, version))


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
    command: PlanOutage, planned_by: str, uow: UnitOfWork, network: NetworkCache, timezone: str
) -> Outage:
    """Register an outage plan on devices of the current model and emit ``outage.planned``.

    A plan naming a device the model lacks is refused, and so is an id already registered.
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
    )
    await outages.add(outage)
    uow.emit(planned)
    return outage


async def trace_planned_outage(outage_id: str, uow: UnitOfWork, network: NetworkCache) -> None:
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
    traced = outage.record_trace(trace(model, outage.operations), utcnow())
    if traced is not None:
        await outages.update(outage)
        uow.emit(traced)


@dataclass(frozen=True)
class WhatIf:
    result: TraceResult
    elapsed_ms: float


async def trace_what_if(
    operations: Sequence[Operation], uow: UnitOfWork, network: NetworkCache
) -> WhatIf:
    """Trace operations without registering anything."""
    model = await network.current(uow.session)
    _require_known_devices(model, operations)
    started = time.perf_counter()
    result = trace(model, operations)
    return WhatIf(result, round((time.perf_counter() - started) * 1000, 3))


async def cancel_outage(outage_id: str, reason: str, cancelled_by: str, uow: UnitOfWork) -> Outage:
    """Cancel an outage and emit ``outage.cancelled``; a second cancellation is a conflict."""
    outages = OutageRepository(uow.session)
    outage = await outages.get(outage_id, for_update=True)
    if outage is None:
        raise NotFound(messages.OUTAGE_NOT_FOUND.format(outage_id=outage_id))
    cancelled = outage.cancel(reason, cancelled_by, utcnow())
    await outages.update(outage)
    uow.emit(cancelled)
    return outage


async def get_outage(outage_id: str, uow: UnitOfWork) -> Outage:
    outage = await OutageRepository(uow.session).get(outage_id)
    if outage is None:
        raise NotFound(messages.OUTAGE_NOT_FOUND.format(outage_id=outage_id))
    return outage


async def list_outages(limit: int, uow: UnitOfWork) -> list[Outage]:
    """The most recently planned outages first."""
    return await OutageRepository(uow.session).newest(limit)


@dataclass(frozen=True)
class NetworkSummary:
    model_version: int
    imported_at: datetime | None
    imported_by: str | None
    nodes: int
    devices: int
    normally_open_devices: int
    customers: int
    unsupplied_customers: int
    feeders: list[FeederScope]


async def network_summary(uow: UnitOfWork, network: NetworkCache) -> NetworkSummary:
    """What the current model holds, and who its sources supply in the normal state."""
    model = await network.current(uow.session)
    imported_at, imported_by = await NetworkRepository(uow.session).imported()
    # The first summary of a model traces the whole city once; off the event loop.
    supply = await asyncio.to_thread(lambda: model.normal_supply)
    return NetworkSummary(
        model_version=model.version,
        imported_at=imported_at,
        imported_by=imported_by,
        nodes=model.node_count,
        devices=model.device_count,
        normally_open_devices=model.normally_open_count,
        customers=model.customer_count,
        unsupplied_customers=supply.unsupplied_customers,
        feeders=supply.feeders,
    )


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


def _from_start(files: Mapping[str, IO[bytes]]) -> dict[str, IO[bytes]]:
    for file in files.values():
        file.seek(0)
    return dict(files)


def _chunks(rows: Iterable[T], size: int) -> Iterator[list[T]]:
    chunk: list[T] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
