"""Reads and writes of the topology tables, in the session of the caller's unit of work."""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, and_, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.topology.adapters.bulk import bulk_insert
from services.topology.adapters.db import (
    customers,
    devices,
    discrepancies,
    model_versions,
    network_changes,
    network_model,
    nodes,
    outages,
    spot_checks,
)
from services.topology.domain import messages
from services.topology.domain.bundle import CUSTOMERS_FILE, DEVICES_FILE, NODES_FILE
from services.topology.domain.changes import PlannedChange
from services.topology.domain.discrepancies import (
    Closure,
    Discrepancy,
    Observation,
    ObservationKind,
    Provenance,
)
from services.topology.domain.network import (
    ChangeKind,
    ElementChange,
    NetworkBuilder,
    RowRejected,
    Touch,
)
from services.topology.domain.outage import (
    Cancellation,
    Completion,
    Outage,
    OutageStatus,
    Reschedule,
    TraceSummary,
)
from shared.db import upsert_ignore
from shared.errors import Conflict
from shared.events import FeederScope, Operation, TraceWarning, TransformerScope
from shared.timeutil import ensure_aware

_MODEL_ROW = 1
_LOAD_BATCH = 10_000
_LOOKUP_BATCH = 500
_TABLES = {NODES_FILE: nodes, DEVICES_FILE: devices, CUSTOMERS_FILE: customers}
_KEYS = {"node": nodes.c.node_id, "device": devices.c.device_id, "customer": customers.c.account_id}
_ELEMENT_TABLES = {"node": nodes, "device": devices, "customer": customers}


@dataclass(frozen=True)
class StoredBatch:
    """A change batch as a replica replays it to catch up."""

    version: int
    batch_id: str
    author: str
    changed_at: datetime
    changes: list[ElementChange]


@dataclass(frozen=True)
class HistoryEntry:
    change_id: int
    model_version: int
    batch_id: str
    kind: str
    element_type: str
    element_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    reason: str
    origin: str
    ticket: str
    author: str
    changed_at: datetime


class NetworkRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def version(self) -> int:
        """The version of the stored model; 0 before the first import."""
        query = select(network_model.c.version).where(network_model.c.id == _MODEL_ROW)
        return int((await self.session.execute(query)).scalar_one_or_none() or 0)

    async def imported(self) -> tuple[datetime | None, str | None]:
        """When and by whom the stored model was imported."""
        query = select(network_model.c.imported_at, network_model.c.imported_by).where(
            network_model.c.id == _MODEL_ROW
        )
        row = (await self.session.execute(query)).one_or_none()
        if row is None or row.imported_at is None:
            return None, None
        return ensure_aware(row.imported_at), row.imported_by

    async def lock_next_version(self) -> int:
        """The version the import or batch in progress will get; others wait here in turn."""
        await self.session.execute(
            upsert_ignore(self.session, network_model, {"id": _MODEL_ROW, "version": 0})
        )
        query = (
            select(network_model.c.version)
            .where(network_model.c.id == _MODEL_ROW)
            .with_for_update()
        )
        return int((await self.session.execute(query)).scalar_one()) + 1

    async def clear(self) -> None:
        for table in (customers, devices, nodes):
            await self.session.execute(delete(table))

    async def insert_rows(self, file: str, rows: list[dict[str, Any]]) -> None:
        await bulk_insert(self.session, _TABLES[file], rows)

    async def record_import(self, version: int, imported_at: datetime, imported_by: str) -> None:
        await self._record_version(version, "import", None, imported_by, imported_at)
        await self.session.execute(
            update(network_model)
            .where(network_model.c.id == _MODEL_ROW)
            .values(imported_at=imported_at, imported_by=imported_by)
        )

    async def _record_version(
        self, version: int, kind: str, batch_id: str | None, author: str, at: datetime
    ) -> None:
        await self.session.execute(
            insert(model_versions).values(
                version=version, kind=kind, batch_id=batch_id, author=author, created_at=at
            )
        )
        await self.session.execute(
            update(network_model).where(network_model.c.id == _MODEL_ROW).values(version=version)
        )

    async def load(
        self, touched_since: datetime
    ) -> tuple[NetworkBuilder, int, list[tuple[str, Touch]]]:
        """The stored model in a (lenient) builder, its version, and the nodes touched by a
        change batch since ``touched_since``.

        The tables are read one after the other; a batch committed in between would mix two
        models, so the version is read before and after, and the load repeated if it moved.
        """
        while True:
            version = await self.version()
            builder = NetworkBuilder(strict=False)
            async for row in self._rows(select(nodes.c.node_id, nodes.c.kind, nodes.c.name)):
                builder.add_node(row.node_id, row.kind, row.name)
            query = select(
                devices.c.device_id,
                devices.c.kind,
                devices.c.from_node,
                devices.c.to_node,
                devices.c.normal_state,
                devices.c.name,
            )
            async for row in self._rows(query):
                try:
                    builder.add_device(
                        row.device_id,
                        row.from_node,
                        row.to_node,
                        normally_closed=row.normal_state == "closed",
                        kind=row.kind,
                        name=row.name,
                    )
                except RowRejected:
                    # A device from a node to itself cannot be stored by an import or a batch;
                    # one written by hand is left out of the graph rather than stop the load.
                    continue
            async for row in self._rows(select(customers.c.account_id, customers.c.node_id)):
                builder.add_customer(row.account_id, row.node_id)
            touches = await self.touches_since(touched_since)
            if await self.version() == version:
                return builder, version, touches

    async def _rows(self, query: Select[Any]) -> AsyncIterator[Row[Any]]:
        result = await self.session.stream(query.execution_options(yield_per=_LOAD_BATCH))
        async for partition in result.partitions():
            for row in partition:
                yield row

    async def customers(self, account_ids: Collection[str]) -> dict[str, dict[str, Any] | None]:
        """The stored rows of these accounts (None for an account the model lacks)."""
        found: dict[str, dict[str, Any] | None] = dict.fromkeys(account_ids)
        wanted = sorted(account_ids)
        for start in range(0, len(wanted), _LOOKUP_BATCH):
            query = select(customers).where(
                customers.c.account_id.in_(wanted[start : start + _LOOKUP_BATCH])
            )
            for row in await self.session.execute(query):
                found[row.account_id] = {
                    "name": row.name,
                    "node_id": row.node_id,
                    "voltage_kv": row.voltage_kv,
                    "category": row.category,
                }
        return found

    async def apply(
        self,
        planned: Sequence[PlannedChange],
        *,
        version: int,
        batch_id: str,
        author: str,
        at: datetime,
    ) -> list[int]:
        """Write a checked batch to the model tables and the history; the change ids."""
        for item in planned:
            await self._write(item.change)
        await self._record_version(version, "changes", batch_id, author, at)
        ids = []
        for seq, item in enumerate(planned):
            change = item.change
            result = await self.session.execute(
                insert(network_changes)
                .values(
                    model_version=version,
                    batch_id=batch_id,
                    seq=seq,
                    kind=change.kind.value,
                    element_type=change.kind.element_type,
                    element_id=change.element_id,
                    before=None if change.before is None else dict(change.before),
                    after=None if change.after is None else dict(change.after),
                    reason=item.reason,
                    origin=item.origin,
                    ticket=item.ticket,
                    author=author,
                    changed_at=at,
                )
                .returning(network_changes.c.change_id)
            )
            ids.append(int(result.scalar_one()))
        return ids

    async def _write(self, change: ElementChange) -> None:
        element_type = change.kind.element_type
        table, key = _ELEMENT_TABLES[element_type], _KEYS[element_type]
        if change.before is None and change.after is not None:
            await self.session.execute(
                insert(table).values({key.name: change.element_id, **change.after})
            )
        elif change.after is None:
            await self.session.execute(delete(table).where(key == change.element_id))
        else:
            await self.session.execute(
                update(table).where(key == change.element_id).values(dict(change.after))
            )

    async def batches_since(self, version: int) -> list[StoredBatch] | None:
        """The change batches after ``version``, oldest first; None when an import came after
        it (the whole model must then be read again)."""
        query = (
            select(model_versions)
            .where(model_versions.c.version > version)
            .order_by(model_versions.c.version)
        )
        versions = list(await self.session.execute(query))
        if not versions or any(row.kind == "import" for row in versions):
            return None
        if [row.version for row in versions] != list(
            range(version + 1, version + 1 + len(versions))
        ):
            return None
        changes: dict[int, list[ElementChange]] = {row.version: [] for row in versions}
        query = (
            select(network_changes)
            .where(network_changes.c.model_version > version)
            .order_by(network_changes.c.model_version, network_changes.c.seq)
        )
        for row in await self.session.execute(query):
            changes[row.model_version].append(
                ElementChange(ChangeKind(row.kind), row.element_id, row.before, row.after)
            )
        return [
            StoredBatch(
                version=row.version,
                batch_id=row.batch_id,
                author=row.author,
                changed_at=ensure_aware(row.created_at),
                changes=changes[row.version],
            )
            for row in versions
        ]

    async def history(self, element_type: str, element_id: str, limit: int) -> list[HistoryEntry]:
        """Every change of one element, newest first."""
        query = (
            select(network_changes)
            .where(
                network_changes.c.element_type == element_type,
                network_changes.c.element_id == element_id,
            )
            .order_by(network_changes.c.change_id.desc())
            .limit(limit)
        )
        return [_history_entry(row) for row in await self.session.execute(query)]

    async def provenance(
        self, element_type: str, element_id: str, exists: bool
    ) -> Provenance | None:
        """The last change of an element; the last import when no batch changed it since and
        the element exists; None for an element neither ever had."""
        query = (
            select(network_changes)
            .where(
                network_changes.c.element_type == element_type,
                network_changes.c.element_id == element_id,
            )
            .order_by(network_changes.c.change_id.desc())
            .limit(1)
        )
        row = (await self.session.execute(query)).first()
        last_import = (
            await self.session.execute(
                select(model_versions)
                .where(model_versions.c.kind == "import")
                .order_by(model_versions.c.version.desc())
                .limit(1)
            )
        ).first()
        if row is not None and (last_import is None or row.model_version > last_import.version):
            return Provenance(
                model_version=row.model_version,
                change_id=row.change_id,
                batch_id=row.batch_id,
                kind=row.kind,
                author=row.author,
                origin=row.origin,
                ticket=row.ticket,
                reason=row.reason,
                at=ensure_aware(row.changed_at),
            )
        if last_import is None or not exists:
            return None
        return Provenance(
            model_version=last_import.version,
            change_id=None,
            batch_id=None,
            kind="import",
            author=last_import.author,
            origin="import",
            ticket="",
            reason=messages.IMPORT_REASON,
            at=ensure_aware(last_import.created_at),
        )

    async def touches_since(self, since: datetime) -> list[tuple[str, Touch]]:
        """Nodes changed since ``since``, directly or through a device at them."""
        query = (
            select(
                network_changes.c.element_type,
                network_changes.c.element_id,
                network_changes.c.before,
                network_changes.c.after,
                network_changes.c.batch_id,
                network_changes.c.changed_at,
            )
            .where(
                network_changes.c.changed_at >= since,
                network_changes.c.element_type.in_(("node", "device")),
            )
            .order_by(network_changes.c.change_id)
        )
        touched: list[tuple[str, Touch]] = []
        for row in await self.session.execute(query):
            touch = Touch(ensure_aware(row.changed_at), row.batch_id)
            if row.element_type == "node":
                touched.append((row.element_id, touch))
                continue
            record = row.after or row.before
            touched.extend((record[end], touch) for end in ("from_node", "to_node"))
        return touched


def _history_entry(row: Row[Any]) -> HistoryEntry:
    return HistoryEntry(
        change_id=row.change_id,
        model_version=row.model_version,
        batch_id=row.batch_id,
        kind=row.kind,
        element_type=row.element_type,
        element_id=row.element_id,
        before=row.before,
        after=row.after,
        reason=row.reason,
        origin=row.origin,
        ticket=row.ticket,
        author=row.author,
        changed_at=ensure_aware(row.changed_at),
    )


@dataclass(frozen=True)
class SpotCheckRecord:
    spot_check_id: str
    checked_by: str
    checked_at: datetime
    recorded_at: datetime
    ticket: str
    note: str
    model_version: int
    observations: list[dict[str, Any]]


class DiscrepancyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, discrepancy: Discrepancy) -> None:
        await self.session.execute(insert(discrepancies).values(_discrepancy_columns(discrepancy)))

    async def update(self, discrepancy: Discrepancy) -> None:
        await self.session.execute(
            update(discrepancies)
            .where(discrepancies.c.discrepancy_id == discrepancy.id)
            .values(_discrepancy_columns(discrepancy))
        )

    async def get(self, discrepancy_id: str) -> Discrepancy | None:
        query = select(discrepancies).where(discrepancies.c.discrepancy_id == discrepancy_id)
        row = (await self.session.execute(query)).one_or_none()
        return None if row is None else _discrepancy(row)

    async def by_complaint(self, complaint_id: str) -> Discrepancy | None:
        query = select(discrepancies).where(discrepancies.c.complaint_id == complaint_id)
        row = (await self.session.execute(query)).one_or_none()
        return None if row is None else _discrepancy(row)

    async def open_on(self, elements: Iterable[tuple[str, str]]) -> list[Discrepancy]:
        """The open discrepancies about any of these ``(element_type, element_id)``."""
        wanted = sorted(set(elements))
        found: list[Discrepancy] = []
        for start in range(0, len(wanted), _LOOKUP_BATCH):
            chunk = wanted[start : start + _LOOKUP_BATCH]
            query = select(discrepancies).where(
                discrepancies.c.status == "open",
                or_(
                    *(
                        and_(
                            discrepancies.c.element_type == element_type,
                            discrepancies.c.element_id == element_id,
                        )
                        for element_type, element_id in chunk
                    )
                ),
            )
            found.extend(_discrepancy(row) for row in await self.session.execute(query))
        return found

    async def listed(
        self, *, status: str | None, element_id: str | None, source_id: str | None, limit: int
    ) -> list[Discrepancy]:
        query = select(discrepancies)
        if status is not None:
            query = query.where(discrepancies.c.status == status)
        if element_id is not None:
            query = query.where(discrepancies.c.element_id == element_id)
        if source_id is not None:
            query = query.where(discrepancies.c.source_id == source_id)
        query = query.order_by(
            discrepancies.c.opened_at.desc(), discrepancies.c.discrepancy_id
        ).limit(limit)
        return [_discrepancy(row) for row in await self.session.execute(query)]

    async def count_open(self) -> int:
        query = select(func.count()).where(discrepancies.c.status == "open")
        return int((await self.session.execute(query)).scalar_one())

    async def add_spot_check(self, record: SpotCheckRecord) -> None:
        await self.session.execute(
            insert(spot_checks).values(
                spot_check_id=record.spot_check_id,
                checked_by=record.checked_by,
                checked_at=record.checked_at,
                recorded_at=record.recorded_at,
                ticket=record.ticket,
                note=record.note,
                model_version=record.model_version,
                observations=record.observations,
            )
        )


def _discrepancy_columns(d: Discrepancy) -> dict[str, Any]:
    closure = d.closure
    return {
        "discrepancy_id": d.id,
        "origin": d.origin,
        "element_type": d.element_type,
        "element_id": d.element_id,
        "observation_kind": d.observation.kind.value if d.observation else None,
        "observed": d.observation.value if d.observation else None,
        "modelled": d.modelled,
        "detail": d.detail,
        "status": "open" if closure is None else "closed",
        "opened_by": d.opened_by,
        "opened_at": d.opened_at,
        "source_id": d.source_id,
        "complaint_id": d.source_id if d.origin == "complaint" else None,
        "outage_id": d.outage_id,
        "caused_by": None if d.caused_by is None else d.caused_by.as_dict(),
        "closed_batch_id": closure.batch_id if closure else None,
        "closed_version": closure.model_version if closure else None,
        "closed_by": closure.closed_by if closure else None,
        "closed_at": closure.closed_at if closure else None,
    }


def _discrepancy(row: Row[Any]) -> Discrepancy:
    observation = None
    if row.observation_kind is not None:
        observation = Observation(
            ObservationKind(row.observation_kind), row.element_id, row.observed or ""
        )
    closure = None
    if row.closed_at is not None:
        closure = Closure(
            batch_id=row.closed_batch_id,
            model_version=row.closed_version,
            closed_by=row.closed_by,
            closed_at=ensure_aware(row.closed_at),
        )
    return Discrepancy(
        id=row.discrepancy_id,
        origin=row.origin,
        element_type=row.element_type,
        element_id=row.element_id,
        observation=observation,
        modelled=row.modelled,
        detail=row.detail,
        opened_by=row.opened_by,
        opened_at=ensure_aware(row.opened_at),
        source_id=row.source_id,
        outage_id=row.outage_id,
        caused_by=None if row.caused_by is None else Provenance.of(row.caused_by),
        closure=closure,
    )


class OutageRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, outage_id: str, *, for_update: bool = False) -> Outage | None:
        """The outage; with ``for_update`` its row stays locked until commit (PostgreSQL), so a
        cancellation and a trace of the same outage apply one after the other."""
        query = select(outages).where(outages.c.outage_id == outage_id)
        if for_update:
            query = query.with_for_update()
        row = (await self.session.execute(query)).one_or_none()
        return None if row is None else _outage(row)

    async def exists(self, outage_id: str) -> bool:
        query = select(outages.c.outage_id).where(outages.c.outage_id == outage_id)
        return (await self.session.execute(query)).first() is not None

    async def newest(self, limit: int) -> list[Outage]:
        query = (
            select(outages)
            .order_by(outages.c.planned_at.desc(), outages.c.outage_id.desc())
            .limit(limit)
        )
        return [_outage(row) for row in await self.session.execute(query)]

    async def awaiting_notice(self, now: datetime, below_version: int) -> list[str]:
        """Ids of the traced outages still ahead whose trace is older than ``below_version``."""
        query = (
            select(outages.c.outage_id)
            .where(
                outages.c.status == OutageStatus.TRACED.value,
                outages.c.starts_at > now,
                outages.c.model_version < below_version,
            )
            .order_by(outages.c.starts_at, outages.c.outage_id)
        )
        return list((await self.session.execute(query)).scalars())

    async def add(self, outage: Outage) -> None:
        """Insert a new outage; an id already taken is a :class:`Conflict`."""
        try:
            await self.session.execute(insert(outages).values(_columns(outage)))
        except IntegrityError as exc:
            raise Conflict(messages.OUTAGE_EXISTS.format(outage_id=outage.id)) from exc

    async def update(self, outage: Outage) -> None:
        await self.session.execute(
            update(outages).where(outages.c.outage_id == outage.id).values(_columns(outage))
        )


def _columns(outage: Outage) -> dict[str, Any]:
    trace, cancellation, completion = outage.trace, outage.cancellation, outage.completion
    return {
        "outage_id": outage.id,
        "kind": outage.kind,
        "status": outage.status.value,
        "starts_at": outage.starts_at,
        "ends_at": outage.ends_at,
        "work": outage.work,
        "area": outage.area,
        "operations": [operation.model_dump() for operation in outage.operations],
        "planned_by": outage.planned_by,
        "planned_at": outage.planned_at,
        "plan_warnings": [w.model_dump() for w in outage.plan_warnings],
        "model_version": trace.model_version if trace else None,
        "trace_version": trace.trace_version if trace else None,
        "traced_at": trace.traced_at if trace else None,
        "affected_accounts": trace.affected_accounts if trace else None,
        "transformers": [t.model_dump() for t in trace.transformers] if trace else None,
        "feeders": [f.model_dump() for f in trace.feeders] if trace else None,
        "warnings": [w.model_dump() for w in trace.warnings] if trace else None,
        "affected": outage.affected if trace else None,
        "reschedules": [
            {
                "previous_starts_at": r.previous_starts_at.isoformat(),
                "previous_ends_at": r.previous_ends_at.isoformat(),
                "reason": r.reason,
                "rescheduled_by": r.rescheduled_by,
                "rescheduled_at": r.rescheduled_at.isoformat(),
            }
            for r in outage.reschedules
        ],
        "cancel_reason": cancellation.reason if cancellation else None,
        "cancelled_by": cancellation.cancelled_by if cancellation else None,
        "cancelled_at": cancellation.cancelled_at if cancellation else None,
        "completed_by": completion.completed_by if completion else None,
        "completed_at": completion.completed_at if completion else None,
    }


def _outage(row: Row[Any]) -> Outage:
    trace = None
    if row.traced_at is not None:
        trace = TraceSummary(
            model_version=row.model_version,
            trace_version=row.trace_version,
            traced_at=ensure_aware(row.traced_at),
            affected_accounts=row.affected_accounts,
            transformers=[TransformerScope.model_validate(t) for t in row.transformers],
            feeders=[FeederScope.model_validate(f) for f in row.feeders],
            warnings=[TraceWarning.model_validate(w) for w in row.warnings],
        )
    cancellation = None
    if row.cancelled_at is not None:
        cancellation = Cancellation(
            reason=row.cancel_reason,
            cancelled_by=row.cancelled_by,
            cancelled_at=ensure_aware(row.cancelled_at),
        )
    completion = None
    if row.completed_at is not None:
        completion = Completion(row.completed_by, ensure_aware(row.completed_at))
    return Outage(
        id=row.outage_id,
        kind=row.kind,
        starts_at=ensure_aware(row.starts_at),
        ends_at=ensure_aware(row.ends_at),
        work=row.work,
        area=row.area,
        planned_by=row.planned_by,
        planned_at=ensure_aware(row.planned_at),
        operations=[Operation.model_validate(o) for o in row.operations],
        status=OutageStatus(row.status),
        plan_warnings=[TraceWarning.model_validate(w) for w in row.plan_warnings],
        trace=trace,
        affected=dict(row.affected or {}),
        reschedules=[
            Reschedule(
                previous_starts_at=datetime.fromisoformat(r["previous_starts_at"]),
                previous_ends_at=datetime.fromisoformat(r["previous_ends_at"]),
                reason=r["reason"],
                rescheduled_by=r["rescheduled_by"],
                rescheduled_at=datetime.fromisoformat(r["rescheduled_at"]),
            )
            for r in row.reschedules
        ],
        cancellation=cancellation,
        completion=completion,
    )
