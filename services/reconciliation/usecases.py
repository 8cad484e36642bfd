"""The service layer of reconciliation; the routes, the event handlers and the worker call it.

An outage's facts arrive as events (plan, trace, approved list, reschedule, completion,
cancellation) and are kept in one row; meter events arrive on Kafka or in bulk over HTTP and are
stored once each. When the window has closed and the grace period passed, :func:`reconcile`
compares the list with the meters, infers model fixes over this and earlier evidence, and
emits ``outage.reconciled`` and ``model.fix_suggested``. It reads in one transaction, computes
outside any (the model comes from topology over HTTP and inference takes CPU), and writes in a
second one that fails if another reconciliation of the same outage was stored meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from services.reconciliation.adapters.repository import ReconciliationRepository, SuggestionRow
from services.reconciliation.config import ReconciliationSettings
from services.reconciliation.domain import messages
from services.reconciliation.domain.inference import Suggestion
from services.reconciliation.domain.meters import (
    Cause,
    EventKind,
    MeterEvent,
    MeterMapping,
    Window,
    account_readings,
    parse_csv,
    parse_json,
    parse_registry,
)
from services.reconciliation.domain.network import Network, Supply
from services.reconciliation.domain.outage import OutageRecord, OutageStatus
from services.reconciliation.domain.reconcile import Judgement, judge
from services.reconciliation.domain.reports import PeriodReport, period_report
from shared.errors import Conflict, InvalidInput, NotFound
from shared.events import (
    ListApproved,
    ModelChanged,
    OutageCancelled,
    OutageCompleted,
    OutagePlanned,
    OutageRescheduled,
    OutageRetraced,
    OutageTraced,
)
from shared.events.catalog import (
    FixEvidence,
    MeterPowerLost,
    MeterPowerRestored,
    ModelFixSuggested,
    OutageReconciled,
    ReconciliationCounts,
)
from shared.timeutil import ensure_aware, utcnow
from shared.uow import UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)


class NetworkSource(Protocol):
    async def snapshot(self) -> Network: ...


# --- outage facts ---------------------------------------------------------------------------------


async def _refresh_due(repo: ReconciliationRepository, outage_id: str, grace: timedelta) -> None:
    record = await repo.outage(outage_id)
    assert record is not None
    now = utcnow()
    if record.status is OutageStatus.RECONCILED:
        return  # only late meter events reopen a reconciled outage
    await repo.save_outage(outage_id, now, due_at=record.due_at(grace))


async def record_outage_planned(
    event: OutagePlanned, uow: UnitOfWork, settings: ReconciliationSettings
) -> None:
    repo = ReconciliationRepository(uow.session)
    await repo.save_outage(
        event.outage_id,
        utcnow(),
        starts_at=event.details.starts_at,
        ends_at=event.details.ends_at,
        operations=[o.model_dump() for o in event.operations],
    )
    await _refresh_due(repo, event.outage_id, settings.grace())


async def record_outage_traced(
    event: OutageTraced | OutageRetraced, uow: UnitOfWork, settings: ReconciliationSettings
) -> None:
    repo = ReconciliationRepository(uow.session)
    row = await repo.outage_row(event.outage_id)
    known = await repo.outage(event.outage_id)
    if known is not None and known.status is OutageStatus.CANCELLED:
        return
    if row is not None and event.trace_version < row.trace_version:
        return  # an older trace arriving late changes nothing
    values: dict[str, Any] = {
        "starts_at": event.details.starts_at,
        "ends_at": event.details.ends_at,
        "trace_version": event.trace_version,
        "traced": sorted(a.account_id for a in event.affected_accounts),
        "model_version": event.model_version,
    }
    if known is None or known.status is OutageStatus.PLANNED:
        values["status"] = OutageStatus.TRACED.value
    await repo.save_outage(event.outage_id, utcnow(), **values)
    await _refresh_due(repo, event.outage_id, settings.grace())


async def record_list_approved(
    event: ListApproved, uow: UnitOfWork, settings: ReconciliationSettings
) -> None:
    repo = ReconciliationRepository(uow.session)
    known = await repo.outage(event.outage_id)
    if known is not None and (
        known.status is OutageStatus.CANCELLED or known.list_version >= event.version
    ):
        return
    values: dict[str, Any] = {
        "starts_at": event.details.starts_at,
        "ends_at": event.details.ends_at,
        "list_version": event.version,
        "listed": sorted(set(event.account_ids)),
    }
    if known is None or known.status is OutageStatus.PLANNED:
        values["status"] = OutageStatus.TRACED.value
    await repo.save_outage(event.outage_id, utcnow(), **values)
    await _refresh_due(repo, event.outage_id, settings.grace())


async def record_outage_rescheduled(
    event: OutageRescheduled, uow: UnitOfWork, settings: ReconciliationSettings
) -> None:
    repo = ReconciliationRepository(uow.session)
    await repo.save_outage(
        event.outage_id,
        utcnow(),
        starts_at=event.details.starts_at,
        ends_at=event.details.ends_at,
    )
    await _refresh_due(repo, event.outage_id, settings.grace())


async def record_outage_completed(
    event: OutageCompleted, uow: UnitOfWork, settings: ReconciliationSettings
) -> None:
    repo = ReconciliationRepository(uow.session)
    await repo.save_outage(event.outage_id, utcnow(), completed_at=event.completed_at)
    await _refresh_due(repo, event.outage_id, settings.grace())


async def record_outage_cancelled(event: OutageCancelled, uow: UnitOfWork) -> None:
    repo = ReconciliationRepository(uow.session)
    await repo.save_outage(
        event.outage_id, utcnow(), status=OutageStatus.CANCELLED.value, due_at=None
    )


async def record_model_changed(event: ModelChanged, uow: UnitOfWork) -> None:
    """A change batch applied one of our suggestions (its ticket): it is applied."""
    tickets = {c.ticket for c in event.changes if c.origin == "meter_reconciliation" and c.ticket}
    if tickets:
        repo = ReconciliationRepository(uow.session)
        known = await repo.suggestions_by_id(tickets)
        await repo.mark_suggestions(set(known), "applied", utcnow(), batch_id=event.batch_id)


# --- meter events ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ingested:
    received: int
    stored: int
    reopened: list[str]  # reconciled outages the late events reopen

    @property
    def duplicates(self) -> int:
        return self.received - self.stored


async def ingest(
    events: Sequence[MeterEvent], uow: UnitOfWork, settings: ReconciliationSettings
) -> Ingested:
    """Store meter events once each; late ones reopen the reconciled outages they concern."""
    repo = ReconciliationRepository(uow.session)
    now = utcnow()
    stored = await repo.store_events(events, now)
    reopened: list[str] = []
    if stored:
        reopened = await repo.reopen_late(
            {e.occurred_at for e in events},
            now=now,
            lead=timedelta(minutes=settings.loss_lead_min),
            tail=timedelta(minutes=settings.restore_tail_min),
            horizon=timedelta(days=settings.late_horizon_days),
        )
    return Ingested(len(events), stored, reopened)


def parse_batch(
    data: bytes, content_type: str, settings: ReconciliationSettings
) -> list[MeterEvent]:
    kind = content_type.split(";")[0].strip().lower()
    parse = {"text/csv": parse_csv, "application/csv": parse_csv, "application/json": parse_json}
    if kind in parse:
        return parse[kind](
            data,
            timezone=settings.timezone,
            default_source=settings.default_source_system,
            limit=settings.max_batch_events,
        )
    raise InvalidInput(
        messages.BAD_CONTENT_TYPE.format(value=content_type or "-"), field="Content-Type"
    )


def meter_event_of(event: MeterPowerLost | MeterPowerRestored) -> MeterEvent:
    if isinstance(event, MeterPowerLost):
        return MeterEvent(
            event.meter_id, EventKind.LOST, event.occurred_at, event.source_system, event.account_id
        )
    return MeterEvent(
        event.meter_id,
        EventKind.RESTORED,
        event.occurred_at,
        event.source_system,
        event.account_id,
        Cause(event.cause),
    )


async def import_meters(data: bytes, uow: UnitOfWork) -> dict[str, int]:
    pairs = parse_registry(data)
    created = await ReconciliationRepository(uow.session).import_meters(pairs, utcnow())
    return {"meters": len(pairs), "created": created, "updated": len(pairs) - created}


# --- reconciliation -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    outage_id: str
    revision: int
    changed: bool  # a new outage.reconciled was emitted
    suggested: list[str]  # model.fix_suggested emitted now


def _window(record: OutageRecord, settings: ReconciliationSettings) -> Window:
    assert record.starts_at is not None
    assert record.window_end is not None
    return Window(
        record.starts_at,
        record.window_end,
        lead=timedelta(minutes=settings.loss_lead_min),
        tail=timedelta(minutes=settings.restore_tail_min),
    )


async def reconcile(
    outage_id: str,
    *,
    uow_factory: UnitOfWorkFactory,
    network: NetworkSource,
    settings: ReconciliationSettings,
    now: datetime,
    force: bool = False,
) -> Outcome | None:
    """Reconcile one outage if it is due (or, with ``force``, once its window is over).

    Returns None when it is not due; raises NotFound / Conflict for an outage that cannot be
    reconciled (the routes show them, the worker never picks such outages).
    """
    async with uow_factory() as uow:
        repo = ReconciliationRepository(uow.session)
        record = await repo.outage(outage_id)
        if record is None:
            raise NotFound(messages.OUTAGE_UNKNOWN.format(outage=outage_id), field="outage_id")
        if record.status is OutageStatus.CANCELLED:
            raise Conflict(messages.OUTAGE_CANCELLED.format(outage=outage_id), field="outage_id")
        due = record.due_at(settings.grace())
        row = await repo.outage_row(outage_id)
        assert row is not None
        if due is None or record.window_end is None:
            raise Conflict(messages.OUTAGE_NOT_TRACED.format(outage=outage_id), field="outage_id")
        if force:
            if now < record.window_end:
                raise Conflict(
                    messages.OUTAGE_NOT_OVER.format(
                        outage=outage_id, ends_at=record.window_end.isoformat()
                    ),
                    field="outage_id",
                )
        elif row.due_at is None or now < ensure_aware(row.due_at):
            return None
        window = _window(record, settings)
        events = await repo.events_between(
            window.starts_at - window.lead, window.ends_at + window.tail
        )
        registry = await repo.registry(e.meter_id for e in events)
        claimed = await repo.overlapping_listed(outage_id, window.starts_at, window.ends_at)
        history = await repo.past_evidence(outage_id, window.ends_at, settings.history_outages)
        stored_classes = row.classes
    snapshot = await network.snapshot()
    mapping = MeterMapping(registry, settings.meter_prefix, settings.account_prefix)
    readings = account_readings(events, mapping.resolve(events), window)
    list_version, listed = record.compared_list()
    judgement = await asyncio.to_thread(
        judge,
        snapshot,
        outage_id=outage_id,
        operations=record.operations,
        listed=listed,
        readings=readings,
        claimed=claimed,
        history=history,
        history_limit=settings.history_outages,
        settings=settings.inference(),
    )
    async with uow_factory() as uow:
        repo = ReconciliationRepository(uow.session)
        suggested, supported = await _suggest(repo, uow, judgement, snapshot, outage_id, settings)
        classes = _classes(judgement)
        changed = classes != stored_classes
        revision = record.revision + 1 if changed else record.revision
        values = {
            "status": OutageStatus.RECONCILED.value,
            "due_at": None,
            "reconciled_at": now,
            "updated_at": now,
            "revision": revision,
            "model_version": snapshot.version,
            "compared_version": list_version,
            "counts": judgement.reconciliation.counts(),
            "classes": classes,
            "feeders": sorted(judgement.feeders),
            "evidence": {
                "lost": sorted(a for a, r in judgement.readings.items() if r is Supply.LOST),
                "on": sorted(a for a, r in judgement.readings.items() if r is Supply.ON),
            },
            "suggestion_ids": supported,
        }
        if not await repo.save_reconciliation(outage_id, record.revision, values):
            log.info("outage %s was reconciled meanwhile; this result is dropped", outage_id)
            return None
        if changed:
            result = judgement.reconciliation
            uow.emit(
                OutageReconciled(
                    outage_id=outage_id,
                    revision=revision,
                    list_version=list_version,
                    model_version=snapshot.version,
                    window_starts_at=window.starts_at,
                    window_ends_at=window.ends_at,
                    counts=ReconciliationCounts(**result.counts()),
                    missed_account_ids=list(result.missed),
                    wrong_account_ids=list(result.wrong),
                    confirmed_account_ids=list(result.confirmed),
                    unknown_account_ids=list(result.unknown),
                    suggestion_ids=supported,
                    reconciled_at=now,
                )
            )
        await uow.commit()
    return Outcome(outage_id, revision, changed, suggested)


def _classes(judgement: Judgement) -> dict[str, list[str]]:
    result = judgement.reconciliation
    return {
        "missed": list(result.missed),
        "wrong": list(result.wrong),
        "confirmed": list(result.confirmed),
        "unknown": list(result.unknown),
    }


async def _suggest(
    repo: ReconciliationRepository,
    uow: UnitOfWork,
    judgement: Judgement,
    network: Network,
    outage_id: str,
    settings: ReconciliationSettings,
) -> tuple[list[str], list[str]]:
    """Store the inferred fixes; send those confident enough (once each) to topology.

    Returns the suggestions sent now and every sent one this outage's evidence supports.
    """
    found = judgement.inference.suggestions
    known = await repo.suggestions_by_id({s.fix.suggestion_id for s in found})
    now = utcnow()
    sent: list[str] = []
    supported: list[str] = []
    for suggestion in found:
        fix = suggestion.fix
        suggestion_id = fix.suggestion_id
        existing = known.get(suggestion_id)
        if existing is not None and existing.status == "applied":
            continue  # topology applied it; the model we read predates that
        values = _suggestion_values(suggestion, network, outage_id, now)
        confident = suggestion.confidence >= settings.min_confidence
        if existing is not None and existing.status == "suggested":
            await repo.save_suggestion(
                {k: values[k] for k in ("suggestion_id", "evidence", "confidence", "updated_at")},
                new=False,
            )
            supported.append(suggestion_id)
            continue
        if not confident:
            values["status"] = "pending"
            await repo.save_suggestion(values, new=existing is None)
            continue
        replaced = [
            s.suggestion_id
            for s in await repo.suggested_for(fix.elements)
            if s.suggestion_id != suggestion_id
        ]
        await repo.mark_suggestions(replaced, "superseded", now)
        values.update(status="suggested", supersedes=replaced)
        await repo.save_suggestion(values, new=existing is None)
        uow.emit(_fix_event(values, now))
        sent.append(suggestion_id)
        supported.append(suggestion_id)
    return sent, supported


def _suggestion_values(
    suggestion: Suggestion, network: Network, outage_id: str, now: datetime
) -> dict[str, Any]:
    fix = suggestion.fix
    return {
        "suggestion_id": fix.suggestion_id,
        "outage_id": outage_id,
        "summary": fix.describe(network),
        "changes": fix.proposed_changes(network, outage_id=outage_id, ticket=fix.suggestion_id),
        "elements": sorted(fix.elements),
        "evidence": [
            {
                "outage_id": outage,
                "explained_account_ids": list(accounts),
                "contradicted_account_ids": list(suggestion.contradicted.get(outage, ())),
            }
            for outage, accounts in sorted(suggestion.explained.items())
        ],
        "confidence": suggestion.confidence,
        "alternatives": [a.describe(network) for a in suggestion.alternatives],
        "supersedes": [],
        "created_at": now,
        "updated_at": now,
    }


def _fix_event(values: dict[str, Any], now: datetime) -> ModelFixSuggested:
    return ModelFixSuggested.model_validate(
        {
            "suggestion_id": values["suggestion_id"],
            "outage_id": values["outage_id"],
            "summary": values["summary"],
            "changes": values["changes"],
            "evidence": [FixEvidence(**e) for e in values["evidence"]],
            "confidence": values["confidence"],
            "alternatives": values["alternatives"],
            "supersedes": values["supersedes"],
            "suggested_at": now,
        }
    )


async def reconcile_due(
    *,
    uow_factory: UnitOfWorkFactory,
    network: NetworkSource,
    settings: ReconciliationSettings,
    now: datetime,
) -> list[Outcome]:
    """Reconcile every outage due at ``now``, each on its own; one that fails is logged and
    stays due, so it is tried again next round."""
    async with uow_factory() as uow:
        due = await ReconciliationRepository(uow.session).due(now, settings.worker_batch)
    done = []
    for outage_id in due:
        try:
            outcome = await reconcile(
                outage_id, uow_factory=uow_factory, network=network, settings=settings, now=now
            )
        except Exception:
            log.exception("reconciling outage %s failed; it stays due", outage_id)
            continue
        if outcome is not None:
            done.append(outcome)
    return done


# --- reading -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReconciliationView:
    record: OutageRecord
    row: Any
    suggestions: list[SuggestionRow]


async def reconciliation_view(outage_id: str, uow: UnitOfWork) -> ReconciliationView:
    repo = ReconciliationRepository(uow.session)
    row = await repo.outage_row(outage_id)
    if row is None:
        raise NotFound(messages.OUTAGE_UNKNOWN.format(outage=outage_id), field="outage_id")
    record = await repo.outage(outage_id)
    assert record is not None
    _total, rows = await repo.list_suggestions(None, outage_id, 1000, 0)
    supported = await repo.suggestions_by_id(
        set(row.suggestion_ids or []) - {r.suggestion_id for r in rows}
    )
    return ReconciliationView(record, row, rows + list(supported.values()))


async def suggestion(suggestion_id: str, uow: UnitOfWork) -> SuggestionRow:
    found = await ReconciliationRepository(uow.session).suggestion(suggestion_id)
    if found is None:
        raise NotFound(
            messages.SUGGESTION_UNKNOWN.format(suggestion=suggestion_id), field="suggestion_id"
        )
    return found


async def report(since: datetime, until: datetime, uow: UnitOfWork) -> PeriodReport:
    if since >= until:
        raise InvalidInput(messages.BAD_PERIOD, field="from")
    rows = await ReconciliationRepository(uow.session).figures(since, until)
    return period_report(rows)


async def list_suggestions(
    status: str | None, outage_id: str | None, limit: int, offset: int, uow: UnitOfWork
) -> tuple[int, list[SuggestionRow]]:
    return await ReconciliationRepository(uow.session).list_suggestions(
        status, outage_id, limit, offset
    )


def assume_local(moment: datetime, settings: ReconciliationSettings) -> datetime:
    """``moment`` if aware, else read as local time of the service's time zone."""
    if moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=ZoneInfo(settings.timezone))
