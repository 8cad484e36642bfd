"""Each complaint traced to its cause against the record."""

from __future__ import annotations

from datetime import timedelta

import pytest
from receipts_records import PHONE, T0, ack, approved, entry, message, record

from services.receipts.domain.complaints import Cause, ComplaintType, Finding, classify
from services.receipts.domain.status import ReceiptStatus

D, F, E = ReceiptStatus.DELIVERED, ReceiptStatus.FAILED, ReceiptStatus.EXPIRED
NOT_NOTIFIED, NO_OUTAGE, WRONG_TIME, OTHER = (
    ComplaintType.NOT_NOTIFIED,
    ComplaintType.NO_OUTAGE,
    ComplaintType.WRONG_TIME,
    ComplaintType.OTHER,
)
LISTING = approved(
    entry("sms", PHONE[1], ["A1"]),  # delivered and acknowledged
    entry("sms", PHONE[2], ["A2"]),  # delivered
    entry("sms", PHONE[3], ["A3"]),  # number unassigned
    entry("sms", PHONE[4], ["A4"]),  # expired (handset off)
    entry("sms", PHONE[5], ["A5"]),  # never sent
    entry("newspaper", "2026-05-01", ["A6"]),  # no contact of its own
    accounts=["A7"],  # no contact at all
)
MESSAGES = [
    message("m1", ["A1"], PHONE[1], delivery=D),
    message("m2", ["A2"], PHONE[2], delivery=D),
    message("m3", ["A3"], PHONE[3], delivery=F, stat="UNDELIV"),
    message("m4", ["A4"], PHONE[4], delivery=E, stat="EXPIRED"),
]
FACTS = record(LISTING, messages=MESSAGES, acks=[ack(["A1"], T0 + timedelta(minutes=5))])


@pytest.mark.parametrize(
    ("account", "what_if", "cause", "finding"),
    [
        ("A9", None, Cause.MODEL_OR_TRACE, Finding.NOT_ON_LIST),
        ("A9", True, Cause.MODEL_OR_TRACE, Finding.NOT_ON_LIST_MODEL_NOW_FEEDS),
        ("A9", False, Cause.MODEL_OR_TRACE, Finding.NOT_ON_LIST_MODEL_STILL_MISSES),
        ("A7", None, Cause.CONTACT, Finding.NO_CONTACT),
        ("A6", None, Cause.CONTACT, Finding.NO_CONTACT),
        ("A3", None, Cause.CONTACT, Finding.NUMBERS_INVALID),
        ("A4", None, Cause.DELIVERY, Finding.NOT_DELIVERED),
        ("A5", None, Cause.DELIVERY, Finding.NOTHING_SENT),
        ("A2", None, Cause.CUSTOMER_SIDE, Finding.DELIVERED),
        ("A1", None, Cause.CUSTOMER_SIDE, Finding.DELIVERED_ACKNOWLEDGED),
    ],
)
def test_not_notified_is_traced_to_model_contact_delivery_or_customer(
    account, what_if, cause, finding
):
    result = classify(NOT_NOTIFIED, account, FACTS, what_if_affected=what_if)

    assert (result.cause, result.finding) == (cause, finding)
    assert result.detail


def test_a_refused_invalid_number_is_a_contact_error_but_a_carrier_rejection_is_not():
    listing = approved(entry("sms", PHONE[1], ["A1"]), entry("sms", PHONE[2], ["A2"]))
    facts = record(
        listing,
        messages=[
            message("m1", ["A1"], PHONE[1], refused="INVALID_NUMBER"),
            message("m2", ["A2"], PHONE[2], delivery=F, stat="REJECTD"),
        ],
    )

    assert classify(NOT_NOTIFIED, "A1", facts, what_if_affected=None).cause is Cause.CONTACT
    assert classify(NOT_NOTIFIED, "A2", facts, what_if_affected=None).cause is Cause.DELIVERY


@pytest.mark.parametrize(
    ("what_if", "finding"),
    [
        (None, Finding.ON_LIST_NO_OUTAGE),
        (True, Finding.ON_LIST_MODEL_STILL_FEEDS),
        (False, Finding.ON_LIST_MODEL_NOW_EXCLUDES),
    ],
)
def test_told_but_no_outage_is_a_model_or_trace_error(what_if, finding):
    result = classify(NO_OUTAGE, "A2", FACTS, what_if_affected=what_if)

    assert (result.cause, result.finding) == (Cause.MODEL_OR_TRACE, finding)


def test_told_but_no_outage_after_a_cancellation_is_about_the_cancellation_notice():
    cancelled = record(
        LISTING,
        messages=[*MESSAGES, message("c1", ["A1"], PHONE[1], delivery=D, kind="cancellation")],
        cancelled_at=T0 + timedelta(hours=3),
    )

    told = classify(NO_OUTAGE, "A1", cancelled, what_if_affected=None)
    not_told = classify(NO_OUTAGE, "A2", cancelled, what_if_affected=None)
    never = classify(NO_OUTAGE, "A5", cancelled, what_if_affected=None)

    assert (told.cause, told.finding) == (Cause.CUSTOMER_SIDE, Finding.CANCELLATION_DELIVERED)
    assert (not_told.cause, not_told.finding) == (
        Cause.DELIVERY,
        Finding.CANCELLATION_NOT_DELIVERED,
    )
    assert never.cause is Cause.UNCLASSIFIED


def test_wrong_time_depends_on_whether_the_new_times_reached_the_customer():
    moved = T0 + timedelta(hours=6)
    rescheduled = record(
        LISTING,
        messages=[
            *MESSAGES,
            message("r1", ["A1"], PHONE[1], delivery=D, kind="reschedule", sent_at=moved),
        ],
        rescheduled_at=moved,
    )

    assert classify(WRONG_TIME, "A1", rescheduled, what_if_affected=None).cause is (
        Cause.CUSTOMER_SIDE
    )
    assert classify(WRONG_TIME, "A2", rescheduled, what_if_affected=None).cause is Cause.DELIVERY
    as_planned = classify(WRONG_TIME, "A2", FACTS, what_if_affected=None)
    assert (as_planned.cause, as_planned.finding) == (
        Cause.UNCLASSIFIED,
        Finding.TIMES_AS_ANNOUNCED,
    )


def test_other_complaints_are_left_to_a_person():
    assert classify(OTHER, "A1", FACTS, what_if_affected=None).cause is Cause.UNCLASSIFIED
