"""Measured missed-notice and wrong-notice rates over a period.

* missed-notice rate: of the accounts the meters show lost supply in the outages (confirmed +
  missed), the share that was not told;
* wrong-notice rate: of the told accounts whose meters reported (confirmed + wrong), the share
  whose supply was never cut;
* unknown share: of the told accounts, the share no meter reported on (what the rates cannot
  see).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class OutageFigures:
    outage_id: str
    window_ends_at: datetime
    revision: int
    listed: int
    missed: int
    wrong: int
    confirmed: int
    unknown: int


@dataclass(frozen=True)
class PeriodReport:
    outages: int
    listed: int
    missed: int
    wrong: int
    confirmed: int
    unknown: int
    missed_rate: float | None
    wrong_rate: float | None
    unknown_share: float | None
    rows: list[OutageFigures]


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 6) if whole else None


def period_report(rows: Iterable[OutageFigures]) -> PeriodReport:
    ordered = sorted(rows, key=lambda r: (r.window_ends_at, r.outage_id))
    listed = sum(r.listed for r in ordered)
    missed = sum(r.missed for r in ordered)
    wrong = sum(r.wrong for r in ordered)
    confirmed = sum(r.confirmed for r in ordered)
    unknown = sum(r.unknown for r in ordered)
    return PeriodReport(
        outages=len(ordered),
        listed=listed,
        missed=missed,
        wrong=wrong,
        confirmed=confirmed,
        unknown=unknown,
        missed_rate=_share(missed, confirmed + missed),
        wrong_rate=_share(wrong, confirmed + wrong),
        unknown_share=_share(unknown, listed),
        rows=ordered,
    )
