"""Field work: closing a worklist task, and what its outcome means for delivery.

Field staff deliver door slips dispatch printed, visit accounts escalation could not reach
otherwise, and put up postings the area contact did not confirm. They close each task with its
outcome: signed for (签收, with the signer's name), left at the premises, or nobody to tell;
posted (with a photo reference) or not. A signed slip is an acknowledgement as well as a
delivery. A slip that could not be handed over is not a failure for good: another visit may
still get it signed, so it moves the notice to ``expired``, which a later delivery overrides.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from services.receipts.domain.ledger import (
    OUTCOMES_BY_KIND,
    TaskOutcome,
    TaskRecord,
    TaskStatus,
)
from services.receipts.domain.status import ReceiptStatus
from shared.errors import Conflict, InvalidInput

# Field devices' clocks drift; a report a little ahead of ours is not from the future.
CLOCK_SKEW = timedelta(minutes=5)

_STATUS = {
    TaskOutcome.SIGNED: ReceiptStatus.DELIVERED,
    TaskOutcome.LEFT: ReceiptStatus.DELIVERED,
    TaskOutcome.POSTED: ReceiptStatus.DELIVERED,
    TaskOutcome.UNREACHABLE: ReceiptStatus.EXPIRED,
    TaskOutcome.NOT_POSTED: ReceiptStatus.EXPIRED,
}


@dataclass(frozen=True)
class TaskClosing:
    """What field staff report when they close a task."""

    outcome: TaskOutcome
    at: datetime
    signer: str = ""
    photo_ref: str = ""
    note: str = ""


def check_closing(task: TaskRecord, closing: TaskClosing, now: datetime) -> bool:
    """Validate closing ``task``; True if it was already closed exactly so (a retry).

    Raises ``InvalidInput`` naming the field at fault, or ``Conflict`` when the task was
    cancelled or already closed differently.
    """
    if task.status is TaskStatus.CANCELLED:
        raise Conflict(f"task {task.task_id} was cancelled: {task.note}", field="task_id")
    if task.status is TaskStatus.CLOSED:
        if (
            task.outcome is closing.outcome
            and task.completed_at == closing.at
            and task.signer == closing.signer
        ):
            return True
        raise Conflict(
            f"task {task.task_id} was already closed as {task.outcome} by {task.closed_by}",
            field="task_id",
        )
    allowed = OUTCOMES_BY_KIND[task.kind]
    if closing.outcome not in allowed:
        raise InvalidInput(
            f"outcome {closing.outcome.value!r} does not fit a {task.kind.value} task; "
            f"expected one of {sorted(o.value for o in allowed)}",
            field="outcome",
        )
    if closing.outcome is TaskOutcome.SIGNED and not closing.signer.strip():
        raise InvalidInput("a signed receipt needs the signer's name", field="signer")
    if closing.at > now + CLOCK_SKEW:
        raise InvalidInput("the time of the outcome is in the future", field="at")
    return False


@dataclass(frozen=True)
class FieldReport:
    """A field outcome as it moves the delivery state of the notice it concerns."""

    message_id: str
    outcome: TaskOutcome
    at: datetime

    @property
    def status(self) -> ReceiptStatus:
        return _STATUS[self.outcome]

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
