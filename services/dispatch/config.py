"""Settings of the dispatch service, read from ``DISPATCH_*`` environment variables."""

from __future__ import annotations

import math
import socket
from pathlib import Path
from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.channel_policy import DEFAULT_POLICY_PATH
from shared.config import ServiceSettings


class DispatchSettings(ServiceSettings):
    """Where the providers are, what notices say, and how fast and how often to send."""

    model_config = SettingsConfigDict(env_prefix="DISPATCH_", extra="ignore")

    service_name: ClassVar[str] = "dispatch"

    host: str = Field(default="127.0.0.1", description="Interface `serve` binds to.")
    port: int = Field(default=8003, ge=1, le=65535)
    sms_provider_url: str = Field(
        default="http://127.0.0.1:8005", description="Base URL of the SMS gateway (/v1/sms/…)."
    )
    sms_batch_size: int = Field(
        default=100,
        ge=1,
        le=1000,
        description="SMS per request to the gateway's batch API; 1: one request per message.",
    )
    voice_provider_url: str = Field(
        default="http://127.0.0.1:8008",
        description="Base URL of the voice (TTS call) platform (/v1/calls…). Empty: no calls.",
    )
    wecom_robot_url: str = Field(
        default="http://127.0.0.1:8007",
        description="Base URL of WeChat Work group robots (https://qyapi.weixin.qq.com in "
        "production). Empty: no WeChat.",
    )
    app_push_url: str = Field(
        default="http://127.0.0.1:8007",
        description="Base URL of the app push service (/v1/push…). Empty: no app push.",
    )
    channel_policy: Path = Field(
        default=DEFAULT_POLICY_PATH,
        description="Channel policy file (YAML or TOML): channels, waves, timing, quiet hours.",
    )
    font_path: Path | None = Field(
        default=None,
        description="TrueType/TTC CJK font embedded in the PDFs. Empty: the first found of "
        "WenQuanYi Zen Hei and Noto CJK.",
    )
    rate_limits: dict[str, float] = Field(
        default_factory=lambda: {"sms": 500.0, "voice": 20.0, "wechat": 0.3, "app_push": 100.0},
        description="Messages per second per provider (the contract rate); 0 or absent: no "
        'limit. JSON in the environment, e.g. {"sms": 200}.',
    )
    daily_caps: dict[str, int] = Field(
        default_factory=lambda: {"sms": 40, "voice": 10},
        description="Messages per number per local day that carriers allow (counted at "
        "submission); over it a message waits for the next day. 0 or absent: no cap.",
    )
    breaker_failures: int = Field(
        default=10, ge=1, description="Consecutive provider failures that open its breaker."
    )
    breaker_cooldown_s: float = Field(
        default=30.0, gt=0, description="How long an open breaker waits before one probe call."
    )
    sms_sign_name: str = Field(
        default="国网城东供电公司",
        min_length=1,
        description="Registered SMS signature; the gateway puts it in front as 【签名】.",
    )
    hotline: str = Field(default="95598", description="Number customers are told to call.")
    max_names_in_text: int = Field(
        default=3, ge=1, description="Account names a notice lists before it says 等N户."
    )
    send_concurrency: int = Field(default=50, ge=1, description="Provider calls in flight.")
    send_pipeline: int = Field(
        default=2,
        ge=1,
        description="Claimed batches being sent at once (the next is claimed "
        "while earlier ones are in their provider calls).",
    )
    record_batch_size: int = Field(
        default=500, ge=1, description="Call outcomes written per transaction."
    )
    send_batch_size: int = Field(default=500, ge=1, description="Messages claimed at a time.")
    provider_timeout_s: float = Field(
        default=5.0, gt=0, description="Whole-call timeout; after it the outcome is unknown."
    )
    max_send_attempts: int = Field(
        default=5, ge=1, description="Submissions of one message before it counts as failed."
    )
    retry_base_s: float = Field(
        default=1.0, gt=0, description="Backoff before the 2nd attempt; doubles each time."
    )
    retry_max_s: float = Field(default=300.0, gt=0, description="Longest wait between attempts.")
    poll_interval_s: float = Field(
        default=0.5, gt=0, description="How often the sender looks for due messages when idle."
    )
    instance_id: str = Field(
        default="",
        description=(
            "Name of this replica, unique among running ones and kept across restarts "
            "(e.g. a StatefulSet pod name). Empty: <hostname>:<port>."
        ),
    )
    template_dir: Path | None = Field(
        default=None,
        description="Folder with <channel>/<kind>[.<outage kind>].txt.j2 templates overriding "
        "the built-in ones.",
    )

    @property
    def instance_name(self) -> str:
        """Who holds a claim. A restarted replica recognises its own abandoned calls by it."""
        return self.instance_id or f"{socket.gethostname()}:{self.port}"

    @property
    def claim_lease_s(self) -> float:
        """How long a claimed message belongs to the sender that claimed it.

        A claimed batch is sent ``send_concurrency`` calls at a time (shared by the batches
        in flight), each call bounded by the timeout, so the last call of a batch ends within
        ``ceil(pipeline * batch / concurrency)`` timeouts. Twice that, plus one, is left
        before another sender (or this one after a crash) treats the claim as abandoned and
        asks the provider what became of it.
        """
        rounds = math.ceil(self.send_pipeline * self.send_batch_size / self.send_concurrency)
        return (rounds + 1) * self.provider_timeout_s * 2

    @property
    def settle_delay_s(self) -> float:
        """Wait after a timed-out call before asking the provider whether it got the message.

        A request may still be on its way when the client gives up; asking at once could get
        "never received" for a message that arrives a moment later and so cause a resend.
        """
        return self.provider_timeout_s
