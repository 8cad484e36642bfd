"""Schemathesis over every service's OpenAPI: no 5xx, no answer that breaks its own schema.

Each service runs on a loopback port (uvicorn in a thread, its lifespan and database real) with
the sample district loaded, and is called with an admin token so that generated requests reach
the code rather than stopping at the door.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from services.sample import ensure_sample, load_sample
from services.suite import build_suite
from shared.auth import Role
from tests.fixtures.kafka import free_port

SERVICES = ("topology", "contacts", "dispatch", "receipts", "reconciliation")
MAX_EXAMPLES = 20


class SuiteThread:
    """The embedded suite on loopback ports, served from one background event loop."""

    def __init__(self, var_dir: Path) -> None:
        self.ports = {name: free_port() for name in (*SERVICES, "carrier", "voice", "webhooks")}
        self.suite = build_suite(var_dir, in_process_http=False, ports=self.ports)
        self.servers = [
            uvicorn.Server(
                uvicorn.Config(
                    app, host="127.0.0.1", port=self.ports[name], log_level="error", lifespan="on"
                )
            )
            for name, app in self.suite.apps.items()
        ]
        self.thread = threading.Thread(target=lambda: asyncio.run(self._serve()), daemon=True)

    async def _serve(self) -> None:
        bus = self.suite.bus
        assert bus is not None
        await bus.start()
        try:
            await asyncio.gather(*(server.serve() for server in self.servers))
        finally:
            await bus.stop()

    def __enter__(self) -> SuiteThread:
        self.thread.start()
        deadline = time.monotonic() + 60
        while not all(server.started for server in self.servers):
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the suite did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *_exc: object) -> None:
        for server in self.servers:
            server.should_exit = True
        self.thread.join(timeout=30)


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    var_dir: Path = tmp_path_factory.mktemp("contract")
    with SuiteThread(var_dir) as running_suite:
        admin = running_suite.suite.token("contract-admin", Role.ADMIN)
        headers = {"Authorization": f"Bearer {admin}"}
        ports = running_suite.ports
        sample = ensure_sample(var_dir / "sample")

        async def load() -> None:
            async with (
                httpx.AsyncClient(
                    base_url=f"http://127.0.0.1:{ports['topology']}", headers=headers, timeout=120
                ) as topology,
                httpx.AsyncClient(
                    base_url=f"http://127.0.0.1:{ports['contacts']}", headers=headers, timeout=120
                ) as contacts,
            ):
                await load_sample(topology, contacts, sample)

        asyncio.run(load())
        yield {name: f"http://127.0.0.1:{port}" for name, port in ports.items()} | {"token": admin}


@pytest.mark.parametrize("service", SERVICES)
def test_no_operation_errors_or_breaks_its_schema(running, service):
    schema = schemathesis.openapi.from_url(f"{running[service]}/openapi.json")
    failures: list[str] = []
    headers = {"Authorization": f"Bearer {running['token']}"}
    for operation in schema.get_all_operations():
        api_operation = operation.ok()
        try:
            exercise(api_operation, headers)
        except Exception as exc:  # collect every operation's failure, not just the first
            failures.append(f"{api_operation.method.upper()} {api_operation.path}: {exc}")
    assert not failures, "\n\n".join(failures)


def exercise(api_operation, headers: dict[str, str]) -> None:
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(api_operation.as_strategy())
    def check(case) -> None:
        # A schema-valid upload may still be a bad CSV: a 422 naming the row is the right
        # answer there, so "valid data must be accepted" does not apply to these APIs.
        case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

    check()
