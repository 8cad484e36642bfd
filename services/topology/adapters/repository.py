"""Reads and writes of the topology tables, in the session of the caller's unit of work."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.topology.adapters.db import customers, devices, network_model, nodes, outages
from services.topology.domain import messages
from services.topology.domain.bundle import CUSTOMERS_FILE, DEVICES_FILE, NODES_FILE
from services.topology.domain.network import NetworkBuilder
from services.topology.domain.outage import Cancellation, Outage, OutageStatus, TraceSummary
from shared.db import upsert_ignore
from shared.errors import Conflict
from shared.events import FeederScope, Operation, TraceWarning, TransformerScope
from shared.timeutil import ensure_aware

_MODEL_ROW = 1
_LOAD_BATCH = 10_000
_TABLES = {NODES_FILE: nodes, DEVICES_FILE: devices, CUSTOMERS_FILE: customers}


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
        """The version the import in progress will get; concurrent imports wait here in turn."""
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
        if rows:
            await self.session.execute(insert(_TABLES[file]), rows)

    async def set_version(self, version: int, imported_at: datetime, imported_by: str) -> None:
        await self.session.execute(
            update(network_model)
            .where(network_model.c.id == _MODEL_ROW)
            .values(version=version, imported_at=imported_at, imported_by=imported_by)
        )

    async def load(self) -> tuple[NetworkBuilder, int]:
        """The stored model in a builder, and its version.

        The tables are read one after the other; an import committed in between would mix two
        models, so the version is read before and after, and the load repeated if it moved.
        """
        while True:
            version = await self.version()
            builder = NetworkBuilder()
            async for row in self._rows(select(nodes.c.node_id, nodes.c.kind, nodes.c.name)):
                builder.add_node(row.node_id, row.kind, row.name)
            query = select(
                devices.c.device_id, devices.c.from_node, devices.c.to_node, devices.c.normal_state
            )
            async for row in self._rows(query):
                builder.add_device(
                    row.device_id,
                    row.from_node,
                    row.to_node,
                    normally_closed=row.normal_state == "closed",
                )
            async for row in self._rows(select(customers.c.account_id, customers.c.node_id)):
                builder.add_customer(row.account_id, row.node_id)
            if await self.version() == version:
                return builder, version

    async def _rows(self, query: Select[Any]) -> AsyncIterator[Row[Any]]:
        result = await self.session.stream(query.execution_options(yield_per=_LOAD_BATCH))
        async for partition in result.partitions():
            for row in partition:
                yield row


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
    trace, cancellation = outage.trace, outage.cancellation
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
        "model_version": trace.model_version if trace else None,
        "traced_at": trace.traced_at if trace else None,
        "affected_accounts": trace.affected_accounts if trace else None,
        "transformers": [t.model_dump() for t in trace.transformers] if trace else None,
        "feeders": [f.model_dump() for f in trace.feeders] if trace else None,
        "warnings": [w.model_dump() for w in trace.warnings] if trace else None,
        "cancel_reason": cancellation.reason if cancellation else None,
        "cancelled_by": cancellation.cancelled_by if cancellation else None,
        "cancelled_at": cancellation.cancelled_at if cancellation else None,
    }


def _outage(row: Row[Any]) -> Outage:
    trace = None
    if row.traced_at is not None:
        trace = TraceSummary(
            model_version=row.model_version,
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
        trace=trace,
        cancellation=cancellation,
    )
