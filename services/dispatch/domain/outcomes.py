"""What a provider call can come to, and what the message's record becomes as a result.

Provider APIs are not idempotent: a message sent twice reaches the customer twice. So the one
case that must never be retried blindly is the call whose outcome we do not know (a timeout,
a dropped connection after the request went out): it is settled by asking the provider
whether it received the message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from services.dispatch.domain.retry import RetryPolicy, backoff_s

# Outcomes of a submission.


@dataclass(frozen=True)
class Accepted:
    """The provider took the message (not yet delivered)."""

    provider_message_id: str
    parts: int | None = None


@dataclass(frozen=True)
class Rejected:
    """A permanent refusal (bad number, empty text…): sending again would fail again."""

    code: str
    message: str


@dataclass(frozen=True)
class Deferred:
    """A refusal that says nothing was sent and a later try may work (429, 503, no connection).

    ``throttled``: the provider is well but we are too fast (429); otherwise it is unwell,
    which counts toward its circuit breaker.
    """

    reason: str
    retry_after_s: float = 0.0
    throttled: bool = False


@dataclass(frozen=True)
class DailyCapReached:
    """The provider refuses more messages to this number today (a per-number daily cap)."""

    reason: str


@dataclass(frozen=True)
class OutcomeUnknown:
    """The request may or may not have reached the provider."""

    reason: str


SubmitOutcome = Accepted | Rejected | Deferred | DailyCapReached | OutcomeUnknown

# Outcomes of asking the provider about a message.


@dataclass(frozen=True)
class Received:
    provider_message_id: str


@dataclass(frozen=True)
class NotReceived:
    pass


@dataclass(frozen=True)
class LookupFailed:
    reason: str


LookupOutcome = Received | NotReceived | LookupFailed

# What to record.


@dataclass(frozen=True)
class MarkSubmitted:
    provider_message_id: str
    parts: int


@dataclass(frozen=True)
class MarkFailed:
    reason: str


@dataclass(frozen=True)
class Requeue:
    """Back to ``queued``: nothing reached the provider, try again at ``at``.

    ``refund_attempt``: the provider was not even called (its circuit breaker was open), so
    the claim's attempt does not count toward the limit.
    """

    at: datetime
    reason: str
    refund_attempt: bool = False


@dataclass(frozen=True)
class AwaitCheck:
    """``unknown``: ask the provider about it at ``at``; never resend meanwhile."""

    at: datetime
    reason: str


@dataclass(frozen=True)
class MarkUnresolved:
    """The outcome is unknown and the provider cannot be asked: a dispatcher decides."""

    reason: str


Decision = MarkSubmitted | MarkFailed | Requeue | AwaitCheck | MarkUnresolved


def provider_health(outcome: SubmitOutcome | LookupOutcome) -> bool | None:
    """What a call says about the provider: True well, False unwell, None nothing.

    A refused message or throttling is the provider working as it should.
    """
    match outcome:
        case Deferred(throttled=False) | OutcomeUnknown() | LookupFailed():
            return False
        case Deferred() | DailyCapReached():
            return None
        case _:
            return True


def _after_transient(
    reason: str,
    *,
    attempts: int,
    policy: RetryPolicy,
    now: datetime,
    draw: float,
    retry_after_s: float = 0.0,
) -> MarkFailed | Requeue:
    if attempts >= policy.max_attempts:
        return MarkFailed(f"{reason} (gave up after {attempts} attempts)")
    delay = backoff_s(policy, attempts, draw, retry_after_s)
    return Requeue(now + timedelta(seconds=delay), reason)


def decide_after_submit(
    outcome: SubmitOutcome,
    *,
    attempts: int,
    estimated_parts: int,
    policy: RetryPolicy,
    settle_delay_s: float,
    now: datetime,
    draw: float,
    cap_resets_at: datetime,
    can_lookup: bool = True,
) -> Decision:
    """The record after the ``attempts``-th submission of a message came to ``outcome``.

    ``cap_resets_at`` is when a per-number daily cap starts again; ``can_lookup`` says
    whether the provider can be asked about a message whose submission is in doubt.
    """
    match outcome:
        case Accepted(provider_message_id=pid, parts=parts):
            return MarkSubmitted(pid, parts or estimated_parts)
        case Rejected(code=code, message=message):
            return MarkFailed(f"{code}: {message}")
        case Deferred(reason=reason, retry_after_s=retry_after_s):
            return _after_transient(
                reason,
                attempts=attempts,
                policy=policy,
                now=now,
                draw=draw,
                retry_after_s=retry_after_s,
            )
        case DailyCapReached(reason=reason):
            return Requeue(cap_resets_at, f"daily_cap: {reason}")
        case OutcomeUnknown(reason=reason):
            if not can_lookup:
                return MarkUnresolved(f"{reason}; the provider cannot be asked")
            return AwaitCheck(now + timedelta(seconds=settle_delay_s), reason)


def decide_after_lookup(
    outcome: LookupOutcome,
    *,
    attempts: int,
    checks: int,
    estimated_parts: int,
    policy: RetryPolicy,
    now: datetime,
    draw: float,
    can_lookup: bool = True,
) -> Decision:
    """The record of an ``unknown`` message after the ``checks``-th question to the provider.

    "Never received" turns the unknown attempt into a failed one, so it counts toward the
    attempt limit like any other transient failure. A question that itself fails is asked
    again later, for as long as it takes: only the provider can tell.
    """
    match outcome:
        case Received(provider_message_id=pid):
            return MarkSubmitted(pid, estimated_parts)
        case NotReceived():
            return _after_transient(
                "provider never received it", attempts=attempts, policy=policy, now=now, draw=draw
            )
        case LookupFailed(reason=reason) if not can_lookup:
            return MarkUnresolved(f"outcome unknown and {reason}")
        case LookupFailed(reason=reason):
            delay = backoff_s(policy, checks, draw)
            return AwaitCheck(now + timedelta(seconds=delay), f"status query failed: {reason}")
