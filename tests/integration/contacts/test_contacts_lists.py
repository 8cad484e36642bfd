"""From a traced outage to an approved notification list, on the memory bus."""

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from contacts_harness import (
    CONTACTS_CSV,
    CUSTOMERS_CSV,
    DETAILS,
    PLANNER,
    Contacts,
    retraced,
    traced,
    who_gets,
)
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from services.contacts.adapters.db import notice_lists
from services.contacts.adapters.repository import lists as list_storage
from services.contacts.domain.listing import recipients_digest
from shared.auth import Role
from shared.events import OutageCancelled, OutageRescheduled, TraceWarning

REVIEWER = "reviewer-wang"
AFFECTED = ["A1", "A2", "A3", "A4", "A5", "A6", "A9"]

# Who the registry of contacts_harness tells about AFFECTED under the shipped channel policy:
# (wave, channel, address, accounts).
EXPECTED = {
    (0, "sms", "+8613700137000", ("A5",)),
    (0, "voice", "+8613700137000", ("A5",)),
    (0, "door_slip", "A5", ("A5",)),
    (1, "voice", "+8657187000000", ("A5",)),
    (0, "sms", "+8613800138000", ("A1", "A2")),
    (1, "voice", "+8613800138000", ("A1", "A2")),
    (2, "sms", "+8613900139000", ("A1",)),
    (3, "voice", "+8613900139000", ("A1",)),
    (4, "door_slip", "A1", ("A1",)),
    (2, "door_slip", "A2", ("A2",)),
    (0, "voice", "+8657188123456", ("A3",)),
    (1, "door_slip", "A3", ("A3",)),
    (0, "door_slip", "A4", ("A4",)),
    (0, "door_slip", "A6", ("A6",)),
    (0, "posted_notice", "N1", ("A1", "A2", "A9")),
    (0, "newspaper", "2026-03-05", ()),
}


@pytest.fixture
async def registry(contacts: Contacts) -> Contacts:
    response = await contacts.import_registry(customers=CUSTOMERS_CSV, contacts=CONTACTS_CSV)
    assert response.status_code == 200, response.text
    return contacts


async def read_list(
    contacts: Contacts, outage_id: str, role: Role = Role.REVIEWER, **params: int | str
) -> httpx.Response:
    response: httpx.Response = await contacts.request(
        "reader", (role,), "GET", f"/v1/lists/{outage_id}", params=params
    )
    return response


async def approve(
    contacts: Contacts, outage_id: str, sub: str = REVIEWER, **body: int | str
) -> httpx.Response:
    response: httpx.Response = await contacts.request(
        sub, (Role.REVIEWER,), "POST", f"/v1/lists/{outage_id}/approve", json=body or None
    )
    return response


async def edit(
    contacts: Contacts, outage_id: str, action: str, account_id: str, **extra: int | str
) -> httpx.Response:
    response: httpx.Response = await contacts.request(
        REVIEWER,
        (Role.REVIEWER,),
        "POST",
        f"/v1/lists/{outage_id}/edits",
        json={"action": action, "account_id": account_id, "reason": "现场核实", **extra},
    )
    return response


async def test_a_traced_outage_is_drafted_approved_by_a_second_person_and_announced(
    registry: Contacts,
) -> None:
    open_tie = TraceWarning(code="open_tie", message="联络开关状态未确认", elements=["D9"])
    await registry.deliver(traced("O1", AFFECTED, warnings=[open_tie]))

    as_planner = (await read_list(registry, "O1", Role.PLANNER)).json()
    as_reviewer = (await read_list(registry, "O1", Role.REVIEWER)).json()

    assert (as_reviewer["status"], as_reviewer["version"]) == ("draft", 1)
    assert as_reviewer["planned_by"] == PLANNER
    assert as_reviewer["counts"] == {
        "accounts": 7,
        "recipients": 16,
        "first_wave": 9,
        "first_wave_by_channel": {
            "sms": 2,
            "voice": 2,
            "door_slip": 3,
            "posted_notice": 1,
            "newspaper": 1,
        },
        "accounts_without_valid_mobile": 4,
        "unknown_accounts": 1,
        "important_accounts": 1,
        "removed_accounts": 0,
        "warnings": 6,
    }
    assert [(w["code"], w["account_id"], w["has_landline"]) for w in as_reviewer["warnings"]] == [
        ("open_tie", None, None),
        ("unknown_account", "A9", None),
        ("important_customer", "A5", True),
        ("no_valid_mobile", "A3", True),
        ("no_valid_mobile", "A4", False),
        ("no_valid_mobile", "A6", False),
    ]
    assert as_reviewer["warning_counts"] == {
        "open_tie": 1,
        "unknown_account": 1,
        "important_customer": 1,
        "no_valid_mobile": 3,
    }
    first = as_reviewer["recipients"]["items"][:2]
    assert [(r["channel"], r["address"]) for r in first] == [
        ("sms", "+8613700137000"),
        ("sms", "+8613800138000"),
    ]
    assert [r["address"] for r in as_planner["recipients"]["items"][:2]] == [
        "137****7000",
        "138****8000",
    ]
    assert as_planner["phones_masked"] is True
    accounts = {a["account_id"]: a for a in as_reviewer["accounts"]["items"]}
    assert list(accounts) == AFFECTED
    assert [c["can_sms"] for c in accounts["A1"]["contacts"]] == [True, True, True]
    assert [(p["wave"], p["channel"]) for p in accounts["A3"]["plan"]] == [
        (0, "voice"),
        (1, "door_slip"),
    ]
    assert accounts["A4"]["contacts"][0]["number_type"] == "invalid"
    assert accounts["A9"]["in_registry"] is False

    by_planner = await approve(registry, "O1", sub=PLANNER)
    assert by_planner.status_code == 403
    assert await registry.published("list.approved") == []

    by_reviewer = await approve(registry, "O1", comment="已核对", version=1)
    assert by_reviewer.status_code == 200, by_reviewer.text
    (event,) = await registry.approvals()
    assert (event.outage_id, event.version, event.approved_by) == ("O1", 1, REVIEWER)
    assert who_gets(event) == EXPECTED
    assert len(event.recipients) == len(EXPECTED)
    assert event.recipients_sha256 == recipients_digest(event.recipients)
    assert (event.account_count, event.account_ids) == (7, AFFECTED)
    assert event.details.planned_by == PLANNER
    assert by_reviewer.json()["recipients_sha256"] == event.recipients_sha256

    again = await approve(registry, "O1", sub="reviewer-zhao")
    assert again.status_code == 409
    approved = (await read_list(registry, "O1")).json()
    assert (approved["status"], approved["approved_by"], approved["approval_comment"]) == (
        "approved",
        REVIEWER,
        "已核对",
    )
    assert len(await registry.published("list.approved")) == 1


async def test_a_shared_electrician_gets_one_sms_naming_every_account_he_serves(
    registry: Contacts,
) -> None:
    await registry.deliver(traced("O-E", ["A1", "A2"]))
    await approve(registry, "O-E")

    (event,) = await registry.approvals()
    to_him = [r for r in event.recipients if r.address == "+8613800138000"]

    assert [(r.wave, r.channel, r.account_ids, r.account_names) for r in to_him] == [
        (0, "sms", ["A1", "A2"], ["华新五金厂", "明达制衣"]),
        (1, "voice", ["A1", "A2"], ["华新五金厂", "明达制衣"]),
    ]
    assert {r.contact_name for r in to_him} == {"王师傅"}


async def test_a_landline_is_called_never_texted(registry: Contacts) -> None:
    await registry.deliver(traced("O-L", ["A3"]))
    await approve(registry, "O-L")

    (event,) = await registry.approvals()

    assert {(r.wave, r.channel, r.address) for r in event.recipients if r.account_ids} == {
        (0, "voice", "+8657188123456"),
        (1, "door_slip", "A3"),
    }


async def test_an_invalid_number_reaches_nobody_and_its_account_gets_a_slip(
    registry: Contacts,
) -> None:
    await registry.deliver(traced("O-I", ["A4"]))
    await approve(registry, "O-I")

    (event,) = await registry.approvals()

    assert {(r.wave, r.channel, r.address) for r in event.recipients if r.account_ids} == {
        (0, "door_slip", "A4")
    }
    assert all("1380013" not in r.address for r in event.recipients)


async def test_after_an_ownership_transfer_only_the_new_owners_contacts_are_told(
    registry: Contacts,
) -> None:
    transfer = await registry.request(
        "admin-zhou",
        (Role.ADMIN,),
        "POST",
        "/v1/accounts/A1/transfer",
        json={"reason": "营业执照变更，过户给新东家", "new_name": "新华五金"},
    )
    assert transfer.status_code == 200, transfer.text
    await registry.deliver(traced("O-T", ["A1", "A2"]))
    pending = (await read_list(registry, "O-T")).json()
    await registry.ok(
        "admin-zhou",
        (Role.ADMIN,),
        "POST",
        "/v1/accounts/A1/contacts",
        json={"role": "electrical", "name": "新老板", "phone": "13500135000", "reason": "新户主"},
    )
    await registry.deliver(traced("O-T", ["A1", "A2"], trace_version=2))
    assert (await approve(registry, "O-T", version=2)).status_code == 200

    assert transfer.json()["retired_contacts"] == 3
    a1 = next(a for a in pending["accounts"]["items"] if a["account_id"] == "A1")
    assert a1["warnings"] == ["transfer_pending", "no_valid_mobile", "recently_changed"]
    assert [(p["wave"], p["channel"]) for p in a1["plan"]] == [(0, "door_slip")]
    assert a1["name"] == "新华五金"
    (event,) = await registry.approvals()
    told_about_a1 = {
        (r.wave, r.channel, r.address) for r in event.recipients if "A1" in r.account_ids
    }
    assert told_about_a1 == {
        (0, "sms", "+8613500135000"),
        (1, "voice", "+8613500135000"),
        (2, "door_slip", "A1"),
        (0, "posted_notice", "N1"),
    }
    electrician = next(
        r for r in event.recipients if (r.channel, r.address) == ("sms", "+8613800138000")
    )
    assert electrician.account_ids == ["A2"]


async def test_a_cancelled_outages_list_cannot_be_approved(registry: Contacts) -> None:
    await registry.deliver(traced("O2", ["A1", "A2"]))
    await registry.deliver(
        OutageCancelled(
            outage_id="O2",
            reason="雷雨天气",
            cancelled_by=PLANNER,
            cancelled_at="2026-03-04T08:00:00Z",
        )
    )

    cancelled = (await read_list(registry, "O2")).json()
    response = await approve(registry, "O2")

    assert (cancelled["status"], cancelled["cancellation_reason"]) == ("cancelled", "雷雨天气")
    assert response.status_code == 409
    assert await registry.published("list.approved") == []


async def test_a_trace_arriving_after_its_outage_was_cancelled_drafts_nothing(
    registry: Contacts,
) -> None:
    await registry.deliver(
        OutageCancelled(
            outage_id="O3",
            reason="工作取消",
            cancelled_by=PLANNER,
            cancelled_at="2026-03-04T08:00Z",
        )
    )
    await registry.deliver(traced("O3", ["A1"]))

    assert (await read_list(registry, "O3")).status_code == 404


async def test_a_redelivered_trace_changes_nothing(registry: Contacts) -> None:
    message = await registry.deliver(traced("O4", ["A1", "A2", "A3"]))
    assert (await approve(registry, "O4")).status_code == 200

    await registry.redeliver(message)

    after = (await read_list(registry, "O4")).json()
    assert (after["status"], after["version"]) == ("approved", 1)
    assert after["versions"] == [{"version": 1, "status": "approved"}]
    assert after["counts"]["accounts"] == 3
    assert len(await registry.published("list.approved")) == 1


async def test_a_newer_trace_replaces_a_draft_and_must_be_approved_again_after_an_approval(
    registry: Contacts,
) -> None:
    await registry.deliver(traced("O5", ["A1", "A2", "A3"]))
    await registry.deliver(traced("O5", ["A1", "A5"], trace_version=2))

    replaced = (await read_list(registry, "O5")).json()
    stale_approval = await approve(registry, "O5", version=1)
    first_approval = await approve(registry, "O5", version=2)
    await registry.deliver(traced("O5", ["A5"], trace_version=3))
    newest = (await read_list(registry, "O5")).json()
    kept = (await read_list(registry, "O5", version=2)).json()
    second_approval = await approve(registry, "O5", version=3)
    in_force = (await read_list(registry, "O5")).json()

    assert replaced["version"] == 2
    assert replaced["versions"] == [
        {"version": 1, "status": "superseded"},
        {"version": 2, "status": "draft"},
    ]
    assert [a["account_id"] for a in replaced["accounts"]["items"]] == ["A1", "A5"]
    assert (stale_approval.status_code, stale_approval.json()["field"]) == (409, "version")
    assert first_approval.status_code == 200
    assert (newest["version"], newest["status"]) == (3, "draft")
    assert newest["warnings"][0]["code"] == "reapproval_required"
    assert (kept["status"], kept["counts"]["accounts"]) == ("approved", 2)
    assert kept["recipients_sha256"] == first_approval.json()["recipients_sha256"]
    assert second_approval.status_code == 200
    # Dispatch sends only from the newest approved version: the older one no longer counts.
    assert in_force["versions"] == [
        {"version": 1, "status": "superseded"},
        {"version": 2, "status": "superseded"},
        {"version": 3, "status": "approved"},
    ]
    assert [(e.version, e.account_ids) for e in await registry.approvals()] == [
        (2, ["A1", "A5"]),
        (3, ["A5"]),
    ]


async def test_a_retrace_after_a_model_change_drafts_a_new_version_showing_the_difference(
    registry: Contacts,
) -> None:
    await registry.deliver(traced("O10", ["A1", "A2", "A3"]))
    assert (await approve(registry, "O10")).status_code == 200

    await registry.deliver(
        retraced(
            "O10",
            ["A1", "A3", "A5"],
            trace_version=2,
            added=["A5"],
            removed=["A2"],
            reason="变更批次 B7：A2 改接东13线",
        )
    )
    redraft = (await read_list(registry, "O10")).json()
    only_changes = (await read_list(registry, "O10", warning="retrace_removed")).json()

    assert (redraft["version"], redraft["status"]) == (2, "draft")
    assert redraft["retrace_reason"] == "变更批次 B7：A2 改接东13线"
    assert [(w["code"], w["account_id"]) for w in redraft["warnings"][:3]] == [
        ("reapproval_required", None),
        ("retrace_removed", "A2"),
        ("retrace_added", "A5"),
    ]
    assert "A2（明达制衣）" in redraft["warnings"][1]["message"]
    assert [w["account_id"] for w in only_changes["warnings"]] == ["A2"]
    assert only_changes["warnings_total"] == 1
    assert [e.version for e in await registry.approvals()] == [1]


async def test_a_rejected_list_needs_a_reason_and_can_then_not_be_approved(
    registry: Contacts,
) -> None:
    await registry.deliver(traced("O6", ["A1"]))

    without_reason = await registry.request(
        REVIEWER, (Role.REVIEWER,), "POST", "/v1/lists/O6/reject", json={}
    )
    rejected = await registry.request(
        REVIEWER, (Role.REVIEWER,), "POST", "/v1/lists/O6/reject", json={"reason": "漏了东侧台区"}
    )

    assert (without_reason.status_code, without_reason.json()["field"]) == (422, "reason")
    assert rejected.status_code == 200, rejected.text
    assert (rejected.json()["status"], rejected.json()["note"]) == ("rejected", "漏了东侧台区")
    assert (await approve(registry, "O6")).status_code == 409


async def test_pages_follow_limit_and_offset_and_a_warning_filters_accounts_and_warnings(
    registry: Contacts,
) -> None:
    await registry.deliver(traced("O7", AFFECTED))

    page = (await read_list(registry, "O7", limit=2, offset=1, warnings_limit=2)).json()
    no_mobile = (await read_list(registry, "O7", warning="no_valid_mobile")).json()

    assert [a["account_id"] for a in page["accounts"]["items"]] == ["A2", "A3"]
    assert [(r["channel"], r["address"]) for r in page["recipients"]["items"]] == [
        ("sms", "+8613800138000"),
        ("voice", "+8613700137000"),
    ]
    assert (page["accounts"]["total"], page["recipients"]["total"]) == (7, 16)
    assert (len(page["warnings"]), page["warnings_total"]) == (2, 5)
    assert [a["account_id"] for a in no_mobile["accounts"]["items"]] == ["A3", "A4", "A6"]
    assert no_mobile["accounts"]["total"] == 3
    assert {w["code"] for w in no_mobile["warnings"]} == {"no_valid_mobile"}


async def test_pages_read_across_storage_chunks_match_the_whole_list_filtered_or_not(
    registry: Contacts, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Tiny chunks, so that six accounts and sixteen recipients span several of them.
    monkeypatch.setattr(list_storage, "ENTRY_CHUNK", 2)
    monkeypatch.setattr(list_storage, "RECIPIENT_CHUNK", 3)
    await registry.deliver(traced("O11", AFFECTED))
    await edit(registry, "O11", "remove", "A5")
    await edit(registry, "O11", "add", "A7")

    async def pages(key: str, **params: int | str) -> list[dict[str, Any]]:
        found = []
        for offset in range(0, 20, 3):
            answer = (
                await read_list(registry, "O11", Role.REVIEWER, limit=3, offset=offset, **params)
            ).json()
            found.extend(answer[key]["items"])
        return found

    whole = (await read_list(registry, "O11", limit=100)).json()
    no_mobile = (await read_list(registry, "O11", limit=100, warning="no_valid_mobile")).json()

    assert [a["account_id"] for a in whole["accounts"]["items"]] == [*AFFECTED, "A7"]
    assert await pages("accounts") == whole["accounts"]["items"]
    assert await pages("recipients") == whole["recipients"]["items"]
    assert len(whole["recipients"]["items"]) == whole["counts"]["recipients"]
    assert await pages("accounts", warning="no_valid_mobile") == no_mobile["accounts"]["items"]
    assert [a["account_id"] for a in no_mobile["accounts"]["items"]] == ["A3", "A4", "A6"]
    assert no_mobile["accounts"]["total"] == 3


async def test_a_reviewer_removes_and_adds_accounts_with_reasons_and_recipients_follow(
    registry: Contacts,
) -> None:
    await registry.deliver(traced("O12", ["A1", "A2", "A3"]))

    removed = await edit(registry, "O12", "remove", "A2", version=1)
    added = await edit(registry, "O12", "add", "A7")
    twice = await edit(registry, "O12", "remove", "A2")
    unknown = await edit(registry, "O12", "add", "A99")
    no_reason = await registry.request(
        REVIEWER,
        (Role.REVIEWER,),
        "POST",
        "/v1/lists/O12/edits",
        json={"action": "remove", "account_id": "A1"},
    )
    by_planner = await registry.request(
        PLANNER,
        (Role.PLANNER,),
        "POST",
        "/v1/lists/O12/edits",
        json={"action": "remove", "account_id": "A1", "reason": "x"},
    )
    edited = (await read_list(registry, "O12")).json()
    await approve(registry, "O12")
    after_approval = await edit(registry, "O12", "remove", "A1")

    assert removed.status_code == 200, removed.text
    assert added.status_code == 200, added.text
    assert (twice.status_code, twice.json()["field"]) == (409, "account_id")
    assert (unknown.status_code, unknown.json()["field"]) == (404, "account_id")
    assert (no_reason.status_code, no_reason.json()["field"]) == (422, "reason")
    assert by_planner.status_code == 403
    assert after_approval.status_code == 409
    accounts = {a["account_id"]: a for a in edited["accounts"]["items"]}
    assert (accounts["A2"]["removed"], accounts["A2"]["edited"]) == (True, "remove")
    assert (accounts["A7"]["removed"], accounts["A7"]["edited"]) == (False, "add")
    assert (edited["counts"]["accounts"], edited["counts"]["removed_accounts"]) == (3, 1)
    assert [
        (e["action"], e["account_id"], e["reason"], e["edited_by"]) for e in edited["edits"]
    ] == [
        ("remove", "A2", "现场核实", REVIEWER),
        ("add", "A7", "现场核实", REVIEWER),
    ]
    (event,) = await registry.approvals()
    assert event.account_ids == ["A1", "A3", "A7"]
    assert (0, "sms", "+8613800138000", ("A1",)) in who_gets(event)
    assert (0, "sms", "+8613600136000", ("A7",)) in who_gets(event)
    assert (0, "posted_notice", "N1", ("A1",)) in who_gets(event)
    assert not any("A2" in r.account_ids for r in event.recipients)


async def test_a_removed_account_can_be_put_back_as_the_trace_had_it(registry: Contacts) -> None:
    await registry.deliver(traced("O13", ["A1", "A3"]))
    drafted = (await read_list(registry, "O13")).json()

    await edit(registry, "O13", "remove", "A3")
    back = await edit(registry, "O13", "add", "A3")
    restored = (await read_list(registry, "O13")).json()

    assert back.status_code == 200, back.text
    a3 = next(a for a in restored["accounts"]["items"] if a["account_id"] == "A3")
    assert (a3["removed"], a3["edited"], a3["warnings"]) == (False, None, ["no_valid_mobile"])
    assert restored["warning_counts"] == {"no_valid_mobile": 1}
    assert restored["counts"] == drafted["counts"]
    assert restored["recipients"] == drafted["recipients"]


async def test_a_list_is_compared_with_the_last_approved_list_on_the_same_feeder(
    registry: Contacts,
) -> None:
    await registry.deliver(traced("O-prev", ["A1", "A2", "A3"]))
    assert (await approve(registry, "O-prev")).status_code == 200
    await registry.deliver(traced("O-elsewhere", ["A1"], feeder="S9"))
    assert (await approve(registry, "O-elsewhere")).status_code == 200

    await registry.deliver(traced("O-now", ["A1", "A5"]))
    compared = (await read_list(registry, "O-now")).json()

    assert compared["compared_with"] == {"outage_id": "O-prev", "version": 1}
    assert [
        (w["code"], w["account_id"])
        for w in compared["warnings"]
        if w["code"] in ("missing_since_last", "new_since_last")
    ] == [("missing_since_last", "A2"), ("missing_since_last", "A3"), ("new_since_last", "A5")]


async def test_area_contacts_get_the_notice_to_post_for_the_accounts_of_their_area(
    registry: Contacts,
) -> None:
    admin = ("admin-zhou", (Role.ADMIN,))
    await registry.ok(
        *admin,
        "PUT",
        "/v1/areas/幸福小区",
        json={"name": "幸福小区", "kind": "compound", "node_ids": ["N1", "N2"]},
    )
    await registry.ok(
        *admin,
        "POST",
        "/v1/areas/幸福小区/contacts",
        json={
            "role": "property_management",
            "name": "幸福物业",
            "phone": "139 1111 2222",
            "reason": "物业登记",
        },
    )
    await registry.ok(
        *admin,
        "POST",
        "/v1/areas/幸福小区/subscriptions",
        json={"channel": "wechat", "address": "robot-key-1", "name": "幸福小区业主群"},
    )

    await registry.deliver(traced("O14", ["A1", "A2", "A3"]))
    await approve(registry, "O14")

    (event,) = await registry.approvals()
    assert (0, "sms", "+8613911112222", ("A1", "A2")) in who_gets(event)
    assert (0, "wechat", "robot-key-1", ("A1", "A2")) in who_gets(event)
    manager = next(r for r in event.recipients if r.address == "+8613911112222")
    assert (manager.role, manager.audience, manager.contact_name) == (
        "property_management",
        "area",
        "幸福物业",
    )


async def test_new_times_reach_a_draft_but_never_an_approved_version(registry: Contacts) -> None:
    await registry.deliver(traced("O15", ["A1"]))
    await registry.deliver(traced("O16", ["A1"]))
    await approve(registry, "O16")
    later = DETAILS.model_copy(
        update={
            "starts_at": datetime(2026, 3, 12, 0, 0, tzinfo=UTC),
            "ends_at": datetime(2026, 3, 12, 9, 0, tzinfo=UTC),
        }
    )

    for outage_id in ("O15", "O16"):
        await registry.deliver(
            OutageRescheduled(
                outage_id=outage_id,
                details=later,
                previous_starts_at=DETAILS.starts_at,
                previous_ends_at=DETAILS.ends_at,
                reason="天气",
                rescheduled_by=PLANNER,
                rescheduled_at=datetime(2026, 3, 4, tzinfo=UTC),
            )
        )

    assert (await read_list(registry, "O15")).json()["details"][
        "starts_at"
    ] == "2026-03-12T00:00:00Z"
    assert (await read_list(registry, "O16")).json()["details"][
        "starts_at"
    ] == "2026-03-05T00:00:00Z"


async def test_the_drafts_awaiting_review_are_listed_newest_first(registry: Contacts) -> None:
    await registry.deliver(traced("O17", ["A1"]))
    await registry.deliver(traced("O18", ["A1", "A2"]))
    await approve(registry, "O17")

    drafts = await registry.ok(
        "reader", (Role.REVIEWER,), "GET", "/v1/lists", params={"status": "draft"}
    )

    assert [(i["outage_id"], i["counts"]["accounts"]) for i in drafts["items"]] == [("O18", 2)]
    assert drafts["total"] == 1


async def test_lists_are_read_by_planners_reviewers_and_dispatchers_only(
    registry: Contacts,
) -> None:
    await registry.deliver(traced("O8", ["A1"]))

    assert (await read_list(registry, "O8", Role.DISPATCHER)).status_code == 200
    assert (await read_list(registry, "O8", Role.FIELD)).status_code == 403
    assert (await read_list(registry, "O-none")).status_code == 404
    assert (await approve(registry, "O-none")).status_code == 404


async def test_the_database_refuses_an_approval_by_the_planner(registry: Contacts) -> None:
    await registry.deliver(traced("O9", ["A1"]))

    with pytest.raises(IntegrityError, match="four_eyes"):
        async with registry.runtime.db.session() as session, session.begin():
            await session.execute(
                update(notice_lists)
                .where(notice_lists.c.outage_id == "O9")
                .values(approved_by=PLANNER, status="approved")
            )
