"""Closing the loop of one outage on a moved clock, for the demo and the end-to-end tests.

After the SMS of an outage have gone out and their delivery reports are in, :func:`play_escalation`
lets the escalation points come by moving the receipts clock (a :class:`ManualClock` given to
``create_app``), and plays the people the loop depends on: the voice platform reports calls
(most confirmed by keypress, every third unanswered, so the ladder climbs further), and field
staff close the visits escalation put on the worklist, signed. It stops short of the deadline
and returns the coverage then, which reaches every reachable account.

It drives receipts only through its public API (the worklist, the signed voice webhook) and its
escalation worker; the rest of the suite moves through ``settle`` (events, dispatch's calls).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from services.receipts.adapters.repository import ReceiptsRepository
from services.receipts.clock import ManualClock
from services.receipts.config import ReceiptsSettings
from services.receipts.domain.escalation import EscalationPolicy
from services.receipts.worker import EscalationWorker
from shared.auth import Role, mint_token
from shared.signing import SIGNATURE_HEADER, sign
from shared.timeutil import local

FIELD_USER = "field-chen"
# Rounds of "escalate, answer the calls, let a little time pass" before visiting.
MAX_ROUNDS = 10


@dataclass
class EscalationStory:
    outage_id: str
    deadline: datetime
    finished_at: datetime
    calls_answered: int = 0
    calls_unanswered: int = 0
    visits_signed: int = 0
    escalations: int = 0
    coverage_before: dict[str, Any] = field(default_factory=dict)
    coverage: dict[str, Any] = field(default_factory=dict)


async def play_escalation(
    receipts: FastAPI,
    outage_id: str,
    *,
    settle: Callable[[], Awaitable[None]],
    say: Callable[[str], object] = print,
) -> EscalationStory:
    """Let escalation run its course for ``outage_id`` before its deadline; see the module."""
    clock = receipts.state.clock
    if not isinstance(clock, ManualClock):
        raise TypeError("play_escalation moves the clock: build receipts with a ManualClock")
    settings: ReceiptsSettings = receipts.state.settings
    policy: EscalationPolicy = receipts.state.escalation_policy
    worker: EscalationWorker = receipts.state.escalation
    token = mint_token(receipts.state.token_config, FIELD_USER, [Role.FIELD, Role.DISPATCHER])
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=receipts),
        base_url="http://receipts",
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    ) as client:
        before = await _get(client, f"/v1/outages/{outage_id}/coverage")
        deadline = datetime.fromisoformat(before["deadline"])
        story = EscalationStory(outage_id, deadline, clock(), coverage_before=before)
        say(
            f"   receipts: {before['accounts_reached']}/{before['accounts_targeted']} accounts "
            f"confirmed; deadline {local(deadline, settings.timezone):%m-%d %H:%M}"
        )

        async def round_at(moment: datetime) -> int:
            clock.set(max(moment, clock()))
            done = await worker.run_once()
            await settle()
            answered = await _answer_calls(receipts, client, settings, outage_id, story)
            if answered:
                await settle()
            story.escalations += done.escalations
            return done.escalations + answered

        # Failed SMS escalate at once; unconfirmed ones once their window has passed.
        await round_at(clock())
        await round_at(clock() + policy.window(["sms"]) + timedelta(minutes=1))
        # Then as late as the deadline allows, the ladder climbs rung by rung to the visits.
        moment = max(clock(), deadline - policy.visit_window - timedelta(hours=6))
        for _ in range(MAX_ROUNDS):
            if not await round_at(moment):
                break
            moment = clock() + policy.min_wait + timedelta(minutes=1)
        moment = max(clock(), deadline - policy.visit_window + timedelta(minutes=1))
        await round_at(moment)
        for _ in range(MAX_ROUNDS):
            if not await round_at(clock() + policy.min_wait + timedelta(minutes=1)):
                break

        visited_at = clock() + timedelta(hours=2)
        clock.set(visited_at)
        for task in await _get(client, "/v1/worklist", outage_id=outage_id, kind="visit"):
            closed = await client.post(
                f"/v1/worklist/{task['task_id']}/close",
                json={
                    "outcome": "signed",
                    "signer": "户主",
                    "at": visited_at.isoformat(),
                    "note": "上门告知，已签收",
                },
            )
            closed.raise_for_status()
            story.visits_signed += 1
        await settle()
        if clock() >= deadline:
            raise RuntimeError("the walkthrough ran past the deadline; the policy is too tight")
        story.finished_at = clock()
        story.coverage = await _get(client, f"/v1/outages/{outage_id}/coverage")
    say(
        f"   escalation: {story.escalations} steps taken, {story.calls_answered} calls answered "
        f"({story.calls_unanswered} unanswered), {story.visits_signed} visits signed"
    )
    return story


async def _answer_calls(
    receipts: FastAPI,
    client: httpx.AsyncClient,
    settings: ReceiptsSettings,
    outage_id: str,
    story: EscalationStory,
) -> int:
    """Play the voice platform: report every call of the outage not reported yet."""
    async with receipts.state.runtime.uow() as uow:
        record = await ReceiptsRepository(uow.session).outage_record(outage_id)
    calls = sorted(
        (m for m in record.messages if m.channel == "voice" and m.delivery is None),
        key=lambda m: m.message_id,
    )
    if not calls:
        return 0
    now = receipts.state.clock()
    results = []
    for index, call in enumerate(calls):
        unanswered = (story.calls_answered + story.calls_unanswered + index) % 3 == 2
        results.append(
            {
                "message_id": call.message_id,
                "outcome": "no_answer" if unanswered else "confirmed",
                "at": now.isoformat(),
            }
        )
    story.calls_unanswered += sum(1 for r in results if r["outcome"] == "no_answer")
    story.calls_answered += sum(1 for r in results if r["outcome"] == "confirmed")
    body = json.dumps({"calls": results}).encode()
    response = await client.post(
        "/v1/webhooks/voice-status",
        content=body,
        headers={
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(settings.webhook_secret_values()[0], body),
        },
    )
    response.raise_for_status()
    return len(results)


async def _get(client: httpx.AsyncClient, path: str, **params: str) -> Any:
    response = await client.get(path, params=params)
    response.raise_for_status()
    return response.json()
