"""The time the reconciliation worker runs on: the system clock, or one a demo or test moves.

Reconciliation waits for an outage's window and grace period to pass; a demonstration cannot
wait hours, and a test must not.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from shared.timeutil import utcnow

Clock = Callable[[], datetime]


class ManualClock:
    """A clock that stands still until moved; starts at ``start`` (aware)."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or utcnow()

    def __call__(self) -> datetime:
        return self._now

    def set(self, moment: datetime) -> None:
        self._now = moment

    def advance(self, delta: timedelta) -> datetime:
        self._now += delta
        return self._now
