"""Drafting an outage's notification list: who is told, on which channel, in which wave, and
what the reviewer is warned about. The shipped channel policy decides the channels."""

import hashlib
import itertools
import json
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.contacts.domain.listing import (
    AreaRegistry,
    DraftList,
    DraftRecipient,
    ListingPolicy,
    ListWarning,
    PlanItem,
    Planner,
    PreviousList,
    Retrace,
    TraceScope,
    WarningCode,
    WarningSource,
    account_profile,
    count,
    draft_list,
    merge_recipients,
    recipients_digest,
)
from services.contacts.domain.phones import parse_phone
from services.contacts.domain.registry import (
    Account,
    AreaContact,
    AreaRole,
    AreaSubscription,
    CallWindow,
    Category,
    Contact,
    ContactRole,
    ContactStatus,
    Importance,
    PreferredChannel,
    RecentChange,
    SubscriptionChannel,
)
from shared.channel_policy import ContactProfile, load_policy, plan_account
from shared.events import AccountChange, AffectedAccount, Recipient, TraceWarning

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
STARTS = datetime(2026, 3, 9, 0, 0, tzinfo=UTC)
POLICY = ListingPolicy(load_policy(), SHANGHAI, recent_change=timedelta(days=30))

_ids = itertools.count(1)


def account(
    account_id: str,
    name: str,
    *,
    category: Category = Category.COMMERCIAL,
    voltage_kv: float = 0.4,
    node_id: str = "N1",
    **extra: Any,
) -> Account:
    return Account(account_id, name, node_id, voltage_kv, category, **extra)


def contact(
    account_id: str,
    role: str,
    name: str,
    phone: str,
    *,
    status: ContactStatus | None = None,
    **extra: Any,
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
        **extra,
    )


def traced(*account_ids: str, node_id: str = "N1", feeder: str = "F1") -> list[AffectedAccount]:
    return [
        AffectedAccount(account_id=a, isolating_device="D1", node_id=node_id, feeder=feeder)
        for a in account_ids
    ]


def draft(
    accounts: list[Account],
    contacts: list[Contact],
    affected: list[AffectedAccount] | None = None,
    *,
    kind: str = "temporary",
    transformers: tuple[tuple[str, str], ...] = (),
    trace_warnings: tuple[TraceWarning, ...] = (),
    **kwargs: Any,
) -> DraftList:
    by_account: dict[str, list[Contact]] = {}
    for c in contacts:
        by_account.setdefault(c.account_id, []).append(c)
    affected = affected if affected is not None else traced(*(a.account_id for a in accounts))
    scope = TraceScope(
        kind=kind,  # type: ignore[arg-type]
        starts_at=STARTS,
        affected=affected,
        transformers=transformers,
        feeders=sorted({a.feeder for a in affected}),
        warnings=trace_warnings,
    )
    return draft_list(
        scope, {a.account_id: a for a in accounts}, by_account, POLICY, now=NOW, **kwargs
    )


def who_gets(result: DraftList) -> list[tuple[int, str, str, tuple[str, ...]]]:
    """(wave, channel, address, accounts) of every recipient, in list order."""
    return [(r.wave, r.channel, r.address, r.account_ids) for r in result.recipients]


def warnings_of(result: DraftList, code: str) -> dict[str | None, ListWarning]:
    return {w.account_id: w for w in result.warnings if w.code == code}


def test_a_shared_electrician_gets_one_sms_and_one_call_naming_every_account_he_serves():
    accounts = [account("A1", "华新五金厂"), account("A2", "明达制衣"), account("A3", "老街面馆")]
    contacts = [
        contact("A1", "electrical", "王师傅", "138 0013 8000"),
        contact("A2", "electrical", "王师傅", "+86 13800138000"),
        contact("A3", "electrical", "王建国", "13800138000"),
    ]

    result = draft(accounts, contacts)

    assert who_gets(result) == [
        (0, "sms", "+8613800138000", ("A1", "A2", "A3")),
        (1, "voice", "+8613800138000", ("A1", "A2", "A3")),
        (2, "door_slip", "A1", ("A1",)),
        (2, "door_slip", "A2", ("A2",)),
        (2, "door_slip", "A3", ("A3",)),
    ]
    sms = result.recipients[0]
    assert sms.account_names == ("华新五金厂", "明达制衣", "老街面馆")
    assert (sms.contact_name, sms.role, sms.audience) == ("王师傅", "electrical", "standard")
    assert result.counts.first_wave_by_channel == (("sms", 1),)
    assert result.counts.without_valid_mobile == 0


def test_one_phone_under_two_roles_of_one_account_is_told_once_under_the_first_role():
    accounts = [account("A1", "华新五金厂")]
    contacts = [
        contact("A1", "legal", "赵总", "13900139000"),
        contact("A1", "billing", "赵会计", "139-0013-9000"),
        contact("A1", "electrical", "钱电工", "13700137000"),
    ]

    result = draft(accounts, contacts)

    assert who_gets(result) == [
        (0, "sms", "+8613700137000", ("A1",)),
        (1, "voice", "+8613700137000", ("A1",)),
        (2, "sms", "+8613900139000", ("A1",)),
        (3, "voice", "+8613900139000", ("A1",)),
        (4, "door_slip", "A1", ("A1",)),
    ]
    assert result.recipients[2].contact_name == "赵总"


def test_a_merged_phone_is_told_in_the_earliest_wave_any_of_its_accounts_plans_it():
    accounts = [account("A1", "甲厂"), account("A2", "乙厂")]
    contacts = [
        contact("A1", "electrical", "甲电工", "13700137000"),
        contact("A1", "billing", "前台", "13800138000"),
        contact("A2", "electrical", "王师傅", "13800138000"),
    ]

    result = draft(accounts, contacts)

    shared = next(
        r for r in result.recipients if (r.channel, r.address) == ("sms", "+8613800138000")
    )
    assert (shared.wave, shared.account_ids) == (0, ("A1", "A2"))
    assert (shared.contact_name, shared.role) == ("王师傅", "electrical")


def test_an_account_with_only_a_landline_is_called_first_and_visited_last():
    accounts = [account("A1", "张伟", category=Category.RESIDENTIAL, voltage_kv=0.22)]
    contacts = [contact("A1", "electrical", "张伟", "0571-88123456")]

    result = draft(accounts, contacts)

    assert who_gets(result) == [
        (0, "voice", "+8657188123456", ("A1",)),
        (1, "door_slip", "A1", ("A1",)),
    ]
    warning = warnings_of(result, WarningCode.NO_VALID_MOBILE)["A1"]
    assert warning.has_landline is True
    assert "电话通知" in warning.message
    assert result.counts.without_valid_mobile == 1


def test_an_invalid_number_reaches_nobody_so_the_account_gets_a_slip_at_once():
    accounts = [
        account(
            "A1", "李娜", category=Category.RESIDENTIAL, voltage_kv=0.22, address="幸福小区3幢201"
        )
    ]
    contacts = [contact("A1", "electrical", "李娜", "1380013")]

    result = draft(accounts, contacts)

    assert who_gets(result) == [(0, "door_slip", "A1", ("A1",))]
    assert result.recipients[0].location == "幸福小区3幢201"
    assert result.recipients[0].to_event().location == "幸福小区3幢201"
    warning = warnings_of(result, WarningCode.NO_VALID_MOBILE)["A1"]
    assert (warning.has_landline, "上门" in warning.message) == (False, True)
    assert result.entries[0].contacts[0].can_sms is False


def test_an_invalid_status_keeps_a_well_formed_mobile_off_the_list_but_suspect_does_not():
    accounts = [account("A1", "甲厂"), account("A2", "乙厂")]
    contacts = [
        contact("A1", "electrical", "甲", "13800138000", status=ContactStatus.INVALID),
        contact("A2", "electrical", "乙", "13900139000", status=ContactStatus.SUSPECT),
    ]

    result = draft(accounts, contacts)

    assert [(r.channel, r.address) for r in result.recipients if r.wave == 0] == [
        ("sms", "+8613900139000"),
        ("door_slip", "A1"),
    ]
    assert set(warnings_of(result, WarningCode.NO_VALID_MOBILE)) == {"A1"}


def test_retired_contacts_are_never_planned():
    accounts = [account("A1", "甲厂")]
    contacts = [contact("A1", "electrical", "老板", "13800138000", retired_at=NOW)]

    result = draft(accounts, contacts)

    assert who_gets(result) == [(0, "door_slip", "A1", ("A1",))]
    assert result.entries[0].contacts == ()


def test_important_customers_are_called_texted_and_visited_at_once_with_a_warning():
    accounts = [
        account("A1", "市第一医院", category=Category.IMPORTANT),
        account("A2", "钢铁厂", category=Category.INDUSTRIAL, voltage_kv=10),
        account("A3", "自来水厂", importance=Importance.FIRST),
        account("A4", "小卖部"),
    ]
    contacts = [
        contact("A1", "electrical", "周工", "13700137000"),
        contact("A1", "other", "值班室", "0571-87000000"),
        contact("A2", "electrical", "吴工", "13600136000"),
        contact("A3", "electrical", "郑工", "13500135000"),
        contact("A4", "electrical", "郑老板", "13400134000"),
    ]

    result = draft(accounts, contacts)

    first_wave = {(r.channel, r.address) for r in result.recipients if r.wave == 0}
    assert {("voice", "+8613700137000"), ("sms", "+8613700137000"), ("door_slip", "A1")} <= (
        first_wave
    )
    assert ("voice", "+8657187000000") not in first_wave
    assert {("voice", "+8613600136000"), ("voice", "+8613500135000")} <= first_wave
    assert ("voice", "+8613400134000") not in first_wave
    important = warnings_of(result, WarningCode.IMPORTANT_CUSTOMER)
    assert set(important) == {"A1", "A2", "A3"}
    assert (important["A1"].has_landline, important["A2"].has_landline) == (True, False)
    assert "必须电话通知" in important["A1"].message
    assert result.counts.important_accounts == 3


def test_a_preferred_channel_is_tried_first_and_a_call_window_travels_with_the_recipient():
    window = CallWindow(time(9, 0), time(18, 0))
    accounts = [account("A1", "甲厂")]
    contacts = [
        contact(
            "A1",
            "electrical",
            "甲",
            "13800138000",
            preferred_channel=PreferredChannel.VOICE,
            call_window=window,
        )
    ]

    result = draft(accounts, contacts)

    assert who_gets(result)[:2] == [
        (0, "voice", "+8613800138000", ("A1",)),
        (1, "sms", "+8613800138000", ("A1",)),
    ]
    assert result.recipients[0].call_window == window
    event = result.recipients[0].to_event()
    assert (event.call_earliest, event.call_latest) == (time(9, 0), time(18, 0))


def test_a_shared_phone_keeps_the_hours_all_its_contacts_accept():
    accounts = [account("A1", "甲厂"), account("A2", "乙厂")]
    contacts = [
        contact("A1", "electrical", "王", "13800138000", call_window=CallWindow(time(8), time(17))),
        contact(
            "A2", "electrical", "王", "13800138000", call_window=CallWindow(time(10), time(20))
        ),
    ]

    result = draft(accounts, contacts)

    assert result.recipients[0].call_window == CallWindow(time(10), time(17))


def test_area_contacts_and_groups_post_the_notice_for_the_accounts_of_their_area():
    accounts = [
        account("A1", "住户甲", transformer_area="T1"),
        account("A2", "住户乙", node_id="T2"),
        account("A3", "住户丙", transformer_area="T9"),
    ]
    contacts = [
        contact("A1", "electrical", "甲", "13800138001"),
        contact("A2", "electrical", "乙", "13800138002"),
        contact("A3", "electrical", "丙", "13800138003"),
    ]
    manager = AreaContact(
        contact_id=1,
        area_id="幸福小区",
        role=AreaRole.PROPERTY_MANAGEMENT,
        name="幸福物业",
        phone_raw="13900139000",
        phone_e164="+8613900139000",
        number_type=parse_phone("13900139000").number_type,
        status=ContactStatus.VALID,
    )
    group = AreaSubscription(1, "幸福小区", SubscriptionChannel.WECHAT, "robot-key-1", "幸福小区群")
    areas = AreaRegistry(contacts={"T1": [manager], "T2": [manager]}, subscriptions={"T1": [group]})
    affected = traced("A1", node_id="T1") + traced("A2", node_id="T2") + traced("A3")

    result = draft(
        accounts,
        contacts,
        affected,
        transformers=(("T1", "幸福小区1号台区"), ("T2", "幸福小区2号台区")),
        areas=areas,
    )

    by_key = {(r.channel, r.address): r for r in result.recipients}
    assert by_key[("posted_notice", "T1")].account_ids == ("A1",)
    assert by_key[("posted_notice", "T2")].account_ids == ("A2",)
    manager_sms = by_key[("sms", "+8613900139000")]
    assert (manager_sms.wave, manager_sms.account_ids) == (0, ("A1", "A2"))
    assert (manager_sms.role, manager_sms.audience) == ("property_management", "area")
    assert by_key[("wechat", "robot-key-1")].account_ids == ("A1",)


def test_a_planned_outage_also_goes_to_the_newspaper_of_its_local_day():
    result = draft([account("A1", "甲厂")], [], kind="planned")

    (paper,) = [r for r in result.recipients if r.channel == "newspaper"]
    assert (paper.address, paper.account_ids) == ("2026-03-09", ())


def test_a_traced_account_missing_from_the_registry_is_listed_as_unknown_and_told_nothing():
    accounts = [account("A1", "甲厂")]
    contacts = [contact("A1", "electrical", "甲", "13800138000")]

    result = draft(accounts, contacts, affected=traced("A1", "A9"))

    assert [e.account_id for e in result.entries] == ["A1", "A9"]
    assert result.entries[1].account is None
    assert result.entries[1].plan == ()
    assert set(warnings_of(result, WarningCode.UNKNOWN_ACCOUNT)) == {"A9"}
    assert WarningCode.NO_VALID_MOBILE not in {w.code for w in result.warnings}
    assert result.counts.unknown_accounts == 1


def test_contacts_of_accounts_the_trace_did_not_find_are_not_recipients():
    accounts = [account("A1", "甲厂"), account("A2", "乙厂")]
    contacts = [
        contact("A1", "electrical", "甲", "13800138000"),
        contact("A2", "electrical", "乙", "13900139000"),
    ]

    result = draft(accounts, contacts, affected=traced("A1"))

    assert {a for r in result.recipients for a in r.account_ids} == {"A1"}


def test_a_transfer_awaiting_new_contacts_and_a_recent_move_are_pointed_out():
    accounts = [
        account("A1", "新东家", transfer_pending_since=NOW - timedelta(days=3)),
        account("A2", "搬来的店", changed_at=NOW - timedelta(days=5), change=RecentChange.MOVED),
        account("A3", "老店", changed_at=NOW - timedelta(days=90), change=RecentChange.RENAMED),
    ]

    result = draft(accounts, [])

    assert "过户" in warnings_of(result, WarningCode.TRANSFER_PENDING)["A1"].message
    recent = warnings_of(result, WarningCode.RECENTLY_CHANGED)
    assert set(recent) == {"A2"}
    assert "2026-02-24" in recent["A2"].message
    assert result.entries[0].warning_codes == (
        WarningCode.TRANSFER_PENDING,
        WarningCode.NO_VALID_MOBILE,
    )


def test_warnings_come_gravest_first_after_the_traces_own_findings():
    accounts = [
        account("A1", "医院", category=Category.IMPORTANT, node_id="N7"),
        account("A2", "住户", category=Category.RESIDENTIAL, voltage_kv=0.22),
    ]
    trace_warning = TraceWarning(code="open_tie", message="联络开关状态未确认", elements=["D9"])

    result = draft(accounts, [], affected=traced("A2", "A1", "A9"), trace_warnings=(trace_warning,))

    assert [(w.code, w.account_id) for w in result.warnings] == [
        ("open_tie", None),
        (WarningCode.UNKNOWN_ACCOUNT, "A9"),
        (WarningCode.NODE_MISMATCH, "A1"),
        (WarningCode.IMPORTANT_CUSTOMER, "A1"),
        (WarningCode.NO_VALID_MOBILE, "A2"),
        (WarningCode.NO_VALID_MOBILE, "A1"),
    ]
    assert result.warnings[0].source is WarningSource.TRACE
    assert result.warnings[2].elements == ("N7", "N1")


def test_a_retrace_shows_what_changed_and_that_the_approved_version_must_be_approved_again():
    accounts = [account("A1", "甲厂"), account("A2", "乙厂"), account("A3", "丙厂")]
    retrace = Retrace(
        reason="批次 B7：新装用户",
        changes=(
            AccountChange(account_id="A3", change="added", node_id="N1"),
            AccountChange(account_id="A2", change="removed"),
        ),
        previous_version=1,
        previous_approved=True,
    )

    result = draft(accounts, [], affected=traced("A1", "A3"), retrace=retrace)

    assert [(w.code, w.account_id) for w in result.warnings[:3]] == [
        (WarningCode.REAPPROVAL_REQUIRED, None),
        (WarningCode.RETRACE_REMOVED, "A2"),
        (WarningCode.RETRACE_ADDED, "A3"),
    ]
    assert "第 1 版" in result.warnings[0].message
    assert "A2（乙厂）" in result.warnings[1].message


def test_accounts_told_last_time_on_a_shared_feeder_and_missing_now_are_pointed_out():
    accounts = [account(a, a) for a in ("A1", "A2", "A4")]
    previous = PreviousList("O-old", 2, {"A1": "F1", "A2": "F1", "A3": "F2"})

    result = draft(
        accounts, [], affected=traced("A1", "A4") + traced("A5", feeder="F9"), previous=previous
    )

    assert set(warnings_of(result, WarningCode.MISSING_SINCE_LAST)) == {"A2"}
    assert set(warnings_of(result, WarningCode.NEW_SINCE_LAST)) == {"A4"}
    assert "O-old" in warnings_of(result, WarningCode.MISSING_SINCE_LAST)["A2"].message


def test_removing_an_account_drops_it_from_merged_recipients_and_counts():
    accounts = [account("A1", "甲厂"), account("A2", "乙厂")]
    contacts = [
        contact("A1", "electrical", "王师傅", "13800138000"),
        contact("A2", "electrical", "王师傅", "13800138000"),
    ]
    result = draft(accounts, contacts)
    entries = [e if e.account_id == "A1" else replace(e, removed=True) for e in result.entries]

    recipients = merge_recipients(entries, result.area_plans, result.outage_plan, POLICY)
    counts = count(entries, recipients, 0)

    assert {r.account_ids for r in recipients} == {("A1",)}
    assert (counts.accounts, counts.removed_accounts) == (1, 1)


@pytest.mark.parametrize("kind", ["emergency", "load_shedding"])
def test_urgent_kinds_send_no_door_slips(kind):
    result = draft(
        [account("A1", "甲厂")], [contact("A1", "electrical", "甲", "13800138000")], kind=kind
    )

    assert "door_slip" not in {r.channel for r in result.recipients}


def test_the_recipients_digest_is_sha256_of_canonical_json_whatever_the_order():
    first = Recipient(
        channel="sms",
        address="+8613900139000",
        contact_name="赵总",
        account_ids=["A1"],
        account_names=["华新"],
    )
    second = Recipient(
        channel="voice", address="+8613700137000", account_ids=["A2"], account_names=["明达"]
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


def test_a_draft_recipient_becomes_the_event_recipient_field_by_field():
    recipient = DraftRecipient(
        channel="door_slip",
        address="A1",
        contact_name="甲厂",
        account_ids=("A1",),
        account_names=("甲厂",),
        role="account",
        wave=2,
        audience="standard",
    )

    assert recipient.to_event() == Recipient(
        channel="door_slip",
        address="A1",
        contact_name="甲厂",
        account_ids=["A1"],
        account_names=["甲厂"],
        role="account",
        wave=2,
        audience="standard",
    )


_PHONES = ["13800138000", "13900139000", "0571-88123456", "1380013", "13700137000"]


@st.composite
def accounts_with_contacts(draw: st.DrawFn) -> tuple[Account, list[Contact]]:
    acct = account(
        draw(st.sampled_from(["A1", "A2"])),
        "某户",
        category=draw(st.sampled_from(list(Category))),
        voltage_kv=draw(st.sampled_from([0.22, 0.4, 10.0, 35.0])),
        importance=draw(st.sampled_from(list(Importance))),
    )
    people = [
        contact(
            acct.account_id,
            draw(st.sampled_from(["electrical", "legal", "billing", "other"])),
            f"联系人{i}",
            draw(st.sampled_from(_PHONES)),
            status=draw(st.sampled_from(list(ContactStatus))),
            preferred_channel=draw(st.sampled_from([None, *PreferredChannel])),
        )
        for i in range(draw(st.integers(0, 4)))
    ]
    return acct, sorted(people, key=lambda c: (list(ContactRole).index(c.role), c.contact_id))


@given(accounts_with_contacts(), st.sampled_from(["planned", "temporary", "emergency"]))
@settings(max_examples=150, deadline=None)
def test_a_plan_shared_by_shape_is_exactly_what_the_policy_plans_for_the_account(case, kind):
    acct, people = case
    planner = Planner(POLICY.channels, kind)
    # Plan a look-alike first, so the account's own plan comes from the shape cache.
    twin = replace(acct, account_id="TWIN", name="另一户")
    planner.plan(twin, [replace(c, account_id="TWIN", name=c.name + "乙") for c in people])

    direct = plan_account(
        POLICY.channels,
        kind,
        account_profile(acct),
        [
            ContactProfile(
                contact_id=f"{c.contact_id:012d}",
                role=c.role.value,
                name=c.name,
                e164=c.phone_e164,
                number_type=c.number_type.value,
                status=c.status.value,
                preferred_channel=c.preferred_channel.value if c.preferred_channel else None,
            )
            for c in people
        ],
    )

    assert planner.plan(acct, people) == tuple(PlanItem.of(p) for p in direct)
