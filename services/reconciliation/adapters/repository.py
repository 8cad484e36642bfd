"""Reads and writes of the reconciliation tables, in the session of the caller's unit of work."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.reconciliation.adapters.db import meter_events, meters, outages, suggestions
from services.reconciliation.domain.inference import Evidence
from services.reconciliation.domain.meters import Cause, EventKind, MeterEvent
from services.reconciliation.domain.network import Operation, Supply
from services.reconciliation.domain.outage import OutageRecord, OutageStatus
from services.reconciliation.domain.reconcile import PastEvidence
from services.reconciliation.domain.reports import OutageFigures
from shared.db import upsert_ignore
from shared.timeutil import ensure_aware

CHUNK = 500
ACTIVE = (OutageStatus.TRACED.value, OutageStatus.RECONCILED.value)


def _aware(moment: datetime | None) -> datetime | None:
    return ensure_aware(moment) if moment is not None else None


def _record(row: Any) -> OutageRecord:
    return OutageRecord(
        outage_id=row.outage_id,
        status=OutageStatus(row.status),
        starts_at=_aware(row.starts_at),
        ends_at=_aware(row.ends_at),
        completed_at=_aware(row.completed_at),
        operations=tuple(Operation(o["device_id"], o["action"]) for o in row.operations),
        traced=tuple(row.traced),
        list_version=row.list_version,
        listed=tuple(row.listed),
        revision=row.revision,
    )


@dataclass(frozen=True)
class SuggestionRow:
    suggestion_id: str
    outage_id: str
    status: str
    summary: str
    changes: list[dict[str, Any]]
    elements: list[str]
    evidence: list[dict[str, Any]]
    confidence: float
    alternatives: list[str]
    supersedes: list[str]
    created_at: datetime
    updated_at: datetime
    applied_batch: str | None


def _suggestion(row: Any) -> SuggestionRow:
    return SuggestionRow(
        suggestion_id=row.suggestion_id,
        outage_id=row.outage_id,
        status=row.status,
        summary=row.summary,
        changes=list(row.changes),
        elements=list(row.elements),
        evidence=list(row.evidence),
        confidence=row.confidence,
        alternatives=list(row.alternatives),
        supersedes=list(row.supersedes),
        created_at=ensure_aware(row.created_at),
        updated_at=ensure_aware(row.updated_at),
        applied_batch=row.applied_batch,
    )


class ReconciliationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- outages -------------------------------------------------------------------------------

    async def outage_row(self, outage_id: str, *, lock: bool = False) -> Any | None:
        statement = select(outages).where(outages.c.outage_id == outage_id)
        if lock and self.session.bind is not None and self.session.bind.dialect.name != "sqlite":
            statement = statement.with_for_update()
        return (await self.session.execute(statement)).first()

    async def outage(self, outage_id: str) -> OutageRecord | None:
        row = await self.outage_row(outage_id)
        return _record(row) if row is not None else None

    async def save_outage(self, outage_id: str, now: datetime, **values: Any) -> None:
        """Create the outage with ``values`` or change those columns of the stored one."""
        existing = await self.outage_row(outage_id, lock=True)
        values["updated_at"] = now
        if existing is None:
            row: dict[str, Any] = {
                "outage_id": outage_id,
                "status": OutageStatus.PLANNED.value,
                "operations": [],
                "trace_version": 0,
                "traced": [],
                "list_version": 0,
                "listed": [],
                "revision": 0,
            }
            row.update(values)
            await self.session.execute(outages.insert().values(row))
        else:
            await self.session.execute(
                update(outages).where(outages.c.outage_id == outage_id).values(values)
            )

    async def due(self, now: datetime, limit: int) -> list[str]:
        rows = await self.session.execute(
            select(outages.c.outage_id)
            .where(outages.c.due_at <= now, outages.c.status.in_(ACTIVE))
            .order_by(outages.c.due_at, outages.c.outage_id)
            .limit(limit)
        )
        return [r.outage_id for r in rows]

    async def overlapping_listed(
        self, outage_id: str, starts_at: datetime, ends_at: datetime
    ) -> set[str]:
        """Accounts listed by other outages whose windows overlap this one's."""
        rows = await self.session.execute(
            select(outages).where(
                outages.c.outage_id != outage_id,
                outages.c.status.in_(ACTIVE),
                outages.c.starts_at < ends_at,
                func.coalesce(outages.c.completed_at, outages.c.ends_at) > starts_at,
            )
        )
        out: set[str] = set()
        for row in rows:
            out.update(_record(row).compared_list()[1])
        return out

    async def reopen_late(
        self,
        moments: Collection[datetime],
        *,
        now: datetime,
        lead: timedelta,
        tail: timedelta,
        horizon: timedelta,
    ) -> list[str]:
        """Reconciled outages whose window covers one of ``moments`` and that were reconciled
        less than ``horizon`` ago: due again now."""
        if not moments:
            return []
        first, last = min(moments), max(moments)
        rows = await self.session.execute(
            select(outages).where(
                outages.c.status == OutageStatus.RECONCILED.value,
                outages.c.reconciled_at >= now - horizon,
                outages.c.starts_at <= last + lead,
                func.coalesce(outages.c.completed_at, outages.c.ends_at) >= first - tail,
            )
        )
        ordered = sorted(moments)
        reopened = []
        for row in rows:
            record = _record(row)
            start, end = record.starts_at, record.window_end
            assert start is not None
            assert end is not None
            if any(start - lead <= m <= end + tail for m in ordered):
                reopened.append(record.outage_id)
        if reopened:
            await self.session.execute(
                update(outages)
                .where(outages.c.outage_id.in_(reopened))
                .values(due_at=now, updated_at=now)
            )
        return sorted(reopened)

    async def save_reconciliation(
        self, outage_id: str, expected_revision: int, values: Mapping[str, Any]
    ) -> bool:
        """Store a reconciliation unless another one was stored since (then False)."""
        result = await self.session.execute(
            update(outages)
            .where(outages.c.outage_id == outage_id, outages.c.revision == expected_revision)
            .values(dict(values))
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]  # CursorResult at runtime

    async def past_evidence(
        self, outage_id: str, before: datetime, limit: int
    ) -> list[PastEvidence]:
        """Kept evidence of reconciled outages whose window ended before ``before``, latest
        first (``limit`` of them per feeder at most is what inference weighs; a few times that
        many are read so the feeders' share can be picked)."""
        rows = await self.session.execute(
            select(
                outages.c.outage_id,
                outages.c.operations,
                outages.c.feeders,
                outages.c.evidence,
            )
            .where(
                outages.c.outage_id != outage_id,
                outages.c.status == OutageStatus.RECONCILED.value,
                func.coalesce(outages.c.completed_at, outages.c.ends_at) <= before,
            )
            .order_by(func.coalesce(outages.c.completed_at, outages.c.ends_at).desc())
            .limit(limit * 10)
        )
        out = []
        for row in rows:
            readings: dict[str, Supply] = dict.fromkeys(row.evidence.get("lost", []), Supply.LOST)
            readings.update(dict.fromkeys(row.evidence.get("on", []), Supply.ON))
            operations = tuple(Operation(o["device_id"], o["action"]) for o in row.operations)
            out.append(
                PastEvidence(
                    Evidence(row.outage_id, operations, readings), frozenset(row.feeders or [])
                )
            )
        return out

    async def figures(self, since: datetime, until: datetime) -> list[OutageFigures]:
        window_end = func.coalesce(outages.c.completed_at, outages.c.ends_at)
        rows = await self.session.execute(
            select(outages).where(
                outages.c.status == OutageStatus.RECONCILED.value,
                window_end >= since,
                window_end < until,
            )
        )
        out = []
        for row in rows:
            counts = row.counts or {}
            record = _record(row)
            assert record.window_end is not None
            out.append(
                OutageFigures(
                    outage_id=row.outage_id,
                    window_ends_at=record.window_end,
                    revision=row.revision,
                    listed=counts.get("listed", 0),
                    missed=counts.get("missed", 0),
                    wrong=counts.get("wrong", 0),
                    confirmed=counts.get("confirmed", 0),
                    unknown=counts.get("unknown", 0),
                )
            )
        return out

    # --- meter events and the registry ---------------------------------------------------------

    async def store_events(self, events: Sequence[MeterEvent], received_at: datetime) -> int:
        """Store the events not stored before; return how many were new."""
        stored = 0
        unique: dict[tuple[str, str, str, datetime], MeterEvent] = {}
        for event in events:
            unique.setdefault(event.key, event)
        values = [
            {
                "meter_id": e.meter_id,
                "account_id": e.account_id,
                "kind": e.kind.value,
                "cause": e.cause.value if e.cause else "",
                "occurred_at": e.occurred_at,
                "source_system": e.source_system,
                "received_at": received_at,
            }
            for e in unique.values()
        ]
        for start in range(0, len(values), CHUNK):
            result = await self.session.execute(
                upsert_ignore(self.session, meter_events, values[start : start + CHUNK])
            )
            stored += result.rowcount  # type: ignore[attr-defined]  # CursorResult at runtime
        return stored

    async def events_between(self, first: datetime, last: datetime) -> list[MeterEvent]:
        rows = await self.session.execute(
            select(meter_events).where(
                meter_events.c.occurred_at >= first, meter_events.c.occurred_at <= last
            )
        )
        return [
            MeterEvent(
                meter_id=r.meter_id,
                kind=EventKind(r.kind),
                occurred_at=ensure_aware(r.occurred_at),
                source_system=r.source_system,
                account_id=r.account_id,
                cause=Cause(r.cause) if r.cause else None,
            )
            for r in rows
        ]

    async def registry(self, meter_ids: Iterable[str]) -> dict[str, str]:
        wanted = sorted(set(meter_ids))
        out: dict[str, str] = {}
        for start in range(0, len(wanted), CHUNK):
            rows = await self.session.execute(
                select(meters.c.meter_id, meters.c.account_id).where(
                    meters.c.meter_id.in_(wanted[start : start + CHUNK])
                )
            )
            out.update({r.meter_id: r.account_id for r in rows})
        return out

    async def import_meters(self, pairs: Sequence[tuple[str, str]], at: datetime) -> int:
        """Add or re-map meters; return how many were new."""
        known = await self.registry(m for m, _ in pairs)
        new = [
            {"meter_id": m, "account_id": a, "imported_at": at} for m, a in pairs if m not in known
        ]
        for start in range(0, len(new), CHUNK):
            await self.session.execute(meters.insert().values(new[start : start + CHUNK]))
        for meter_id, account_id in pairs:
            if meter_id in known and known[meter_id] != account_id:
                await self.session.execute(
                    update(meters)
                    .where(meters.c.meter_id == meter_id)
                    .values(account_id=account_id, imported_at=at)
                )
        return len(new)

    # --- suggestions ---------------------------------------------------------------------------

    async def suggestion(self, suggestion_id: str) -> SuggestionRow | None:
        row = (
            await self.session.execute(
                select(suggestions).where(suggestions.c.suggestion_id == suggestion_id)
            )
        ).first()
        return _suggestion(row) if row is not None else None

    async def suggestions_by_id(self, ids: Collection[str]) -> dict[str, SuggestionRow]:
        if not ids:
            return {}
        rows = await self.session.execute(
            select(suggestions).where(suggestions.c.suggestion_id.in_(sorted(ids)))
        )
        return {r.suggestion_id: _suggestion(r) for r in rows}

    async def suggested_for(self, elements: Collection[str]) -> list[SuggestionRow]:
        """Suggestions sent to topology, not applied yet, that change any of ``elements``."""
        rows = await self.session.execute(
            select(suggestions).where(suggestions.c.status == "suggested")
        )
        wanted = set(elements)
        return [s for s in map(_suggestion, rows) if wanted & set(s.elements)]

    async def list_suggestions(
        self, status: str | None, outage_id: str | None, limit: int, offset: int
    ) -> tuple[int, list[SuggestionRow]]:
        conditions = []
        if status:
            conditions.append(suggestions.c.status == status)
        if outage_id:
            conditions.append(suggestions.c.outage_id == outage_id)
        where = and_(*conditions) if conditions else true()
        total = (
            await self.session.execute(select(func.count()).select_from(suggestions).where(where))
        ).scalar_one()
        rows = await self.session.execute(
            select(suggestions)
            .where(where)
            .order_by(suggestions.c.created_at.desc(), suggestions.c.suggestion_id)
            .limit(limit)
            .offset(offset)
        )
        return total, [_suggestion(r) for r in rows]

    async def save_suggestion(self, values: Mapping[str, Any], *, new: bool) -> None:
        if new:
            await self.session.execute(suggestions.insert().values(dict(values)))
        else:
            suggestion_id = values["suggestion_id"]
            await self.session.execute(
                update(suggestions)
                .where(suggestions.c.suggestion_id == suggestion_id)
                .values({k: v for k, v in values.items() if k != "suggestion_id"})
            )

    async def mark_suggestions(
        self, ids: Collection[str], status: str, now: datetime, batch_id: str | None = None
    ) -> None:
        if not ids:
            return
        values: dict[str, Any] = {"status": status, "updated_at": now}
        if batch_id is not None:
            values["applied_batch"] = batch_id
        await self.session.execute(
            update(suggestions).where(suggestions.c.suggestion_id.in_(sorted(ids))).values(values)
        )
