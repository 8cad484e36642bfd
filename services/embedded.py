"""``make run``: every service on its own loopback port, in one process, with a sample district."""

from __future__ import annotations

import asyncio
import csv
import json
from datetime import timedelta
from pathlib import Path

import httpx
import uvicorn

from services.sample import ensure_sample, load_sample
from services.suite import DEFAULT_PORTS, build_suite
from shared.auth import Role
from shared.timeutil import local, utcnow

DEV_USERS = {
    Role.PLANNER: "planner-li",
    Role.REVIEWER: "reviewer-wang",
    Role.DISPATCHER: "dispatcher-zhao",
    Role.FIELD: "field-chen",
    Role.ADMIN: "admin",
    Role.SYSTEM: "pms-integration",
}


async def run_embedded(host: str, var_dir: Path) -> None:
    ports = DEFAULT_PORTS
    suite = build_suite(var_dir, in_process_http=False, ports=ports)
    servers = {
        name: uvicorn.Server(
            uvicorn.Config(app, host=host, port=ports[name], log_level="warning", lifespan="on")
        )
        for name, app in suite.apps.items()
    }
    bus = suite.bus
    assert bus is not None
    await bus.start()
    tasks = [asyncio.create_task(server.serve(), name=name) for name, server in servers.items()]
    try:
        while not all(server.started for server in servers.values()):
            if any(task.done() for task in tasks):
                break
            await asyncio.sleep(0.05)
        else:
            tokens = {role: suite.token(sub, role) for role, sub in DEV_USERS.items()}
            sample_dir = ensure_sample(var_dir / "sample")
            admin = {"Authorization": f"Bearer {tokens[Role.ADMIN]}"}
            async with (
                httpx.AsyncClient(
                    base_url=f"http://{host}:{ports['topology']}", headers=admin, timeout=120
                ) as topology,
                httpx.AsyncClient(
                    base_url=f"http://{host}:{ports['contacts']}", headers=admin, timeout=120
                ) as contacts,
            ):
                loaded = await load_sample(topology, contacts, sample_dir)
            print(banner(host, tokens, sample_dir, loaded), flush=True)  # noqa: T201
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for server in servers.values():
            server.should_exit = True
        await asyncio.gather(*tasks, return_exceptions=True)
        await bus.stop()


def _sample_switch(sample_dir: Path) -> str:
    with (sample_dir / "devices.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["kind"] == "switch" and row["normal_state"] == "closed":
                return row["device_id"]
    raise RuntimeError("the sample district has no closed switch")


def banner(host: str, tokens: dict[Role, str], sample_dir: Path, loaded: dict[str, object]) -> str:
    p = DEFAULT_PORTS
    start = local(utcnow() + timedelta(days=8)).replace(hour=8, minute=0, second=0, microsecond=0)
    plan = {
        "kind": "planned",
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=10)).isoformat(),
        "work": "10kV线路检修",
        "area": "示范片区",
        "operations": [{"device_id": _sample_switch(sample_dir), "action": "open"}],
    }
    state = "already loaded" if loaded.get("skipped") else f"loaded from {sample_dir}"
    lines = [
        "",
        "Outage notice suite — embedded mode (one process, SQLite, in-process bus)",
        f"Sample district {state}.",
        "",
        "API docs:",
        f"  topology  http://{host}:{p['topology']}/docs",
        f"  contacts  http://{host}:{p['contacts']}/docs",
        f"  dispatch  http://{host}:{p['dispatch']}/docs",
        f"  receipts  http://{host}:{p['receipts']}/docs",
        f"  reconciliation http://{host}:{p['reconciliation']}/docs",
        f"  simulators: SMS carrier http://{host}:{p['carrier']}/docs, "
        f"voice http://{host}:{p['voice']}/docs, "
        f"WeChat Work robots and app push http://{host}:{p['webhooks']}/docs",
        f"  events (AsyncAPI) http://{host}:{p['topology']}/asyncapi.json",
        "",
        f"Review page (paste the reviewer token): http://{host}:{p['contacts']}/review",
        "",
        "Development tokens (12 h):",
        *(f"  export {role.value.upper()}={token}" for role, token in tokens.items()),
        "",
        "Plan an outage (as the planner):",
        f"  curl -s -X POST http://{host}:{p['topology']}/v1/outages \\",
        '    -H "Authorization: Bearer $PLANNER" -H "Content-Type: application/json" \\',
        f"    -d '{json.dumps(plan, ensure_ascii=False)}'",
        "Review and approve its list (as the reviewer; the planner may not):",
        f"  curl -s http://{host}:{p['contacts']}/v1/lists/OUTAGE_ID "
        '-H "Authorization: Bearer $REVIEWER"',
        f"  curl -s -X POST http://{host}:{p['contacts']}/v1/lists/OUTAGE_ID/approve "
        '-H "Authorization: Bearer $REVIEWER"',
        "Watch delivery:",
        f"  curl -s http://{host}:{p['receipts']}/v1/outages/OUTAGE_ID/coverage "
        '-H "Authorization: Bearer $DISPATCHER"',
        "",
        "Ctrl-C stops everything. `make demo` plays the whole story by itself.",
    ]
    return "\n".join(lines)
