"""Settings of the carrier simulator, read from ``CARRIER_SIM_*`` environment variables.

List and tuple settings take JSON in the environment, e.g.
``CARRIER_SIM_REPORT_DELAY_S='[0.5, 3]'`` or ``CARRIER_SIM_DEAD_SUFFIXES='["0000", "4444"]'``.
"""

from __future__ import annotations

import math
from typing import Self

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class CarrierSimSettings(BaseSettings):
    """How the simulated gateway answers, what it reports and where it pushes reports."""

    model_config = SettingsConfigDict(env_prefix="CARRIER_SIM_", extra="forbid")

    report_url: str = Field(
        default="http://127.0.0.1:8004/v1/webhooks/sms-status",
        description="Where delivery reports are pushed.",
    )
    uplink_url: str = Field(
        default="http://127.0.0.1:8004/v1/webhooks/sms-reply",
        description="Where simulated customer replies (uplink SMS) are pushed.",
    )
    report_secret: str = Field(
        default="dev-carrier-secret",
        description="HMAC secret signing report and uplink pushes (X-Signature).",
    )
    delivered_rate: float = Field(default=0.85, ge=0, le=1)
    undeliv_rate: float = Field(default=0.10, ge=0, le=1)
    expired_rate: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="Share of EXPIRED outcomes; always the rest, 1 - delivered - undeliv (0.05).",
    )
    report_delay_s: tuple[float, float] = Field(
        default=(0.05, 0.5), description="(min, max) seconds from submission to delivery report."
    )
    report_batch_size: int = Field(default=100, ge=1)
    report_retries: int = Field(
        default=3, ge=0, description="Retries of a failed push after the first attempt."
    )
    report_backoff_s: float = Field(
        default=0.1, ge=0, description="Wait before the first retry; doubles for each next one."
    )
    report_timeout_s: float = Field(default=5.0, gt=0, description="HTTP timeout of one push.")
    seed: int = 7
    rate_limit_per_s: float = Field(
        default=0, ge=0, description="Submissions per second before 429 (token bucket). 0: off."
    )
    fail_5xx_rate: float = Field(default=0, ge=0, le=1, description="Share of sends answered 503.")
    fail_429_rate: float = Field(default=0, ge=0, le=1, description="Share of sends answered 429.")
    latency_s: float = Field(
        default=0, ge=0, description="Delay between accepting a message and answering the send."
    )
    daily_cap_per_number: int = Field(
        default=0,
        ge=0,
        description="Messages one number may get per day before 403 DAILY_LIMIT. 0: off.",
    )
    cap_timezone: str = Field(default="Asia/Shanghai", description="Whose midnight resets the cap.")
    max_batch: int = Field(default=1000, ge=1, description="Most messages per batch request.")
    dead_suffixes: list[str] = Field(
        default=["0000"], description="Numbers ending in one of these are always UNDELIV (空号)."
    )

    @model_validator(mode="after")
    def _check(self) -> Self:
        rest = 1.0 - self.delivered_rate - self.undeliv_rate
        if rest < -1e-9:
            raise ValueError("delivered_rate + undeliv_rate must not exceed 1")
        # EXPIRED is whatever DELIVRD and UNDELIV leave; a given expired_rate must agree.
        if self.expired_rate is not None and not math.isclose(
            self.expired_rate, rest, abs_tol=1e-9
        ):
            raise ValueError("delivered_rate + undeliv_rate + expired_rate must be 1")
        low, high = self.report_delay_s
        if not 0 <= low <= high:
            raise ValueError("report_delay_s must be (min, max) with 0 <= min <= max")
        if self.fail_5xx_rate + self.fail_429_rate > 1:
            raise ValueError("fail_5xx_rate + fail_429_rate must not exceed 1")
        # An empty suffix would match every number; full-width digits never occur in E.164.
        if any(not (s.isascii() and s.isdigit()) for s in self.dead_suffixes):
            raise ValueError("dead_suffixes must be non-empty strings of ASCII digits")
        return self
