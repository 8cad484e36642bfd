"""Flow control per provider: a rate limit and a circuit breaker, on a clock given to them.

Both take the current (monotonic) time as an argument, so they are pure state machines that
tests drive step by step; the sender feeds them ``time.monotonic()``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


@dataclass
class TokenBucket:
    """``rate`` messages per second, in bursts of at most ``burst``; rate 0 means no limit.

    :meth:`reserve` takes tokens now and says how long the caller must wait before using
    them, so concurrent callers queue up in order instead of all retrying at once.
    """

    rate: float
    burst: float = 0.0
    _tokens: float = field(default=0.0, init=False)
    _stamp: float | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.burst = self.burst or max(1.0, self.rate)
        self._tokens = self.burst

    def reserve(self, now: float, count: int = 1) -> float:
        """Take ``count`` tokens; return the seconds to wait before sending (0: at once)."""
        if self.rate <= 0:
            return 0.0
        if self._stamp is not None:
            self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now
        self._tokens -= count
        if self._tokens >= 0:
            return 0.0
        return -self._tokens / self.rate


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass
class CircuitBreaker:
    """Stops calling a provider that keeps failing, and tries one call after a cool-down.

    ``threshold`` consecutive failures (unavailable, timed out, no connection) open it; after
    ``cooldown_s`` one probe is let through (half-open): its success closes the breaker, its
    failure opens it again. Refusals of one message (4xx) and throttling say nothing about
    the provider's health and count as successes.
    """

    threshold: int
    cooldown_s: float
    state: BreakerState = BreakerState.CLOSED
    failures: int = 0
    opened_at: float = 0.0
    _probing: bool = False

    def allows(self, now: float) -> bool:
        """Whether a call may be made now (a half-open breaker allows one at a time)."""
        if self.state is BreakerState.CLOSED:
            return True
        if self.state is BreakerState.OPEN:
            if now - self.opened_at < self.cooldown_s:
                return False
            self.state = BreakerState.HALF_OPEN
            self._probing = False
        if self._probing:
            return False
        self._probing = True
        return True

    def reopens_in(self, now: float) -> float:
        """Seconds until a call may be tried again (0 when calls are allowed)."""
        if self.state is BreakerState.OPEN:
            return max(0.0, self.cooldown_s - (now - self.opened_at))
        return 0.0

    def succeeded(self) -> None:
        self.state = BreakerState.CLOSED
        self.failures = 0
        self._probing = False

    def failed(self, now: float) -> None:
        self.failures += 1
        if self.state is BreakerState.HALF_OPEN or self.failures >= self.threshold:
            self.state = BreakerState.OPEN
            self.opened_at = now
            self._probing = False
