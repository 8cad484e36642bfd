"""Message state rules: delivery reports never regress, addresses are masked, urgency."""

import pytest

from services.dispatch.domain.messages import (
    DeliveryStatus,
    NoticeKind,
    mask_address,
    merge_delivery_status,
    priority_of,
)


@pytest.mark.parametrize("reported", ["delivered", "failed", "expired"])
def test_a_first_final_report_is_taken(reported):
    assert merge_delivery_status(None, reported) == DeliveryStatus(reported)


@pytest.mark.parametrize("reported", ["accepted", "unknown"])
def test_a_non_final_report_sets_nothing(reported):
    assert merge_delivery_status(None, reported) is None


@pytest.mark.parametrize("current", list(DeliveryStatus))
@pytest.mark.parametrize("reported", ["delivered", "failed", "expired", "accepted", "unknown"])
def test_a_final_state_never_changes(current, reported):
    assert merge_delivery_status(current, reported) is current


def test_a_mobile_number_is_masked_to_its_first_three_and_last_four_digits():
    assert mask_address("+8613800138000") == "138****8000"
    assert mask_address("13800138000") == "138****8000"
    assert mask_address("+12025550123") == "120****0123"
    assert mask_address("1234") == "****"


def test_cancellations_go_before_notices():
    assert priority_of(NoticeKind.CANCELLATION) < priority_of(NoticeKind.NOTICE)
