"""What outcomes say about a number, and when the registry is told."""

from __future__ import annotations

import pytest

from services.receipts.domain.feedback import NumberHealth, Signal, Verdict, judge, signal_of
from services.receipts.domain.status import ReceiptStatus

D, F, E, A = (
    ReceiptStatus.DELIVERED,
    ReceiptStatus.FAILED,
    ReceiptStatus.EXPIRED,
    ReceiptStatus.ACCEPTED,
)


@pytest.mark.parametrize(
    ("channel", "status", "stat", "signal"),
    [
        ("sms", D, "DELIVRD", Signal.GOOD),
        ("sms", F, "UNDELIV", Signal.BAD),
        ("sms", E, "EXPIRED", Signal.BAD),
        ("sms", A, "ACCEPTD", Signal.NEUTRAL),
        ("voice", D, "answered", Signal.GOOD),
        ("voice", F, "failed", Signal.BAD),
        ("voice", E, "no_answer", Signal.NEUTRAL),
        ("voice", E, "busy", Signal.NEUTRAL),
        ("door_slip", D, "signed", Signal.NEUTRAL),
    ],
)
def test_outcomes_are_read_as_good_bad_or_silent_about_the_number(channel, status, stat, signal):
    assert signal_of(channel, status, stat) is signal


def test_the_registry_is_told_from_the_threshold_on_and_a_delivery_clears_the_count():
    health = NumberHealth()

    first = judge(health, Signal.BAD, "UNDELIV MK:0001", threshold=2)
    second = judge(first.health, Signal.BAD, "UNDELIV MK:0001", threshold=2)
    third = judge(second.health, Signal.BAD, "EXPIRED MI:0013", threshold=2)
    silent = judge(third.health, Signal.NEUTRAL, "", threshold=2)
    cleared = judge(silent.health, Signal.GOOD, "", threshold=2)

    assert (first.report, second.report, third.report) == (False, True, True)
    assert third.health == NumberHealth(3, "EXPIRED MI:0013")
    assert silent == Verdict(third.health, False)
    assert cleared == Verdict(NumberHealth(), False)
