"""Checking registry CSV files row by row, and planning an idempotent upsert."""

import io
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.contacts.domain import imports
from services.contacts.domain.imports import (
    MAX_REPORTED_PROBLEMS,
    InvalidPhonePolicy,
    NoteCode,
    ParsedContacts,
    ParsedCustomers,
    check_contact_accounts,
    contact_row,
    customer_row,
    plan_account_upsert,
    plan_contact_upsert,
)
from services.contacts.domain.phones import NumberType
from services.contacts.domain.registry import (
    Account,
    CallWindow,
    Category,
    Contact,
    ContactRole,
    ContactStatus,
    Importance,
    PreferredChannel,
    RecentChange,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
CUSTOMERS_HEADER = "account_id,name,node_id,voltage_kv,category\n"
CONTACTS_HEADER = "account_id,role,name,phone\n"


def customers(*rows: str, header: str = CUSTOMERS_HEADER) -> bytes:
    return (header + "".join(row + "\n" for row in rows)).encode()


def contacts(*rows: str, header: str = CONTACTS_HEADER) -> bytes:
    return (header + "".join(row + "\n" for row in rows)).encode()


def read_customers(data: bytes, file: str) -> ParsedCustomers:
    return imports.read_customers(io.BytesIO(data), file)


def read_contacts(data: bytes, file: str, policy: InvalidPhonePolicy) -> ParsedContacts:
    return imports.read_contacts(io.BytesIO(data), file, policy, tz=SHANGHAI, now=NOW)


def problems_of(
    parsed: ParsedCustomers | ParsedContacts,
) -> list[tuple[str, int | None, str | None]]:
    return [(p.file, p.row, p.field) for p in parsed.problems.kept]


def test_good_customer_rows_become_accounts():
    parsed = read_customers(
        customers("A1,华新五金厂,N1,0.4,commercial", "A2,市第一医院,N2,10,IMPORTANT"),
        "customers.csv",
    )

    assert parsed.problems.count == 0
    assert parsed.accounts == [
        Account("A1", "华新五金厂", "N1", 0.4, Category.COMMERCIAL),
        Account("A2", "市第一医院", "N2", 10.0, Category.IMPORTANT),
    ]


@pytest.mark.parametrize(
    ("row", "field"),
    [
        (",华新,N1,0.4,commercial", "account_id"),
        ("A2,,N1,0.4,commercial", "name"),
        ("A2,华新,,0.4,commercial", "node_id"),
        ("A2,华新,N1,,commercial", "voltage_kv"),
        ("A2,华新,N1,10kV,commercial", "voltage_kv"),
        ("A2,华新,N1,-0.4,commercial", "voltage_kv"),
        ("A2,华新,N1,nan,commercial", "voltage_kv"),
        ("A2,华新,N1,0.4,shop", "category"),
        ("A2,华新,N1,0.4,", "category"),
        ("A1,又一个华新,N1,0.4,commercial", "account_id"),
        ("A2,华新,N1,0.4", None),
        ("A2,华新,N1,0.4,commercial,extra", None),
    ],
)
def test_each_kind_of_bad_customer_row_is_reported_with_its_line_and_column(row, field):
    parsed = read_customers(customers("A1,好用户,N1,0.22,residential", row), "customers.csv")

    assert problems_of(parsed) == [("customers.csv", 3, field)]
    assert [a.account_id for a in parsed.accounts] == ["A1"]


def test_a_repeated_account_id_names_the_line_it_repeats():
    parsed = read_customers(
        customers("A1,甲,N1,0.4,commercial", "A2,乙,N1,0.4,commercial", "A1,丙,N1,0.4,commercial"),
        "customers.csv",
    )

    assert "第 2 行" in parsed.problems.kept[0].message
    assert parsed.problems.kept[0].row == 4


def test_a_missing_column_is_reported_on_the_header_and_no_row_is_read():
    parsed = read_customers(
        customers("A1,甲,N1,commercial", header="account_id,name,node_id,category\n"),
        "customers.csv",
    )

    assert problems_of(parsed) == [("customers.csv", 1, "voltage_kv")]
    assert parsed.accounts == []


def test_an_empty_file_is_reported():
    assert problems_of(read_customers(b"", "customers.csv")) == [("customers.csv", 1, None)]


def test_line_numbers_count_physical_lines_and_blank_lines_are_skipped():
    data = customers('A1,"华新\n五金厂",N1,0.4,commercial', "", "A2,乙,N1,0.4,bogus")

    parsed = read_customers(data, "customers.csv")

    assert problems_of(parsed) == [("customers.csv", 5, "category")]
    assert parsed.accounts[0].name == "华新\n五金厂"


def test_every_problem_is_counted_but_only_the_first_fifty_are_kept():
    rows = [f"A{i},名,N1,0.4,bogus" for i in range(120)]

    parsed = read_customers(customers(*rows), "customers.csv")

    assert parsed.problems.count == 120
    assert len(parsed.problems.kept) == MAX_REPORTED_PROBLEMS
    assert parsed.problems.kept[0].row == 2


def test_excel_files_in_gb18030_or_with_a_bom_are_read_and_odd_encodings_noted():
    text = CUSTOMERS_HEADER + "A1,华新五金厂,N1,0.4,commercial\n"

    from_excel = read_customers(text.encode("gb18030"), "customers.csv")
    with_bom = read_customers(text.encode("utf-8-sig"), "customers.csv")

    assert from_excel.accounts[0].name == "华新五金厂"
    assert [n.code for n in from_excel.notes.kept] == [NoteCode.FILE_READ_AS_GB18030]
    assert with_bom.accounts[0].name == "华新五金厂"
    assert with_bom.notes.kept == []


def test_unknown_columns_are_ignored_with_a_note_and_flags_are_read_when_present():
    parsed = read_customers(
        customers(
            "A1,医院,N1,10,important,医院|双电源,备注",
            header="account_id,name,node_id,voltage_kv,category,flags,remark\n",
        ),
        "customers.csv",
    )

    assert parsed.accounts[0].flags == ("医院", "双电源")
    assert "flags" in parsed.columns
    assert [n.code for n in parsed.notes.kept] == [NoteCode.COLUMNS_IGNORED]


def test_contact_rows_parse_their_numbers_and_a_name_may_be_blank():
    parsed = read_contacts(
        contacts("A1,electrical,王师傅,138 0013 8000", "A1,billing,,0571-88123456"),
        "contacts.csv",
        InvalidPhonePolicy.REJECT,
    )

    assert parsed.problems.count == 0
    first, second = parsed.contacts
    assert (first.role, first.name, first.phone.e164) == (
        ContactRole.ELECTRICAL,
        "王师傅",
        "+8613800138000",
    )
    assert (second.name, second.phone.number_type) == ("", NumberType.LANDLINE)


@pytest.mark.parametrize(
    ("row", "field"),
    [
        (",electrical,王,13800138000", "account_id"),
        ("A1,boss,王,13800138000", "role"),
        ("A1,electrical,王,", "phone"),
        ("A1,electrical,王,1380013", "phone"),
        ("A1,electrical,王,无", "phone"),
    ],
)
def test_each_kind_of_bad_contact_row_is_reported_with_its_line_and_column(row, field):
    parsed = read_contacts(
        contacts("A1,legal,赵总,13900139000", row), "contacts.csv", InvalidPhonePolicy.REJECT
    )

    assert problems_of(parsed) == [("contacts.csv", 3, field)]


def test_in_flag_mode_invalid_numbers_are_kept_as_invalid_counted_and_noted():
    parsed = read_contacts(
        contacts("A1,electrical,李娜,1380013", "A2,electrical,张,13800138000"),
        "contacts.csv",
        InvalidPhonePolicy.FLAG,
    )

    assert parsed.problems.count == 0
    assert parsed.invalid_flagged == 1
    assert [c.phone.number_type for c in parsed.contacts] == [
        NumberType.INVALID,
        NumberType.MOBILE,
    ]
    note = parsed.notes.kept[0]
    assert (note.code, note.row, note.field) == (NoteCode.INVALID_PHONE_FLAGGED, 2, "phone")


def test_flag_mode_still_refuses_a_row_without_any_number():
    parsed = read_contacts(contacts("A1,electrical,李娜,"), "contacts.csv", InvalidPhonePolicy.FLAG)

    assert problems_of(parsed) == [("contacts.csv", 2, "phone")]


def test_a_contact_repeated_in_another_format_is_skipped_with_a_note():
    parsed = read_contacts(
        contacts("A1,electrical,王师傅,13800138000", "A1,electrical,王师傅,+86 138 0013 8000"),
        "contacts.csv",
        InvalidPhonePolicy.REJECT,
    )

    assert len(parsed.contacts) == 1
    assert [(n.code, n.row) for n in parsed.notes.kept] == [(NoteCode.DUPLICATE_CONTACT, 3)]


def test_contacts_of_unknown_accounts_are_refused_in_line_order_with_the_other_problems():
    parsed = read_contacts(
        contacts("A1,electrical,甲,13800138000", "A9,electrical,乙,13900139000", "A1,boss,丙,1"),
        "contacts.csv",
        InvalidPhonePolicy.REJECT,
    )

    check_contact_accounts(parsed, known_account_ids={"A1"})

    assert problems_of(parsed) == [
        ("contacts.csv", 3, "account_id"),
        ("contacts.csv", 4, "role"),
        ("contacts.csv", 4, "phone"),
    ]
    assert parsed.problems.count == 3


def test_the_account_upsert_plan_tells_new_changed_and_identical_accounts_apart():
    registered = {
        "A1": Account("A1", "甲", "N1", 0.4, Category.COMMERCIAL, ("医院",)),
        "A2": Account("A2", "乙", "N1", 0.4, Category.COMMERCIAL),
    }
    incoming = [
        Account("A1", "甲", "N1", 0.4, Category.COMMERCIAL),
        Account("A2", "乙", "N5", 0.4, Category.COMMERCIAL),
        Account("A3", "丙", "N1", 0.4, Category.COMMERCIAL),
    ]

    without_flags = plan_account_upsert(incoming, registered, columns=set(), now=NOW)
    with_flags = plan_account_upsert(incoming, registered, columns={"flags"}, now=NOW)

    assert [a.account_id for a in without_flags.created] == ["A3"]
    assert [u.after.node_id for u in without_flags.updated] == ["N5"]
    assert without_flags.unchanged == 1
    assert {u.after.account_id: u.after.flags for u in with_flags.updated} == {
        "A1": (),
        "A2": (),
    }


def _registered(
    contact_id: int,
    phone_raw: str,
    e164: str | None,
    *,
    status: ContactStatus = ContactStatus.VALID,
    name: str = "王师傅",
) -> Contact:
    return Contact(
        contact_id=contact_id,
        account_id="A1",
        role=ContactRole.ELECTRICAL,
        name=name,
        phone_raw=phone_raw,
        phone_e164=e164,
        number_type=NumberType.MOBILE if e164 else NumberType.INVALID,
        status=status,
    )


def test_the_contact_upsert_plan_matches_by_account_role_and_number():
    parsed = read_contacts(
        contacts(
            "A1,electrical,王师傅,13800138000",
            "A1,electrical,王建国,13900139000",
            "A1,electrical,李,13700137000",
        ),
        "contacts.csv",
        InvalidPhonePolicy.REJECT,
    )
    existing = [
        _registered(1, "13800138000", "+8613800138000"),
        _registered(2, "139 0013 9000", "+8613900139000"),
        _registered(3, "13600136000", "+8613600136000"),
    ]

    plan = plan_contact_upsert(parsed.contacts, existing, columns=parsed.columns)

    assert plan.unchanged == 1
    assert [(u.before.contact_id, u.after.name) for u in plan.updated] == [(2, "王建国")]
    assert [(n.record.phone.e164, n.status) for n in plan.created] == [
        ("+8613700137000", ContactStatus.VALID)
    ]
    assert plan.not_in_file == 1


def test_reimporting_a_suspect_number_keeps_the_doubt_and_an_invalid_one_stays_invalid():
    parsed = read_contacts(
        contacts("A1,electrical,王师傅,13800138000", "A1,electrical,王师傅,1380013"),
        "contacts.csv",
        InvalidPhonePolicy.FLAG,
    )
    existing = [
        _registered(1, "13800138000", "+8613800138000", status=ContactStatus.SUSPECT),
        _registered(2, "1380013", None, status=ContactStatus.INVALID),
    ]

    plan = plan_contact_upsert(parsed.contacts, existing, columns=parsed.columns)

    assert plan.unchanged == 2
    assert plan.updated == []
    assert plan.created == []


def test_optional_customer_columns_are_read_and_a_bad_importance_is_reported():
    header = CUSTOMERS_HEADER.strip() + ",address,transformer_area,importance\n"

    parsed = read_customers(
        customers(
            "A1,水厂,N1,10,industrial,城东路1号,T7,first",
            "A2,小店,N1,0.4,commercial,,,",
            "A3,医院,N1,10,important,,,vip",
            header=header,
        ),
        "customers.csv",
    )

    assert problems_of(parsed) == [("customers.csv", 4, "importance")]
    first, second = parsed.accounts
    assert (first.address, first.transformer_area, first.importance) == (
        "城东路1号",
        "T7",
        Importance.FIRST,
    )
    assert first.important
    assert second.importance is Importance.NORMAL
    assert parsed.columns == {"address", "transformer_area", "importance"}


def test_a_move_or_a_new_name_is_dated_and_columns_a_file_lacks_are_kept():
    registered = {
        "A1": Account("A1", "甲", "N1", 0.4, Category.COMMERCIAL, address="东路1号"),
        "A2": Account("A2", "乙", "N1", 0.4, Category.COMMERCIAL, importance=Importance.SECOND),
        "A3": Account("A3", "丙", "N1", 0.4, Category.COMMERCIAL),
    }
    incoming = [
        Account("A1", "甲", "N1", 0.4, Category.COMMERCIAL, address="西路9号"),
        Account("A2", "乙二", "N1", 0.4, Category.COMMERCIAL),
        Account("A3", "丙", "N1", 10.0, Category.COMMERCIAL),
    ]

    plan = plan_account_upsert(incoming, registered, columns={"address"}, now=NOW)

    after = {u.after.account_id: u.after for u in plan.updated}
    assert (after["A1"].change, after["A1"].changed_at) == (RecentChange.MOVED, NOW)
    assert (after["A2"].change, after["A2"].importance) == (RecentChange.RENAMED, Importance.SECOND)
    assert (after["A3"].change, after["A3"].voltage_kv) == (None, 10.0)


def test_optional_contact_columns_are_read_with_their_own_problems():
    header = CONTACTS_HEADER.strip() + ",preferred_channel,call_window,verified_at\n"

    parsed = read_contacts(
        contacts(
            "A1,electrical,王,13800138000,voice,8:00-18:30,2025-06-01",
            "A1,legal,赵,13900139000,,,2025-06-01T09:30:00",
            "A1,billing,钱,13700137000,fax,,",
            "A1,other,孙,13600136000,,20:00-08:00,",
            "A1,other,李,13500135000,,,2026-05-01",
            "A1,other,周,13400134000,,,上周",
            header=header,
        ),
        "contacts.csv",
        InvalidPhonePolicy.REJECT,
    )

    assert problems_of(parsed) == [
        ("contacts.csv", 4, "preferred_channel"),
        ("contacts.csv", 5, "call_window"),
        ("contacts.csv", 6, "verified_at"),
        ("contacts.csv", 7, "verified_at"),
    ]
    first, second = parsed.contacts
    assert first.preferred_channel is PreferredChannel.VOICE
    assert first.call_window == CallWindow(time(8, 0), time(18, 30))
    assert first.verified_at == datetime(2025, 6, 1, tzinfo=SHANGHAI)
    assert second.verified_at == datetime(2025, 6, 1, 9, 30, tzinfo=SHANGHAI)
    assert (
        "晚于现在" in parsed.problems.kept[3].message
        or "晚于现在" in parsed.problems.kept[2].message
    )


def test_a_verification_date_only_moves_forward_and_absent_columns_keep_what_is_registered():
    verified = datetime(2025, 9, 1, tzinfo=UTC)
    existing = [
        Contact(
            contact_id=1,
            account_id="A1",
            role=ContactRole.ELECTRICAL,
            name="王",
            phone_raw="13800138000",
            phone_e164="+8613800138000",
            number_type=NumberType.MOBILE,
            status=ContactStatus.VALID,
            last_verified_at=verified,
            preferred_channel=PreferredChannel.VOICE,
        )
    ]
    older = read_contacts(
        contacts(
            "A1,electrical,王,13800138000,2025-01-01",
            header=CONTACTS_HEADER.strip() + ",verified_at\n",
        ),
        "contacts.csv",
        InvalidPhonePolicy.REJECT,
    )
    newer = read_contacts(
        contacts(
            "A1,electrical,王,13800138000,2026-02-01",
            header=CONTACTS_HEADER.strip() + ",verified_at\n",
        ),
        "contacts.csv",
        InvalidPhonePolicy.REJECT,
    )

    unchanged = plan_contact_upsert(older.contacts, existing, columns=older.columns)
    moved = plan_contact_upsert(newer.contacts, existing, columns=newer.columns)

    assert unchanged.unchanged == 1
    (update,) = moved.updated
    assert update.after.last_verified_at == datetime(2026, 2, 1, tzinfo=SHANGHAI)
    assert update.after.preferred_channel is PreferredChannel.VOICE


def test_a_retired_contact_in_the_file_is_counted_and_never_brought_back():
    retired = Contact(
        contact_id=1,
        account_id="A1",
        role=ContactRole.ELECTRICAL,
        name="老板",
        phone_raw="13800138000",
        phone_e164="+8613800138000",
        number_type=NumberType.MOBILE,
        status=ContactStatus.VALID,
        retired_at=NOW - timedelta(days=1),
    )
    parsed = read_contacts(
        contacts("A1,electrical,老板,13800138000"), "contacts.csv", InvalidPhonePolicy.REJECT
    )

    plan = plan_contact_upsert(parsed.contacts, [retired], columns=parsed.columns)

    assert (plan.retired_in_file, plan.created, plan.updated, plan.not_in_file) == (1, [], [], 0)


def test_a_gb18030_file_longer_than_the_detection_chunk_is_read_whole():
    street = "幸福路" * 40
    rows = [f"A{i},华新五金厂{i},N1,0.4,commercial,{street}{i}号" for i in range(4_500)]
    header = CUSTOMERS_HEADER.strip() + ",address\n"
    data = (header + "".join(r + "\n" for r in rows)).encode("gb18030")
    assert len(data) > 1 << 20

    parsed = imports.read_customers(io.BytesIO(data), "customers.csv")

    assert parsed.problems.count == 0
    assert len(parsed.accounts) == 4_500
    assert (parsed.accounts[-1].name, parsed.accounts[-1].address) == (
        "华新五金厂4499",
        f"{street}4499号",
    )
    assert [n.code for n in parsed.notes.kept] == [NoteCode.FILE_READ_AS_GB18030]


def test_bytes_that_are_neither_utf8_nor_gb18030_refuse_the_file():
    parsed = read_customers(CUSTOMERS_HEADER.encode() + b"\x80\xff\xfe\n", "customers.csv")

    assert problems_of(parsed) == [("customers.csv", None, None)]


def test_exported_rows_read_back_as_the_same_accounts_and_contacts():
    account = Account(
        "A1",
        "华新",
        "N1",
        0.22,
        Category.COMMERCIAL,
        ("医院", "双电源"),
        "东路1号",
        "T1",
        Importance.SECOND,
    )
    contact = Contact(
        contact_id=1,
        account_id="A1",
        role=ContactRole.LEGAL,
        name="赵总",
        phone_raw="139-0013-9000",
        phone_e164="+8613900139000",
        number_type=NumberType.MOBILE,
        status=ContactStatus.VALID,
        last_verified_at=datetime(2025, 6, 1, 1, 2, 3, 456789, tzinfo=UTC),
        preferred_channel=PreferredChannel.SMS,
        call_window=CallWindow(time(8), time(20)),
    )
    header = ",".join(imports.CUSTOMER_COLUMNS + imports.OPTIONAL_CUSTOMER_COLUMNS)
    contact_header = ",".join(imports.CONTACT_COLUMNS + imports.OPTIONAL_CONTACT_COLUMNS)

    accounts = read_customers(
        (header + "\n" + ",".join(customer_row(account)) + "\n").encode(), "customers.csv"
    )
    people = read_contacts(
        (contact_header + "\n" + ",".join(contact_row(contact, SHANGHAI)) + "\n").encode(),
        "contacts.csv",
        InvalidPhonePolicy.REJECT,
    )

    assert accounts.accounts == [account]
    plan = plan_contact_upsert(people.contacts, [contact], columns=people.columns)
    assert (plan.unchanged, plan.updated, plan.created) == (1, [], [])
