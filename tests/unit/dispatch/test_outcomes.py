"""What a provider call's outcome makes of a message; above all, unknown is never resent."""

from datetime import UTC, datetime, timedelta

from services.dispatch.domain.outcomes import (
    Accepted,
    AwaitCheck,
    DailyCapReached,
    Decision,
    Deferred,
    LookupFailed,
    LookupOutcome,
    MarkFailed,
    MarkSubmitted,
    MarkUnresolved,
    NotReceived,
    OutcomeUnknown,
    Received,
    Rejected,
    Requeue,
    SubmitOutcome,
    decide_after_lookup,
    decide_after_submit,
    provider_health,
)
from services.dispatch.domain.retry import RetryPolicy

NOW = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
TOMORROW = datetime(2026, 3, 1, 23, 0, tzinfo=UTC)  # 07:00 in Shanghai, after quiet hours
POLICY = RetryPolicy(base_s=1.0, max_s=300.0, max_attempts=3)


def after_submit(outcome: SubmitOutcome, attempts: int = 1, can_lookup: bool = True) -> Decision:
    return decide_after_submit(
        outcome,
        attempts=attempts,
        estimated_parts=2,
        policy=POLICY,
        settle_delay_s=5.0,
        now=NOW,
        draw=0.0,
        cap_resets_at=TOMORROW,
        can_lookup=can_lookup,
    )


def after_lookup(
    outcome: LookupOutcome, attempts: int = 1, checks: int = 1, can_lookup: bool = True
) -> Decision:
    return decide_after_lookup(
        outcome,
        attempts=attempts,
        checks=checks,
        estimated_parts=2,
        policy=POLICY,
        now=NOW,
        draw=0.0,
        can_lookup=can_lookup,
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


def test_a_number_over_its_daily_cap_waits_for_the_next_day_without_failing():
    decision = after_submit(DailyCapReached("DAILY_LIMIT: try tomorrow"), attempts=3)
    assert decision == Requeue(TOMORROW, "daily_cap: DAILY_LIMIT: try tomorrow")


def test_an_unknown_outcome_a_provider_cannot_be_asked_about_waits_for_a_person():
    decision = after_submit(OutcomeUnknown("no answer within 5s"), can_lookup=False)
    assert decision == MarkUnresolved("no answer within 5s; the provider cannot be asked")
    abandoned = after_lookup(LookupFailed("no status query"), can_lookup=False)
    assert isinstance(abandoned, MarkUnresolved)


def test_only_unavailability_and_doubt_count_against_a_providers_health():
    assert provider_health(Accepted("p")) is True
    assert provider_health(Rejected("INVALID_NUMBER", "空号")) is True
    assert provider_health(Deferred("THROTTLED", throttled=True)) is None
    assert provider_health(DailyCapReached("DAILY_LIMIT")) is None
    assert provider_health(Deferred("UNAVAILABLE")) is False
    assert provider_health(OutcomeUnknown("timeout")) is False
    assert provider_health(LookupFailed("HTTP 502")) is False
    assert provider_health(NotReceived()) is True
