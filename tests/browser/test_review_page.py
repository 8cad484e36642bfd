"""The review page in headless Chromium: a reviewer reads the warnings, edits and approves.

The contacts service runs on a real loopback port (uvicorn); Chromium loads ``/review`` and is
driven through the DevTools protocol (see ``cdp``). Without Chromium the test is skipped, except
in CI (``CI=true``), where a missing browser fails the run.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import uvicorn
from cdp import Page, chromium_page
from fastapi import FastAPI

from services.contacts.app import create_app
from services.contacts.config import ContactsSettings
from shared.auth import Role, mint_token
from shared.bus import Message
from shared.bus.memory import MemoryBus
from shared.events import (
    AffectedAccount,
    Envelope,
    FeederScope,
    ListApproved,
    OutageDetails,
    OutageTraced,
    TransformerScope,
    decode,
    encode,
)

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
PLANNER = "planner-li"
REVIEWER = "reviewer-wang"

CUSTOMERS = """\
account_id,name,node_id,voltage_kv,category
A1,华新五金厂,N1,0.4,commercial
A2,明达制衣,N1,0.4,commercial
A3,张伟,N1,0.22,residential
A4,李娜,N1,0.22,residential
A5,市第一医院,N1,10,important
"""
CONTACTS = """\
account_id,role,name,phone
A1,electrical,王师傅,13800138000
A2,electrical,王师傅,13800138000
A3,electrical,张伟,0571-88123456
A5,electrical,周工,13700137000
"""


@pytest.fixture
def chromium() -> str:
    if not Path(CHROMIUM).exists():
        if IN_CI:
            pytest.fail(f"Chromium is required in CI and missing at {CHROMIUM}")
        pytest.skip(f"no Chromium at {CHROMIUM} (set CHROMIUM to another path)")
    return CHROMIUM


@pytest.fixture
async def service(tmp_path: Path, memory_bus: MemoryBus) -> AsyncIterator[tuple[FastAPI, str]]:
    """The contacts app served by uvicorn on a free loopback port, with a traced outage."""
    settings = ContactsSettings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'contacts.db'}",
        var_dir=tmp_path,
        kafka_bootstrap="",
        outbox_poll_interval_s=0.05,
        maintenance_scan_hours=0,
    )
    app = create_app(settings, bus=memory_bus)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    base_url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    serving = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        while not server.started:
            if serving.done():
                serving.result()
            await asyncio.sleep(0.02)
        admin = mint_token(app.state.token_config, "admin-zhou", [Role.ADMIN])
        async with httpx.AsyncClient(base_url=base_url) as client:
            imported = await client.post(
                "/v1/import",
                params={"invalid_phones": "flag"},
                headers={"Authorization": f"Bearer {admin}"},
                files={
                    "customers": ("customers.csv", CUSTOMERS.encode(), "text/csv"),
                    "contacts": ("contacts.csv", CONTACTS.encode(), "text/csv"),
                },
            )
            assert imported.status_code == 200, imported.text
        trace = OutageTraced(
            outage_id="O-B1",
            details=OutageDetails(
                kind="temporary",
                starts_at=datetime(2026, 3, 5, 0, 0, tzinfo=UTC),
                ends_at=datetime(2026, 3, 5, 9, 0, tzinfo=UTC),
                work="10kV东12线线路检修",
                area="东12线沿线",
                planned_by=PLANNER,
            ),
            model_version=1,
            affected_accounts=[
                AffectedAccount(account_id=a, isolating_device="D7", node_id="N1", feeder="S1")
                for a in ("A1", "A2", "A3", "A4", "A5", "A9")
            ],
            transformers=[TransformerScope(node_id="N1", name="幸福小区1号台区", customers=6)],
            feeders=[FeederScope(source_node="S1", name="城东变 10kV 东12线", customers=6)],
        )
        envelope = Envelope.wrap(trace, "topology")
        await memory_bus.publish([Message(trace.type, trace.subject(), encode(envelope))])
        await memory_bus.drain()
        yield app, base_url
    finally:
        server.should_exit = True
        await serving


async def use_token(page: Page, token: str) -> None:
    """Paste a token into the page and save it, as a user does."""
    await page.evaluate(
        f"document.querySelector('#token').value = {json.dumps(token)};"
        "document.querySelector('#save-token').click()"
    )


def text_of(selector: str) -> str:
    return f"((document.querySelector({json.dumps(selector)}) || {{}}).textContent || '')"


def column(table: str) -> str:
    """The first cell of each row of a table, as a JSON array."""
    return (
        f"JSON.stringify([...document.querySelectorAll('{table} tbody tr')]"
        ".map(row => row.cells[0].textContent))"
    )


async def test_a_reviewer_approves_a_list_on_the_review_page_and_it_is_announced(
    chromium: str, service: tuple[FastAPI, str], tmp_path: Path, memory_bus: MemoryBus
) -> None:
    app, base_url = service
    config = app.state.token_config
    planner = mint_token(config, PLANNER, [Role.PLANNER, Role.REVIEWER])
    reviewer = mint_token(config, REVIEWER, [Role.REVIEWER])
    profile = tmp_path / "chromium-profile"

    async with chromium_page(chromium, profile, f"{base_url}/review?outage=O-B1") as page:
        await page.wait_for(
            "document.readyState === 'complete' && !!document.querySelector('#token')"
        )
        assert "访问令牌" in await page.evaluate(text_of("#message"))

        # The planner of the outage may read the list but not approve it.
        await use_token(page, planner)
        await page.wait_for(f"{text_of('#status')} === '待审批'")
        assert "planner-li" in await page.evaluate(text_of("#who"))
        first_warning = await page.evaluate(
            "document.querySelector('#warnings tbody tr').dataset.code"
        )
        await page.evaluate("document.querySelector('#approve').click()")
        await page.wait_for(f"{text_of('#message.error')}.includes('四眼原则')")

        # A reviewer filters by a warning, takes an account off with a reason, approves.
        await use_token(page, reviewer)
        await page.wait_for(f"{text_of('#who')}.includes('{REVIEWER}')")
        await page.evaluate(
            "document.querySelector('#warning-summary button[data-code=no_valid_mobile]').click()"
        )
        await page.wait_for(f'{column("#accounts")} === \'["A3","A4"]\'')
        await page.evaluate(
            "document.querySelector('#edit-action').value = 'remove';"
            "document.querySelector('#edit-account').value = 'A4';"
            "document.querySelector('#edit-reason').value = '已销户，现场核实';"
            "document.querySelector('#edit-submit').click()"
        )
        await page.wait_for(f"{text_of('#message.ok')}.includes('已移出用户 A4')")
        await page.wait_for(f"{text_of('#edits tbody')}.includes('已销户，现场核实')")
        await page.evaluate(
            "document.querySelector('#approve-comment').value = '已核对警告';"
            "document.querySelector('#approve').click()"
        )
        await page.wait_for(f"{text_of('#status')} === '已审批'")
        shown = await page.evaluate(text_of("#message"))

    assert first_warning == "unknown_account"
    assert "已审批" in shown
    await app.state.runtime.relay.publish_pending()
    (approved,) = [decode(m.value)[1] for m in memory_bus.log["list.approved"]]
    assert isinstance(approved, ListApproved)
    assert (approved.outage_id, approved.version, approved.approved_by) == ("O-B1", 1, REVIEWER)
    assert approved.account_ids == ["A1", "A2", "A3", "A5", "A9"]
    electrician = next(r for r in approved.recipients if r.address == "+8613800138000")
    assert electrician.account_ids == ["A1", "A2"]
