"""Loading the sample district into a running suite (embedded mode and the demo)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from tools.network_gen import SAMPLE_DISTRICT, generate

NETWORK_FILES = ("nodes", "devices", "customers")
CONTACT_FILES = ("customers", "contacts")


def ensure_sample(directory: Path) -> Path:
    """Generate the sample district's CSV bundle once; it is deterministic."""
    if not (directory / "contacts.csv").exists():
        directory.mkdir(parents=True, exist_ok=True)
        generate(directory, SAMPLE_DISTRICT)
    return directory


def _files(directory: Path, names: tuple[str, ...]) -> dict[str, tuple[str, bytes, str]]:
    return {n: (f"{n}.csv", (directory / f"{n}.csv").read_bytes(), "text/csv") for n in names}


async def load_sample(
    topology: httpx.AsyncClient, contacts: httpx.AsyncClient, directory: Path
) -> dict[str, Any]:
    """Import the bundle into topology and contacts unless the network is already loaded."""
    summary = (await topology.get("/v1/network/summary")).json()
    if summary.get("model_version", 0) > 0:
        return {"skipped": True, "model_version": summary["model_version"]}
    network = await topology.post("/v1/network/import", files=_files(directory, NETWORK_FILES))
    network.raise_for_status()
    # The sample deliberately holds numbers that cannot be parsed, as real registries do:
    # import them flagged invalid so they land on the maintenance worklist.
    registry = await contacts.post(
        "/v1/import", params={"invalid_phones": "flag"}, files=_files(directory, CONTACT_FILES)
    )
    registry.raise_for_status()
    return {"skipped": False, "network": network.json(), "contacts": registry.json()}
