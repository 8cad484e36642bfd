"""Coverage computed from the newest list, the notices on every channel and field work."""

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

from services.receipts.domain.coverage import (
    CoveragePoint,
    DeliveryTally,
    compute_coverage,
    coverage_timeline,
    tally,
)
from services.receipts.domain.escalation import EscalationPolicy
from services.receipts.domain.ledger import TaskKind, TaskOutcome
from services.receipts.domain.status import ReceiptStatus

D, F, E, A, U = (
    ReceiptStatus.DELIVERED,
    ReceiptStatus.FAILED,
    ReceiptStatus.EXPIRED,
    ReceiptStatus.ACCEPTED,
    ReceiptStatus.UNKNOWN,
)
POLICY = EscalationPolicy()
BEFORE_START = START - timedelta(hours=1)


def test_tally_counts_non_final_and_missing_receipts_as_pending():
    notices = [
        message("m1", ["A1"], PHONE[1], delivery=D),
        message("m2", ["A2"], PHONE[2], delivery=F),
        message("m3", ["A3"], PHONE[3], delivery=E),
        message("m4", ["A4"], PHONE[4], delivery=A),
        message("m5", ["A5"], PHONE[5], delivery=U),
        message("m6", ["A6"], PHONE[6]),
        message("m7", ["A7"], PHONE[7], refused="INVALID_NUMBER"),
    ]

    assert tally(notices) == DeliveryTally(
        sent=6, delivered=1, failed=1, expired=1, pending=3, failed_at_submission=1
    )


def test_reach_is_measured_against_the_newest_list_and_ignores_cancellations_and_reminders():
    targets = approved(
        entry("sms", PHONE[1], ["A1", "A2"]),
        entry("sms", PHONE[3], ["A3"]),
        entry("sms", PHONE[4], ["A4"]),
        accounts=["A5"],
        version=2,
    )
    notices = [
        message("m1", ["A1", "A2"], PHONE[1], delivery=D),
        message("m2", ["A3"], PHONE[3], delivery=F),
        message("m0", ["A9"], PHONE[9], delivery=D),  # dropped from the scope since
        message("c1", ["A4"], PHONE[4], delivery=D, kind="cancellation"),
        message("r1", ["A4"], PHONE[4], delivery=D, kind="reminder"),
    ]

    coverage = compute_coverage(
        record(targets, messages=notices, cancelled_at=T0), POLICY, BEFORE_START
    )

    assert coverage.list_version == 2
    assert coverage.accounts_targeted == 5
    assert coverage.accounts_without_recipient == 1
    assert coverage.accounts_reached == 2
    assert coverage.accounts_unreached == 3
    assert coverage.accounts_unreached_shown == ("A3", "A4", "A5")
    assert coverage.notice.sent == 3
    assert coverage.cancellation == DeliveryTally(sent=1, delivered=1)
    assert coverage.cancelled


def test_an_account_is_reached_by_a_confirmation_on_any_channel():
    targets = approved(
        entry("sms", PHONE[1], ["A1"]),
        entry("voice", PHONE[2], ["A2"]),
        entry("door_slip", "A3", ["A3"]),
        entry("posted_notice", "TA-1", ["A4", "A5"]),
        entry("sms", PHONE[6], ["A6"]),
        entry("sms", PHONE[7], ["A7"]),
        entry("sms", PHONE[8], ["A8"]),
    )
    at = T0 + timedelta(hours=1)
    facts = record(
        targets,
        messages=[
            message("m1", ["A1"], PHONE[1], delivery=D),
            message("m2", ["A2"], PHONE[2], channel="voice", delivery=D, stat="answered"),
            message("m6", ["A6"], PHONE[6], delivery=F),
            message("m7", ["A7"], PHONE[7], delivery=E),
        ],
        acks=[ack(["A4", "A5"], at, via="posting_confirmed", channel="posted_notice")],
        tasks=[
            task(TaskKind.DOOR_SLIP, "A3", ["A3"], outcome=TaskOutcome.SIGNED, completed_at=at),
            task(TaskKind.VISIT, "A6", ["A6"], outcome=TaskOutcome.LEFT, completed_at=at),
            task(TaskKind.VISIT, "A7", ["A7"], outcome=TaskOutcome.UNREACHABLE, completed_at=at),
        ],
        escalations=[escalation("A6", 1, at), escalation("A7", 1, at)],
    )

    coverage = compute_coverage(facts, POLICY, BEFORE_START)

    assert coverage.accounts_reached == 6
    assert coverage.accounts_unreached_shown == ("A7", "A8")
    assert coverage.accounts_unreachable == 1
    assert coverage.reachable == 7
    assert coverage.accounts_escalated == 2
    assert coverage.by_channel["voice"] == DeliveryTally(sent=1, delivered=1)
    assert coverage.open_tasks == 0


def test_only_the_customers_own_confirmations_count_as_acknowledged():
    targets = approved(entry("sms", PHONE[1], ["A1"]), entry("posted_notice", "TA-1", ["A2"]))
    at = T0 + timedelta(hours=1)
    facts = record(
        targets,
        messages=[message("m1", ["A1"], PHONE[1], delivery=D)],
        acks=[
            ack(["A1"], at, via="sms_reply"),
            ack(["A2"], at, via="posting_confirmed", channel="posted_notice"),
        ],
    )

    coverage = compute_coverage(facts, POLICY, BEFORE_START)

    assert coverage.accounts_reached == 2
    assert coverage.accounts_acknowledged == 1


def test_accounts_unreached_at_the_start_are_known_once_the_outage_has_begun():
    targets = approved(
        entry("sms", PHONE[1], ["A1"]),
        entry("sms", PHONE[2], ["A2"]),
        entry("sms", PHONE[3], ["A3"]),
    )
    late = START + timedelta(minutes=30)
    facts = record(
        targets,
        messages=[
            message("m1", ["A1"], PHONE[1], delivery=D),
            message("m2", ["A2"], PHONE[2], delivery=D, sent_at=START, settled_at=late),
        ],
    )

    assert compute_coverage(facts, POLICY, BEFORE_START).accounts_unreached_at_start is None
    after = compute_coverage(facts, POLICY, START + timedelta(hours=1))
    assert after.accounts_unreached_at_start == 2
    assert after.accounts_reached == 2
    assert after.accounts_reached_by_deadline == 1
    assert after.deadline == START - timedelta(hours=24)
    cancelled = compute_coverage(
        record(targets, messages=list(facts.messages), cancelled_at=T0),
        POLICY,
        START + timedelta(hours=1),
    )
    assert cancelled.accounts_unreached_at_start is None


def test_time_to_delivery_is_measured_per_channel_in_nearest_rank_percentiles():
    targets = approved(*(entry("sms", PHONE[i], [f"A{i}"]) for i in range(10)))
    notices = [
        message(
            f"m{i}",
            [f"A{i}"],
            PHONE[i],
            delivery=D,
            settled_at=T0 + timedelta(seconds=10 * (i + 1)),
        )
        for i in range(10)
    ] + [
        message(
            "v1",
            ["A0"],
            PHONE[0],
            channel="voice",
            delivery=D,
            settled_at=T0 + timedelta(minutes=5),
        )
    ]

    coverage = compute_coverage(record(targets, messages=notices), POLICY, BEFORE_START)

    sms = coverage.time_to_delivery["sms"]
    assert (sms.count, sms.p50, sms.p90, sms.p99) == (10, 50.0, 90.0, 100.0)
    assert coverage.time_to_delivery["voice"].p50 == 300.0


def test_only_the_first_hundred_unreached_accounts_are_named():
    accounts = [f"A{i:03d}" for i in range(150)]
    targets = approved(accounts=accounts)

    coverage = compute_coverage(record(targets), POLICY, BEFORE_START)

    assert coverage.accounts_unreached == 150
    assert coverage.accounts_unreached_shown == tuple(accounts[:100])
    assert coverage.accounts_without_recipient == 150
    assert not coverage.cancelled


def test_without_an_approved_list_nothing_is_targeted():
    facts = record(None, messages=[message("m1", ["A1"], PHONE[1], delivery=D)])

    coverage = compute_coverage(facts, POLICY, BEFORE_START)

    assert coverage.list_version is None
    assert coverage.accounts_targeted == 0
    assert coverage.accounts_reached == 0
    assert coverage.notice.delivered == 1


def test_the_timeline_steps_up_when_accounts_are_reached_and_acknowledged():
    targets = approved(entry("sms", PHONE[1], ["A1", "A2"]), entry("sms", PHONE[3], ["A3"]))
    t1, t2, t3 = (T0 + timedelta(minutes=m) for m in (1, 5, 30))
    facts = record(
        targets,
        messages=[
            message("m1", ["A1", "A2"], PHONE[1], delivery=D, settled_at=t1),
            message("m3", ["A3"], PHONE[3], delivery=D, settled_at=t2),
        ],
        acks=[ack(["A3"], t3)],
    )

    assert coverage_timeline(facts) == [
        CoveragePoint(t1, 2, 0),
        CoveragePoint(t2, 3, 0),
        CoveragePoint(t3, 3, 1),
    ]
