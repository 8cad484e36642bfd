"""A small two-feeder network with known answers, for the reconciliation unit tests.

::

    S1 -B1- P1 -SW1- P2 -SW2- P3 -TIE(open)- Q3 -SW5- Q2 -SW4- Q1 -B2- S2
            |F1      |F2      |F3            |F6      |F5      |F4
            T1       T2       T3             U3       U2       U1

Each transformer area (T*, U*) carries five customers: a1-a5 on T1, b on T2, c on T3, f on U3,
e on U2, d on U1.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from services.reconciliation.domain.inference import Evidence
from services.reconciliation.domain.network import Device, Network, Operation, Supply

T0 = datetime(2026, 11, 28, 0, 0, tzinfo=UTC)
T1_END = T0 + timedelta(hours=8)

AREAS = {"T1": "a", "T2": "b", "T3": "c", "U1": "d", "U2": "e", "U3": "f"}


def accounts(area: str) -> list[str]:
    return [f"{AREAS[area]}{i}" for i in range(1, 6)]


DEVICES = (
    ("B1", "breaker", "S1", "P1", True),
    ("SW1", "switch", "P1", "P2", True),
    ("SW2", "switch", "P2", "P3", True),
    ("TIE", "switch", "P3", "Q3", False),
    ("SW5", "switch", "Q2", "Q3", True),
    ("SW4", "switch", "Q1", "Q2", True),
    ("B2", "breaker", "S2", "Q1", True),
    ("F1", "fuse", "P1", "T1", True),
    ("F2", "fuse", "P2", "T2", True),
    ("F3", "fuse", "P3", "T3", True),
    ("F4", "fuse", "Q1", "U1", True),
    ("F5", "fuse", "Q2", "U2", True),
    ("F6", "fuse", "Q3", "U3", True),
)


def network(
    *,
    moved: dict[str, str] | None = None,
    states: dict[str, bool] | None = None,
    extra: Iterable[tuple[str, str, str]] = (),
    without: Iterable[str] = (),
) -> Network:
    """The model, or the field when given its differences: accounts on other areas, devices
    in another normal state, extra closed lines, devices that do not exist."""
    moved, states, missing = moved or {}, states or {}, set(without)
    nodes = [(n, "source", n) for n in ("S1", "S2")]
    nodes += [(n, "pole", n) for n in ("P1", "P2", "P3", "Q1", "Q2", "Q3")]
    nodes += [(n, "transformer_lv", n) for n in AREAS]
    devices = [
        Device(d, kind, a, b, states.get(d, closed), d)
        for d, kind, a, b, closed in DEVICES
        if d not in missing
    ]
    devices += [Device(d, "line", a, b, True, d) for d, a, b in extra]
    customers = [
        (account, moved.get(account, area)) for area in AREAS for account in accounts(area)
    ]
    return Network.build(nodes, devices, customers, version=1)


def opening(*devices: str) -> tuple[Operation, ...]:
    return tuple(Operation(d, "open") for d in devices)


def evidence(outage_id: str, field: Network, operations: tuple[Operation, ...]) -> Evidence:
    """What every meter of the field network reads for ``operations``."""
    lost = field.affected_accounts(operations)
    readings = {a: (Supply.LOST if a in lost else Supply.ON) for a in field.account_vertex}
    return Evidence(outage_id, operations, readings)
