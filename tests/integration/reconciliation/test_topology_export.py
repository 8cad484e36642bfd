"""The network model read from topology's CSV export (a fake transport serving a generated
district), and traced as the field simulator's independent tracer traces it."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from services.reconciliation.adapters.topology import TopologyNetwork, TopologyUnavailable
from services.reconciliation.domain.network import Operation
from shared.auth import TokenConfig
from tools.meter_sim import Grid
from tools.network_gen import SAMPLE_DISTRICT, generate

TOKENS = TokenConfig("test-secret-0123456789abcdef0123456789", "outage-notice", "outage-notice")


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory: Path = tmp_path_factory.mktemp("district")
    generate(directory, SAMPLE_DISTRICT)
    return directory


def exporting(directory: Path, version: str | None, calls: list[str]) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        name = request.url.path.rsplit("/", 1)[-1]
        headers = {"Content-Type": "text/csv"}
        if version is not None:
            headers["X-Model-Version"] = version
        return httpx.Response(200, content=(directory / name).read_bytes(), headers=headers)

    return httpx.MockTransport(handle)


async def test_the_export_becomes_a_model_that_traces_like_the_field_tracer(district):
    calls: list[str] = []
    source = TopologyNetwork(
        "http://topology", TOKENS, timeout_s=5, transport=exporting(district, "12", calls)
    )
    network = await source.snapshot()
    assert network.version == 12
    assert len(network.account_vertex) == SAMPLE_DISTRICT.customers
    grid = Grid.read(district)
    switches = [d.device_id for d in grid.devices if d.kind == "switch" and d.closed][:25]
    for device in switches:
        assert network.affected_accounts([Operation(device, "open")]) == grid.lost_accounts(
            [(device, "open")]
        ), device
    assert calls == [f"/v1/network/export/{n}.csv" for n in ("nodes", "devices", "customers")]

    again = await source.snapshot()
    assert again is network
    assert calls[3:] == ["/v1/network/export/nodes.csv"]


async def test_without_a_version_the_model_is_read_every_time(district):
    calls: list[str] = []
    source = TopologyNetwork(
        "http://topology", TOKENS, timeout_s=5, transport=exporting(district, None, calls)
    )
    await source.snapshot()
    await source.snapshot()
    assert len(calls) == 6


async def test_an_export_that_is_not_the_bundle_is_refused():
    def handle(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text="something,else\n1,2\n")

    source = TopologyNetwork(
        "http://topology", TOKENS, timeout_s=5, transport=httpx.MockTransport(handle)
    )
    with pytest.raises(TopologyUnavailable):
        await source.snapshot()
