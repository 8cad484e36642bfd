"""Webhook simulator: WeChat Work group robots and an app push service, for tests and demos.

Run it with ``python -m tools.webhook_sim``; build it in-process with :func:`create_app`.
"""

from tools.webhook_sim.app import WebhookSim, create_app, get_sim
from tools.webhook_sim.settings import WebhookSimSettings

__all__ = ["WebhookSim", "WebhookSimSettings", "create_app", "get_sim"]
