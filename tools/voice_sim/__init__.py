"""Voice simulator: a text-to-speech notice call platform, for tests and demos.

Run it with ``python -m tools.voice_sim``; build it in-process with :func:`create_app`.
"""

from tools.voice_sim.app import VoiceSim, call_outcome, create_app, get_sim
from tools.voice_sim.settings import VoiceSimSettings

__all__ = ["VoiceSim", "VoiceSimSettings", "call_outcome", "create_app", "get_sim"]
