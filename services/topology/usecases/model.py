"""The network model: import, change batches, history, the back-office check, the summary.

A use case that builds a new model version returns it; the caller installs it in the
:class:`NetworkCache` once its unit of work has committed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import IO, TypeVar

from services.topology.adapters.network_cache import NetworkCache
from services.topology.adapters.repository import (
    DiscrepancyRepository,
    HistoryEntry,
    NetworkRepository,
)
from services.topology.domain import checks, messages
from services.topology.domain.bundle import (
    BUNDLE_FILES,
    BundleChanged,
    ErrorLog,
    bundle_rows,
    check_bundle,
)
from services.topology.domain.changes import (
    ChangeRequest,
    ModelView,
    PlannedChange,
    account_ids,
    plan_batch,
)
from services.topology.domain.checks import CheckPolicy, Finding
from services.topology.domain.discrepancies import Closure, Discrepancy, new_batch_id, settle
from services.topology.domain.network import NetworkBuilder, NetworkModel, Record, Touch
from shared.errors import InvalidInput
from shared.events import FeederScope, ModelChange, ModelChanged
from shared.timeutil import utcnow
from shared.uow import UnitOfWork

T = TypeVar("T")

IMPORT_CHANGE_KIND = "import"


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
    version, announced by ``model.changed`` so that outages awaiting notice are traced again.
    Once the caller has committed, it hands the returned model to :meth:`NetworkCache.install`.
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
    now = utcnow()
    await repository.record_import(version, now, imported_by)
    uow.emit(
        ModelChanged(
            batch_id=f"IMPORT-{version}",
            model_version=version,
            author=imported_by,
            changes=[
                ModelChange(
                    kind=IMPORT_CHANGE_KIND,
                    element_id="bundle",
                    origin=IMPORT_CHANGE_KIND,
                    reason=messages.IMPORT_REASON,
                )
            ],
            changed_at=now,
        )
    )
    return ImportedNetwork(await asyncio.to_thread(builder.build, version))


@dataclass(frozen=True)
class ChangeBatch:
    changes: list[ChangeRequest]
    resolves: list[str]


@dataclass(frozen=True)
class AppliedBatch:
    batch_id: str
    model: NetworkModel
    changes: list[PlannedChange]
    change_ids: list[int]
    closed: list[Discrepancy]
    changed_at: datetime


async def apply_changes(
    batch: ChangeBatch, author: str, uow: UnitOfWork, network: NetworkCache, timezone: str
) -> AppliedBatch:
    """Apply a change batch atomically under the next model version and emit ``model.changed``.

    Every change is checked against the model as the earlier ones leave it; one refused
    change refuses the batch and nothing is written. The open discrepancies the batch fixes
    (the model now says what the field saw), and those it names in ``resolves``, are closed
    with it. The returned model is the next version, to install once committed.
    """
    repository = NetworkRepository(uow.session)
    version = await repository.lock_next_version()
    model = await network.current(uow.session)
    found = DiscrepancyRepository(uow.session)
    named = [(discrepancy_id, await found.get(discrepancy_id)) for discrepancy_id in batch.resolves]
    accounts = account_ids(batch.changes) | {
        d.element_id for _, d in named if d is not None and d.element_type == "customer"
    }
    view = ModelView(model, await repository.customers(accounts))
    planned = plan_batch(view, batch.changes)
    at = utcnow()
    batch_id = new_batch_id(at, timezone)
    touched = await found.open_on(
        (item.change.kind.element_type, item.change.element_id) for item in planned
    )
    closed = settle(view, touched, named, Closure(batch_id, version, author, at))
    change_ids = await repository.apply(
        planned, version=version, batch_id=batch_id, author=author, at=at
    )
    for discrepancy in closed:
        await found.update(discrepancy)
    uow.emit(
        ModelChanged(
            batch_id=batch_id,
            model_version=version,
            author=author,
            changes=[
                ModelChange(
                    kind=item.change.kind.value,
                    element_id=item.change.element_id,
                    origin=item.origin,
                    reason=item.reason,
                    ticket=item.ticket,
                )
                for item in planned
            ],
            changed_at=at,
        )
    )
    next_model = model.with_changes(
        [item.change for item in planned], version=version, touch=Touch(at, batch_id)
    )
    return AppliedBatch(batch_id, next_model, planned, change_ids, closed, at)


@dataclass(frozen=True)
class ElementHistory:
    element_type: str
    element_id: str
    current: Record | None
    changes: list[HistoryEntry]
    imported_at: datetime | None
    imported_by: str | None


async def element_history(
    element_type: str, element_id: str, limit: int, uow: UnitOfWork, network: NetworkCache
) -> ElementHistory:
    """Who changed an element, when and why (newest first), and what the model holds now."""
    repository = NetworkRepository(uow.session)
    model = await network.current(uow.session)
    accounts = {element_id} if element_type == "customer" else set()
    view = ModelView(model, await repository.customers(accounts))
    imported_at, imported_by = await repository.imported()
    return ElementHistory(
        element_type=element_type,
        element_id=element_id,
        current=view.element(element_type, element_id),
        changes=await repository.history(element_type, element_id, limit),
        imported_at=imported_at,
        imported_by=imported_by,
    )


@dataclass(frozen=True)
class CheckReport:
    model_version: int
    checked_at: datetime
    findings: list[Finding]


async def check_network(
    uow: UnitOfWork, network: NetworkCache, policy: CheckPolicy, feeder: str | None
) -> CheckReport:
    """The back-office check of the whole model, or of one feeder (its source node id)."""
    model = await network.current(uow.session)
    scope = None
    if feeder is not None:
        vertex = model.node_position(feeder)
        if vertex is None or model.feeder_of(vertex) != vertex:
            raise InvalidInput(messages.NOT_A_FEEDER.format(feeder=feeder), field="feeder")
        scope = [vertex]
    now = utcnow()
    # The first whole-model check visits every tree of a city; off the event loop.
    found = await asyncio.to_thread(checks.findings, model, policy, now, scope)
    return CheckReport(model.version, now, found)


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
    supply = model.normal_supply
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
