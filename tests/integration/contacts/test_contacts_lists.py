"""From a traced outage to an approved notification list, on the memory bus."""

import httpx
import pytest
from contacts_harness import CONTACTS_CSV, CUSTOMERS_CSV, PLANNER, Contacts, traced
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from services.contacts.adapters.db import notice_lists
from services.contacts.domain.listing import recipients_digest
from shared.auth import Role
from shared.events import ListApproved, OutageCancelled, Recipient, TraceWarning

REVIEWER = "reviewer-wang"
AFFECTED = ["A1", "A2", "A3", "A4", "A5", "A6", "A9"]

EXPECTED_RECIPIENTS = [
    Recipient(
        channel="sms",
        address="+8613700137000",
        contact_name="周工",
        account_ids=["A5"],
        account_names=["市第一医院"],
    ),
    Recipient(
        channel="sms",
        address="+8613800138000",
        contact_name="王师傅",
        account_ids=["A1", "A2"],
        account_names=["华新五金厂", "明达制衣"],
    ),
    Recipient(
        channel="sms",
        address="+8613900139000",
        contact_name="赵总",
        account_ids=["A1"],
        account_names=["华新五金厂"],
    ),
]


@pytest.fixture
async def registry(contacts: Contacts) -> Contacts:
    response = await contacts.import_registry(customers=CUSTOMERS_CSV, contacts=CONTACTS_CSV)
    assert response.status_code == 200, response.text
    return contacts


async def read_list(
    contacts: Contacts, outage_id: str, role: Role = Role.REVIEWER, **params: int
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
        "recipients": 3,
        "accounts_without_valid_mobile": 4,
        "unknown_accounts": 1,
        "important_accounts": 1,
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
    assert [r["address"] for r in as_reviewer["recipients"]["items"]] == [
        r.address for r in EXPECTED_RECIPIENTS
    ]
    assert [r["address"] for r in as_planner["recipients"]["items"]] == [
        "137****7000",
        "138****8000",
        "139****9000",
    ]
    assert as_planner["phones_masked"] is True
    accounts = {a["account_id"]: a for a in as_reviewer["accounts"]["items"]}
    assert list(accounts) == AFFECTED
    assert [c["can_sms"] for c in accounts["A1"]["contacts"]] == [True, True, True]
    assert accounts["A4"]["contacts"][0]["number_type"] == "invalid"
    assert accounts["A9"]["in_registry"] is False

    by_planner = await approve(registry, "O1", sub=PLANNER)
    assert by_planner.status_code == 403
    assert await registry.published("list.approved") == []

    by_reviewer = await approve(registry, "O1", comment="已核对", version=1)
    assert by_reviewer.status_code == 200, by_reviewer.text
    (event,) = await registry.published("list.approved")
    assert isinstance(event, ListApproved)
    assert (event.outage_id, event.version, event.approved_by) == ("O1", 1, REVIEWER)
    assert event.recipients == EXPECTED_RECIPIENTS
    assert event.recipients_sha256 == recipients_digest(EXPECTED_RECIPIENTS)
    assert event.account_count == 7
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
    await registry.deliver(traced("O4", ["A3"]))

    after = (await read_list(registry, "O4")).json()
    assert (after["status"], after["version"]) == ("approved", 1)
    assert after["versions"] == [{"version": 1, "status": "approved"}]
    assert after["counts"]["accounts"] == 3
    assert len(await registry.published("list.approved")) == 1


async def test_a_newer_trace_replaces_a_draft_but_never_an_approved_version(
    registry: Contacts,
) -> None:
    await registry.deliver(traced("O5", ["A1", "A2", "A3"]))
    await registry.deliver(traced("O5", ["A1", "A5"], trace_version=2))

    replaced = (await read_list(registry, "O5")).json()
    stale_approval = await approve(registry, "O5", version=1)
    approval = await approve(registry, "O5", version=2)
    await registry.deliver(traced("O5", ["A5"], trace_version=3))
    newest = (await read_list(registry, "O5")).json()
    kept = (await read_list(registry, "O5", version=2)).json()

    assert replaced["version"] == 2
    assert replaced["versions"] == [
        {"version": 1, "status": "superseded"},
        {"version": 2, "status": "draft"},
    ]
    assert [a["account_id"] for a in replaced["accounts"]["items"]] == ["A1", "A5"]
    assert (stale_approval.status_code, stale_approval.json()["field"]) == (409, "version")
    assert approval.status_code == 200
    assert (newest["version"], newest["status"]) == (3, "draft")
    assert (kept["status"], kept["counts"]["accounts"]) == ("approved", 2)
    assert kept["recipients_sha256"] == approval.json()["recipients_sha256"]
    assert [e.version for e in await registry.published("list.approved")] == [2]


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


async def test_pages_of_accounts_and_recipients_follow_limit_and_offset(registry: Contacts) -> None:
    await registry.deliver(traced("O7", AFFECTED))

    page = (await read_list(registry, "O7", limit=2, offset=1)).json()

    assert [a["account_id"] for a in page["accounts"]["items"]] == ["A2", "A3"]
    assert [r["address"] for r in page["recipients"]["items"]] == [
        "+8613800138000",
        "+8613900139000",
    ]
    assert (page["accounts"]["total"], page["recipients"]["total"]) == (7, 3)
    assert len(page["warnings"]) == 5


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
