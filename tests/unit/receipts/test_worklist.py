"""Closing field tasks: what each kind accepts, and retries."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from receipts_records import T0, task

from services.receipts.domain.ledger import TaskKind, TaskOutcome, TaskStatus
from services.receipts.domain.status import ReceiptStatus
from services.receipts.domain.worklist import FieldReport, TaskClosing, check_closing
from shared.errors import Conflict, InvalidInput

NOW = T0 + timedelta(hours=3)
VISIT = task(TaskKind.VISIT, "A1", ["A1"])
POSTING = task(TaskKind.POSTING, "TA-1", ["A1", "A2"])


def test_a_signed_receipt_needs_the_signer():
    with pytest.raises(InvalidInput) as missing:
        check_closing(VISIT, TaskClosing(TaskOutcome.SIGNED, NOW, signer=" "), NOW)

    assert missing.value.field == "signer"
    assert check_closing(VISIT, TaskClosing(TaskOutcome.SIGNED, NOW, signer="王某"), NOW) is False


@pytest.mark.parametrize(
    ("open_task", "outcome"),
    [(VISIT, TaskOutcome.POSTED), (POSTING, TaskOutcome.SIGNED), (POSTING, TaskOutcome.LEFT)],
)
def test_an_outcome_that_does_not_fit_the_task_is_refused(open_task, outcome):
    with pytest.raises(InvalidInput) as refused:
        check_closing(open_task, TaskClosing(outcome, NOW, signer="x"), NOW)

    assert refused.value.field == "outcome"


def test_an_outcome_from_the_future_is_refused_but_a_little_clock_drift_is_not():
    drift = TaskClosing(TaskOutcome.LEFT, NOW + timedelta(minutes=4), signer="")
    future = TaskClosing(TaskOutcome.LEFT, NOW + timedelta(hours=1))

    assert check_closing(VISIT, drift, NOW) is False
    with pytest.raises(InvalidInput) as refused:
        check_closing(VISIT, future, NOW)
    assert refused.value.field == "at"


def test_closing_again_the_same_way_is_a_retry_and_otherwise_a_conflict():
    closed = replace(
        VISIT,
        status=TaskStatus.CLOSED,
        outcome=TaskOutcome.SIGNED,
        completed_at=NOW,
        signer="王某",
        closed_by="field-1",
    )

    assert check_closing(closed, TaskClosing(TaskOutcome.SIGNED, NOW, signer="王某"), NOW)
    with pytest.raises(Conflict):
        check_closing(closed, TaskClosing(TaskOutcome.UNREACHABLE, NOW), NOW)
    with pytest.raises(Conflict):
        check_closing(
            replace(VISIT, status=TaskStatus.CANCELLED), TaskClosing(TaskOutcome.LEFT, NOW), NOW
        )


@pytest.mark.parametrize(
    ("outcome", "status"),
    [
        (TaskOutcome.SIGNED, ReceiptStatus.DELIVERED),
        (TaskOutcome.LEFT, ReceiptStatus.DELIVERED),
        (TaskOutcome.POSTED, ReceiptStatus.DELIVERED),
        (TaskOutcome.UNREACHABLE, ReceiptStatus.EXPIRED),
        (TaskOutcome.NOT_POSTED, ReceiptStatus.EXPIRED),
    ],
)
def test_field_outcomes_move_the_notice_like_receipts_do(outcome, status):
    assert FieldReport("m1", outcome, NOW).status is status
