"""A carrier delivery report as received, and how duplicates of it are recognised."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import Protocol, TypeVar
from zoneinfo import ZoneInfo

from services.receipts.domain.carrier import CarrierOutcome, normalise_carrier_status
from services.receipts.domain.status import ReceiptStatus, advance


class StatusReport(Protocol):
    """Anything that moves a notice's delivery state: a carrier report, a call, a field visit."""

    @property
    def message_id(self) -> str: ...
    @property
    def provider_message_id(self) -> str: ...
    @property
    def stat(self) -> str: ...
    @property
    def err(self) -> str: ...
    @property
    def done_at(self) -> datetime | None: ...
    @property
    def status(self) -> ReceiptStatus: ...


R = TypeVar("R", bound=StatusReport)


@dataclass(frozen=True)
class CarrierReport:
    """One delivery report pushed by a carrier, its datetimes already timezone-aware."""

    provider_message_id: str
    message_id: str
    phone: str
    stat: str
    err: str
    submitted_at: datetime | None
    done_at: datetime | None

    @cached_property
    def outcome(self) -> CarrierOutcome:
        return normalise_carrier_status(self.stat)

    @property
    def status(self) -> ReceiptStatus:
        return self.outcome.status

    @cached_property
    def key(self) -> str:
        """Identity of the report: a carrier that pushes it again sends the same key.

        The carrier retries whole batches and gives no report id, so identity is what the
        report says: which submission, which state, when. The phone is left out, as one
        message has one phone, and so is ``submitted_at``, which some gateways re-stamp.
        """
        done_at = self.done_at.astimezone(UTC).isoformat() if self.done_at else None
        identity = [
            self.message_id,
            self.provider_message_id,
            self.stat.strip().upper(),
            self.err.strip(),
            done_at,
        ]
        return hashlib.sha256(json.dumps(identity).encode()).hexdigest()


def in_carrier_order(reports: Sequence[R]) -> list[R]:
    """Reports in the order the carrier reached their states (undated ones last, as received)."""
    latest = datetime.max.replace(tzinfo=UTC)
    return sorted(reports, key=lambda r: r.done_at.astimezone(UTC) if r.done_at else latest)


def settle(
    current: ReceiptStatus | None, reports: Sequence[R]
) -> tuple[ReceiptStatus | None, R | None]:
    """Apply ``reports`` in turn to a notice in state ``current`` (see :func:`advance`).

    Returns the resulting state and the report that last changed it (None: nothing changed),
    whose stat, err and time then describe the state.
    """
    decisive: R | None = None
    for report in reports:
        following = advance(current, report.status)
        if following is not current:
            current, decisive = following, report
    return current, decisive


def assume_timezone(moment: datetime, timezone: str) -> datetime:
    """``moment`` if aware; otherwise read as local time in ``timezone``.

    CMPP and SMPP gateways stamp reports with the SMSC's local clock and no offset
    (``YYMMDDhhmm``); Chinese carriers mean Beijing time.
    """
    if moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=ZoneInfo(timezone))


def mask_phone(phone: str) -> str:
    """``+8613812345678`` → ``138****5678``: receipts keep no full number (PIPL, Art. 51)."""
    digits = "".join(c for c in phone if c.isdigit())[-11:]
    if len(digits) <= 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]
