"""The time dispatch judges schedules, quiet hours and daily caps by.

Production uses the system clock. Tests and demos pin it to a chosen moment that then moves
on at the speed of real time (retries and leases still come due), and jump it to a later
moment (the evening of quiet hours, the day of a reminder) without waiting for it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta

Clock = Callable[[], datetime]


class ShiftedClock:
    """Real time, shifted so that it read ``start`` when created."""

    def __init__(self, start: datetime) -> None:
        self.set(start)

    def __call__(self) -> datetime:
        return self._start + timedelta(seconds=time.monotonic() - self._origin)

    def set(self, moment: datetime) -> None:
        self._start = moment
        self._origin = time.monotonic()

    def advance(self, delta: timedelta) -> datetime:
        self.set(self() + delta)
        return self()
