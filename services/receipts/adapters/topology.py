"""The topology service, asked what an outage's operations cut off on today's network model.

A complaint "I was not told" from a customer missing from the list is a model or trace error
either way; whether today's model still misses the customer (the model does not match the
field) or now includes them (the trace was wrong, or the model was corrected since) tells the
network team what to do. The answer is a refinement: when topology cannot be reached the
complaint is classified without it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import httpx

from shared.auth import Role, TokenConfig, mint_token

log = logging.getLogger(__name__)

SUBJECT = "receipts"
# topology's /v1/trace admits planners and reviewers; the token also says it is a service.
ROLES = [Role.SYSTEM, Role.REVIEWER]
TOKEN_TTL = timedelta(minutes=5)


class TopologyClient:
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

    async def affected_accounts(self, operations: Sequence[dict[str, Any]]) -> set[str] | None:
        """Accounts the operations cut off on today's model; None if topology did not answer."""
        token = mint_token(self._token_config, SUBJECT, ROLES, ttl=TOKEN_TTL)
        try:
            async with httpx.AsyncClient(
                base_url=self._base_url, transport=self._transport, timeout=self._timeout_s
            ) as client:
                response = await client.post(
                    "/v1/trace",
                    json={"operations": list(operations)},
                    headers={"Authorization": f"Bearer {token}"},
                )
        except httpx.HTTPError as exc:
            log.warning("what-if trace failed: %r", exc)
            return None
        if not response.is_success:
            log.warning("what-if trace refused: HTTP %d %s", response.status_code, response.text)
            return None
        return {account["account_id"] for account in response.json()["affected_accounts"]}
