"""Escalation points and steps, on a fake clock: each rung, the deadline, the visit, postings."""

from __future__ import annotations

from datetime import timedelta

import pytest
from receipts_records import (
    PHONE,
    T0,
    OutageTiming,
    ack,
    approved,
    entry,
    escalation,
    message,
    record,
    task,
)

from services.receipts.domain.escalation import (
    CheckPosting,
    Escalate,
    EscalationPolicy,
    EscalationReason,
    Visit,
    group_requests,
    plan_outage,
)
from services.receipts.domain.ledger import TaskKind
from services.receipts.domain.status import ReceiptStatus

D, F, E = ReceiptStatus.DELIVERED, ReceiptStatus.FAILED, ReceiptStatus.EXPIRED
POLICY = EscalationPolicy()  # deadline 24 h before the start; SMS 2 h, calls 1 h; visit 12 h
WEEK_AHEAD = OutageTiming("planned", T0 + timedelta(days=7), T0 + timedelta(days=7, hours=8))
H = timedelta(hours=1)

# One account with the paper's ladder: the electrical contact by SMS, then by call, then the
# legal representative, then the billing contact.
LADDER = approved(
    entry("sms", PHONE[1], ["A1"], wave=0),
    entry("voice", PHONE[1], ["A1"], wave=1),
    entry("sms", PHONE[2], ["A1"], role="legal", wave=2),
    entry("sms", PHONE[3], ["A1"], role="billing", wave=3),
)


def plan(at, *, messages=(), escalations=(), acks=(), tasks=(), listing=LADDER, **fields):
    facts = record(
        listing,
        messages=list(messages),
        escalations=list(escalations),
        acks=list(acks),
        tasks=list(tasks),
        timing=fields.pop("timing", WEEK_AHEAD),
        **fields,
    )
    return plan_outage(facts, POLICY, at)


def test_a_delivered_account_never_escalates():
    sent = [message("m1", ["A1"], PHONE[1], delivery=D)]

    result = plan(T0 + timedelta(days=5), messages=sent)

    assert result.actions == ()
    assert result.next_check_at is None


def test_a_failed_sms_moves_to_the_call_at_once():
    sent = [message("m1", ["A1"], PHONE[1], delivery=F, stat="UNDELIV")]

    result = plan(T0 + timedelta(minutes=2), messages=sent)

    (action,) = result.actions
    assert action == Escalate("A1", 1, 1, (LADDER.entries[1],), EscalationReason.STEP_FAILED)


def test_an_unconfirmed_sms_moves_on_at_its_escalation_point_and_not_before():
    sent = [message("m1", ["A1"], PHONE[1])]

    early = plan(T0 + 2 * H - timedelta(seconds=1), messages=sent)
    due = plan(T0 + 2 * H, messages=sent)

    assert early.actions == ()
    assert early.next_check_at == T0 + 2 * H
    (action,) = due.actions
    assert isinstance(action, Escalate)
    assert (action.step, action.wave, action.reason) == (1, 1, EscalationReason.UNCONFIRMED)


def test_an_unanswered_call_moves_on_to_the_legal_representative():
    asked = T0 + 2 * H
    sent = [
        message("m1", ["A1"], PHONE[1]),
        message("v1", ["A1"], PHONE[1], channel="voice", delivery=E, stat="no_answer"),
    ]

    result = plan(
        asked + timedelta(minutes=3), messages=sent, escalations=[escalation("A1", 1, asked, 1)]
    )

    (action,) = result.actions
    assert action == Escalate("A1", 2, 2, (LADDER.entries[2],), EscalationReason.STEP_FAILED)


def test_a_call_with_no_result_yet_gets_its_window_then_the_ladder_climbs():
    asked = T0 + 2 * H
    history = [escalation("A1", 1, asked, 1)]

    waiting = plan(asked + timedelta(minutes=59), escalations=history)
    due = plan(asked + H, escalations=history)

    assert waiting.actions == ()
    assert waiting.next_check_at == asked + H
    assert [a.step for a in due.actions] == [2]


def test_after_the_billing_contact_comes_the_field_visit():
    steps = [escalation("A1", 1, T0, 1), escalation("A1", 2, T0, 2), escalation("A1", 3, T0 + H, 3)]
    sent = [message("b1", ["A1"], PHONE[3], sent_at=T0 + H)]

    result = plan(T0 + 3 * H, messages=sent, escalations=steps)

    assert result.actions == (Visit("A1", 4, EscalationReason.UNCONFIRMED),)
    assert result.next_check_at is None


def test_once_the_visit_is_asked_for_nothing_more_happens():
    steps = [escalation("A1", 4, T0)]

    result = plan(T0 + timedelta(days=5), escalations=steps)

    assert result.actions == ()
    assert result.next_check_at is None


def test_an_account_without_any_contact_goes_straight_to_a_visit():
    listing = approved(entry("sms", PHONE[1], ["A1"]), accounts=["A2"])
    sent = [message("m1", ["A1"], PHONE[1], delivery=D)]

    result = plan(T0, messages=sent, listing=listing)

    assert result.actions == (Visit("A2", 1, EscalationReason.NO_CONTACT),)


def test_an_account_whose_every_contact_failed_goes_straight_to_a_visit():
    listing = approved(
        entry("sms", PHONE[1], ["A1"], wave=0), entry("sms", PHONE[2], ["A1"], role="legal", wave=0)
    )
    sent = [
        message("m1", ["A1"], PHONE[1], delivery=F),
        message("m2", ["A1"], PHONE[2], refused="INVALID_NUMBER"),
    ]

    result = plan(T0 + timedelta(minutes=1), messages=sent, listing=listing)

    assert result.actions == (Visit("A1", 1, EscalationReason.ALL_CONTACTS_FAILED),)


def test_a_recipient_that_already_failed_is_not_asked_again_on_the_next_rung():
    listing = approved(
        entry("sms", PHONE[1], ["A1"], wave=0),
        entry("sms", PHONE[2], ["A1"], role="legal", wave=0),
        entry("voice", PHONE[1], ["A1"], wave=1),
        entry("sms", PHONE[2], ["A1"], role="legal", wave=1),
    )
    sent = [
        message("m1", ["A1"], PHONE[1], delivery=F),
        message("m2", ["A1"], PHONE[2], delivery=F),
    ]

    (action,) = plan(T0, messages=sent, listing=listing).actions

    assert isinstance(action, Escalate)
    assert [e.channel for e in action.entries] == ["voice"]


def test_nothing_sent_yet_waits_for_the_latest_point_the_deadline_allows():
    # Visit 12 h before the deadline (6 days after T0), billing 2 h before, legal 2 h before
    # that, the call 1 h before that: the first escalation is due 6 d − 12 h − 5 h after T0.
    result = plan(T0)

    assert result.actions == ()
    assert result.next_check_at == T0 + timedelta(days=6) - 12 * H - 5 * H


def test_a_close_deadline_compresses_every_rung_to_the_minimum_wait():
    soon = OutageTiming("planned", T0 + 30 * H, T0 + 38 * H)  # deadline T0 + 6 h, already tight
    sent = [message("m1", ["A1"], PHONE[1])]

    early = plan(T0 + timedelta(minutes=14), messages=sent, timing=soon)
    due = plan(T0 + timedelta(minutes=15), messages=sent, timing=soon)

    assert early.next_check_at == T0 + timedelta(minutes=15)
    assert [a.step for a in due.actions] == [1]


def test_the_deadline_is_configurable_per_kind():
    policy = EscalationPolicy(deadlines={"temporary": timedelta(hours=2)})
    temporary = OutageTiming("temporary", T0 + 10 * H, T0 + 12 * H)
    planned = OutageTiming("planned", T0 + 10 * H, T0 + 12 * H)

    assert policy.deadline(temporary) == T0 + 8 * H
    assert policy.deadline(planned) == T0 - 14 * H


@pytest.mark.parametrize(
    "fields",
    [
        {"cancelled_at": T0},
        {"completed_at": T0},
        {"timing": OutageTiming("planned", T0, T0 + 8 * H)},  # the outage has begun
        {"timing": None},
    ],
    ids=["cancelled", "completed", "started", "no_times"],
)
def test_nothing_escalates_after_a_cancellation_the_start_or_the_end(fields):
    sent = [message("m1", ["A1"], PHONE[1], delivery=F)]

    result = plan(T0 + H, messages=sent, **fields)

    assert result.actions == ()
    assert result.next_check_at is None


def test_an_account_with_no_first_wave_contact_moves_on_at_once():
    listing = approved(entry("voice", PHONE[1], ["A1"], wave=1))

    (action,) = plan(T0, listing=listing).actions

    assert action == Escalate("A1", 1, 1, (listing.entries[0],), EscalationReason.STEP_FAILED)


def test_an_acknowledgement_or_a_successful_visit_stops_escalation():
    from services.receipts.domain.ledger import TaskOutcome

    sent = [message("m1", ["A1"], PHONE[1], delivery=F)]
    acknowledged = plan(T0 + H, messages=sent, acks=[ack(["A1"], T0 + H)])
    visited = plan(
        T0 + H,
        messages=sent,
        tasks=[task(TaskKind.VISIT, "A1", ["A1"], outcome=TaskOutcome.SIGNED, completed_at=T0)],
    )

    assert acknowledged.actions == visited.actions == ()


def test_an_unconfirmed_posting_becomes_a_field_task_at_its_escalation_point():
    listing = approved(
        entry("posted_notice", "TA-1", ["A1", "A2"]),
        entry("sms", PHONE[9], ["A1", "A2"], role="area"),
    )
    sent = [
        message("p1", ["A1", "A2"], "TA-1", channel="posted_notice"),
        message("m9", ["A1", "A2"], PHONE[9], delivery=D),
    ]

    early = plan(T0 + 11 * H, messages=sent, listing=listing)
    due = plan(T0 + 12 * H, messages=sent, listing=listing)
    confirmed = plan(
        T0 + 12 * H,
        messages=sent,
        listing=listing,
        acks=[
            ack(["A1", "A2"], T0, via="posting_confirmed", channel="posted_notice", address="TA-1")
        ],
    )
    already = plan(
        T0 + 13 * H,
        messages=sent,
        listing=listing,
        tasks=[task(TaskKind.POSTING, "TA-1", ["A1", "A2"])],
    )

    assert early.actions == ()
    assert early.next_check_at == T0 + 12 * H
    assert due.actions == (CheckPosting("TA-1", ("A1", "A2"), "p1"),)
    assert confirmed.actions == already.actions == ()


def test_the_next_check_is_the_earliest_escalation_point_of_any_account():
    listing = approved(
        entry("sms", PHONE[1], ["A1"]),
        entry("voice", PHONE[1], ["A1"], wave=1),
        entry("sms", PHONE[2], ["A2"]),
        entry("voice", PHONE[2], ["A2"], wave=1),
    )
    sent = [
        message("m1", ["A1"], PHONE[1], sent_at=T0),
        message("m2", ["A2"], PHONE[2], sent_at=T0 - H),
    ]

    result = plan(T0, messages=sent, listing=listing)

    assert result.next_check_at == T0 + H


def test_requests_group_accounts_by_recipient_and_keep_a_stable_id():
    shared = entry("voice", PHONE[5], ["A1", "A2", "A3"], wave=1)
    actions = [
        Escalate("A1", 1, 1, (shared,), EscalationReason.STEP_FAILED),
        Escalate("A3", 1, 1, (shared,), EscalationReason.UNCONFIRMED),
    ]

    (spec,) = group_requests("O-1", actions)
    (again,) = group_requests("O-1", list(reversed(actions)))
    (other,) = group_requests("O-1", actions[:1])

    assert spec.recipient.account_ids == ("A1", "A3")
    assert spec.recipient.account_names == ("户A1", "户A3")
    assert spec.step == 1
    assert spec.escalation_id == again.escalation_id != other.escalation_id


def test_accounts_told_by_a_posting_alone_wait_for_the_posting_check_not_a_visit_each():
    listing = approved(entry("posted_notice", "TA-1", ["A1", "A2"]))
    sent = [message("p1", ["A1", "A2"], "TA-1", channel="posted_notice")]
    failed = [
        message("p1", ["A1", "A2"], "TA-1", channel="posted_notice", delivery=E, stat="not_posted")
    ]

    waiting = plan(T0 + timedelta(days=5), messages=sent, listing=listing)
    not_posted = plan(
        T0 + timedelta(days=5),
        messages=failed,
        listing=listing,
        tasks=[task(TaskKind.POSTING, "TA-1", ["A1", "A2"])],
    )

    assert waiting.actions == (CheckPosting("TA-1", ("A1", "A2"), "p1"),)
    assert not_posted.actions == (
        Visit("A1", 1, EscalationReason.ALL_CONTACTS_FAILED),
        Visit("A2", 1, EscalationReason.ALL_CONTACTS_FAILED),
    )
