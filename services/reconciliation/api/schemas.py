"""Response bodies of the reconciliation API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from services.reconciliation import usecases
from services.reconciliation.adapters.repository import SuggestionRow
from services.reconciliation.domain.reports import PeriodReport
from shared.events.catalog import ReconciliationCounts
from shared.timeutil import ensure_aware, local


def _local(moment: datetime | None, timezone: str) -> datetime | None:
    return local(ensure_aware(moment), timezone) if moment is not None else None


class IngestRead(BaseModel):
    received: int = Field(description="Events in the batch.")
    stored: int = Field(description="Events not seen before.")
    duplicates: int = Field(description="Events already stored, ignored.")
    reopened_outages: list[str] = Field(
        description="Reconciled outages these late events are reconciled again for."
    )


class MetersImportRead(BaseModel):
    meters: int
    created: int
    updated: int


class SuggestionRead(BaseModel):
    """A model fix inferred from meter evidence."""

    suggestion_id: str
    outage_id: str = Field(description="The outage whose reconciliation found it.")
    status: str = Field(
        description="pending (waits for more evidence), suggested (sent to topology), applied, "
        "superseded."
    )
    summary: str
    confidence: float
    changes: list[dict[str, Any]] = Field(
        description="The `changes` of a topology change batch (origin meter_reconciliation)."
    )
    evidence: list[dict[str, Any]]
    alternatives: list[str]
    supersedes: list[str]
    created_at: datetime
    updated_at: datetime
    applied_batch: str | None

    @classmethod
    def of(cls, row: SuggestionRow, timezone: str) -> SuggestionRead:
        return cls(
            suggestion_id=row.suggestion_id,
            outage_id=row.outage_id,
            status=row.status,
            summary=row.summary,
            confidence=row.confidence,
            changes=row.changes,
            evidence=row.evidence,
            alternatives=row.alternatives,
            supersedes=row.supersedes,
            created_at=local(row.created_at, timezone),
            updated_at=local(row.updated_at, timezone),
            applied_batch=row.applied_batch,
        )


class SuggestionPage(BaseModel):
    total: int
    suggestions: list[SuggestionRead]


class ReconciliationRead(BaseModel):
    """An outage's list against its meters (counts and accounts empty until reconciled)."""

    outage_id: str
    status: str = Field(description="planned | traced | reconciled | cancelled")
    starts_at: datetime | None
    window_ends_at: datetime | None
    due_at: datetime | None = Field(description="When it will be reconciled (again).")
    revision: int
    reconciled_at: datetime | None
    list_version: int | None = Field(
        description="The approved list compared; 0: the traced list (none was approved)."
    )
    model_version: int | None
    counts: ReconciliationCounts | None
    missed_account_ids: list[str]
    wrong_account_ids: list[str]
    confirmed_account_ids: list[str]
    unknown_account_ids: list[str]
    suggestions: list[SuggestionRead]

    @classmethod
    def of(cls, view: usecases.ReconciliationView, timezone: str) -> ReconciliationRead:
        row, record = view.row, view.record
        classes = row.classes or {}
        return cls(
            outage_id=record.outage_id,
            status=record.status.value,
            starts_at=_local(record.starts_at, timezone),
            window_ends_at=_local(record.window_end, timezone),
            due_at=_local(row.due_at, timezone),
            revision=record.revision,
            reconciled_at=_local(row.reconciled_at, timezone),
            list_version=row.compared_version,
            model_version=row.model_version,
            counts=ReconciliationCounts(**row.counts) if row.counts else None,
            missed_account_ids=classes.get("missed", []),
            wrong_account_ids=classes.get("wrong", []),
            confirmed_account_ids=classes.get("confirmed", []),
            unknown_account_ids=classes.get("unknown", []),
            suggestions=[SuggestionRead.of(s, timezone) for s in view.suggestions],
        )


class OutageFiguresRead(BaseModel):
    outage_id: str
    window_ends_at: datetime
    revision: int
    listed: int
    missed: int
    wrong: int
    confirmed: int
    unknown: int


class ReportRead(BaseModel):
    """Measured notice quality of the outages whose window ended in the period."""

    period_from: datetime = Field(serialization_alias="from")
    period_to: datetime = Field(serialization_alias="to")
    outages: int
    listed: int
    missed: int
    wrong: int
    confirmed: int
    unknown: int
    missed_rate: float | None = Field(
        description="missed / (confirmed + missed): of those the meters show cut off, not told."
    )
    wrong_rate: float | None = Field(
        description="wrong / (confirmed + wrong): of those told whose meters reported, not cut off."
    )
    unknown_share: float | None = Field(description="unknown / listed: told, no meter reported.")
    rows: list[OutageFiguresRead]

    @classmethod
    def of(
        cls, report: PeriodReport, since: datetime, until: datetime, timezone: str
    ) -> ReportRead:
        return cls(
            period_from=local(since, timezone),
            period_to=local(until, timezone),
            outages=report.outages,
            listed=report.listed,
            missed=report.missed,
            wrong=report.wrong,
            confirmed=report.confirmed,
            unknown=report.unknown,
            missed_rate=report.missed_rate,
            wrong_rate=report.wrong_rate,
            unknown_share=report.unknown_share,
            rows=[
                OutageFiguresRead(
                    outage_id=r.outage_id,
                    window_ends_at=local(r.window_ends_at, timezone),
                    revision=r.revision,
                    listed=r.listed,
                    missed=r.missed,
                    wrong=r.wrong,
                    confirmed=r.confirmed,
                    unknown=r.unknown,
                )
                for r in report.rows
            ],
        )
