"""Report identity, carrier order, folding reports into a state, masking and local time."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

from services.receipts.domain.reports import (
    CarrierReport,
    assume_timezone,
    in_carrier_order,
    mask_phone,
    settle,
)
from services.receipts.domain.status import ReceiptStatus

DONE = datetime(2026, 5, 1, 8, 1, tzinfo=UTC)
REPORT = CarrierReport(
    provider_message_id="p-1",
    message_id="m-1",
    phone="+8613800138001",
    stat="DELIVRD",
    err="000",
    submitted_at=datetime(2026, 5, 1, 8, 0, tzinfo=UTC),
    done_at=DONE,
)


def test_the_same_report_pushed_again_has_the_same_key():
    again = replace(
        REPORT,
        phone="",
        stat=" delivrd",
        submitted_at=None,
        done_at=DONE.astimezone(timezone(timedelta(hours=8))),
    )

    assert again.key == REPORT.key


def test_a_different_state_time_or_submission_is_a_different_report():
    variants = [
        replace(REPORT, stat="EXPIRED"),
        replace(REPORT, err="MK:0001"),
        replace(REPORT, done_at=DONE + timedelta(seconds=1)),
        replace(REPORT, done_at=None),
        replace(REPORT, provider_message_id="p-2"),
        replace(REPORT, message_id="m-2"),
    ]

    assert len({REPORT.key, *(variant.key for variant in variants)}) == len(variants) + 1


def test_reports_are_ordered_by_carrier_time_with_undated_ones_last():
    late = replace(REPORT, stat="DELIVRD", done_at=DONE + timedelta(minutes=5))
    undated = replace(REPORT, stat="UNKNOWN", done_at=None)
    early = replace(REPORT, stat="ACCEPTD", done_at=DONE)

    assert in_carrier_order([undated, late, early]) == [early, late, undated]


def test_settle_returns_the_state_and_the_report_that_decided_it():
    expired = replace(REPORT, stat="EXPIRED")
    accepted = replace(REPORT, stat="ACCEPTD")

    assert settle(None, [expired, REPORT, accepted]) == (ReceiptStatus.DELIVERED, REPORT)
    assert settle(ReceiptStatus.FAILED, [REPORT]) == (ReceiptStatus.FAILED, None)


def test_phone_numbers_are_masked_to_the_first_three_and_last_four_digits():
    assert mask_phone("+8613812345678") == "138****5678"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("12345") == "*****"
    assert mask_phone("") == ""


def test_naive_carrier_times_are_read_in_the_given_timezone():
    naive = datetime(2026, 5, 1, 16, 1)
    aware = datetime(2026, 5, 1, 8, 1, tzinfo=UTC)

    assert assume_timezone(naive, "Asia/Shanghai") == aware
    assert assume_timezone(aware, "Asia/Shanghai") is aware
