"""The network model as topology exports it: the CSV bundle's three network files.

``GET /v1/network/export/{nodes,devices,customers}.csv`` serve the files of the interchange
bundle (README, "The CSV bundle"); the ``X-Model-Version`` header says which model version they
hold. Only the columns reconciliation needs are read; others are ignored, so the export may
grow.
"""

from __future__ import annotations

import csv
import io

from services.reconciliation.domain.network import Device, Network

NODE_COLUMNS = ("node_id", "kind", "name")
DEVICE_COLUMNS = ("device_id", "kind", "from_node", "to_node", "normal_state")
CUSTOMER_COLUMNS = ("account_id", "node_id")


class SnapshotError(ValueError):
    """An export that is not the bundle format."""


def _rows(text: str, file: str, needed: tuple[str, ...]) -> csv.DictReader[str]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in needed if c not in (reader.fieldnames or [])]
    if missing:
        raise SnapshotError(f"{file} lacks the columns {', '.join(missing)}")
    return reader


def parse_bundle(
    nodes: str, devices: str, customers: str, *, version: int | None = None
) -> Network:
    node_rows = [
        (r["node_id"], r["kind"], r.get("name") or "")
        for r in _rows(nodes, "nodes.csv", NODE_COLUMNS)
    ]
    device_rows = [
        Device(
            r["device_id"],
            r["kind"],
            r["from_node"],
            r["to_node"],
            r["normal_state"] == "closed",
            r.get("name") or "",
        )
        for r in _rows(devices, "devices.csv", DEVICE_COLUMNS)
    ]
    customer_rows = [
        (r["account_id"], r["node_id"]) for r in _rows(customers, "customers.csv", CUSTOMER_COLUMNS)
    ]
    return Network.build(node_rows, device_rows, customer_rows, version=version)
