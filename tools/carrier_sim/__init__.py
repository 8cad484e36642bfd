"""Carrier simulator: an HTTP SMS gateway that behaves like a Chinese carrier, for tests and demos.

Run it with ``python -m tools.carrier_sim``; build it in-process with :func:`create_app`.
"""

from tools.carrier_sim.app import (
    CarrierSim,
    count_parts,
    create_app,
    flush_reports,
    get_sim,
    outcome,
)
from tools.carrier_sim.settings import CarrierSimSettings

__all__ = [
    "CarrierSim",
    "CarrierSimSettings",
    "count_parts",
    "create_app",
    "flush_reports",
    "get_sim",
    "outcome",
]
