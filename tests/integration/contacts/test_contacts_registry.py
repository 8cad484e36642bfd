"""Importing the registry over HTTP: all or nothing, idempotent, and reading it back."""

import httpx
from contacts_harness import CONTACTS_CSV, CUSTOMERS_CSV, Contacts
from sqlalchemy import select, update

from services.contacts.adapters.db import contacts as contacts_table
from shared.auth import Role


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
