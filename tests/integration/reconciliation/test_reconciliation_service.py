"""The reconciliation service end to end: outage facts and meter events in, classes, fixes
and rates out, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import timedelta

from reconciliation_harness import (
    ENDS,
    STARTS,
    accounts,
    approved,
    csv_events,
    kept,
    lost,
    meter,
    planned,
    traced,
)

from services.reconciliation.usecases import meter_event_of
from shared.auth import Role
from shared.events import ModelChange, ModelChanged, OutageCancelled, OutageCompleted
from shared.events.catalog import MeterPowerLost, MeterPowerRestored

DUE = ENDS + timedelta(minutes=61)  # window end + the 60-minute grace of the fixture
T3 = accounts("T3")


async def an_outage_with_its_meters(recon, outage_id: str = "O-1") -> None:
    """SW2 opened: T3 lost supply. The reviewer added A00000021 (kept supply: wrong); the
    field has A00000011 on T3, not T1 (lost supply, not told: missed); A00000035's meter is
    silent (unknown)."""
    listed = [*T3, "A00000021"]
    await recon.publish(
        planned(outage_id, "SW2"), traced(outage_id, T3), approved(outage_id, listed)
    )
    heard = lost(*T3[:4], "A00000011") + kept(*accounts("T1")[1:], *accounts("T2"))
    response = await recon.post_events(csv_events(heard))
    assert response.status_code == 200, response.text


async def test_an_outage_is_reconciled_once_its_window_and_grace_have_passed(recon):
    await an_outage_with_its_meters(recon)
    assert await recon.run_worker(ENDS + timedelta(minutes=30)) == []
    assert (await recon.reconciliation("O-1"))["status"] == "traced"

    (outcome,) = await recon.run_worker(DUE)
    assert outcome.revision == 1
    body = await recon.reconciliation("O-1")
    assert body["status"] == "reconciled"
    assert body["counts"] == {"listed": 6, "missed": 1, "wrong": 1, "confirmed": 4, "unknown": 1}
    assert body["missed_account_ids"] == ["A00000011"]
    assert body["wrong_account_ids"] == ["A00000021"]
    assert body["confirmed_account_ids"] == T3[:4]
    assert body["unknown_account_ids"] == ["A00000035"]
    assert body["list_version"] == 1
    assert body["model_version"] == 1

    (event,) = await recon.events("outage.reconciled")
    assert event.outage_id == "O-1"
    assert event.revision == 1
    assert event.counts.missed == 1
    assert event.missed_account_ids == ["A00000011"]
    (fix,) = await recon.events("model.fix_suggested")
    assert [c.model_dump() for c in fix.changes] == [
        {
            "kind": "customer_move",
            "account_id": "A00000011",
            "node_id": "T3",
            "reason": fix.changes[0].reason,
            "origin": "meter_reconciliation",
            "ticket": fix.suggestion_id,
        }
    ]
    assert fix.evidence[0].explained_account_ids == ["A00000011"]
    assert event.suggestion_ids == [fix.suggestion_id]
    assert [s["suggestion_id"] for s in body["suggestions"]] == [fix.suggestion_id]
    assert body["suggestions"][0]["status"] == "suggested"


async def test_duplicates_change_nothing_and_late_events_reconcile_again(recon):
    await an_outage_with_its_meters(recon)
    again = await recon.post_events(csv_events(lost(*T3[:4])))
    assert again.json() | {"reopened_outages": []} == {
        "received": 8,
        "stored": 0,
        "duplicates": 8,
        "reopened_outages": [],
    }
    await recon.run_worker(DUE)

    late = await recon.post_events(csv_events(lost("A00000035")))
    assert late.json()["reopened_outages"] == ["O-1"]
    (outcome,) = await recon.run_worker(DUE + timedelta(days=1))
    assert outcome.revision == 2
    body = await recon.reconciliation("O-1")
    assert body["unknown_account_ids"] == []
    assert body["confirmed_account_ids"] == T3
    revisions = [e.revision for e in await recon.events("outage.reconciled")]
    assert revisions == [1, 2]
    # The fix was sent once; the second reconciliation supports it without sending it again.
    assert len(await recon.events("model.fix_suggested")) == 1

    resent = await recon.post_events(csv_events(lost("A00000035")))
    assert resent.json()["reopened_outages"] == []


async def test_meter_events_arrive_on_the_bus_too(recon):
    await recon.publish(
        planned("O-1", "SW2"),
        traced("O-1", T3),
        OutageCompleted(
            outage_id="O-1", completed_by="crew", completed_at=ENDS - timedelta(hours=2)
        ),
    )
    events = []
    for account in T3:
        events.append(
            MeterPowerLost(
                meter_id=meter(account),
                occurred_at=STARTS + timedelta(seconds=10),
                source_system="AMI",
            )
        )
    events.append(
        MeterPowerRestored(
            meter_id="X-1",
            account_id="A00000011",
            occurred_at=STARTS + timedelta(hours=1),
            source_system="AMI",
            cause="status_check",
        )
    )
    await recon.publish(*events, *events)  # redelivered: stored once
    # The work ended two hours early: the window closes then, and the grace runs from there.
    (_outcome,) = await recon.run_worker(ENDS - timedelta(minutes=59))
    body = await recon.reconciliation("O-1")
    assert body["list_version"] == 0, "no list approved: the traced list is compared"
    assert body["confirmed_account_ids"] == T3
    assert meter_event_of(events[-1]).account_id == "A00000011"


async def test_a_cancelled_outage_is_never_reconciled(recon):
    await an_outage_with_its_meters(recon)
    await recon.publish(
        OutageCancelled(outage_id="O-1", reason="天气", cancelled_by="p", cancelled_at=STARTS)
    )
    assert await recon.run_worker(DUE) == []
    response = await recon.client.post(
        "/v1/outages/O-1/reconcile", headers=recon.bearer(Role.DISPATCHER)
    )
    assert response.status_code == 409


async def test_reconcile_now_waits_for_the_window_and_knows_its_outages(recon):
    await an_outage_with_its_meters(recon)
    headers = recon.bearer(Role.DISPATCHER)
    recon.clock.set(ENDS - timedelta(hours=1))
    early = await recon.client.post("/v1/outages/O-1/reconcile", headers=headers)
    assert early.status_code == 409
    assert early.json()["field"] == "outage_id"
    assert (
        await recon.client.post("/v1/outages/NOPE/reconcile", headers=headers)
    ).status_code == 404
    recon.clock.set(ENDS + timedelta(minutes=1))
    now = await recon.client.post("/v1/outages/O-1/reconcile", headers=headers)
    assert now.status_code == 200, now.text
    assert now.json()["counts"]["missed"] == 1


async def test_topology_down_leaves_the_outage_due(recon):
    await an_outage_with_its_meters(recon)
    recon.topology.down = True
    assert await recon.run_worker(DUE) == []
    forced = await recon.client.post(
        "/v1/outages/O-1/reconcile", headers=recon.bearer(Role.DISPATCHER)
    )
    assert forced.status_code == 503
    recon.topology.down = False
    assert len(await recon.run_worker(DUE + timedelta(minutes=5))) == 1


async def test_the_model_is_read_once_per_version(recon):
    await an_outage_with_its_meters(recon, "O-1")
    await an_outage_with_its_meters(recon, "O-2")
    await recon.run_worker(DUE)
    fetched = [p for p in recon.topology.requests if not p.endswith("nodes.csv")]
    assert len(fetched) == 2, "devices and customers once; nodes to learn the version"


async def test_a_bad_batch_is_refused_whole_naming_row_and_field(recon):
    body = csv_events(lost("A00000031")) + b"M00000032,power_gone,,2026-11-28T08:00:00+08:00\n"
    response = await recon.post_events(body)
    assert response.status_code == 422
    assert response.json() | {"detail": ""} == {
        "error": "invalid_input",
        "detail": "",
        "file": "events.csv",
        "row": 4,
        "field": "event",
    }
    assert (await recon.post_events(b"x", content_type="text/plain")).status_code == 422
    rows = [{"meter_id": "M00000031", "event": "power_lost", "occurred_at": "2026-11-28 08:00"}]
    ok = await recon.post_events(json.dumps(rows).encode(), content_type="application/json")
    assert ok.json()["stored"] == 1


async def test_only_the_metering_system_may_send_events(recon):
    response = await recon.client.post(
        "/v1/meter-events",
        content=csv_events(lost("A00000031")),
        headers={**recon.bearer(Role.DISPATCHER), "Content-Type": "text/csv"},
    )
    assert response.status_code == 403
    anonymous = await recon.client.get("/v1/outages/O-1/reconciliation")
    assert anonymous.status_code == 401


async def test_imported_meters_map_ids_the_default_rule_cannot(recon):
    headers = {**recon.bearer(Role.SYSTEM), "Content-Type": "text/csv"}
    imported = await recon.client.post(
        "/v1/meters/import", content=b"meter_id,account_id\nEM-9,A00000011\n", headers=headers
    )
    assert imported.json() == {"meters": 1, "created": 1, "updated": 0}
    await recon.publish(planned("O-1", "SW2"), traced("O-1", T3))
    rows = lost(*T3) + kept(*accounts("T1")[1:])
    body = (
        csv_events(rows)
        + f"EM-9,power_lost,,{(STARTS + timedelta(seconds=5)).isoformat()}\n".encode()
    )
    await recon.post_events(body)
    await recon.run_worker(DUE)
    assert (await recon.reconciliation("O-1"))["missed_account_ids"] == ["A00000011"]


async def test_applied_fixes_are_recognised_in_the_model_changes(recon):
    await an_outage_with_its_meters(recon)
    await recon.run_worker(DUE)
    (fix,) = await recon.events("model.fix_suggested")
    await recon.publish(
        ModelChanged(
            batch_id="CHG-1",
            model_version=2,
            author="reviewer-wang",
            changes=[
                ModelChange(
                    kind="customer_move",
                    element_id="A00000011",
                    origin="meter_reconciliation",
                    ticket=fix.suggestion_id,
                )
            ],
            changed_at=ENDS + timedelta(days=1),
        )
    )
    response = await recon.client.get(
        f"/v1/suggestions/{fix.suggestion_id}", headers=recon.bearer(Role.REVIEWER)
    )
    assert response.json()["status"] == "applied"
    assert response.json()["applied_batch"] == "CHG-1"
    listed = await recon.client.get(
        "/v1/suggestions", params={"status": "applied"}, headers=recon.bearer(Role.REVIEWER)
    )
    assert listed.json()["total"] == 1


async def test_the_period_report_gives_the_measured_rates(recon):
    await an_outage_with_its_meters(recon)
    await recon.run_worker(DUE)
    response = await recon.client.get(
        "/v1/reports",
        params={"from": "2026-11-01T00:00:00", "to": "2026-12-01T00:00:00"},
        headers=recon.bearer(Role.PLANNER),
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["from"].startswith("2026-11-01T00:00:00+08:00")
    assert (report["outages"], report["missed"], report["wrong"], report["confirmed"]) == (
        1,
        1,
        1,
        4,
    )
    assert report["missed_rate"] == round(1 / 5, 6)
    assert report["wrong_rate"] == round(1 / 5, 6)
    assert report["unknown_share"] == round(1 / 6, 6)
    assert [r["outage_id"] for r in report["rows"]] == ["O-1"]
    backwards = await recon.client.get(
        "/v1/reports",
        params={"from": "2026-12-01T00:00:00", "to": "2026-11-01T00:00:00"},
        headers=recon.bearer(Role.PLANNER),
    )
    assert backwards.status_code == 422
