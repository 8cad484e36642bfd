"""Importing the registry over HTTP: all or nothing, idempotent, and reading it back."""

from collections.abc import Callable

import httpx
from contacts_harness import CONTACTS_CSV, CUSTOMERS_CSV, Contacts
from sqlalchemy import select, update

from services.contacts.adapters.db import contacts as contacts_table
from services.contacts.app import create_app
from services.contacts.config import ContactsSettings
from shared.auth import Role
from shared.bus.memory import MemoryBus


async def account_as(contacts: Contacts, account_id: str, *roles: Role) -> httpx.Response:
    response: httpx.Response = await contacts.request(
        "someone", roles, "GET", f"/v1/accounts/{account_id}"
    )
    return response


async def test_an_import_creates_accounts_and_contacts_and_reimporting_it_changes_nothing(
    contacts: Contacts,
) -> None:
    first = await contacts.import_registry(customers=CUSTOMERS_CSV, contacts=CONTACTS_CSV)
    again = await contacts.import_registry(customers=CUSTOMERS_CSV, contacts=CONTACTS_CSV)

    assert first.status_code == 200, first.text
    assert first.json()["accounts"] == {"created": 7, "updated": 0, "unchanged": 0}
    assert first.json()["contacts"] == {"created": 9, "updated": 0, "unchanged": 0}
    assert again.status_code == 200, again.text
    assert again.json()["accounts"] == {"created": 0, "updated": 0, "unchanged": 7}
    assert again.json()["contacts"] == {"created": 0, "updated": 0, "unchanged": 9}
    hospital = (await account_as(contacts, "A5", Role.ADMIN)).json()
    assert hospital["name"] == "市第一医院"
    assert [(c["role"], c["phone"], c["number_type"]) for c in hospital["contacts"]] == [
        ("electrical", "+8613700137000", "mobile"),
        ("other", "+8657187000000", "landline"),
    ]


async def test_a_bad_row_refuses_the_whole_import_naming_its_file_row_and_field(
    contacts: Contacts,
) -> None:
    bad_contacts = CONTACTS_CSV.replace("A1,legal,", "A1,boss,").replace("A7,", "A8,")

    response = await contacts.import_registry(customers=CUSTOMERS_CSV, contacts=bad_contacts)

    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "invalid_input"
    assert (body["file"], body["row"], body["field"]) == ("contacts.csv", 3, "role")
    assert body["error_count"] == 2
    assert [(e["file"], e["row"], e["field"]) for e in body["errors"]] == [
        ("contacts.csv", 3, "role"),
        ("contacts.csv", 10, "account_id"),
    ]
    assert "A8" in body["errors"][1]["message"]
    assert (await account_as(contacts, "A1", Role.ADMIN)).status_code == 404


async def test_in_reject_mode_an_invalid_number_refuses_the_import(contacts: Contacts) -> None:
    response = await contacts.import_registry(
        invalid_phones="reject", customers=CUSTOMERS_CSV, contacts=CONTACTS_CSV
    )

    assert response.status_code == 422
    body = response.json()
    assert (body["file"], body["row"], body["field"]) == ("contacts.csv", 7, "phone")
    assert "1380013" in body["errors"][0]["message"]
    assert (await account_as(contacts, "A4", Role.ADMIN)).status_code == 404


async def test_in_flag_mode_an_invalid_number_is_stored_as_invalid_and_counted(
    contacts: Contacts,
) -> None:
    response = await contacts.import_registry(customers=CUSTOMERS_CSV, contacts=CONTACTS_CSV)

    assert response.json()["invalid_numbers_flagged"] == 1
    assert response.json()["warning_counts"] == {"invalid_phone_flagged": 1}
    assert [(w["row"], w["field"]) for w in response.json()["warnings"]] == [(7, "phone")]
    (stored,) = (await account_as(contacts, "A4", Role.ADMIN)).json()["contacts"]
    assert stored["phone"] == "1380013"
    assert (stored["number_type"], stored["status"]) == ("invalid", "invalid")
    assert (stored["can_sms"], stored["can_call"]) == (False, False)
    assert stored["source"] == "import:contacts.csv"


async def test_contacts_may_follow_later_for_accounts_already_registered(
    contacts: Contacts,
) -> None:
    await contacts.import_registry(customers=CUSTOMERS_CSV)
    later = await contacts.import_registry(contacts=CONTACTS_CSV)
    unknown = await contacts.import_registry(
        contacts="account_id,role,name,phone\nA99,electrical,某,13500135000\n"
    )

    assert later.status_code == 200, later.text
    assert later.json()["contacts"]["created"] == 9
    assert later.json()["accounts"] == {"created": 0, "updated": 0, "unchanged": 0}
    assert unknown.status_code == 422
    assert (unknown.json()["row"], unknown.json()["field"]) == (2, "account_id")


async def test_changed_rows_are_updated_in_place_and_field_doubts_survive_a_reimport(
    contacts: Contacts,
) -> None:
    await contacts.import_registry(customers=CUSTOMERS_CSV, contacts=CONTACTS_CSV)
    async with contacts.runtime.db.session() as session, session.begin():
        await session.execute(
            update(contacts_table)
            .where(contacts_table.c.phone_e164 == "+8613700137000")
            .values(status="suspect")
        )

    changed = await contacts.import_registry(
        customers=CUSTOMERS_CSV.replace("华新五金厂", "华新五金有限公司"),
        contacts=CONTACTS_CSV.replace("周工", "周国强").replace(
            "A5,other,值班室,0571-87000000\n", ""
        ),
    )

    assert changed.status_code == 200, changed.text
    assert changed.json()["accounts"] == {"created": 0, "updated": 1, "unchanged": 6}
    assert changed.json()["contacts"] == {"created": 0, "updated": 1, "unchanged": 7}
    assert changed.json()["warning_counts"] == {
        "invalid_phone_flagged": 1,
        "contacts_not_in_file": 1,
    }
    assert (await account_as(contacts, "A1", Role.ADMIN)).json()["name"] == "华新五金有限公司"
    async with contacts.runtime.db.session() as session:
        rows = await session.execute(
            select(contacts_table.c.name, contacts_table.c.status).where(
                contacts_table.c.account_id == "A5"
            )
        )
        assert sorted(rows.all()) == [("值班室", "valid"), ("周国强", "suspect")]


async def test_numbers_are_masked_for_roles_that_do_not_need_them(contacts: Contacts) -> None:
    await contacts.import_registry(customers=CUSTOMERS_CSV, contacts=CONTACTS_CSV)

    field_view = (await account_as(contacts, "A1", Role.FIELD)).json()
    dispatcher_view = (await account_as(contacts, "A1", Role.DISPATCHER)).json()

    assert field_view["phones_masked"] is True
    assert [c["phone"] for c in field_view["contacts"]] == [
        "138****8000",
        "139****9000",
        "139****9000",
    ]
    assert dispatcher_view["phones_masked"] is False
    assert [c["phone"] for c in dispatcher_view["contacts"]] == [
        "+8613800138000",
        "+8613900139000",
        "+8613900139000",
    ]


async def test_only_an_admin_may_import_and_only_signed_in_users_may_read(
    contacts: Contacts,
) -> None:
    as_reviewer = await contacts.request(
        "reviewer-wang",
        (Role.REVIEWER,),
        "POST",
        "/v1/import",
        files={"customers": ("customers.csv", CUSTOMERS_CSV.encode(), "text/csv")},
    )
    async with contacts.client("nobody") as client:
        client.headers.pop("Authorization")
        anonymous = await client.get("/v1/accounts/A1")

    assert as_reviewer.status_code == 403
    assert anonymous.status_code == 401


async def test_an_upload_that_is_not_multipart_or_has_no_file_is_refused(
    contacts: Contacts,
) -> None:
    as_json = await contacts.request(
        "admin-zhou", (Role.ADMIN,), "POST", "/v1/import", json={"customers": "x"}
    )
    unknown_part = await contacts.import_registry(accounts=CUSTOMERS_CSV)
    nothing = await contacts.request(
        "admin-zhou", (Role.ADMIN,), "POST", "/v1/import", files={"note": (None, b"x")}
    )

    assert (as_json.status_code, as_json.json()["field"]) == (422, "body")
    assert (unknown_part.status_code, unknown_part.json()["field"]) == (422, "accounts")
    assert (nothing.status_code, nothing.json()["field"]) == (422, "note")


ADMIN = ("admin-zhou", (Role.ADMIN,))


async def test_a_contact_entered_by_hand_is_normalised_and_an_unusable_number_refused(
    contacts: Contacts,
) -> None:
    await contacts.import_registry(customers=CUSTOMERS_CSV)

    mobile = await contacts.request(
        *ADMIN,
        "POST",
        "/v1/accounts/A6/contacts",
        json={
            "role": "electrical",
            "name": "王芳",
            "phone": "+86 135-0013-5000",
            "preferred_channel": "voice",
            "call_window": "08:00-20:00",
            "reason": "上门核实",
        },
    )
    landline = await contacts.request(
        *ADMIN,
        "POST",
        "/v1/accounts/A6/contacts",
        json={"role": "other", "phone": "0571-88000000", "reason": "上门核实"},
    )
    bad = await contacts.request(
        *ADMIN,
        "POST",
        "/v1/accounts/A6/contacts",
        json={"role": "legal", "phone": "1350013", "reason": "x"},
    )
    bad_window = await contacts.request(
        *ADMIN,
        "POST",
        "/v1/accounts/A6/contacts",
        json={"role": "legal", "phone": "13500135001", "call_window": "晚上", "reason": "x"},
    )
    bad_role = await contacts.request(
        *ADMIN,
        "POST",
        "/v1/accounts/A6/contacts",
        json={"role": "boss", "phone": "13500135001", "reason": "x"},
    )
    twice = await contacts.request(
        *ADMIN,
        "POST",
        "/v1/accounts/A6/contacts",
        json={"role": "electrical", "phone": "13500135000", "reason": "x"},
    )
    by_planner = await contacts.request(
        "planner-li",
        (Role.PLANNER,),
        "POST",
        "/v1/accounts/A6/contacts",
        json={"role": "legal", "phone": "13500135001", "reason": "x"},
    )

    assert mobile.status_code == 201, mobile.text
    assert (mobile.json()["phone"], mobile.json()["number_type"]) == ("+8613500135000", "mobile")
    assert (mobile.json()["call_window"], mobile.json()["preferred_channel"]) == (
        "08:00-20:00",
        "voice",
    )
    assert mobile.json()["last_verified_at"] is not None
    assert (landline.json()["number_type"], landline.json()["can_sms"]) == ("landline", False)
    assert (bad.status_code, bad.json()["field"]) == (422, "phone")
    assert "1350013" in bad.json()["detail"]
    assert (bad_window.status_code, bad_window.json()["field"]) == (422, "call_window")
    assert (bad_role.status_code, bad_role.json()["field"]) == (422, "role")
    assert (twice.status_code, twice.json()["field"]) == (409, "phone")
    assert by_planner.status_code == 403
    stored = (await account_as(contacts, "A6", Role.ADMIN)).json()["contacts"]
    assert [c["phone"] for c in stored] == ["+8613500135000", "+8657188000000"]


async def test_every_change_to_a_contact_is_kept_with_who_when_and_why(contacts: Contacts) -> None:
    await contacts.import_registry(customers=CUSTOMERS_CSV, contacts=CONTACTS_CSV)
    (hospital,) = [
        c
        for c in (await account_as(contacts, "A5", Role.ADMIN)).json()["contacts"]
        if c["role"] == "electrical"
    ]
    contact_url = f"/v1/contacts/{hospital['contact_id']}"

    renumbered = await contacts.request(
        "field-li",
        (Role.FIELD,),
        "PATCH",
        contact_url,
        json={"phone": "13711112222", "reason": "周工换号"},
    )
    untouched_window = await contacts.request(
        *ADMIN, "PATCH", contact_url, json={"name": "周国强", "reason": "全名"}
    )
    retired = await contacts.request(
        *ADMIN, "POST", f"{contact_url}/retire", json={"reason": "周工离职"}
    )
    after_retirement = await contacts.request(
        *ADMIN, "PATCH", contact_url, json={"name": "x", "reason": "x"}
    )
    history = (
        await contacts.request("reviewer-wang", (Role.REVIEWER,), "GET", "/v1/accounts/A5/history")
    ).json()
    masked = (
        await contacts.request("planner-li", (Role.PLANNER,), "GET", "/v1/accounts/A5/history")
    ).json()

    assert renumbered.status_code == 200, renumbered.text
    assert (renumbered.json()["phone"], renumbered.json()["status"]) == ("+8613711112222", "valid")
    assert untouched_window.json()["phone"] == "+8613711112222"
    assert retired.json()["retired_at"] is not None
    assert after_retirement.status_code == 409
    mine = [h for h in history if h["subject_id"] == str(hospital["contact_id"])]
    assert [(h["action"], h["actor"], h["reason"]) for h in mine] == [
        ("created", "admin-zhou", "import:contacts.csv"),
        ("updated", "field-li", "周工换号"),
        ("updated", "admin-zhou", "全名"),
        ("retired", "admin-zhou", "周工离职"),
    ]
    assert mine[1]["before"]["phone_e164"] == "+8613700137000"
    assert mine[1]["after"]["phone_e164"] == "+8613711112222"
    assert mine[2]["before"] == {"name": "周工"}
    assert history[0]["subject"] == "account"
    masked_change = next(h for h in masked if h["reason"] == "周工换号")
    assert masked_change["after"]["phone_e164"] == "137****2222"


async def test_an_ownership_transfer_retires_the_old_contacts_and_flags_the_account_until_new_ones(
    contacts: Contacts,
) -> None:
    await contacts.import_registry(customers=CUSTOMERS_CSV, contacts=CONTACTS_CSV)

    transfer = await contacts.request(
        *ADMIN, "POST", "/v1/accounts/A1/transfer", json={"reason": "过户"}
    )
    flagged = (await account_as(contacts, "A1", Role.ADMIN)).json()
    worklist = await contacts.ok(
        *ADMIN, "GET", "/v1/maintenance", params={"kind": "transfer_pending"}
    )
    reimport = await contacts.import_registry(contacts=CONTACTS_CSV)
    await contacts.ok(
        *ADMIN,
        "POST",
        "/v1/accounts/A1/contacts",
        json={"role": "legal", "name": "新东家", "phone": "13322223333", "reason": "新户主登记"},
    )
    released = (await account_as(contacts, "A1", Role.ADMIN)).json()
    closed = await contacts.ok(
        *ADMIN,
        "GET",
        "/v1/maintenance",
        params={"kind": "transfer_pending", "status": "closed"},
    )

    assert transfer.status_code == 200, transfer.text
    assert transfer.json()["retired_contacts"] == 3
    assert flagged["transfer_pending_since"] is not None
    assert flagged["change"] == "transferred"
    assert all(c["retired_at"] is not None for c in flagged["contacts"])
    assert [i["account_id"] for i in worklist["items"]] == ["A1"]
    assert reimport.json()["warning_counts"]["retired_contacts_in_file"] == 1
    assert reimport.json()["contacts"]["created"] == 0
    assert released["transfer_pending_since"] is None
    assert [c["retired_at"] is None for c in released["contacts"]] == [True, False, False, False]
    assert [(i["account_id"], i["outcome"]) for i in closed["items"]] == [("A1", "contact_added")]


async def test_an_export_reimported_changes_nothing(contacts: Contacts) -> None:
    header = "account_id,name,node_id,voltage_kv,category,address,transformer_area,importance\n"
    await contacts.import_registry(
        customers=header
        + "A1,华新五金厂,N1,0.4,commercial,东路1号,T1,normal\n"
        + "A5,市第一医院,N3,10,important,,,first\n",
        contacts="account_id,role,name,phone,call_window\n"
        + "A1,electrical,王师傅,138 0013 8000,08:00-20:00\n"
        + "A5,other,值班室,0571-87000000,\n",
    )
    await contacts.ok(
        *ADMIN,
        "POST",
        "/v1/accounts/A5/contacts",
        json={"role": "electrical", "name": "周工", "phone": "13700137000", "reason": "补登"},
    )

    async with contacts.client("admin-zhou", Role.ADMIN) as client:
        customers = await client.get("/v1/export/customers.csv")
        people = await client.get("/v1/export/contacts.csv")
    again = await contacts.import_registry(
        invalid_phones="reject", customers=customers.text, contacts=people.text
    )

    assert customers.headers["content-type"].startswith("text/csv")
    assert customers.text.splitlines()[1:] == [
        "A1,华新五金厂,N1,0.4,commercial,,东路1号,T1,normal",
        "A5,市第一医院,N3,10.0,important,,,,first",
    ]
    assert people.text.splitlines()[1].startswith(
        "A1,electrical,王师傅,138 0013 8000,,08:00-20:00,"
    )
    assert again.status_code == 200, again.text
    assert again.json()["accounts"] == {"created": 0, "updated": 0, "unchanged": 2}
    assert again.json()["contacts"] == {"created": 0, "updated": 0, "unchanged": 3}
    assert again.json()["warning_counts"] == {}


async def test_an_upload_over_the_size_limit_is_refused_before_anything_is_read(
    make_settings: Callable[..., ContactsSettings], memory_bus: MemoryBus, db_backend: str
) -> None:
    settings = make_settings(
        ContactsSettings, db_backend, import_max_mb=1, maintenance_scan_hours=0
    )
    app = create_app(settings, bus=memory_bus)
    big = CUSTOMERS_CSV + "".join(f"B{i},某用户{i},N1,0.22,residential\n" for i in range(60_000))
    assert len(big.encode()) > 1024 * 1024
    async with app.router.lifespan_context(app):
        small = Contacts(app=app, bus=memory_bus)
        refused = await small.import_registry(customers=big)
        fine = await small.import_registry(customers=CUSTOMERS_CSV)

    assert (refused.status_code, refused.json()["field"]) == (422, "body")
    assert "1 MB" in refused.json()["detail"]
    assert fine.status_code == 200


async def test_a_file_sent_twice_under_one_name_is_refused(contacts: Contacts) -> None:
    response = await contacts.request(
        *ADMIN,
        "POST",
        "/v1/import",
        files=[
            ("customers", ("a.csv", CUSTOMERS_CSV.encode(), "text/csv")),
            ("customers", ("b.csv", CUSTOMERS_CSV.encode(), "text/csv")),
        ],
    )

    assert (response.status_code, response.json()["field"]) == (422, "customers")
    assert (await account_as(contacts, "A1", Role.ADMIN)).status_code == 404


async def test_a_large_gb18030_upload_is_streamed_from_its_spooled_file(contacts: Contacts) -> None:
    # Over a MiB, so the upload rolls over from memory to a temporary file on disk.
    street = "幸福路" * 40
    rows = "".join(f"B{i:05d},五金店{i},N1,0.4,commercial,{street}{i}号\n" for i in range(4_500))
    data = ("account_id,name,node_id,voltage_kv,category,address\n" + rows).encode("gb18030")
    assert len(data) > 1024 * 1024

    response = await contacts.request(
        *ADMIN, "POST", "/v1/import", files={"customers": ("用户.csv", data, "text/csv")}
    )

    assert response.status_code == 200, response.text
    assert response.json()["accounts"]["created"] == 4_500
    assert response.json()["warnings"][0]["file"] == "用户.csv"
    last = (await account_as(contacts, "B04499", Role.ADMIN)).json()
    assert (last["name"], last["address"]) == ("五金店4499", f"{street}4499号")
