"""``make demo``: one planned outage told end to end, then cancelled, with its coverage.

The same story runs in the end-to-end tests (:func:`play_story`), so the demo cannot rot.
"""

from __future__ import annotations

import asyncio
import csv
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from services.receipts.story import EscalationStory, play_escalation
from services.sample import ensure_sample, load_sample
from services.suite import Suite, running_suite
from shared.auth import Role
from shared.timeutil import local, utcnow
from tools.carrier_sim import CarrierSimSettings, flush_reports

PLANNER = "planner-li"
REVIEWER = "reviewer-wang"
DISPATCHER = "dispatcher-zhao"


@dataclass
class StoryResult:
    outage_id: str
    affected_accounts: int
    list_counts: dict[str, Any]
    self_approval_status: int
    coverage: dict[str, Any]
    escalation: EscalationStory | None
    cancellation_coverage: dict[str, Any]
    notified_phones: set[str] = field(default_factory=set)
    cancelled_phones: set[str] = field(default_factory=set)


async def eventually(check: Any, *, timeout_s: float = 60.0, what: str = "condition") -> Any:
    """Poll ``check()`` until it returns something truthy."""
    try:
        async with asyncio.timeout(timeout_s):
            while True:
                value = await check()
                if value:
                    return value
                await asyncio.sleep(0.1)
    except TimeoutError:
        raise TimeoutError(f"timed out waiting for {what}") from None


def candidate_switches(sample_dir: Path) -> list[str]:
    with (sample_dir / "devices.csv").open(encoding="utf-8") as f:
        return [
            row["device_id"]
            for row in csv.DictReader(f)
            if row["kind"] == "switch" and row["normal_state"] == "closed"
        ]


async def pick_switch(topology: httpx.AsyncClient, sample_dir: Path) -> tuple[str, int]:
    """A sectionalising switch whose opening cuts off a district-sized group of customers."""
    for device_id in candidate_switches(sample_dir):
        answer = await topology.post(
            "/v1/trace", json={"operations": [{"device_id": device_id, "action": "open"}]}
        )
        answer.raise_for_status()
        affected = len(answer.json()["affected_accounts"])
        if 80 <= affected <= 400:
            return device_id, affected
    raise RuntimeError("no switch in the sample district cuts off 80–400 customers")


async def dispatch_settled(dispatch: httpx.AsyncClient, outage_id: str, kind: str) -> bool:
    response = await dispatch.get(f"/v1/outages/{outage_id}/messages", params={"limit": 1})
    if response.status_code != 200:
        return False
    for summary in response.json()["summaries"]:
        if summary["notice_kind"] == kind:
            open_states = ("queued", "sending", "unknown")
            return summary["total"] > 0 and not any(
                summary["by_status"].get(s, 0) for s in open_states
            )
    return False


async def phones_by_kind(dispatch: httpx.AsyncClient, outage_id: str, kind: str) -> set[str]:
    """The phones that were handed an SMS of this kind (the coverage's ``notice`` and
    ``cancellation`` figures count SMS; other channels have their own in ``by_channel``)."""
    response = await dispatch.get(
        f"/v1/outages/{outage_id}/messages",
        params={"notice_kind": kind, "channel": "sms", "status": "submitted", "limit": 5000},
    )
    response.raise_for_status()
    return {m["address"] for m in response.json()["messages"]}


async def play_story(
    suite: Suite, sample_dir: Path, say: Any = print, *, escalate: bool = True
) -> StoryResult:
    """The story; ``escalate`` plays the escalation walkthrough, which needs receipts on a
    :class:`ManualClock` and an in-process bus to settle on (``running_suite(demo_time=…)``)."""
    planner = suite.client("topology", suite.token(PLANNER, Role.PLANNER))
    admin = suite.token("admin", Role.ADMIN)
    reviewer_token = suite.token(REVIEWER, Role.REVIEWER)
    dispatcher_token = suite.token(DISPATCHER, Role.DISPATCHER)
    contacts_as_reviewer = suite.client("contacts", reviewer_token)
    contacts_as_planner = suite.client(
        "contacts", suite.token(PLANNER, Role.PLANNER, Role.REVIEWER)
    )
    dispatch = suite.client("dispatch", dispatcher_token)
    receipts = suite.client("receipts", dispatcher_token)
    carrier = suite.apps["carrier"]

    loaded = await load_sample(
        suite.client("topology", admin), suite.client("contacts", admin), sample_dir
    )
    if not loaded["skipped"]:
        network, registry = loaded["network"], loaded["contacts"]
        say(
            f"1. Sample district imported: {network['nodes']} nodes, {network['devices']} "
            f"devices, {network['customers']} customers (model v{network['model_version']}); "
            f"{registry['contacts']['created']} contacts, "
            f"{registry['invalid_numbers_flagged']} unusable numbers flagged for maintenance"
        )

    device_id, affected = await pick_switch(planner, sample_dir)
    starts = local(suite.now() + timedelta(days=8)).replace(
        hour=8, minute=0, second=0, microsecond=0
    )
    plan = {
        "kind": "planned",
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=9)).isoformat(),
        "work": "10kV线路检修及设备消缺",
        "area": "城东示范片区",
        "operations": [{"device_id": device_id, "action": "open"}],
    }
    created = await planner.post("/v1/outages", json=plan)
    created.raise_for_status()
    outage_id = created.json()["id"]
    say(f"2. {PLANNER} plans outage {outage_id}: open {device_id} ({affected} customers affected)")

    await suite.settle()
    listing = await eventually(
        lambda: _get_ok(contacts_as_reviewer, f"/v1/lists/{outage_id}"), what="the draft list"
    )
    counts = listing["counts"]
    say(f"3. Draft list for review: {counts}")
    for warning in listing.get("warnings", [])[:4]:
        say(f"   ⚠ {warning['message']}")

    own = await contacts_as_planner.post(f"/v1/lists/{outage_id}/approve")
    say(f"4. {PLANNER} tries to approve their own outage's list → {own.status_code} (four eyes)")
    approved = await contacts_as_reviewer.post(f"/v1/lists/{outage_id}/approve")
    approved.raise_for_status()
    say(f"   {REVIEWER} approves → {approved.status_code}")

    await suite.settle()
    await eventually(lambda: dispatch_settled(dispatch, outage_id, "notice"), what="notices sent")
    await flush_reports(carrier)
    await suite.settle()
    notified = await phones_by_kind(dispatch, outage_id, "notice")
    coverage = await eventually(
        lambda: _coverage_complete(receipts, outage_id, "notice", len(notified)),
        what="delivery reports",
    )
    sample = await dispatch.get(
        f"/v1/outages/{outage_id}/messages", params={"channel": "sms", "limit": 1}
    )
    first = sample.json()["messages"][0]
    say(f"5. SMS sent, e.g.: 【{first['sign_name']}】{first['text']}")
    say(f"   Coverage after delivery reports: {_summary(coverage, 'notice')}")

    escalation = await _escalate(suite, outage_id, say) if escalate else None
    await eventually(lambda: dispatch_settled(dispatch, outage_id, "notice"), what="follow-ups")
    await flush_reports(carrier)
    await suite.settle()
    notified = await phones_by_kind(dispatch, outage_id, "notice")

    cancelled = await planner.post(
        f"/v1/outages/{outage_id}/cancel", json={"reason": "天气原因，检修改期"}
    )
    cancelled.raise_for_status()
    await suite.settle()
    await eventually(
        lambda: dispatch_settled(dispatch, outage_id, "cancellation"), what="cancellations sent"
    )
    await flush_reports(carrier)
    await suite.settle()
    told_of_cancel = await phones_by_kind(dispatch, outage_id, "cancellation")
    final = await eventually(
        lambda: _coverage_complete(receipts, outage_id, "cancellation", len(told_of_cancel)),
        what="cancellation reports",
    )
    say(f"7. Cancelled: {_summary(final, 'cancellation')}")
    say(
        f"   cancellation went to {len(told_of_cancel)} phones; "
        f"{len(told_of_cancel - notified)} of them had not been sent the notice"
    )
    return StoryResult(
        outage_id=outage_id,
        affected_accounts=affected,
        list_counts=counts,
        self_approval_status=own.status_code,
        coverage=coverage,
        escalation=escalation,
        cancellation_coverage=final,
        notified_phones=notified,
        cancelled_phones=told_of_cancel,
    )


async def _escalate(suite: Suite, outage_id: str, say: Any) -> EscalationStory:
    say("6. Escalation before the deadline: failed and unconfirmed SMS → calls → visits")
    escalation = await play_escalation(
        suite.apps["receipts"], outage_id, settle=suite.settle, say=say
    )
    reached = escalation.coverage
    say(
        f"   Coverage at {local(escalation.finished_at):%m-%d %H:%M}, before the deadline: "
        f"{reached['accounts_reached']} of {reached['accounts_targeted']} accounts reached "
        f"({reached['reached_of_reachable_pct']} % of reachable), "
        f"{reached['accounts_acknowledged']} acknowledged, "
        f"{reached['accounts_escalated']} escalated"
    )
    return escalation


async def _get_ok(client: httpx.AsyncClient, path: str) -> dict[str, Any] | None:
    response = await client.get(path)
    if response.status_code == 200:
        body: dict[str, Any] = response.json()
        return body
    return None


async def _coverage_complete(
    receipts: httpx.AsyncClient, outage_id: str, kind: str, expected_sent: int
) -> dict[str, Any] | None:
    """The coverage once receipts has heard of every submission and every final report."""
    coverage = await _get_ok(receipts, f"/v1/outages/{outage_id}/coverage")
    if coverage and coverage[kind]["sent"] == expected_sent and coverage[kind]["pending"] == 0:
        return coverage
    return None


def _summary(coverage: dict[str, Any], kind: str) -> str:
    figures = coverage[kind]
    return (
        f"targeted {coverage['accounts_targeted']} accounts, "
        f"reached {coverage['accounts_reached']}; "
        f"{kind}: sent {figures['sent']}, delivered {figures['delivered']}, "
        f"failed {figures['failed']}, expired {figures['expired']}, pending {figures['pending']}"
    )


async def play_demo(var_dir: Path) -> StoryResult:
    shutil.rmtree(var_dir, ignore_errors=True)
    sample_dir = ensure_sample(var_dir / "sample")
    # Reports are flushed by the story instead of trickling in, so the demo takes seconds.
    carrier = CarrierSimSettings(
        report_url="http://receipts/v1/webhooks/sms-status", report_delay_s=(3600, 3600)
    )
    async with running_suite(var_dir, carrier=carrier, demo_time=daytime()) as suite:
        return await play_story(suite, sample_dir)


def daytime() -> datetime:
    """Now if it is working hours in the service's time zone, else the next 10:00: calls
    and SMS are not made in quiet hours, and the demo should not wait for the morning."""
    now = local(utcnow())
    if 9 <= now.hour < 17:
        return now
    morning = now.replace(hour=10, minute=0, second=0, microsecond=0)
    return morning if morning > now else morning + timedelta(days=1)
