"""Backoff: doubling steps with equal jitter, Retry-After as a floor, a cap over everything."""

import pytest

from services.dispatch.domain.retry import RetryPolicy, backoff_s

POLICY = RetryPolicy(base_s=1.0, max_s=60.0, max_attempts=5)


@pytest.mark.parametrize(
    ("attempt", "low", "high"), [(1, 0.5, 1.0), (2, 1.0, 2.0), (3, 2.0, 4.0), (4, 4.0, 8.0)]
)
def test_each_attempt_doubles_the_step_and_jitter_spans_its_upper_half(attempt, low, high):
    assert backoff_s(POLICY, attempt, draw=0.0) == low
    assert backoff_s(POLICY, attempt, draw=0.999999) == pytest.approx(high, rel=1e-5)


def test_the_step_is_capped():
    assert backoff_s(POLICY, 30, draw=0.999999) == pytest.approx(60.0, rel=1e-5)
    assert backoff_s(POLICY, 10_000, draw=0.5) <= 60.0


def test_retry_after_is_a_floor_but_the_cap_still_holds():
    assert backoff_s(POLICY, 1, draw=0.0, retry_after_s=7) == 7
    assert backoff_s(POLICY, 1, draw=0.0, retry_after_s=3600) == 60.0
