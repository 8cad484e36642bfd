"""Reconciliation's view of an outage, built from topology's and contacts' events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from services.reconciliation.domain.network import Operation


class OutageStatus(StrEnum):
    PLANNED = "planned"  # known, not yet traced
    TRACED = "traced"  # a list exists; reconciled once the window and grace have passed
    RECONCILED = "reconciled"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class OutageRecord:
    outage_id: str
    status: OutageStatus
    starts_at: datetime | None
    ends_at: datetime | None
    completed_at: datetime | None
    operations: tuple[Operation, ...]
    traced: tuple[str, ...]
    list_version: int  # 0: no list approved yet
    listed: tuple[str, ...]  # the approved list's accounts
    revision: int  # reconciliations done

    @property
    def window_end(self) -> datetime | None:
        """The work's real end when it was reported complete, else the planned end."""
        return self.completed_at or self.ends_at

    def compared_list(self) -> tuple[int, tuple[str, ...]]:
        """The list the meters are compared with: the approved one (what people were told),
        or the traced one when none was approved."""
        if self.list_version > 0:
            return self.list_version, self.listed
        return 0, self.traced

    def due_at(self, grace: timedelta) -> datetime | None:
        """When to reconcile: the window's end plus the grace period; None when it cannot be."""
        end = self.window_end
        if self.status is OutageStatus.CANCELLED or end is None or self.starts_at is None:
            return None
        if self.status is OutageStatus.PLANNED:
            return None
        return end + grace
