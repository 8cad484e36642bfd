"""Settings of the webhook simulator, read from ``WEBHOOK_SIM_*`` environment variables.

Lists take JSON, e.g. ``WEBHOOK_SIM_ROBOT_KEYS='["key-1", "key-2"]'``.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class WebhookSimSettings(BaseSettings):
    """How the simulated WeChat Work robots and app push service answer."""

    model_config = SettingsConfigDict(env_prefix="WEBHOOK_SIM_", extra="forbid")

    seed: int = Field(default=13, description="Seed of the random faults.")
    robot_keys: list[str] | None = Field(
        default=None,
        description="Keys of existing group robots; others get errcode 93000. Null: any key.",
    )
    robot_per_minute: int = Field(
        default=20, ge=0, description="Messages per robot per minute before errcode 45009. 0: off."
    )
    robot_busy_rate: float = Field(
        default=0, ge=0, le=1, description="Share of robot posts answered errcode -1 (busy)."
    )
    app_topics: list[str] | None = Field(
        default=None, description="Known push topics; others get 400 UNKNOWN_TOPIC. Null: any."
    )
    push_fail_5xx_rate: float = Field(default=0, ge=0, le=1, description="Share answered 503.")
    push_fail_429_rate: float = Field(default=0, ge=0, le=1, description="Share answered 429.")
    latency_s: float = Field(
        default=0, ge=0, description="Delay between accepting a post or push and answering."
    )
