"""Coverage computed from the newest list and the notices' outcomes."""

from __future__ import annotations

from datetime import UTC, datetime

from services.receipts.domain.coverage import (
    DeliveryTally,
    NoticeOutcome,
    Submission,
    TargetList,
    compute_coverage,
    tally,
)
from services.receipts.domain.status import ReceiptStatus


def notice(
    message_id: str,
    accounts: tuple[str, ...],
    delivery: ReceiptStatus | None,
    *,
    kind: str = "notice",
    submission: Submission = Submission.SENT,
) -> NoticeOutcome:
    return NoticeOutcome(message_id, kind, accounts, submission, delivery)


def test_tally_counts_non_final_and_missing_receipts_as_pending():
    notices = [
        notice("m1", ("A1",), ReceiptStatus.DELIVERED),
        notice("m2", ("A2",), ReceiptStatus.FAILED),
        notice("m3", ("A3",), ReceiptStatus.EXPIRED),
        notice("m4", ("A4",), ReceiptStatus.ACCEPTED),
        notice("m5", ("A5",), ReceiptStatus.UNKNOWN),
        notice("m6", ("A6",), None),
        notice("m7", ("A7",), None, submission=Submission.FAILED),
    ]

    assert tally(notices) == DeliveryTally(
        sent=6, delivered=1, failed=1, expired=1, pending=3, failed_at_submission=1
    )


def test_reach_is_measured_against_the_newest_list_and_ignores_cancellations():
    targets = TargetList(
        version=2, account_count=5, recipients=3, account_ids=frozenset({"A1", "A2", "A3", "A4"})
    )
    notices = [
        notice("m1", ("A1", "A2"), ReceiptStatus.DELIVERED),
        notice("m2", ("A3",), ReceiptStatus.FAILED),
        notice("m0", ("A9",), ReceiptStatus.DELIVERED),  # dropped from the scope since
        notice("c1", ("A4",), ReceiptStatus.DELIVERED, kind="cancellation"),
        notice("r1", ("A4",), ReceiptStatus.DELIVERED, kind="reminder"),
    ]
    cancelled_at = datetime(2026, 5, 2, tzinfo=UTC)

    coverage = compute_coverage("O-1", targets, notices, cancelled_at)

    assert coverage.list_version == 2
    assert coverage.accounts_targeted == 5
    assert coverage.accounts_without_recipient == 1
    assert coverage.accounts_reached == 2
    assert coverage.accounts_unreached == 3
    assert coverage.accounts_unreached_shown == ("A3", "A4")
    assert coverage.notice.sent == 3
    assert coverage.cancellation == DeliveryTally(sent=1, delivered=1)
    assert coverage.cancelled


def test_only_the_first_hundred_unreached_accounts_are_named():
    accounts = frozenset(f"A{i:03d}" for i in range(150))
    targets = TargetList(version=1, account_count=150, recipients=150, account_ids=accounts)

    coverage = compute_coverage("O-1", targets, [], None)

    assert coverage.accounts_unreached == 150
    assert coverage.accounts_unreached_shown == tuple(sorted(accounts))[:100]
    assert not coverage.cancelled


def test_without_an_approved_list_nothing_is_targeted():
    coverage = compute_coverage("O-1", None, [notice("m1", ("A1",), ReceiptStatus.DELIVERED)], None)

    assert coverage.list_version is None
    assert coverage.accounts_targeted == 0
    assert coverage.accounts_reached == 0
    assert coverage.notice.delivered == 1
