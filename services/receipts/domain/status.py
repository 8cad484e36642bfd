"""Delivery states of a notice and the rule that moves them as receipts arrive.

Carriers push receipts at least once, out of order and sometimes never, so the state of a
notice may only move forward: a receipt that arrives late must not undo a later one.
"""

from __future__ import annotations

from enum import StrEnum


class ReceiptStatus(StrEnum):
    """What a carrier says about a message, in our words (the values of ``SmsStatus``)."""

    ACCEPTED = "accepted"
    UNKNOWN = "unknown"
    DELIVERED = "delivered"
    FAILED = "failed"
    EXPIRED = "expired"

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATUSES


FINAL_STATUSES = frozenset({ReceiptStatus.DELIVERED, ReceiptStatus.FAILED, ReceiptStatus.EXPIRED})


def advance(current: ReceiptStatus | None, incoming: ReceiptStatus) -> ReceiptStatus:
    """The state of a notice in state ``current`` (None: no receipt yet) after one more receipt.

    * ``delivered`` and ``failed`` never change again: the handset confirmed the message, or
      the network refused it for good. Should a carrier contradict itself, the first one stands
      and the contradicting receipt is still kept for the operator.
    * ``expired`` gives way to ``delivered`` only: SMSCs sometimes expire a message too early
      and deliver it on a later retry, and the handset's confirmation beats the SMSC's guess.
    * Any final state beats a non-final one, in whatever order they arrive.
    * Between the non-final ones, ``unknown`` (the carrier lost track) beats ``accepted``
      (taken by the network), which is the earliest thing a carrier can say about a message; an
      ``accepted`` arriving after ``unknown`` is an earlier report delivered late.
    """
    if current is None:
        return incoming
    if current in (ReceiptStatus.DELIVERED, ReceiptStatus.FAILED):
        return current
    if current is ReceiptStatus.EXPIRED:
        return ReceiptStatus.DELIVERED if incoming is ReceiptStatus.DELIVERED else current
    if incoming.is_final:
        return incoming
    if ReceiptStatus.UNKNOWN in (current, incoming):
        return ReceiptStatus.UNKNOWN
    return ReceiptStatus.ACCEPTED
