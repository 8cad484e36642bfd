"""Call outcomes in delivery states, and how they settle whatever their order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.receipts.domain.calls import CallOutcome, CallReport
from services.receipts.domain.reports import in_carrier_order, settle
from services.receipts.domain.status import ReceiptStatus

AT = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("outcome", "status", "acknowledged"),
    [
        (CallOutcome.ANSWERED, ReceiptStatus.DELIVERED, False),
        (CallOutcome.CONFIRMED, ReceiptStatus.DELIVERED, True),
        (CallOutcome.NO_ANSWER, ReceiptStatus.EXPIRED, False),
        (CallOutcome.BUSY, ReceiptStatus.EXPIRED, False),
        (CallOutcome.FAILED, ReceiptStatus.FAILED, False),
    ],
)
def test_each_call_outcome_maps_to_a_delivery_state(outcome, status, acknowledged):
    call = CallReport("v1", outcome, AT)

    assert call.status is status
    assert call.acknowledged is acknowledged
    assert call.stat == outcome.value


def test_a_later_answered_attempt_overrides_an_unanswered_one_but_not_the_reverse():
    no_answer = CallReport("v1", CallOutcome.NO_ANSWER, AT)
    answered = CallReport("v1", CallOutcome.ANSWERED, AT + timedelta(minutes=10))

    assert settle(None, in_carrier_order([answered, no_answer]))[0] is ReceiptStatus.DELIVERED
    assert settle(ReceiptStatus.DELIVERED, [no_answer]) == (ReceiptStatus.DELIVERED, None)


def test_a_call_result_pushed_again_has_the_same_key():
    assert CallReport("v1", CallOutcome.BUSY, AT).key == CallReport("v1", CallOutcome.BUSY, AT).key
    assert (
        CallReport("v1", CallOutcome.BUSY, AT).key != CallReport("v1", CallOutcome.FAILED, AT).key
    )
