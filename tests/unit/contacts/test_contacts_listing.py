"""Drafting an outage's notification list: who gets an SMS, who must be called or visited."""

import hashlib
import itertools
import json
from typing import Any

from services.contacts.domain.listing import (
    DraftList,
    ListingPolicy,
    ListWarning,
    WarningCode,
    WarningSource,
    draft_list,
    recipients_digest,
)
from services.contacts.domain.phones import parse_phone
from services.contacts.domain.registry import (
    Account,
    Category,
    Contact,
    ContactRole,
    ContactStatus,
)
from shared.events import AffectedAccount, Recipient, TraceWarning

_ids = itertools.count(1)


def account(
    account_id: str,
    name: str,
    *,
    category: Category = Category.COMMERCIAL,
    voltage_kv: float = 0.4,
    node_id: str = "N1",
) -> Account:
    return Account(account_id, name, node_id, voltage_kv, category)


def contact(
    account_id: str, role: str, name: str, phone: str, *, status: ContactStatus | None = None
) -> Contact:
    parsed = parse_phone(phone)
    if status is None:
        status = ContactStatus.VALID if parsed.is_valid else ContactStatus.INVALID
    return Contact(
        contact_id=next(_ids),
        account_id=account_id,
        role=ContactRole(role),
        name=name,
        phone_raw=phone,
        phone_e164=parsed.e164,
        number_type=parsed.number_type,
        status=status,
    )


def traced(*account_ids: str, node_id: str = "N1") -> list[AffectedAccount]:
    return [
        AffectedAccount(account_id=a, isolating_device="D1", node_id=node_id, feeder="F1")
        for a in account_ids
    ]


def draft(
    accounts: list[Account],
    contacts: list[Contact],
    affected: list[AffectedAccount] | None = None,
    **kwargs: Any,
) -> DraftList:
    by_account: dict[str, list[Contact]] = {}
    for c in contacts:
        by_account.setdefault(c.account_id, []).append(c)
    affected = affected if affected is not None else traced(*(a.account_id for a in accounts))
    return draft_list(affected, {a.account_id: a for a in accounts}, by_account, **kwargs)


def warnings_of(result: DraftList, code: str) -> dict[str | None, ListWarning]:
    return {w.account_id: w for w in result.warnings if w.code == code}


def test_a_shared_electrician_is_one_recipient_naming_every_account_he_serves():
    accounts = [account("A1", "华新五金厂"), account("A2", "明达制衣"), account("A3", "老街面馆")]
    contacts = [
        contact("A1", "electrical", "王师傅", "138 0013 8000"),
        contact("A2", "electrical", "王师傅", "+86 13800138000"),
        contact("A3", "electrical", "王建国", "13800138000"),
    ]

    result = draft(accounts, contacts)

    assert len(result.recipients) == 1
    recipient = result.recipients[0]
    assert recipient.address == "+8613800138000"
    assert recipient.account_ids == ("A1", "A2", "A3")
    assert recipient.account_names == ("华新五金厂", "明达制衣", "老街面馆")
    assert recipient.contact_name == "王师傅"
    assert result.counts.recipients == 1
    assert result.counts.without_valid_mobile == 0


def test_one_phone_under_two_roles_of_one_account_is_one_recipient_naming_it_once():
    accounts = [account("A1", "华新五金厂")]
    contacts = [
        contact("A1", "legal", "赵总", "13900139000"),
        contact("A1", "billing", "赵会计", "139-0013-9000"),
        contact("A1", "electrical", "钱电工", "13700137000"),
    ]

    result = draft(accounts, contacts)

    by_address = {r.address: r for r in result.recipients}
    assert set(by_address) == {"+8613900139000", "+8613700137000"}
    assert by_address["+8613900139000"].account_ids == ("A1",)
    assert by_address["+8613900139000"].contact_name == "赵总"
    assert len(by_address["+8613900139000"].contact_ids) == 2


def test_the_electrical_contacts_name_is_used_when_a_shared_phone_has_several_names():
    accounts = [account("A1", "甲厂"), account("A2", "乙厂")]
    contacts = [
        contact("A1", "billing", "前台", "13800138000"),
        contact("A2", "electrical", "王师傅", "13800138000"),
    ]

    assert draft(accounts, contacts).recipients[0].contact_name == "王师傅"


def test_an_account_with_only_a_landline_gets_no_sms_and_a_warning_that_it_can_be_called():
    accounts = [account("A1", "张伟", category=Category.RESIDENTIAL, voltage_kv=0.22)]
    contacts = [contact("A1", "electrical", "张伟", "0571-88123456")]

    result = draft(accounts, contacts)

    assert result.recipients == ()
    warning = warnings_of(result, WarningCode.NO_VALID_MOBILE)["A1"]
    assert warning.has_landline is True
    assert warning.source is WarningSource.LIST
    assert "电话通知" in warning.message
    assert result.entries[0].has_landline
    assert result.counts.without_valid_mobile == 1


def test_an_invalid_number_is_never_a_recipient_and_the_account_needs_a_slip():
    accounts = [account("A1", "李娜", category=Category.RESIDENTIAL, voltage_kv=0.22)]
    contacts = [contact("A1", "electrical", "李娜", "1380013")]

    result = draft(accounts, contacts)

    assert result.recipients == ()
    warning = warnings_of(result, WarningCode.NO_VALID_MOBILE)["A1"]
    assert warning.has_landline is False
    assert "上门" in warning.message
    assert result.entries[0].contacts[0].can_sms is False


def test_an_invalid_status_keeps_a_well_formed_mobile_off_the_list_but_suspect_does_not():
    accounts = [account("A1", "甲厂"), account("A2", "乙厂")]
    contacts = [
        contact("A1", "electrical", "甲", "13800138000", status=ContactStatus.INVALID),
        contact("A2", "electrical", "乙", "13900139000", status=ContactStatus.SUSPECT),
    ]

    result = draft(accounts, contacts)

    assert [r.address for r in result.recipients] == ["+8613900139000"]
    assert set(warnings_of(result, WarningCode.NO_VALID_MOBILE)) == {"A1"}


def test_an_account_without_contacts_is_in_the_list_with_a_warning_and_no_recipient():
    accounts = [account("A1", "王芳", category=Category.RESIDENTIAL, voltage_kv=0.22)]

    result = draft(accounts, [])

    assert [e.account_id for e in result.entries] == ["A1"]
    assert result.entries[0].contacts == ()
    assert result.recipients == ()
    assert warnings_of(result, WarningCode.NO_VALID_MOBILE)["A1"].has_landline is False


def test_important_customers_by_category_or_voltage_must_be_called_even_with_mobiles():
    accounts = [
        account("A1", "市第一医院", category=Category.IMPORTANT, voltage_kv=0.4),
        account("A2", "钢铁厂", category=Category.INDUSTRIAL, voltage_kv=10),
        account("A3", "小卖部", category=Category.COMMERCIAL, voltage_kv=0.4),
    ]
    contacts = [
        contact("A1", "electrical", "周工", "13700137000"),
        contact("A1", "other", "值班室", "0571-87000000"),
        contact("A2", "electrical", "吴工", "13600136000"),
        contact("A3", "electrical", "郑老板", "13500135000"),
    ]

    result = draft(accounts, contacts)

    important = warnings_of(result, WarningCode.IMPORTANT_CUSTOMER)
    assert set(important) == {"A1", "A2"}
    assert important["A1"].has_landline is True
    assert important["A2"].has_landline is False
    assert "必须电话通知" in important["A1"].message
    assert len(result.recipients) == 3
    assert result.counts.important_accounts == 2
    assert WarningCode.NO_VALID_MOBILE not in {w.code for w in result.warnings}


def test_the_voltage_that_makes_a_customer_important_is_a_policy():
    accounts = [account("A1", "水厂", category=Category.INDUSTRIAL, voltage_kv=0.4)]

    result = draft(accounts, [], policy=ListingPolicy(important_voltage_kv=0.4))

    assert set(warnings_of(result, WarningCode.IMPORTANT_CUSTOMER)) == {"A1"}


def test_a_traced_account_missing_from_the_registry_is_listed_as_unknown():
    accounts = [account("A1", "甲厂")]
    contacts = [contact("A1", "electrical", "甲", "13800138000")]

    result = draft(accounts, contacts, affected=traced("A1", "A9"))

    assert [e.account_id for e in result.entries] == ["A1", "A9"]
    assert result.entries[1].account is None
    assert set(warnings_of(result, WarningCode.UNKNOWN_ACCOUNT)) == {"A9"}
    assert WarningCode.NO_VALID_MOBILE not in {w.code for w in result.warnings}
    assert result.counts.unknown_accounts == 1
    assert result.counts.without_valid_mobile == 1


def test_contacts_of_accounts_the_trace_did_not_find_are_not_recipients():
    accounts = [account("A1", "甲厂"), account("A2", "乙厂")]
    contacts = [
        contact("A1", "electrical", "甲", "13800138000"),
        contact("A2", "electrical", "乙", "13900139000"),
    ]

    result = draft(accounts, contacts, affected=traced("A1"))

    assert [r.address for r in result.recipients] == ["+8613800138000"]
    assert [e.account_id for e in result.entries] == ["A1"]


def test_the_traces_own_warnings_come_first_then_the_lists_by_gravity():
    accounts = [
        account("A1", "医院", category=Category.IMPORTANT, node_id="N7"),
        account("A2", "住户", category=Category.RESIDENTIAL, voltage_kv=0.22),
    ]
    trace_warning = TraceWarning(code="open_tie", message="联络开关状态未确认", elements=["D9"])

    result = draft(accounts, [], affected=traced("A2", "A1", "A9"), trace_warnings=[trace_warning])

    assert [(w.code, w.account_id) for w in result.warnings] == [
        ("open_tie", None),
        (WarningCode.UNKNOWN_ACCOUNT, "A9"),
        (WarningCode.NODE_MISMATCH, "A1"),
        (WarningCode.IMPORTANT_CUSTOMER, "A1"),
        (WarningCode.NO_VALID_MOBILE, "A2"),
        (WarningCode.NO_VALID_MOBILE, "A1"),
    ]
    assert result.warnings[0].source is WarningSource.TRACE
    assert result.warnings[0].elements == ("D9",)
    assert result.warnings[2].elements == ("N7", "N1")


def test_recipients_are_ordered_by_address_and_entries_by_trace_order():
    accounts = [account("A1", "甲"), account("A2", "乙")]
    contacts = [
        contact("A1", "electrical", "甲", "13900139000"),
        contact("A2", "electrical", "乙", "13700137000"),
    ]

    result = draft(accounts, contacts, affected=traced("A2", "A1", "A2"))

    assert [r.address for r in result.recipients] == ["+8613700137000", "+8613900139000"]
    assert [(e.position, e.account_id) for e in result.entries] == [(0, "A2"), (1, "A1")]


def test_the_recipients_digest_is_sha256_of_canonical_json_whatever_the_order():
    first = Recipient(
        channel="sms",
        address="+8613900139000",
        contact_name="赵总",
        account_ids=["A1"],
        account_names=["华新"],
    )
    second = Recipient(
        channel="sms", address="+8613700137000", account_ids=["A2"], account_names=["明达"]
    )
    canonical = json.dumps(
        [second.model_dump(mode="json"), first.model_dump(mode="json")],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    assert recipients_digest([first, second]) == recipients_digest([second, first])
    assert recipients_digest([first, second]) == hashlib.sha256(canonical.encode()).hexdigest()
    assert recipients_digest([first]) != recipients_digest([first, second])
