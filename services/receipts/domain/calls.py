"""Outcomes of notice calls (voice), in the delivery states SMS receipts use.

A call that was answered reached the customer; a keypress confirms they heard the notice. A
call nobody picked up is like an SMS that expired: a later attempt under the same message may
still get through, so it gives way to ``answered`` (see :func:`status.advance`). A call the
network could not place at all is a failure for good.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from services.receipts.domain.status import ReceiptStatus


class CallOutcome(StrEnum):
    ANSWERED = "answered"
    CONFIRMED = "confirmed"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    FAILED = "failed"


_STATUS = {
    CallOutcome.ANSWERED: ReceiptStatus.DELIVERED,
    CallOutcome.CONFIRMED: ReceiptStatus.DELIVERED,
    CallOutcome.NO_ANSWER: ReceiptStatus.EXPIRED,
    CallOutcome.BUSY: ReceiptStatus.EXPIRED,
    CallOutcome.FAILED: ReceiptStatus.FAILED,
}


@dataclass(frozen=True)
class CallReport:
    """One call outcome reported by the voice platform, its time timezone-aware."""

    message_id: str
    outcome: CallOutcome
    at: datetime

    @property
    def status(self) -> ReceiptStatus:
        return _STATUS[self.outcome]

    @property
    def acknowledged(self) -> bool:
        """The customer pressed the confirmation key."""
        return self.outcome is CallOutcome.CONFIRMED

    @property
    def provider_message_id(self) -> str:
        return ""

    @property
    def stat(self) -> str:
        return self.outcome.value

    @property
    def err(self) -> str:
        return ""

    @property
    def done_at(self) -> datetime:
        return self.at

    @property
    def key(self) -> str:
        """Identity of the report, so that a platform pushing it again changes nothing."""
        identity = [self.message_id, self.outcome.value, self.at.astimezone(UTC).isoformat()]
        return hashlib.sha256(json.dumps(identity).encode()).hexdigest()
