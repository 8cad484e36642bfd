"""When to try again: exponential backoff with jitter, and the carrier's Retry-After."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    base_s: float
    max_s: float
    max_attempts: int


def backoff_s(policy: RetryPolicy, attempt: int, draw: float, retry_after_s: float = 0.0) -> float:
    """Seconds to wait after the ``attempt``-th failed try (1-based).

    "Equal jitter": half of the exponential step is fixed and half random (``draw`` in
    [0, 1)), so thousands of messages throttled together do not come back together, yet none
    comes back almost at once. A carrier's Retry-After is a floor; ``max_s`` caps everything,
    because an outage notice that waits too long is worth nothing.
    """
    # The exponent is capped so that a message retried for days cannot overflow a float.
    step = min(policy.max_s, policy.base_s * 2.0 ** min(max(attempt - 1, 0), 32))
    jittered = step / 2 + step / 2 * draw
    return min(policy.max_s, max(jittered, retry_after_s))
