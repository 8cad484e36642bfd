"""The channel policy: schema validation and who gets what on which channel, in which wave."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from shared.channel_policy import (
    DEFAULT_POLICY_PATH,
    AccountProfile,
    AreaContactProfile,
    AreaSubscription,
    ChannelPolicy,
    ContactProfile,
    PlannedRecipient,
    PolicyError,
    lead_time,
    load_policy,
    parse_policy,
    plan_account,
    plan_area,
    plan_outage,
    quiet_hours_exempt,
    reminder_enabled,
    restoration_audiences,
)

MOBILE_1 = "+8613800000001"
MOBILE_2 = "+8613800000002"
LANDLINE = "+862188880000"


@pytest.fixture(scope="module")
def policy() -> ChannelPolicy:
    return load_policy()


def raw_default() -> dict[str, Any]:
    data = yaml.safe_load(DEFAULT_POLICY_PATH.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def account(**overrides: Any) -> AccountProfile:
    values: dict[str, Any] = {
        "account_id": "A1",
        "name": "城东小店",
        "category": "commercial",
        "voltage_kv": 0.4,
    }
    return AccountProfile(**(values | overrides))


def contact(contact_id: str, role: str, e164: str | None, number_type: str, **kw: Any):
    return ContactProfile(contact_id, role, f"联系人{contact_id}", e164, number_type, **kw)  # type: ignore[arg-type]


def channels_by_wave(planned: list[PlannedRecipient]) -> list[tuple[int, str, str]]:
    return [(p.wave, p.channel, p.address) for p in planned]


def test_the_default_policy_file_is_valid_and_covers_every_outage_kind(policy):
    assert set(policy.kinds) == {
        "planned",
        "temporary",
        "emergency",
        "relocation",
        "orderly_use",
        "load_shedding",
    }
    assert lead_time(policy, "planned") == timedelta(days=7)
    assert lead_time(policy, "temporary") == timedelta(hours=24)
    assert lead_time(policy, "emergency") == timedelta(0)
    assert policy.timing.quiet_hours.start == "22:00"
    assert policy.timing.quiet_hours.end == "07:00"
    assert quiet_hours_exempt(policy, "emergency")
    assert not quiet_hours_exempt(policy, "planned")
    assert not reminder_enabled(policy, "emergency")
    assert restoration_audiences(policy, "planned") == {"important"}


def test_an_important_customer_gets_a_call_an_sms_and_a_door_slip_at_once(policy):
    contacts = [
        contact("2", "legal", MOBILE_2, "mobile"),
        contact("1", "electrical", MOBILE_1, "mobile"),
    ]
    planned = plan_account(
        policy, "planned", account(category="important", important=True), contacts
    )
    assert channels_by_wave(planned) == [
        (0, "door_slip", "A1"),
        (0, "voice", MOBILE_1),
        (0, "sms", MOBILE_1),
        (1, "voice", MOBILE_2),
        (1, "sms", MOBILE_2),
    ]
    assert {p.audience for p in planned} == {"important"}
    assert planned[1].role == "electrical"


def test_a_high_voltage_customer_is_treated_as_important(policy):
    planned = plan_account(
        policy,
        "planned",
        account(voltage_kv=10.0),
        [contact("1", "electrical", MOBILE_1, "mobile")],
    )
    assert {p.channel for p in planned if p.wave == 0} == {"door_slip", "voice", "sms"}


def test_a_customer_with_a_mobile_gets_an_sms_and_the_rest_is_the_escalation_ladder(policy):
    contacts = [
        contact("3", "billing", LANDLINE, "landline"),
        contact("2", "legal", MOBILE_2, "mobile"),
        contact("1", "electrical", MOBILE_1, "mobile"),
    ]
    planned = plan_account(policy, "planned", account(), contacts)
    assert channels_by_wave(planned) == [
        (0, "sms", MOBILE_1),
        (1, "voice", MOBILE_1),
        (2, "sms", MOBILE_2),
        (3, "voice", MOBILE_2),
        (4, "voice", LANDLINE),
        (5, "door_slip", "A1"),
    ]
    assert [p.role for p in planned] == [
        "electrical",
        "electrical",
        "legal",
        "legal",
        "billing",
        "account",
    ]


def test_without_a_mobile_the_landline_is_called_first(policy):
    planned = plan_account(
        policy, "planned", account(), [contact("1", "electrical", LANDLINE, "landline")]
    )
    assert channels_by_wave(planned) == [(0, "voice", LANDLINE), (1, "door_slip", "A1")]


def test_without_any_usable_number_the_door_slip_comes_first(policy):
    contacts = [
        contact("1", "electrical", None, "invalid"),
        contact("2", "legal", MOBILE_2, "mobile", status="invalid"),
    ]
    planned = plan_account(policy, "planned", account(), contacts)
    assert channels_by_wave(planned) == [(0, "door_slip", "A1")]


def test_no_door_slip_for_an_emergency_so_an_unreachable_account_gets_nothing(policy):
    assert plan_account(policy, "emergency", account(), []) == []
    important = plan_account(
        policy,
        "emergency",
        account(important=True),
        [contact("1", "electrical", MOBILE_1, "mobile")],
    )
    assert {p.channel for p in important} == {"voice", "sms"}


def test_a_contact_preferring_calls_is_called_before_the_sms(policy):
    planned = plan_account(
        policy,
        "planned",
        account(),
        [contact("1", "electrical", MOBILE_1, "mobile", preferred_channel="voice")],
    )
    assert channels_by_wave(planned)[:2] == [(0, "voice", MOBILE_1), (1, "sms", MOBILE_1)]


def test_a_preference_the_number_cannot_take_is_ignored(policy):
    planned = plan_account(
        policy,
        "planned",
        account(),
        [contact("1", "electrical", LANDLINE, "landline", preferred_channel="sms")],
    )
    assert channels_by_wave(planned)[0] == (0, "voice", LANDLINE)


def test_one_phone_under_two_roles_is_planned_once_per_channel(policy):
    contacts = [
        contact("1", "electrical", MOBILE_1, "mobile"),
        contact("2", "legal", MOBILE_1, "mobile"),
    ]
    planned = plan_account(policy, "planned", account(), contacts)
    assert channels_by_wave(planned) == [
        (0, "sms", MOBILE_1),
        (1, "voice", MOBILE_1),
        (2, "door_slip", "A1"),
    ]


def test_escalating_by_channel_texts_every_contact_before_calling_anyone():
    data = raw_default()
    data["account_rules"][1]["escalate_by"] = "channel"
    policy = parse_policy(data)
    contacts = [
        contact("1", "electrical", MOBILE_1, "mobile"),
        contact("2", "legal", MOBILE_2, "mobile"),
    ]
    planned = plan_account(policy, "planned", account(), contacts)
    assert channels_by_wave(planned) == [
        (0, "sms", MOBILE_1),
        (1, "sms", MOBILE_2),
        (2, "voice", MOBILE_1),
        (3, "voice", MOBILE_2),
        (4, "door_slip", "A1"),
    ]


def test_a_rule_may_apply_to_one_outage_kind_only():
    data = raw_default()
    data["account_rules"].insert(
        1,
        {
            "name": "industry_orderly",
            "match": {"categories": ["industrial"], "kinds": ["orderly_use"]},
            "channels": ["voice"],
            "door_slip": "never",
        },
    )
    policy = parse_policy(data)
    factory = account(category="industrial")
    contacts = [contact("1", "electrical", MOBILE_1, "mobile")]
    orderly = plan_account(policy, "orderly_use", factory, contacts)
    assert channels_by_wave(orderly) == [(0, "voice", MOBILE_1)]
    assert orderly[0].audience == "industry_orderly"
    assert plan_account(policy, "planned", factory, contacts)[0].audience == "standard"


def test_an_area_gets_its_posted_notice_its_contacts_and_its_subscriptions(policy):
    contacts = [
        AreaContactProfile("T1", "幸福里物业", "property_management", MOBILE_1, "mobile"),
        AreaContactProfile("T1", "东村村委会", "village_committee", LANDLINE, "landline"),
        AreaContactProfile("T1", "失效号码", "other", None, "invalid"),
        AreaContactProfile("T2", "别的台区", "property_management", MOBILE_2, "mobile"),
    ]
    subscriptions = [
        AreaSubscription("T1", "wechat", "robot-key-1", "幸福里业主群"),
        AreaSubscription("T1", "app_push", "area:T1"),
        AreaSubscription("T2", "wechat", "robot-key-2"),
    ]
    planned = plan_area(policy, "planned", "T1", "幸福里1号配变", contacts, subscriptions)
    assert [(p.channel, p.address, p.contact_name, p.role) for p in planned] == [
        ("posted_notice", "T1", "幸福里1号配变", "area"),
        ("sms", MOBILE_1, "幸福里物业", "property_management"),
        ("voice", LANDLINE, "东村村委会", "village_committee"),
        ("wechat", "robot-key-1", "幸福里业主群", "area"),
        ("app_push", "area:T1", "幸福里1号配变", "area"),
    ]
    assert {(p.wave, p.account_id, p.audience) for p in planned} == {(0, None, "area")}


def test_the_newspaper_digest_is_planned_for_planned_outages_only(policy):
    [digest] = plan_outage(policy, "planned", date(2026, 3, 5))
    assert (digest.channel, digest.address, digest.contact_name) == (
        "newspaper",
        "2026-03-05",
        "城东日报",
    )
    assert plan_outage(policy, "emergency", date(2026, 3, 5)) == []


def test_a_toml_policy_is_read_like_the_yaml_one(tmp_path: Path, policy):
    toml = tmp_path / "policy.toml"
    toml.write_text(
        """
version = 1
[newspaper]
name = "晚报"
[[account_rules]]
name = "everyone"
channels = ["sms"]
door_slip = "never"
[kinds.planned]
lead_time = "P7D"
[kinds.temporary]
[kinds.emergency]
[kinds.relocation]
[kinds.orderly_use]
[kinds.load_shedding]
""",
        encoding="utf-8",
    )
    loaded = load_policy(toml)
    assert loaded.newspaper.name == "晚报"
    assert lead_time(loaded, "planned") == timedelta(days=7)


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        (lambda d: d["account_rules"].pop(), "the last rule must match every account"),
        (lambda d: d["kinds"].pop("load_shedding"), "kinds: no rules for load_shedding"),
        (lambda d: d["account_rules"][0].update(channels=["fax"]), "account_rules.0.channels.0"),
        (lambda d: d["timing"]["quiet_hours"].update(start="25:00"), "timing.quiet_hours.start"),
        (lambda d: d["kinds"]["planned"].update(restoration=["vip"]), "unknown audience vip"),
        (lambda d: d["kinds"]["planned"].update(lead_time="-P1D"), "kinds.planned.lead_time"),
        (lambda d: d.update(role_order=["legal"]), "role_order"),
        (lambda d: d.update(surprise=1), "surprise"),
    ],
)
def test_an_invalid_policy_is_refused_naming_the_field(change, complaint):
    data = raw_default()
    change(data)
    with pytest.raises(PolicyError, match="invalid channel policy") as caught:
        parse_policy(data, source="my-policy.yaml")
    assert complaint in str(caught.value)
    assert "my-policy.yaml" in str(caught.value)


def test_a_missing_or_unparsable_file_is_a_clear_error(tmp_path: Path):
    with pytest.raises(PolicyError, match="cannot read the channel policy"):
        load_policy(tmp_path / "absent.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("account_rules: [\n", encoding="utf-8")
    with pytest.raises(PolicyError, match="not valid YAML"):
        load_policy(broken)
    json_file = tmp_path / "policy.json"
    json_file.write_text("{}", encoding="utf-8")
    with pytest.raises(PolicyError, match=r"\.yaml, \.yml or \.toml"):
        load_policy(json_file)
