"""The network model, fetched from the topology service's CSV export.

Topology serves the three network files of the interchange bundle at
``GET /v1/network/export/{nodes,devices,customers}.csv`` with the model version in the
``X-Model-Version`` header. A snapshot is kept and fetched again only when topology says the
version moved on (a HEAD-less check: the version of the nodes file is compared before the other
two are read), so a worker round reconciling several outages reads the model once.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import httpx

from services.reconciliation.domain.network import Network
from services.reconciliation.domain.snapshot import SnapshotError, parse_bundle
from shared.auth import Role, TokenConfig, mint_token

log = logging.getLogger(__name__)

SUBJECT = "reconciliation"
ROLES = [Role.SYSTEM]
TOKEN_TTL = timedelta(minutes=5)
FILES = ("nodes", "devices", "customers")
VERSION_HEADER = "X-Model-Version"


class TopologyUnavailable(Exception):
    """Topology did not give a usable model; reconciliation waits and tries again."""


class TopologyNetwork:
    def __init__(
        self,
        base_url: str,
        token_config: TokenConfig,
        *,
        timeout_s: float,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._token_config = token_config
        self._timeout_s = timeout_s
        self._transport = transport
        self._cached: Network | None = None
        self._lock = asyncio.Lock()

    async def snapshot(self) -> Network:
        """Today's network model (the cached one while topology's version is unchanged)."""
        async with self._lock:
            token = mint_token(self._token_config, SUBJECT, ROLES, ttl=TOKEN_TTL)
            headers = {"Authorization": f"Bearer {token}"}
            try:
                async with httpx.AsyncClient(
                    base_url=self._base_url, transport=self._transport, timeout=self._timeout_s
                ) as client:
                    first = await self._get(client, "nodes", headers)
                    version = _version(first)
                    cached = self._cached
                    if cached is not None and version is not None and cached.version == version:
                        return cached
                    texts = [first.text]
                    for name in FILES[1:]:
                        texts.append((await self._get(client, name, headers)).text)
            except httpx.HTTPError as error:
                raise TopologyUnavailable(repr(error)) from error
            try:
                network = parse_bundle(*texts, version=version)
            except SnapshotError as error:
                raise TopologyUnavailable(str(error)) from error
            self._cached = network if version is not None else None
            return network

    @staticmethod
    async def _get(client: httpx.AsyncClient, name: str, headers: dict[str, str]) -> httpx.Response:
        response = await client.get(f"/v1/network/export/{name}.csv", headers=headers)
        if not response.is_success:
            raise TopologyUnavailable(f"{name}.csv: HTTP {response.status_code}")
        return response


def _version(response: httpx.Response) -> int | None:
    raw = response.headers.get(VERSION_HEADER)
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        log.warning("topology sent a non-numeric %s: %r", VERSION_HEADER, raw)
        return None
