"""What a provider call's outcome makes of a message; above all, unknown is never resent."""

from datetime import UTC, datetime, timedelta

from services.dispatch.domain.outcomes import (
    Accepted,
    AwaitCheck,
    Decision,
    Deferred,
    LookupFailed,
    LookupOutcome,
    MarkFailed,
    MarkSubmitted,
    NotReceived,
    OutcomeUnknown,
    Received,
    Rejected,
    Requeue,
    SubmitOutcome,
    decide_after_lookup,
    decide_after_submit,
)
from services.dispatch.domain.retry import RetryPolicy

NOW = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
POLICY = RetryPolicy(base_s=1.0, max_s=300.0, max_attempts=3)


def after_submit(outcome: SubmitOutcome, attempts: int = 1) -> Decision:
    return decide_after_submit(
        outcome,
        attempts=attempts,
        estimated_parts=2,
        policy=POLICY,
        settle_delay_s=5.0,
        now=NOW,
        draw=0.0,
    )


def after_lookup(outcome: LookupOutcome, attempts: int = 1, checks: int = 1) -> Decision:
    return decide_after_lookup(
        outcome,
        attempts=attempts,
        checks=checks,
        estimated_parts=2,
        policy=POLICY,
        now=NOW,
        draw=0.0,
    )


def test_accepted_is_submitted_with_the_providers_parts_or_our_estimate():
    assert after_submit(Accepted("p-1", 3)) == MarkSubmitted("p-1", 3)
    assert after_submit(Accepted("p-1")) == MarkSubmitted("p-1", 2)


def test_a_rejection_fails_at_once_with_the_providers_code_and_message():
    assert after_submit(Rejected("INVALID_NUMBER", "bad")) == MarkFailed("INVALID_NUMBER: bad")


def test_a_transient_refusal_is_retried_later_until_the_attempts_run_out():
    decision = after_submit(Deferred("UNAVAILABLE: busy"), attempts=2)
    assert decision == Requeue(NOW + timedelta(seconds=1.0), "UNAVAILABLE: busy")
    final = after_submit(Deferred("UNAVAILABLE: busy"), attempts=3)
    assert isinstance(final, MarkFailed)
    assert "UNAVAILABLE: busy" in final.reason
    assert "3 attempts" in final.reason


def test_retry_after_delays_the_next_attempt():
    decision = after_submit(Deferred("THROTTLED: slow down", retry_after_s=30))
    assert decision == Requeue(NOW + timedelta(seconds=30), "THROTTLED: slow down")


def test_an_unknown_outcome_waits_for_a_status_check_and_is_never_requeued():
    decision = after_submit(OutcomeUnknown("no answer within 5s"), attempts=3)
    assert decision == AwaitCheck(NOW + timedelta(seconds=5), "no answer within 5s")


def test_a_check_that_finds_the_message_settles_it_as_submitted():
    assert after_lookup(Received("p-9")) == MarkSubmitted("p-9", 2)


def test_a_check_that_finds_nothing_requeues_unless_attempts_are_used_up():
    assert isinstance(after_lookup(NotReceived(), attempts=1), Requeue)
    assert isinstance(after_lookup(NotReceived(), attempts=3), MarkFailed)


def test_a_failed_check_is_asked_again_later_however_often_it_failed():
    decision = after_lookup(LookupFailed("HTTP 502"), checks=50)
    assert isinstance(decision, AwaitCheck)
    assert NOW < decision.at <= NOW + timedelta(seconds=300)
