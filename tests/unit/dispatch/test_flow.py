"""Rate limits and circuit breakers, driven by an explicit clock."""

import pytest

from services.dispatch.domain.flow import BreakerState, CircuitBreaker, TokenBucket


def test_a_bucket_lets_a_burst_through_then_spaces_calls_at_its_rate():
    bucket = TokenBucket(rate=10)
    assert [bucket.reserve(0.0) for _ in range(10)] == [0.0] * 10
    assert bucket.reserve(0.0) == pytest.approx(0.1)
    assert bucket.reserve(0.0) == pytest.approx(0.2)
    # A second later the debt is paid and a token is back.
    assert bucket.reserve(1.3) == 0.0


def test_a_batch_takes_one_token_per_message():
    bucket = TokenBucket(rate=100)
    assert bucket.reserve(0.0, 100) == 0.0
    assert bucket.reserve(0.0, 50) == pytest.approx(0.5)


def test_rate_zero_means_no_limit():
    bucket = TokenBucket(rate=0)
    assert all(bucket.reserve(0.0, 1000) == 0.0 for _ in range(100))


def test_consecutive_failures_open_the_breaker_until_a_probe_succeeds():
    breaker = CircuitBreaker(threshold=3, cooldown_s=30)
    for _ in range(2):
        breaker.failed(0.0)
    assert breaker.allows(1.0)
    breaker.failed(1.0)
    assert breaker.state is BreakerState.OPEN
    assert not breaker.allows(10.0)
    assert breaker.reopens_in(10.0) == pytest.approx(21.0)
    # After the cool-down one probe goes through, and only one.
    assert breaker.allows(31.0)
    assert breaker.state is BreakerState.HALF_OPEN
    assert not breaker.allows(31.5)
    breaker.succeeded()
    assert breaker.state is BreakerState.CLOSED
    assert breaker.allows(32.0)


def test_a_failed_probe_opens_the_breaker_again_at_once():
    breaker = CircuitBreaker(threshold=1, cooldown_s=5)
    breaker.failed(0.0)
    assert breaker.allows(6.0)
    breaker.failed(6.0)
    assert breaker.state is BreakerState.OPEN
    assert not breaker.allows(10.0)


def test_a_success_resets_the_count_of_failures():
    breaker = CircuitBreaker(threshold=3, cooldown_s=5)
    breaker.failed(0.0)
    breaker.failed(0.0)
    breaker.succeeded()
    breaker.failed(0.0)
    breaker.failed(0.0)
    assert breaker.state is BreakerState.CLOSED
