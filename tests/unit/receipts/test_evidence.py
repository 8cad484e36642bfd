"""The evidence pack of one account: its timeline and the lead time achieved."""

from __future__ import annotations

from datetime import timedelta

from receipts_records import (
    PHONE,
    START,
    T0,
    ack,
    approved,
    entry,
    escalation,
    message,
    record,
    task,
)

from services.receipts.domain.evidence import (
    ComplaintLine,
    EventKind,
    ReplyLine,
    ReportLine,
    build_evidence,
)
from services.receipts.domain.ledger import TaskKind, TaskOutcome
from services.receipts.domain.status import ReceiptStatus

LEADS = {"planned": timedelta(days=7), "temporary": timedelta(hours=24)}
LISTING = approved(
    entry("sms", PHONE[1], ["A1", "A2"], name="张工"),
    entry("voice", PHONE[1], ["A1"], wave=1, name="张工"),
    entry("sms", PHONE[2], ["A1"], role="legal", wave=2, name="李总"),
)
FAILED_AT = T0 + timedelta(minutes=1)
CALLED = T0 + timedelta(minutes=20)


def pack(facts, **extra):
    return build_evidence(
        facts,
        "A1",
        reports=extra.get("reports", []),
        replies=extra.get("replies", []),
        complaints=extra.get("complaints", []),
        deadline=START - timedelta(hours=24),
        required_leads=LEADS,
    )


def test_the_timeline_shows_every_notice_receipt_escalation_and_acknowledgement_in_order():
    facts = record(
        LISTING,
        messages=[
            message("m1", ["A1", "A2"], PHONE[1], delivery=ReceiptStatus.FAILED, stat="UNDELIV"),
            message(
                "v1",
                ["A1"],
                PHONE[1],
                channel="voice",
                delivery=ReceiptStatus.DELIVERED,
                stat="confirmed",
                sent_at=CALLED,
                settled_at=CALLED + timedelta(minutes=1),
            ),
            message("x1", ["A9"], PHONE[9], delivery=ReceiptStatus.DELIVERED),  # not about A1
        ],
        acks=[ack(["A1"], CALLED + timedelta(minutes=1), via="voice_keypress", channel="voice")],
        escalations=[escalation("A1", 1, T0 + timedelta(minutes=2), 1)],
    )
    evidence = pack(
        facts,
        reports=[
            ReportLine("m1", FAILED_AT, "failed", "UNDELIV", "MK:0001", "无法送达"),
            ReportLine("v1", CALLED + timedelta(minutes=1), "", "confirmed", call=True),
            ReportLine("x1", FAILED_AT, "delivered", "DELIVRD"),
        ],
        replies=[ReplyLine(T0 + timedelta(hours=1), "为什么停电", ("m1",))],
        complaints=[ComplaintLine(START, "not_notified", "通知已确认送达")],
    )

    kinds = [event.kind for event in evidence.events]
    assert kinds == [
        EventKind.SENT,
        EventKind.RECEIPT,
        EventKind.ESCALATED,
        EventKind.SENT,
        EventKind.CALL,
        EventKind.ACKNOWLEDGED,
        EventKind.REPLY,
        EventKind.COMPLAINT,
    ]
    first = evidence.events[0].summary
    assert "张工（电气联系人）138****0001" in first
    assert PHONE[1] not in "".join(e.summary for e in evidence.events)
    assert "MK:0001" in evidence.events[1].summary
    assert [c.wave for c in evidence.contacts] == [0, 1, 2]
    assert evidence.contacts[0].address == "138****0001"
    assert evidence.account_name == "户A1"
    assert evidence.first_sent_at == T0
    assert evidence.first_confirmed_at == CALLED + timedelta(minutes=1)
    assert evidence.confirmed_channel == "voice"
    assert evidence.acknowledged_at == CALLED + timedelta(minutes=1)


def test_the_lead_time_is_judged_against_the_rule_for_the_kind():
    delivered = T0 + timedelta(minutes=1)
    facts = record(
        LISTING, messages=[message("m1", ["A1"], PHONE[1], delivery=ReceiptStatus.DELIVERED)]
    )

    evidence = pack(facts)

    assert evidence.lead_time == START - delivered
    assert evidence.required_lead == timedelta(days=7)
    assert evidence.in_time is False  # told about 40 hours ahead of a planned outage


def test_a_signed_visit_counts_and_an_unreached_account_has_no_lead_time():
    signed = T0 + timedelta(hours=5)
    visited = record(
        LISTING,
        tasks=[task(TaskKind.VISIT, "A1", ["A1"], outcome=TaskOutcome.SIGNED, completed_at=signed)],
    )
    untold = record(LISTING)

    assert pack(visited).first_confirmed_at == signed
    assert pack(visited).confirmed_channel == "visit"
    assert [e.kind for e in pack(visited).events] == [EventKind.TASK_CREATED, EventKind.TASK_CLOSED]
    assert pack(untold).lead_time is None
    assert pack(untold).in_time is None
