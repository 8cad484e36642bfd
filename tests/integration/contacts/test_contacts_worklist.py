"""The maintenance worklist: what the scan and the delivery and complaint feedback put on it,
and what closing an item writes into the registry."""

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from contacts_harness import CONTACTS_CSV, CUSTOMERS_CSV, Contacts, traced
from sqlalchemy import update

from services.contacts.adapters.db import contacts as contacts_table
from services.contacts.app import create_app
from services.contacts.config import ContactsSettings
from shared.auth import Role
from shared.bus.memory import MemoryBus
from shared.events import ComplaintClassified, ContactUndeliverable
from shared.events.catalog import ComplaintCause

ADMIN = ("admin-zhou", (Role.ADMIN,))
FIELD = ("field-li", (Role.FIELD,))
ELECTRICIAN = "+8613800138000"


@pytest.fixture
async def registry(
    make_settings: Callable[..., ContactsSettings], memory_bus: MemoryBus, db_backend: str
) -> AsyncIterator[Contacts]:
    """The harness registry with thresholds small enough for its handful of accounts."""
    settings = make_settings(
        ContactsSettings,
        db_backend,
        maintenance_scan_hours=0,
        shared_number_accounts=2,
        unverified_after_days=30,
        invalid_after_failures=3,
    )
    app = create_app(settings, bus=memory_bus)
    async with app.router.lifespan_context(app):
        contacts = Contacts(app=app, bus=memory_bus)
        response = await contacts.import_registry(customers=CUSTOMERS_CSV, contacts=CONTACTS_CSV)
        assert response.status_code == 200, response.text
        yield contacts


async def worklist(contacts: Contacts, **params: Any) -> list[dict[str, Any]]:
    page = await contacts.ok(*ADMIN, "GET", "/v1/maintenance", params=params)
    items: list[dict[str, Any]] = page["items"]
    return items


async def scan(contacts: Contacts) -> dict[str, int]:
    result: dict[str, int] = await contacts.ok(*ADMIN, "POST", "/v1/maintenance/scan")
    return result


async def close(contacts: Contacts, item_id: int, **body: Any) -> Any:
    return await contacts.request(*FIELD, "POST", f"/v1/maintenance/{item_id}/close", json=body)


async def account(contacts: Contacts, account_id: str) -> dict[str, Any]:
    found: dict[str, Any] = await contacts.ok(*ADMIN, "GET", f"/v1/accounts/{account_id}")
    return found


def kinds(items: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
    return [(i["kind"], i["account_id"] or i["phone"]) for i in items]


async def test_a_flagged_invalid_number_is_on_the_worklist_as_soon_as_it_is_imported(
    registry: Contacts,
) -> None:
    items = await worklist(registry)

    assert kinds(items) == [("invalid_number", "A4")]
    assert (items[0]["phone"], items[0]["opened_by"]) == ("1380013", "admin-zhou")
    assert "1380013" in items[0]["detail"]


async def test_the_scan_finds_each_kind_of_upkeep_once_and_resolves_what_went_away(
    registry: Contacts,
) -> None:
    async with registry.runtime.db.session() as session, session.begin():
        await session.execute(
            update(contacts_table)
            .where(contacts_table.c.account_id == "A7")
            .values(created_at=datetime.now(UTC) - timedelta(days=45))
        )

    first = await scan(registry)
    found = await worklist(registry)
    again = await scan(registry)
    await registry.ok(
        *ADMIN,
        "POST",
        "/v1/accounts/A6/contacts",
        json={"role": "electrical", "name": "王芳", "phone": "13511112222", "reason": "上门登记"},
    )
    after_fix = await scan(registry)
    resolved = await worklist(registry, status="closed")

    assert sorted(kinds(found)) == [
        ("invalid_number", "A4"),
        ("no_valid_mobile", "A3"),
        ("no_valid_mobile", "A4"),
        ("no_valid_mobile", "A6"),
        ("shared_number", ELECTRICIAN),
        ("unverified", "A7"),
    ]
    shared = next(i for i in found if i["kind"] == "shared_number")
    assert shared["account_ids"] == ["A1", "A2"]
    assert first == {"opened": 5, "resolved": 0}
    assert again == {"opened": 0, "resolved": 0}
    assert after_fix == {"opened": 0, "resolved": 1}
    assert [(i["account_id"], i["outcome"], i["closed_by"]) for i in resolved] == [
        ("A6", "resolved", "system")
    ]


async def test_closing_an_item_writes_what_was_done_into_the_registry(registry: Contacts) -> None:
    await scan(registry)
    items = {(i["kind"], i["account_id"] or i["phone"]): i for i in await worklist(registry)}

    called = await close(registry, items[("no_valid_mobile", "A3")]["item_id"], outcome="called")
    fixed = await close(
        registry,
        items[("invalid_number", "A4")]["item_id"],
        outcome="number_fixed",
        phone="135 2222 3333",
        note="李娜提供新号",
    )
    added = await close(
        registry,
        items[("no_valid_mobile", "A6")]["item_id"],
        outcome="contact_added",
        role="electrical",
        name="王芳",
        phone="13544445555",
        call_window="09:00-21:00",
    )
    a2_electrician = next(
        c for c in (await account(registry, "A2"))["contacts"] if c["role"] == "electrical"
    )
    removed = await close(
        registry,
        items[("shared_number", ELECTRICIAN)]["item_id"],
        outcome="contact_removed",
        contact_id=a2_electrician["contact_id"],
    )
    twice = await close(registry, items[("no_valid_mobile", "A3")]["item_id"], outcome="called")
    after = await scan(registry)

    assert called.status_code == 200, called.text
    assert (called.json()["status"], called.json()["outcome"], called.json()["closed_by"]) == (
        "closed",
        "called",
        "field-li",
    )
    (a3_landline,) = (await account(registry, "A3"))["contacts"]
    assert a3_landline["last_verified_at"] is not None
    assert fixed.status_code == 200, fixed.text
    (a4,) = (await account(registry, "A4"))["contacts"]
    assert (a4["phone"], a4["number_type"], a4["status"]) == ("+8613522223333", "mobile", "valid")
    assert added.status_code == 200, added.text
    (a6,) = (await account(registry, "A6"))["contacts"]
    assert (a6["phone"], a6["call_window"]) == ("+8613544445555", "09:00-21:00")
    assert removed.status_code == 200, removed.text
    assert (await account(registry, "A2"))["contacts"][0]["retired_at"] is not None
    assert twice.status_code == 409
    # A3 was just called: the scan leaves it alone for a while. A4 has a mobile now (its open
    # item resolves); A2 lost its only contact with the electrician's removal.
    assert after == {"opened": 1, "resolved": 1}
    assert kinds(await worklist(registry, kind="no_valid_mobile")) == [("no_valid_mobile", "A2")]
    history = await registry.ok(*ADMIN, "GET", "/v1/accounts/A4/history")
    assert history[-1]["actor"] == "field-li"
    assert "李娜提供新号" in history[-1]["reason"]


async def test_a_closing_that_lacks_what_it_must_write_is_refused_naming_the_field(
    registry: Contacts,
) -> None:
    (invalid,) = await worklist(registry)

    no_phone = await close(registry, invalid["item_id"], outcome="number_fixed")
    bad_phone = await close(registry, invalid["item_id"], outcome="number_fixed", phone="12")
    wrong_contact = await close(
        registry, invalid["item_id"], outcome="contact_removed", contact_id=1
    )
    unknown = await close(registry, 9999, outcome="called")
    by_planner = await registry.request(
        "planner-li",
        (Role.PLANNER,),
        "POST",
        f"/v1/maintenance/{invalid['item_id']}/close",
        json={"outcome": "called"},
    )

    assert (no_phone.status_code, no_phone.json()["field"]) == (422, "phone")
    assert (bad_phone.status_code, bad_phone.json()["field"]) == (422, "phone")
    assert (wrong_contact.status_code, wrong_contact.json()["field"]) == (422, "contact_id")
    assert unknown.status_code == 404
    assert by_planner.status_code == 403
    assert (await worklist(registry))[0]["status"] == "open"


async def test_items_are_assigned_to_someone_and_found_by_assignee(registry: Contacts) -> None:
    (invalid,) = await worklist(registry)

    assigned = await registry.ok(
        *ADMIN,
        "POST",
        f"/v1/maintenance/{invalid['item_id']}/assign",
        json={"assignee": "field-li"},
    )
    mine = await worklist(registry, assignee="field-li")
    others = await worklist(registry, assignee="field-zhao")

    assert (assigned["status"], assigned["assignee"]) == ("assigned", "field-li")
    assert [i["item_id"] for i in mine] == [invalid["item_id"]]
    assert others == []


async def test_a_number_the_carrier_keeps_failing_is_doubted_then_given_up_and_worked_on(
    registry: Contacts,
) -> None:
    def failing(failures: int) -> ContactUndeliverable:
        return ContactUndeliverable(
            address=ELECTRICIAN,
            account_ids=["A1", "A2"],
            consecutive_failures=failures,
            last_reason="MK:0001 空号",
            reported_at=datetime(2026, 3, 5, tzinfo=UTC),
        )

    first = await registry.deliver(failing(1))
    doubted = (await account(registry, "A1"))["contacts"][0]
    await registry.redeliver(first)
    await registry.deliver(failing(3))
    given_up = (await account(registry, "A2"))["contacts"][0]
    items = await worklist(registry, kind="undeliverable")
    await registry.deliver(traced("O1", ["A1", "A2"]))
    listed = await registry.ok("reviewer-wang", (Role.REVIEWER,), "GET", "/v1/lists/O1")

    assert (doubted["status"], doubted["failure_count"]) == ("suspect", 1)
    assert (given_up["status"], given_up["failure_count"]) == ("invalid", 3)
    assert sorted(i["account_id"] for i in items) == ["A1", "A2"]
    assert all(i["phone"] == ELECTRICIAN and "空号" in i["detail"] for i in items)
    assert ELECTRICIAN not in {r["address"] for r in listed["recipients"]["items"]}
    history = await registry.ok(*ADMIN, "GET", "/v1/accounts/A2/history")
    assert [h["action"] for h in history if h["actor"] == "receipts"] == [
        "undeliverable",
        "undeliverable",
    ]


async def test_a_complaint_traced_to_a_contact_puts_the_account_on_the_worklist(
    registry: Contacts,
) -> None:
    def complaint(complaint_id: str, cause: ComplaintCause) -> ComplaintClassified:
        return ComplaintClassified(
            complaint_id=complaint_id,
            outage_id="O1",
            account_id="A7",
            complaint_type="not_notified",
            cause=cause,
            detail="登记的电工已离职",
            classified_at=datetime(2026, 3, 6, tzinfo=UTC),
        )

    await registry.deliver(complaint("C1", "contact"))
    await registry.deliver(complaint("C2", "delivery"))

    items = await worklist(registry, kind="complaint")
    assert [(i["account_id"], i["opened_by"]) for i in items] == [("A7", "receipts")]
    assert "登记的电工已离职" in items[0]["detail"]
    closed = await close(
        registry,
        items[0]["item_id"],
        outcome="contact_added",
        role="electrical",
        name="新电工",
        phone="13899998888",
    )
    assert closed.status_code == 200, closed.text
    assert "+8613899998888" in {c["phone"] for c in (await account(registry, "A7"))["contacts"]}


async def test_area_contacts_are_kept_like_account_contacts(registry: Contacts) -> None:
    created = await registry.request(
        *ADMIN,
        "PUT",
        "/v1/areas/T1",
        json={"name": "幸福小区1号台区", "kind": "transformer_area", "node_ids": ["N1"]},
    )
    replaced = await registry.request(
        *ADMIN,
        "PUT",
        "/v1/areas/T1",
        json={"name": "幸福小区1号台区", "kind": "transformer_area", "node_ids": ["N1", "N1b"]},
    )
    committee = await registry.request(
        *ADMIN,
        "POST",
        "/v1/areas/T1/contacts",
        json={
            "role": "residents_committee",
            "name": "幸福社区居委会",
            "phone": "0571-86001234",
            "reason": "社区登记",
        },
    )
    bad_phone = await registry.request(
        *ADMIN,
        "POST",
        "/v1/areas/T1/contacts",
        json={"role": "residents_committee", "phone": "8600", "reason": "x"},
    )
    bad_role = await registry.request(
        *ADMIN,
        "POST",
        "/v1/areas/T1/contacts",
        json={"role": "electrical", "phone": "13500135000", "reason": "x"},
    )
    group = {"channel": "app_push", "address": "topic/t1", "name": "网上国网"}
    subscribed = await registry.request(*ADMIN, "POST", "/v1/areas/T1/subscriptions", json=group)
    again = await registry.request(*ADMIN, "POST", "/v1/areas/T1/subscriptions", json=group)
    unknown = await registry.request(*ADMIN, "GET", "/v1/areas/T9")
    await registry.deliver(
        ContactUndeliverable(
            address="+8657186001234",
            account_ids=[],
            consecutive_failures=1,
            last_reason="无人接听",
            reported_at=datetime(2026, 3, 5, tzinfo=UTC),
        )
    )
    area = await registry.ok(*ADMIN, "GET", "/v1/areas/T1")

    assert (created.status_code, replaced.status_code) == (201, 200)
    assert area["node_ids"] == ["N1", "N1b"]
    assert committee.status_code == 201, committee.text
    assert (bad_phone.status_code, bad_phone.json()["field"]) == (422, "phone")
    assert (bad_role.status_code, bad_role.json()["field"]) == (422, "role")
    assert subscribed.status_code == 201
    assert (again.status_code, again.json()["field"]) == (409, "address")
    assert unknown.status_code == 404
    assert [(c["name"], c["status"]) for c in area["contacts"]] == [("幸福社区居委会", "suspect")]
    assert [s["address"] for s in area["subscriptions"]] == ["topic/t1"]
    (item,) = await worklist(registry, kind="undeliverable")
    assert (item["area_id"], item["area_contact_id"]) == ("T1", area["contacts"][0]["contact_id"])
    history = await registry.ok(*ADMIN, "GET", "/v1/areas/T1/history")
    assert [h["action"] for h in history] == ["created", "undeliverable"]
