"""Carrier status words and codes, normalised."""

from __future__ import annotations

import pytest

from services.receipts.domain.carrier import normalise_carrier_status
from services.receipts.domain.status import ReceiptStatus


@pytest.mark.parametrize(
    ("stat", "status"),
    [
        ("DELIVRD", ReceiptStatus.DELIVERED),
        ("UNDELIV", ReceiptStatus.FAILED),
        ("REJECTD", ReceiptStatus.FAILED),
        ("DELETED", ReceiptStatus.FAILED),
        ("SKIPPED", ReceiptStatus.FAILED),
        ("EXPIRED", ReceiptStatus.EXPIRED),
        ("ACCEPTD", ReceiptStatus.ACCEPTED),
        ("ENROUTE", ReceiptStatus.ACCEPTED),
        ("SCHEDLD", ReceiptStatus.ACCEPTED),
        ("UNKNOWN", ReceiptStatus.UNKNOWN),
    ],
)
def test_smpp_and_cmpp_status_words_map_to_our_statuses(stat, status):
    outcome = normalise_carrier_status(stat)

    assert outcome.status is status
    assert outcome.reason_zh
    assert outcome.reason_en


@pytest.mark.parametrize(
    ("stat", "status"),
    [
        ("MK:0001", ReceiptStatus.FAILED),
        ("MK:0005", ReceiptStatus.FAILED),
        ("MI:0013", ReceiptStatus.EXPIRED),
        ("MN:0001", ReceiptStatus.FAILED),
    ],
)
def test_cmpp_error_codes_map_by_their_class_and_name_the_code(stat, status):
    outcome = normalise_carrier_status(stat)

    assert outcome.status is status
    assert stat in outcome.reason_zh
    assert stat in outcome.reason_en


def test_status_words_are_read_regardless_of_case_and_padding():
    assert normalise_carrier_status(" delivrd ").status is ReceiptStatus.DELIVERED
    assert normalise_carrier_status("mk:0001").status is ReceiptStatus.FAILED


@pytest.mark.parametrize("stat", ["DELIVERED", "IB:0008", "CB:0001", "MK-0001", "0", "?"])
def test_anything_unrecognised_is_unknown_and_quotes_the_raw_status(stat):
    outcome = normalise_carrier_status(stat)

    assert outcome.status is ReceiptStatus.UNKNOWN
    assert stat in outcome.reason_zh
    assert stat in outcome.reason_en


def test_only_delivered_failed_and_expired_are_final():
    final = {status for status in ReceiptStatus if status.is_final}

    assert final == {ReceiptStatus.DELIVERED, ReceiptStatus.FAILED, ReceiptStatus.EXPIRED}


@pytest.mark.parametrize(
    ("stat", "number_problem"),
    [
        ("UNDELIV", True),
        ("MK:0001", True),
        ("MK:0000", True),
        ("EXPIRED", False),
        ("MI:0013", False),
        ("REJECTD", False),
        ("MN:0001", False),
        ("DELIVRD", False),
        ("UNKNOWN", False),
    ],
)
def test_only_undeliverable_numbers_point_at_the_contact_rather_than_the_carrier(
    stat, number_problem
):
    assert normalise_carrier_status(stat).number_problem is number_problem
