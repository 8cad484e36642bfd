"""The parts of the topology benchmark that run in a process of their own, so that what they
measure (time, resident memory) is theirs alone. Each prints one JSON object.

``python -m bench.topology_probe import DIR URL [SCHEMA]``
    ``python -m services.topology import``'s code path: check the bundle, write it all or
    nothing, build the model. Reports the seconds and the peak resident memory.

``python -m bench.topology_probe serve URL [SCHEMA] --traces N --seed S``
    The service as deployed: the app starts, rebuilds the model from the database into
    igraph and the supply forest, and answers ``POST /v1/trace`` for the benchmark's plans
    (through the ASGI stack in the same process: routing, auth, validation, JSON), then a few
    change batches through ``POST /v1/network/changes``. Reports the load time, the resident
    memory once loaded, and the latencies.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from bench.topology_plans import random_plans
from bench.topology_stats import percentiles, rss_mb
from services.topology.__main__ import import_directory
from services.topology.app import create_app
from services.topology.config import TopologySettings
from shared.auth import mint_token

CHANGE_BATCHES = 20


def settings(url: str, schema: str | None) -> TopologySettings:
    values: dict[str, Any] = {"database_url": url, "kafka_bootstrap": "", "log_level": "WARNING"}
    if schema:
        values["database_schema"] = schema
    return TopologySettings(**values)


async def run_import(directory: Path, url: str, schema: str | None) -> dict[str, Any]:
    started = time.perf_counter()
    status = await import_directory(directory, settings(url, schema))
    seconds = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"import failed with status {status}")
    return {"seconds": seconds, "peak_rss_mb": rss_mb("VmHWM")}


async def run_service(url: str, schema: str | None, traces: int, seed: int) -> dict[str, Any]:
    app = create_app(settings(url, schema))
    network = app.state.network
    started = time.perf_counter()
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://topology", timeout=60
        ) as client,
    ):
        async with app.state.runtime.uow() as uow:
            model = await network.current(uow.session)
        loaded_s = time.perf_counter() - started
        loaded_rss = rss_mb("VmRSS")
        token = mint_token(app.state.token_config, "bench", ["planner", "field"])
        headers = {"Authorization": f"Bearer {token}"}
        latencies, inside, sizes = [], [], []
        for plan in random_plans(model, traces, seed):
            body = {"operations": [op.model_dump() for op in plan.operations]}
            sent = time.perf_counter()
            response = await client.post("/v1/trace", json=body, headers=headers)
            latencies.append((time.perf_counter() - sent) * 1000)
            response.raise_for_status()
            answer = response.json()
            inside.append(answer["elapsed_ms"])
            sizes.append(len(answer["affected_accounts"]))
        batches = await _change_batches(client, headers, model)
        return {
            "model_version": model.version,
            "customers": model.customer_count,
            "load_s": loaded_s,
            "rss_loaded_mb": loaded_rss,
            "rss_after_mb": rss_mb("VmRSS"),
            "http_ms": percentiles(latencies),
            "inside_ms": percentiles(inside),
            "mean_affected": sum(sizes) / len(sizes),
            "change_batch_ms": percentiles(batches),
        }


async def _change_batches(
    client: httpx.AsyncClient, headers: dict[str, str], model: Any
) -> list[float]:
    """Move one customer back and forth between two transformer areas: a batch at city
    scale, with the outage retrace check that follows it."""
    grid, forest = model.grid, model.forest
    areas = [v for v in range(grid.vertex_count) if grid.is_transformer_area(v)][:2]
    account = forest.accounts_at(areas[0])[0]
    latencies = []
    for step in range(CHANGE_BATCHES):
        target = grid.node_ids[areas[(step + 1) % 2]]
        change = {
            "kind": "customer_move",
            "account_id": account,
            "node_id": target,
            "reason": "基准测试",
            "origin": "field_patrol",
        }
        sent = time.perf_counter()
        response = await client.post(
            "/v1/network/changes", json={"changes": [change]}, headers=headers
        )
        latencies.append((time.perf_counter() - sent) * 1000)
        response.raise_for_status()
    return latencies


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.topology_probe")
    commands = parser.add_subparsers(dest="command", required=True)
    load = commands.add_parser("import")
    load.add_argument("directory", type=Path)
    load.add_argument("url")
    load.add_argument("schema", nargs="?")
    serve = commands.add_parser("serve")
    serve.add_argument("url")
    serve.add_argument("schema", nargs="?")
    serve.add_argument("--traces", type=int, default=500)
    serve.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    if args.command == "import":
        result = asyncio.run(run_import(args.directory, args.url, args.schema))
    else:
        result = asyncio.run(run_service(args.url, args.schema, args.traces, args.seed))
    sys.stdout.write("\n" + json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
