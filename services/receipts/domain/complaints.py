"""Complaints about notices, traced to their cause against the record.

The utility's customer service (95598) files work orders: "I was not told", "I was told but
the power never went off", "the time was wrong". Each is read against what receipts knows:

* not on the reviewed list although the customer was cut off: the network model or the trace
  is wrong (``model_or_trace``); a what-if trace on today's model tells whether the model
  still misses the customer (图实不符, a field check is due) or has been corrected since;
* on the list but with no usable contact, or only numbers the carrier says do not exist or
  are suspended: the contact registry is wrong (``contact``);
* a usable contact, but nothing was confirmed delivered: the delivery failed (``delivery``);
* delivered (and perhaps acknowledged): the notice reached the customer's side
  (``customer_side``), e.g. an electrician who did not pass it on.

"Told but no outage" is a model or trace error unless the outage was called off, in which
case it is about the cancellation notice. Causes the record cannot show are ``unclassified``.
The ``detail`` (zh-CN) is what the operator and the owning service read.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from services.receipts.domain import messages
from services.receipts.domain.ledger import (
    CANCELLATION,
    UNTARGETED_CHANNELS,
    AccountLedger,
    MessageRecord,
    OutageRecord,
    account_ledgers,
)


class ComplaintType(StrEnum):
    NOT_NOTIFIED = "not_notified"
    NO_OUTAGE = "no_outage"
    WRONG_TIME = "wrong_time"
    OTHER = "other"


class Cause(StrEnum):
    """The values of ``ComplaintCause`` in the event catalogue."""

    MODEL_OR_TRACE = "model_or_trace"
    CONTACT = "contact"
    DELIVERY = "delivery"
    CUSTOMER_SIDE = "customer_side"
    UNCLASSIFIED = "unclassified"


class Finding(StrEnum):
    """What the record shows, more precisely than the cause."""

    NOT_ON_LIST_MODEL_STILL_MISSES = "not_on_list_model_still_misses"
    NOT_ON_LIST_MODEL_NOW_FEEDS = "not_on_list_model_now_feeds"
    NOT_ON_LIST = "not_on_list"
    NO_CONTACT = "no_contact"
    NUMBERS_INVALID = "numbers_invalid"
    NOT_DELIVERED = "not_delivered"
    NOTHING_SENT = "nothing_sent"
    DELIVERED_ACKNOWLEDGED = "delivered_acknowledged"
    DELIVERED = "delivered"
    ON_LIST_MODEL_STILL_FEEDS = "on_list_model_still_feeds"
    ON_LIST_MODEL_NOW_EXCLUDES = "on_list_model_now_excludes"
    ON_LIST_NO_OUTAGE = "on_list_no_outage"
    CANCELLATION_DELIVERED = "cancellation_delivered"
    CANCELLATION_NOT_DELIVERED = "cancellation_not_delivered"
    NEVER_TOLD = "never_told"
    RESCHEDULE_DELIVERED = "reschedule_delivered"
    RESCHEDULE_NOT_DELIVERED = "reschedule_not_delivered"
    TIMES_AS_ANNOUNCED = "times_as_announced"
    OTHER = "other"


CAUSE_OF: dict[Finding, Cause] = {
    Finding.NOT_ON_LIST_MODEL_STILL_MISSES: Cause.MODEL_OR_TRACE,
    Finding.NOT_ON_LIST_MODEL_NOW_FEEDS: Cause.MODEL_OR_TRACE,
    Finding.NOT_ON_LIST: Cause.MODEL_OR_TRACE,
    Finding.NO_CONTACT: Cause.CONTACT,
    Finding.NUMBERS_INVALID: Cause.CONTACT,
    Finding.NOT_DELIVERED: Cause.DELIVERY,
    Finding.NOTHING_SENT: Cause.DELIVERY,
    Finding.DELIVERED_ACKNOWLEDGED: Cause.CUSTOMER_SIDE,
    Finding.DELIVERED: Cause.CUSTOMER_SIDE,
    Finding.ON_LIST_MODEL_STILL_FEEDS: Cause.MODEL_OR_TRACE,
    Finding.ON_LIST_MODEL_NOW_EXCLUDES: Cause.MODEL_OR_TRACE,
    Finding.ON_LIST_NO_OUTAGE: Cause.MODEL_OR_TRACE,
    Finding.CANCELLATION_DELIVERED: Cause.CUSTOMER_SIDE,
    Finding.CANCELLATION_NOT_DELIVERED: Cause.DELIVERY,
    Finding.NEVER_TOLD: Cause.UNCLASSIFIED,
    Finding.RESCHEDULE_DELIVERED: Cause.CUSTOMER_SIDE,
    Finding.RESCHEDULE_NOT_DELIVERED: Cause.DELIVERY,
    Finding.TIMES_AS_ANNOUNCED: Cause.UNCLASSIFIED,
    Finding.OTHER: Cause.UNCLASSIFIED,
}


@dataclass(frozen=True)
class Classification:
    cause: Cause
    finding: Finding
    detail: str


def classify(
    complaint_type: ComplaintType,
    account_id: str,
    record: OutageRecord,
    *,
    what_if_affected: bool | None,
) -> Classification:
    """The cause of a complaint about ``account_id`` and ``record``'s outage.

    ``what_if_affected`` is whether tracing the outage's operations on today's model cuts the
    account off (None: no answer from the topology service, or not asked).
    """
    ledger = account_ledgers(record).get(account_id)
    if complaint_type is ComplaintType.NOT_NOTIFIED:
        finding = _not_notified(ledger, what_if_affected)
    elif complaint_type is ComplaintType.NO_OUTAGE:
        finding = _no_outage(record, account_id, ledger, what_if_affected)
    elif complaint_type is ComplaintType.WRONG_TIME:
        finding = _wrong_time(record, account_id, ledger)
    else:
        finding = Finding.OTHER
    return Classification(CAUSE_OF[finding], finding, messages.COMPLAINT_FINDINGS[finding])


def _not_notified(ledger: AccountLedger | None, what_if_affected: bool | None) -> Finding:
    if ledger is None:
        if what_if_affected is True:
            return Finding.NOT_ON_LIST_MODEL_NOW_FEEDS
        if what_if_affected is False:
            return Finding.NOT_ON_LIST_MODEL_STILL_MISSES
        return Finding.NOT_ON_LIST
    if ledger.reached:
        return Finding.DELIVERED_ACKNOWLEDGED if ledger.acknowledged_at else Finding.DELIVERED
    return _why_not_delivered(ledger)


def _why_not_delivered(ledger: AccountLedger) -> Finding:
    """An account on the list that nothing reached: its contacts, or the delivery?"""
    entries = [e for e in ledger.entries if e.channel not in UNTARGETED_CHANNELS]
    if not entries:
        return Finding.NO_CONTACT
    if not ledger.messages:
        return Finding.NOTHING_SENT
    if all(m.failed and m.number_problem for m in ledger.messages):
        return Finding.NUMBERS_INVALID
    return Finding.NOT_DELIVERED


def _no_outage(
    record: OutageRecord,
    account_id: str,
    ledger: AccountLedger | None,
    what_if_affected: bool | None,
) -> Finding:
    told = ledger is not None and ledger.reached
    if record.cancelled_at is not None:
        if not told:
            return Finding.NEVER_TOLD
        return (
            Finding.CANCELLATION_DELIVERED
            if any(m.confirmed for m in _sent_to(record, account_id, CANCELLATION))
            else Finding.CANCELLATION_NOT_DELIVERED
        )
    if ledger is None and not told:
        return Finding.NEVER_TOLD
    if what_if_affected is False:
        return Finding.ON_LIST_MODEL_NOW_EXCLUDES
    if what_if_affected is True:
        return Finding.ON_LIST_MODEL_STILL_FEEDS
    return Finding.ON_LIST_NO_OUTAGE


def _wrong_time(record: OutageRecord, account_id: str, ledger: AccountLedger | None) -> Finding:
    if record.rescheduled_at is None:
        return Finding.TIMES_AS_ANNOUNCED
    since = record.rescheduled_at
    updated = [
        m
        for m in record.messages
        if account_id in m.account_ids
        and m.notice_kind != CANCELLATION
        and m.sent_at is not None
        and m.sent_at >= since
    ]
    acknowledged = (
        ledger is not None
        and ledger.acknowledged_at is not None
        and (ledger.acknowledged_at >= since)
    )
    if acknowledged or any(m.confirmed for m in updated):
        return Finding.RESCHEDULE_DELIVERED
    return Finding.RESCHEDULE_NOT_DELIVERED


def _sent_to(record: OutageRecord, account_id: str, kind: str) -> list[MessageRecord]:
    return [m for m in record.notices(kind) if account_id in m.account_ids]
