"""Settings of the voice simulator, read from ``VOICE_SIM_*`` environment variables.

Tuples and lists take JSON, e.g. ``VOICE_SIM_CALL_DELAY_S='[1, 5]'``.
"""

from __future__ import annotations

from typing import Self

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class VoiceSimSettings(BaseSettings):
    """How the simulated call platform answers, how calls end, where results are pushed."""

    model_config = SettingsConfigDict(env_prefix="VOICE_SIM_", extra="forbid")

    report_url: str = Field(
        default="http://127.0.0.1:8004/v1/webhooks/voice-status",
        description="Where call results are pushed (receipts' voice webhook).",
    )
    report_secret: str = Field(
        default="dev-carrier-secret", description="HMAC secret signing the pushes (X-Signature)."
    )
    seed: int = Field(default=11, description="Seed of the outcomes and faults.")
    confirmed_rate: float = Field(
        default=0.6, ge=0, le=1, description="Answered and confirmed with keypress 1."
    )
    answered_rate: float = Field(default=0.15, ge=0, le=1, description="Answered, no keypress.")
    no_answer_rate: float = Field(default=0.15, ge=0, le=1, description="Rang out.")
    # busy: the rest.
    dead_suffixes: list[str] = Field(
        default=["0000"], description="Numbers ending so cannot be called (outcome failed)."
    )
    call_delay_s: tuple[float, float] = Field(
        default=(0.05, 0.5), description="(min, max) seconds from placing a call to its end."
    )
    report_batch_size: int = Field(default=100, ge=1, description="Call results per push.")
    report_retries: int = Field(
        default=3, ge=0, description="Retries of a failed push after the first attempt."
    )
    report_backoff_s: float = Field(
        default=0.1, ge=0, description="Wait before the first retry; doubles for each next one."
    )
    report_timeout_s: float = Field(default=5.0, gt=0, description="HTTP timeout of one push.")
    rate_limit_per_s: float = Field(
        default=0, ge=0, description="Calls placed per second before 429. 0: off."
    )
    fail_5xx_rate: float = Field(default=0, ge=0, le=1, description="Share answered 503.")
    fail_429_rate: float = Field(default=0, ge=0, le=1, description="Share answered 429.")
    latency_s: float = Field(
        default=0, ge=0, description="Delay between placing a call and answering the request."
    )

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.confirmed_rate + self.answered_rate + self.no_answer_rate > 1 + 1e-9:
            raise ValueError("confirmed_rate + answered_rate + no_answer_rate must not exceed 1")
        low, high = self.call_delay_s
        if not 0 <= low <= high:
            raise ValueError("call_delay_s must be (min, max) with 0 <= min <= max")
        if self.fail_5xx_rate + self.fail_429_rate > 1:
            raise ValueError("fail_5xx_rate + fail_429_rate must not exceed 1")
        if any(not (s.isascii() and s.isdigit()) for s in self.dead_suffixes):
            raise ValueError("dead_suffixes must be non-empty strings of ASCII digits")
        return self
