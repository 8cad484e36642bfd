"""The channel policy: who is told of an outage, on which channels, in which order.

A utility configures it in one YAML (or TOML) file, validated at start-up by :func:`load_policy`
(the default is ``config/channel-policy.yaml``). Everything else here is pure: the planning
functions take the policy and plain profiles and return :class:`PlannedRecipient` rows, which
the contacts service turns into the ``Recipient`` entries of ``list.approved``.

API (the names the lead sketched, with these adjustments):

* ``notice_kind`` is the kind of outage the notice announces (``OutageKind``: planned,
  temporary, emergency, relocation, orderly_use, load_shedding). ``plan_outage`` therefore has
  no separate ``outage_kind`` argument: it is ``plan_outage(policy, notice_kind, local_date)``.
* :class:`PlannedRecipient` also carries ``audience``: the name of the policy rule that chose
  it (``important``, ``standard`` … for accounts, ``area`` for a transformer area's posted
  notice, contacts and subscriptions, ``public`` for the newspaper). Dispatch uses it to pick
  who gets follow-ups such as the restoration notice (``followups.restoration``).
* :class:`AreaSubscription` describes the WeChat Work groups and app subscriptions of an area.
* :func:`lead_time`, :func:`reminder_enabled`, :func:`quiet_hours_exempt` and
  :func:`restoration_audiences` read the per-kind timing rules, so topology, contacts and
  dispatch judge them from the same file. ``policy.timing`` holds the rest of the schedule:
  the first notice (on approval, or ``first_notice_before`` the start), the reminder
  (``reminder_days_before`` at ``reminder_at``), quiet hours and the channels they hold
  back, how close to the start a correction ignores them, and the channels reminders and
  restoration notices go on.
* :class:`PlannedRecipient` has ``location`` (the service address a door slip goes to);
  contacts copies it, with ``audience``, into ``Recipient``.

Waves: ``wave`` 0 is told first, on approval. Later waves are the escalation ladder, sent
only when receipts asks (``escalation.requested``): within an account, contacts in
``role_order`` (electrical, legal, billing, other) and, for each, the rule's channels in
order (SMS, then a voice call); the door-to-door slip comes last. A rule with
``together: true`` (important customers) gives each contact all its channels in one wave and
the door slip in wave 0. The same address on the same channel is planned only once per
account, in its earliest wave.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, time, timedelta
from pathlib import Path
from typing import Literal, Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from shared.events.catalog import Channel, OutageKind

__all__ = [
    "DEFAULT_POLICY_PATH",
    "AccountProfile",
    "AccountRule",
    "AreaContactProfile",
    "AreaSubscription",
    "ChannelPolicy",
    "ContactProfile",
    "KindRules",
    "PlannedRecipient",
    "PolicyError",
    "QuietHours",
    "Timing",
    "lead_time",
    "load_policy",
    "parse_policy",
    "plan_account",
    "plan_area",
    "plan_outage",
    "quiet_hours_exempt",
    "reminder_enabled",
    "restoration_audiences",
    "rule_for",
]

DEFAULT_POLICY_PATH = Path(__file__).resolve().parent.parent / "config" / "channel-policy.yaml"

Category = Literal["residential", "commercial", "industrial", "important"]
ContactRole = Literal["electrical", "legal", "billing", "other"]
AreaRole = Literal["property_management", "village_committee", "residents_committee", "other"]
NumberType = Literal["mobile", "landline", "invalid"]
ContactStatus = Literal["valid", "suspect", "invalid"]
# Channels a person's phone number can carry.
PhoneChannel = Literal["sms", "voice"]
SubscriptionChannel = Literal["wechat", "app_push"]
# Channels that can carry a short follow-up (reminder, restoration) to someone already told.
FollowupChannel = Literal["sms", "voice", "wechat", "app_push"]

AREA_AUDIENCE = "area"
PUBLIC_AUDIENCE = "public"
DOOR_SLIP_ROLE = "account"
OUTAGE_KINDS: tuple[OutageKind, ...] = (
    "planned",
    "temporary",
    "emergency",
    "relocation",
    "orderly_use",
    "load_shedding",
)


class PolicyError(ValueError):
    """The policy file is missing, unreadable or invalid; the message names file and field."""


# Profiles: what the planner is given.


@dataclass(frozen=True, slots=True)
class AccountProfile:
    account_id: str
    name: str
    category: Category
    voltage_kv: float
    important: bool = False
    transformer_node: str | None = None
    service_address: str = ""


@dataclass(frozen=True, slots=True)
class ContactProfile:
    contact_id: str
    role: ContactRole
    name: str
    e164: str | None
    number_type: NumberType
    status: ContactStatus = "valid"
    preferred_channel: Channel | None = None


@dataclass(frozen=True, slots=True)
class AreaContactProfile:
    area_node: str
    name: str
    role: AreaRole
    e164: str | None
    number_type: NumberType


@dataclass(frozen=True, slots=True)
class AreaSubscription:
    """A WeChat Work group robot or an app topic that wants the notices of an area."""

    area_node: str
    channel: SubscriptionChannel
    address: str  # the robot's webhook key or the app topic (Recipient.address)
    name: str = ""


@dataclass(frozen=True, slots=True)
class PlannedRecipient:
    """One address on one channel, for one account (or, with ``account_id`` None, an area)."""

    channel: Channel
    address: str
    contact_name: str
    role: str
    wave: int
    account_id: str | None
    audience: str
    location: str = ""  # where a door slip is delivered: the account's service address


# The policy file.


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RuleMatch(_Model):
    """Which accounts a rule is for; every condition given must hold, none given matches all."""

    important: bool | None = Field(
        default=None,
        description="true: important accounts (the flag, category 'important' or a voltage at "
        "or above important_voltage_kv); false: the others.",
    )
    categories: list[Category] | None = None
    min_voltage_kv: float | None = Field(default=None, ge=0)
    kinds: list[OutageKind] | None = Field(default=None, description="Only for these outages.")

    @property
    def matches_everything(self) -> bool:
        return all(
            value is None
            for value in (self.important, self.categories, self.min_voltage_kv, self.kinds)
        )


class AccountRule(_Model):
    """How the contacts of the accounts a rule matches are told."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="Also the recipients' audience.")
    match: RuleMatch = Field(default_factory=RuleMatch)
    channels: list[PhoneChannel] = Field(
        min_length=1, description="Channels for each contact, in escalation order."
    )
    together: bool = Field(
        default=False,
        description="true: all usable channels of a contact in the same wave; false: the "
        "first usable one, the others as later waves.",
    )
    door_slip: Literal["first", "last", "never"] = Field(
        description="The signed door-to-door slip: with the first notice, as the last resort "
        "(or first when no contact can be reached), or never."
    )
    escalate_by: Literal["contact", "channel"] = Field(
        default="contact",
        description="contact: every channel of a contact before the next contact; channel: "
        "every contact on a channel before the next channel.",
    )

    @field_validator("channels")
    @classmethod
    def _distinct(cls, value: list[PhoneChannel]) -> list[PhoneChannel]:
        if len(set(value)) != len(value):
            raise ValueError("a channel is listed twice")
        return value


class KindRules(_Model):
    """What an outage kind asks for besides the account rules."""

    lead_time: timedelta = Field(
        default=timedelta(0),
        description="Least time between the first notice and the start (ISO 8601, P7D / "
        "PT24H); 0: none (emergencies go out at once).",
    )
    door_slip: bool = Field(default=True, description="false: no door slips for this kind.")
    posted_notice: bool = True
    area_contacts: bool = Field(default=True, description="SMS / calls to area contacts.")
    subscriptions: bool = Field(default=True, description="WeChat groups and app push.")
    newspaper: bool = False
    reminder: bool = Field(default=True, description="Send the reminder before the start.")
    quiet_hours_exempt: bool = Field(
        default=False, description="true: SMS and calls go out at night too."
    )
    restoration: list[str] = Field(
        default_factory=list,
        description="Audiences told when the work ends (rule names, area, public).",
    )

    @field_validator("lead_time")
    @classmethod
    def _not_negative(cls, value: timedelta) -> timedelta:
        if value < timedelta(0):
            raise ValueError("must not be negative")
        return value


class AreaRules(_Model):
    contact_channels: list[PhoneChannel] = Field(
        default_factory=lambda: list[PhoneChannel](("sms", "voice")),
        description="Area contacts get the first of these their number can take.",
    )


class NewspaperRules(_Model):
    name: str = Field(min_length=1, description="The paper the digest is sent to.")


_HHMM = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")


class QuietHours(_Model):
    start: str = Field(default="22:00", description="Local HH:MM when quiet hours begin.")
    end: str = Field(default="07:00", description="Local HH:MM when they end (next morning).")

    @field_validator("start", "end")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        if not _HHMM.fullmatch(value):
            raise ValueError("must be HH:MM, e.g. 22:00")
        return value

    @property
    def start_time(self) -> time:
        return time.fromisoformat(self.start)

    @property
    def end_time(self) -> time:
        return time.fromisoformat(self.end)


class Timing(_Model):
    """When notices go out, in the service's local time."""

    first_notice_before: timedelta | None = Field(
        default=None,
        description="null: the first notice goes out when the list is approved; else not "
        "before this long ahead of the start (e.g. P7D), nor before approval.",
    )
    reminder_days_before: int = Field(
        default=1, ge=1, description="The reminder goes out this many days before the start…"
    )
    reminder_at: str = Field(default="10:00", description="…at this local time (HH:MM).")
    quiet_hours: QuietHours = Field(default_factory=QuietHours)
    urgent_cancellation_within: timedelta = Field(
        default=timedelta(hours=24),
        description="A cancellation or new time this close to the start ignores quiet hours.",
    )
    quiet_channels: list[FollowupChannel] = Field(
        default_factory=lambda: list[FollowupChannel](("sms", "voice")),
        description="Channels quiet hours hold back (printed ones never wake anybody).",
    )
    reminder_channels: list[FollowupChannel] = Field(
        default_factory=lambda: list[FollowupChannel](("sms", "wechat", "app_push")),
        description="Channels the reminder goes on, to those the first notice reached there.",
    )
    restoration_channels: list[FollowupChannel] = Field(
        default_factory=lambda: list[FollowupChannel](("sms", "wechat", "app_push")),
        description="Channels the restoration notice goes on (to kinds.<kind>.restoration).",
    )

    @field_validator("reminder_at")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        if not _HHMM.fullmatch(value):
            raise ValueError("must be HH:MM, e.g. 10:00")
        return value

    @property
    def reminder_time(self) -> time:
        return time.fromisoformat(self.reminder_at)


class ChannelPolicy(_Model):
    """The whole policy file."""

    version: Literal[1] = 1
    important_voltage_kv: float = Field(
        default=10.0, gt=0, description="Accounts supplied at or above this are high-voltage."
    )
    role_order: list[ContactRole] = Field(
        default_factory=lambda: list[ContactRole](("electrical", "legal", "billing", "other")),
        description="Within an account, who is tried first.",
    )
    account_rules: list[AccountRule] = Field(
        min_length=1, description="First matching rule wins; the last must match every account."
    )
    area: AreaRules = Field(default_factory=AreaRules)
    newspaper: NewspaperRules
    timing: Timing = Field(default_factory=Timing)
    kinds: dict[OutageKind, KindRules]

    @field_validator("role_order")
    @classmethod
    def _every_role_once(cls, value: list[ContactRole]) -> list[ContactRole]:
        if sorted(value) != sorted(("electrical", "legal", "billing", "other")):
            raise ValueError("must list electrical, legal, billing and other once each")
        return value

    @model_validator(mode="after")
    def _complete(self) -> Self:
        names = [rule.name for rule in self.account_rules]
        if len(set(names)) != len(names):
            raise ValueError("account_rules: two rules have the same name")
        if {AREA_AUDIENCE, PUBLIC_AUDIENCE} & set(names):
            raise ValueError(f"account_rules: '{AREA_AUDIENCE}' and '{PUBLIC_AUDIENCE}' are taken")
        if not self.account_rules[-1].match.matches_everything:
            raise ValueError(
                "account_rules: the last rule must match every account (an empty 'match'), "
                "so that no account is left without channels"
            )
        missing = [kind for kind in OUTAGE_KINDS if kind not in self.kinds]
        if missing:
            raise ValueError(f"kinds: no rules for {', '.join(missing)}")
        audiences = {*names, AREA_AUDIENCE, PUBLIC_AUDIENCE}
        for kind, rules in self.kinds.items():
            unknown = [a for a in rules.restoration if a not in audiences]
            if unknown:
                raise ValueError(
                    f"kinds.{kind}.restoration: unknown audience {', '.join(unknown)} "
                    f"(one of {', '.join(sorted(audiences))})"
                )
        return self

    def is_important(self, account: AccountProfile) -> bool:
        return (
            account.important
            or account.category == "important"
            or account.voltage_kv >= self.important_voltage_kv
        )


def parse_policy(data: object, *, source: str = "policy") -> ChannelPolicy:
    """Validate already-parsed policy data; :class:`PolicyError` names each faulty field."""
    try:
        return ChannelPolicy.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or '(top)'}: {error['msg']}"
            for error in exc.errors()
        )
        raise PolicyError(f"{source}: invalid channel policy: {problems}") from exc


def load_policy(path: Path | str = DEFAULT_POLICY_PATH) -> ChannelPolicy:
    """Read and validate a policy file (``.yaml``/``.yml`` or ``.toml``); the only I/O here."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise PolicyError(f"{path}: cannot read the channel policy: {exc.strerror}") from exc
    try:
        if path.suffix == ".toml":
            data: object = tomllib.loads(raw.decode())
        elif path.suffix in (".yaml", ".yml"):
            data = yaml.safe_load(raw)
        else:
            raise PolicyError(f"{path}: the channel policy must be a .yaml, .yml or .toml file")
    except (tomllib.TOMLDecodeError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise PolicyError(f"{path}: not valid {path.suffix[1:].upper()}: {exc}") from exc
    return parse_policy(data, source=str(path))


# Reading the per-kind rules.


def lead_time(policy: ChannelPolicy, notice_kind: OutageKind) -> timedelta:
    """Least time between the first notice of such an outage and its start."""
    return policy.kinds[notice_kind].lead_time


def reminder_enabled(policy: ChannelPolicy, notice_kind: OutageKind) -> bool:
    return policy.kinds[notice_kind].reminder


def quiet_hours_exempt(policy: ChannelPolicy, notice_kind: OutageKind) -> bool:
    return policy.kinds[notice_kind].quiet_hours_exempt


def restoration_audiences(policy: ChannelPolicy, notice_kind: OutageKind) -> frozenset[str]:
    return frozenset(policy.kinds[notice_kind].restoration)


# Planning.


def rule_for(
    policy: ChannelPolicy, notice_kind: OutageKind, account: AccountProfile
) -> AccountRule:
    """The first account rule that matches (the last one always does)."""
    for rule in policy.account_rules:
        match = rule.match
        if match.important is not None and match.important != policy.is_important(account):
            continue
        if match.categories is not None and account.category not in match.categories:
            continue
        if match.min_voltage_kv is not None and account.voltage_kv < match.min_voltage_kv:
            continue
        if match.kinds is not None and notice_kind not in match.kinds:
            continue
        return rule
    raise AssertionError("the policy's last rule matches every account")  # validated at load


def can_carry(channel: PhoneChannel, number_type: NumberType, e164: str | None) -> bool:
    """Whether a number can take a channel: SMS needs a mobile, a call any valid number."""
    if e164 is None or number_type == "invalid":
        return False
    return channel == "voice" or number_type == "mobile"


def _contact_channels(rule: AccountRule, contact: ContactProfile) -> list[PhoneChannel]:
    """The rule's channels this contact can take, the contact's preferred one first."""
    if contact.status == "invalid":
        return []
    usable = [c for c in rule.channels if can_carry(c, contact.number_type, contact.e164)]
    preferred = contact.preferred_channel
    if preferred in usable:
        usable.remove(preferred)
        usable.insert(0, preferred)
    return usable


def _steps(
    rule: AccountRule, contacts: Sequence[tuple[ContactProfile, list[PhoneChannel]]]
) -> list[list[tuple[ContactProfile, PhoneChannel]]]:
    """The escalation ladder: each step is told together, steps in order."""
    if rule.together:
        return [[(contact, channel) for channel in channels] for contact, channels in contacts]
    if rule.escalate_by == "contact":
        return [[(contact, channel)] for contact, channels in contacts for channel in channels]
    order = {channel: rank for rank, channel in enumerate(rule.channels)}
    pairs = [
        (order[channel], position, contact, channel)
        for position, (contact, channels) in enumerate(contacts)
        for channel in channels
    ]
    return [[(contact, channel)] for _, _, contact, channel in sorted(pairs, key=lambda p: p[:2])]


def plan_account(
    policy: ChannelPolicy,
    notice_kind: OutageKind,
    account: AccountProfile,
    contacts: Iterable[ContactProfile],
) -> list[PlannedRecipient]:
    """The recipients of one account's notices, by wave (empty: nobody can be told).

    Contacts with an invalid status or number, and channels their number cannot carry, are
    left out; an account whose contacts can take none of the rule's channels gets the door
    slip first (unless the rule or the kind rules it out).
    """
    rule = rule_for(policy, notice_kind, account)
    rank = {role: position for position, role in enumerate(policy.role_order)}
    ordered = sorted(contacts, key=lambda c: (rank[c.role], c.contact_id))
    reachable = [(c, chans) for c in ordered if (chans := _contact_channels(rule, c))]
    slips = rule.door_slip != "never" and policy.kinds[notice_kind].door_slip

    planned: list[PlannedRecipient] = []
    seen: set[tuple[str, str]] = set()
    wave = 0
    if slips and (rule.door_slip == "first" or not reachable):
        planned.append(_door_slip(account, wave, rule.name))
        if not reachable:
            return planned
    for step in _steps(rule, reachable):
        fresh = [(c, ch) for c, ch in step if (ch, c.e164 or "") not in seen]
        if not fresh:
            continue
        for contact, channel in fresh:
            seen.add((channel, contact.e164 or ""))
            planned.append(
                PlannedRecipient(
                    channel=channel,
                    address=contact.e164 or "",
                    contact_name=contact.name,
                    role=contact.role,
                    wave=wave,
                    account_id=account.account_id,
                    audience=rule.name,
                )
            )
        wave += 1
    if slips and rule.door_slip == "last":
        planned.append(_door_slip(account, wave, rule.name))
    return planned


def _door_slip(account: AccountProfile, wave: int, audience: str) -> PlannedRecipient:
    return PlannedRecipient(
        channel="door_slip",
        address=account.account_id,
        contact_name=account.name,
        role=DOOR_SLIP_ROLE,
        wave=wave,
        account_id=account.account_id,
        audience=audience,
        location=account.service_address,
    )


def plan_area(
    policy: ChannelPolicy,
    notice_kind: OutageKind,
    area_node: str,
    area_name: str,
    area_contacts: Iterable[AreaContactProfile],
    subscriptions: Iterable[AreaSubscription],
) -> list[PlannedRecipient]:
    """A transformer area's recipients, all in wave 0.

    The posted notice (its printable sheet), each area contact on the first channel their
    number can take (they are asked to post it and confirm), and every WeChat Work group or
    app subscription configured for the area.
    """
    kind = policy.kinds[notice_kind]
    planned: list[PlannedRecipient] = []
    if kind.posted_notice:
        planned.append(
            PlannedRecipient("posted_notice", area_node, area_name, "area", 0, None, AREA_AUDIENCE)
        )
    seen: set[tuple[str, str]] = set()
    if kind.area_contacts:
        for contact in area_contacts:
            if contact.area_node != area_node:
                continue
            channel = next(
                (
                    c
                    for c in policy.area.contact_channels
                    if can_carry(c, contact.number_type, contact.e164)
                ),
                None,
            )
            if channel is None or (channel, contact.e164 or "") in seen:
                continue
            seen.add((channel, contact.e164 or ""))
            planned.append(
                PlannedRecipient(
                    channel, contact.e164 or "", contact.name, contact.role, 0, None, AREA_AUDIENCE
                )
            )
    if kind.subscriptions:
        for sub in subscriptions:
            if sub.area_node != area_node or (sub.channel, sub.address) in seen:
                continue
            seen.add((sub.channel, sub.address))
            planned.append(
                PlannedRecipient(
                    sub.channel, sub.address, sub.name or area_name, "area", 0, None, AREA_AUDIENCE
                )
            )
    return planned


def plan_outage(
    policy: ChannelPolicy, notice_kind: OutageKind, local_date: date
) -> list[PlannedRecipient]:
    """The outage-wide recipients: the newspaper digest of the outage's (local) day."""
    if not policy.kinds[notice_kind].newspaper:
        return []
    return [
        PlannedRecipient(
            "newspaper",
            local_date.isoformat(),
            policy.newspaper.name,
            PUBLIC_AUDIENCE,
            0,
            None,
            PUBLIC_AUDIENCE,
        )
    ]
