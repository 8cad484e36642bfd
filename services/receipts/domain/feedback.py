"""What delivery outcomes say about a contact number, for the contact registry.

One failure proves little (a phone switched off for a day); the same number failing again and
again, with no delivery in between, is stale or wrong. After ``threshold`` consecutive failures
receipts tells the registry (``contact.undeliverable``) on every further failure, with the
count, so the registry can mark the number suspect and then invalid and put it on its
maintenance worklist. A delivery clears the count; an unanswered or busy call says nothing
about the number either way.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from services.receipts.domain.calls import CallOutcome
from services.receipts.domain.status import ReceiptStatus


class Signal(StrEnum):
    GOOD = "good"
    BAD = "bad"
    NEUTRAL = "neutral"


def signal_of(channel: str, status: ReceiptStatus, stat: str) -> Signal:
    """What a notice's final state says about its address."""
    if channel == "sms":
        if status is ReceiptStatus.DELIVERED:
            return Signal.GOOD
        if status in (ReceiptStatus.FAILED, ReceiptStatus.EXPIRED):
            return Signal.BAD
    elif channel == "voice":
        if status is ReceiptStatus.DELIVERED:
            return Signal.GOOD
        if stat == CallOutcome.FAILED.value:
            return Signal.BAD
    return Signal.NEUTRAL


@dataclass(frozen=True)
class NumberHealth:
    consecutive_failures: int = 0
    last_reason: str = ""


@dataclass(frozen=True)
class Verdict:
    health: NumberHealth
    report: bool


def judge(health: NumberHealth, signal: Signal, reason: str, threshold: int) -> Verdict:
    """The number's health after one more outcome, and whether to tell the registry."""
    if signal is Signal.GOOD:
        return Verdict(NumberHealth(0, ""), False)
    if signal is Signal.NEUTRAL:
        return Verdict(health, False)
    failures = health.consecutive_failures + 1
    return Verdict(NumberHealth(failures, reason), failures >= threshold)
