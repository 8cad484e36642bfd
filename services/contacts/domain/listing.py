"""Drafting the notification list of an outage from the traced accounts and the registry.

Given the accounts a trace found, what the registry knows about them, the area contacts of the
transformer areas in scope and the trace's own warnings, the draft says who is told on which
channel and in which wave (the channel policy decides, see :mod:`shared.channel_policy`), who
must be called or visited, and what the reviewer has to look at before approving. Nothing is
sent from a draft: a second person approves it first (the paper's remedy for lists sent
straight from a faulty trace).

One address on one channel is one recipient: an electrician who is the contact of five small
firms gets one SMS naming all five, and a phone registered under two roles of the same account
gets one as well.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from enum import StrEnum
from operator import attrgetter
from typing import Any, NamedTuple

from pydantic import TypeAdapter

from services.contacts.domain import messages
from services.contacts.domain.registry import (
    ROLE_PRIORITY,
    Account,
    AreaContact,
    AreaSubscription,
    CallWindow,
    Contact,
)
from shared.channel_policy import (
    AccountProfile,
    AreaContactProfile,
    ChannelPolicy,
    ContactProfile,
    PlannedRecipient,
    plan_account,
    plan_area,
    plan_outage,
)
from shared.channel_policy import AreaSubscription as SubscriptionProfile
from shared.events import AccountChange, AffectedAccount, Recipient, TraceWarning
from shared.events.catalog import OutageKind

# Channels in the order a reviewer reads them; recipients are listed wave by wave in it.
CHANNEL_ORDER = ("sms", "voice", "door_slip", "posted_notice", "wechat", "app_push", "newspaper")
_CHANNEL_RANK = {channel: rank for rank, channel in enumerate(CHANNEL_ORDER)}
# Area roles and the door slip's rank after every contact role.
_ROLE_RANK = {role.value: rank for rank, role in enumerate(ROLE_PRIORITY)}


@dataclass(frozen=True, slots=True)
class ListingPolicy:
    """The channel policy, and how recent a registry change must be to be pointed out."""

    channels: ChannelPolicy
    timezone: tzinfo
    recent_change: timedelta = timedelta(days=30)
    # Earlier account rules are the more demanding ones (important before standard); area and
    # public audiences come after them.
    audience_ranks: Mapping[str, int] = field(init=False)

    def __post_init__(self) -> None:
        ranks = {rule.name: rank for rank, rule in enumerate(self.channels.account_rules)}
        object.__setattr__(self, "audience_ranks", ranks)

    def audience_rank(self, audience: str) -> int:
        return self.audience_ranks.get(audience, len(self.audience_ranks))


class PlanItem(NamedTuple):
    """One planned message of an account or area: a :class:`PlannedRecipient` without the
    account (the entry or area holding it says whose it is)."""

    channel: str
    address: str
    contact_name: str
    role: str
    wave: int
    audience: str

    @classmethod
    def of(cls, planned: PlannedRecipient) -> PlanItem:
        return cls(
            planned.channel,
            planned.address,
            planned.contact_name,
            planned.role,
            planned.wave,
            planned.audience,
        )


class Planner:
    """``plan_account`` for the accounts of one list, worked out once per *shape*.

    ``plan_account`` decides by what matches an account rule (category, voltage, importance)
    and, per contact, by role, kind of number, status, preferred channel and which contacts
    share a number; ids, names and the digits of numbers only ride along. Accounts of one shape
    (most households look alike) therefore share one plan, planned with stand-in identities and
    filled in with each account's own. A 20,000-account list has a few dozen shapes.
    """

    def __init__(self, policy: ChannelPolicy, kind: OutageKind) -> None:
        self.policy = policy
        self.kind = kind
        self._templates: dict[tuple[Any, ...], tuple[tuple[Any, ...], ...]] = {}
        self._important: dict[tuple[Any, ...], bool] = {}

    def is_important(self, account: Account) -> bool:
        key = (account.category, account.voltage_kv, account.important)
        found = self._important.get(key)
        if found is None:
            found = self._important[key] = self.policy.is_important(account_profile(account))
        return found

    def plan(self, account: Account, contacts: Sequence[Contact]) -> tuple[PlanItem, ...]:
        """The account's plan; ``contacts`` are its active ones in priority order."""
        first_with: dict[str | None, int] = {}
        shape = tuple(
            (
                c.role,
                c.number_type,
                c.status,
                c.preferred_channel,
                first_with.setdefault(c.phone_e164, i) if c.phone_e164 is not None else -1,
            )
            for i, c in enumerate(contacts)
        )
        key = (account.category, account.voltage_kv, account.important, shape)
        template = self._templates.get(key)
        if template is None:
            template = self._templates[key] = self._template(account, contacts, shape)
        items = []
        for channel, address_of, name_of, role, wave, audience in template:
            if address_of < 0:
                address, name = account.account_id, account.name
            else:
                address = contacts[address_of].phone_e164 or ""
                name = contacts[name_of].name
            items.append(PlanItem(channel, address, name, role, wave, audience))
        return tuple(items)

    def _template(
        self, account: Account, contacts: Sequence[Contact], shape: tuple[Any, ...]
    ) -> tuple[tuple[Any, ...], ...]:
        # Stand-ins: the contact's index is its name, and the index of the first contact with
        # the same number is its number; the account's own door slip is index -1.
        stand_in = AccountProfile(
            account_id=_ACCOUNT_MARK,
            name=_ACCOUNT_MARK,
            category=account.category.value,
            voltage_kv=account.voltage_kv,
            important=account.important,
        )
        people = [
            ContactProfile(
                contact_id=f"{i:012d}",
                role=c.role.value,
                name=str(i),
                e164=None if same < 0 else str(same),
                number_type=c.number_type.value,
                status=c.status.value,
                preferred_channel=c.preferred_channel.value if c.preferred_channel else None,
            )
            for i, (c, (*_, same)) in enumerate(zip(contacts, shape, strict=True))
        ]
        return tuple(
            (
                p.channel,
                -1 if p.address == _ACCOUNT_MARK else int(p.address),
                -1 if p.contact_name == _ACCOUNT_MARK else int(p.contact_name),
                p.role,
                p.wave,
                p.audience,
            )
            for p in plan_account(self.policy, self.kind, stand_in, people)
        )


_ACCOUNT_MARK = "account"


class WarningCode(StrEnum):
    REAPPROVAL_REQUIRED = "reapproval_required"
    RETRACE_REMOVED = "retrace_removed"
    RETRACE_ADDED = "retrace_added"
    UNKNOWN_ACCOUNT = "unknown_account"
    MISSING_SINCE_LAST = "missing_since_last"
    NODE_MISMATCH = "node_mismatch"
    TRANSFER_PENDING = "transfer_pending"
    IMPORTANT_CUSTOMER = "important_customer"
    NO_VALID_MOBILE = "no_valid_mobile"
    RECENTLY_CHANGED = "recently_changed"
    NEW_SINCE_LAST = "new_since_last"


# Gravest first. The trace's own findings (any other code) come before all of these: when the
# topology doubts its trace, nothing below can be trusted either.
WARNING_RANK = {code.value: rank for rank, code in enumerate(WarningCode, start=1)}
TRACE_WARNING_RANK = 0


def warning_rank(code: str) -> int:
    return WARNING_RANK.get(code, TRACE_WARNING_RANK)


class WarningSource(StrEnum):
    TRACE = "trace"
    LIST = "list"


@dataclass(frozen=True, slots=True)
class ListWarning:
    """A finding the reviewer must see; ``has_landline`` says whether a call can replace SMS."""

    code: str
    source: WarningSource
    message: str
    account_id: str | None = None
    elements: tuple[str, ...] = ()
    has_landline: bool | None = None

    @property
    def rank(self) -> int:
        return warning_rank(self.code) if self.source is WarningSource.LIST else 0


@dataclass(frozen=True, slots=True)
class ListEntry:
    """One account on the list: where the trace found it, what the registry says, the plan."""

    position: int
    traced: AffectedAccount
    account: Account | None
    contacts: tuple[Contact, ...]
    important: bool
    plan: tuple[PlanItem, ...] = ()
    warning_codes: tuple[str, ...] = ()
    removed: bool = False
    # "added" or "removed" when a reviewer put the account on the list or took it off.
    edited: str | None = None

    @property
    def account_id(self) -> str:
        return self.traced.account_id

    @property
    def area_node(self) -> str:
        """The transformer area whose posted notice and area contacts reach the account."""
        if self.account is not None and self.account.transformer_area:
            return self.account.transformer_area
        return self.traced.node_id

    @property
    def has_valid_mobile(self) -> bool:
        return any(contact.can_sms for contact in self.contacts)

    @property
    def has_landline(self) -> bool:
        return any(contact.is_usable_landline for contact in self.contacts)

    @property
    def label(self) -> str:
        """How warnings name the account: its id and, when known, its name."""
        if self.account is None:
            return self.account_id
        return f"{self.account_id}（{self.account.name}）"


@dataclass(frozen=True, slots=True)
class AreaPlan:
    """Who is told about one transformer area in the scope: posted notice, area contacts, groups."""

    node_id: str
    name: str
    planned: tuple[PlanItem, ...]
    # Call windows of the area contacts, by address.
    windows: tuple[tuple[str, CallWindow], ...] = ()


class DraftRecipient(NamedTuple):
    """One address on one channel, and every account on the list it is told about."""

    channel: str
    address: str
    contact_name: str
    account_ids: tuple[str, ...]
    account_names: tuple[str, ...]
    role: str
    wave: int
    audience: str
    call_window: CallWindow | None = None
    # Where a door slip is delivered: the account's service address.
    location: str = ""

    def to_event(self) -> Recipient:
        return Recipient.model_validate(self.event_fields())

    def event_fields(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "address": self.address,
            "contact_name": self.contact_name,
            "account_ids": self.account_ids,
            "account_names": self.account_names,
            "role": self.role,
            "wave": self.wave,
            "audience": self.audience,
            "call_earliest": self.call_window.earliest if self.call_window else None,
            "call_latest": self.call_window.latest if self.call_window else None,
            "location": self.location,
        }


# Validating and dumping all recipients in one call runs in pydantic's core; one model at a
# time costs several seconds for the ~90,000 recipients of a 20,000-account list.
_RECIPIENTS: TypeAdapter[list[Recipient]] = TypeAdapter(list[Recipient])


def to_events(recipients: Iterable[DraftRecipient]) -> list[Recipient]:
    """The recipients as ``list.approved`` carries them."""
    return _RECIPIENTS.validate_python([r.event_fields() for r in recipients])


@dataclass(frozen=True, slots=True)
class ListCounts:
    accounts: int
    recipients: int
    without_valid_mobile: int
    unknown_accounts: int
    important_accounts: int
    warnings: int
    first_wave: int = 0
    # Recipients told first (wave 0), by channel.
    first_wave_by_channel: tuple[tuple[str, int], ...] = ()
    removed_accounts: int = 0


@dataclass(frozen=True, slots=True)
class Retrace:
    """Why a new version was traced, what it changed, and whether its predecessor was approved."""

    reason: str
    changes: tuple[AccountChange, ...]
    previous_version: int | None = None
    previous_approved: bool = False


@dataclass(frozen=True, slots=True)
class PreviousList:
    """The last approved list of another outage on the same feeder(s): account → its feeder."""

    outage_id: str
    version: int
    accounts: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class AreaRegistry:
    """What the registry holds for the transformer areas in the scope, by area node."""

    contacts: Mapping[str, Sequence[AreaContact]] = field(default_factory=dict)
    subscriptions: Mapping[str, Sequence[AreaSubscription]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DraftList:
    entries: tuple[ListEntry, ...]
    area_plans: tuple[AreaPlan, ...]
    outage_plan: tuple[PlanItem, ...]
    recipients: tuple[DraftRecipient, ...]
    warnings: tuple[ListWarning, ...]
    counts: ListCounts


@dataclass(frozen=True, slots=True)
class TraceScope:
    """What a trace (or re-trace) says about the outage, as the draft needs it."""

    kind: OutageKind
    starts_at: datetime
    affected: Sequence[AffectedAccount]
    transformers: Sequence[tuple[str, str]]  # (node id, name)
    feeders: Sequence[str]
    warnings: Sequence[TraceWarning] = ()


def draft_list(
    scope: TraceScope,
    accounts: Mapping[str, Account],
    contacts: Mapping[str, Sequence[Contact]],
    policy: ListingPolicy,
    *,
    now: datetime,
    areas: AreaRegistry | None = None,
    retrace: Retrace | None = None,
    previous: PreviousList | None = None,
) -> DraftList:
    """The notification list for the traced accounts, in trace order.

    ``accounts`` and ``contacts`` are what the registry holds for (at least) those accounts,
    its retired contacts left out. Accounts without a usable mobile are warned about, saying
    whether a landline can be called or a slip must be delivered.
    """
    planner = Planner(policy.channels, scope.kind)
    entries: list[ListEntry] = []
    warnings: list[ListWarning] = [
        ListWarning(w.code, WarningSource.TRACE, w.message, elements=tuple(w.elements))
        for w in scope.warnings
    ]
    seen: set[str] = set()
    for traced in scope.affected:
        if traced.account_id in seen:
            continue
        seen.add(traced.account_id)
        entry, found = plan_entry(
            len(entries),
            traced,
            accounts.get(traced.account_id),
            contacts.get(traced.account_id, ()),
            policy,
            planner,
            now=now,
        )
        entries.append(entry)
        warnings.extend(found)
    if retrace is not None:
        warnings.extend(retrace_warnings(retrace, accounts))
    if previous is not None:
        warnings.extend(comparison_warnings(previous, entries, set(scope.feeders), accounts))
    area_plans = plan_areas(scope, areas or AreaRegistry(), policy)
    local_day = scope.starts_at.astimezone(policy.timezone).date()
    outage_plan = tuple(PlanItem.of(p) for p in plan_outage(policy.channels, scope.kind, local_day))
    recipients = merge_recipients(entries, area_plans, outage_plan, policy)
    return DraftList(
        tuple(entries),
        area_plans,
        outage_plan,
        recipients,
        tuple(sorted(warnings, key=lambda w: w.rank)),
        count(entries, recipients, len(warnings)),
    )


def plan_entry(
    position: int,
    traced: AffectedAccount,
    account: Account | None,
    contacts: Sequence[Contact],
    policy: ListingPolicy,
    planner: Planner,
    *,
    now: datetime,
    edited: str | None = None,
) -> tuple[ListEntry, list[ListWarning]]:
    """One account's entry, its channel plan and the warnings it raises."""
    if account is None:
        entry = ListEntry(position, traced, None, (), False, edited=edited)
        found = account_warnings(entry, policy, now)
        return _with_codes(entry, found), found
    own = _by_priority(c for c in contacts if c.active)
    entry = ListEntry(
        position,
        traced,
        account,
        own,
        planner.is_important(account),
        planner.plan(account, own),
        edited=edited,
    )
    found = account_warnings(entry, policy, now)
    return _with_codes(entry, found), found


def _with_codes(entry: ListEntry, found: Sequence[ListWarning]) -> ListEntry:
    if not found:
        return entry
    # Set on the fresh entry (nobody else holds it yet); dataclasses.replace would rebuild it,
    # which costs more than the rest of the entry for 20,000 accounts.
    object.__setattr__(entry, "warning_codes", tuple(w.code for w in found))
    return entry


def account_warnings(entry: ListEntry, policy: ListingPolicy, now: datetime) -> list[ListWarning]:
    """What the reviewer must know about one account, gravest first."""
    account = entry.account
    if account is None:
        return [
            ListWarning(
                WarningCode.UNKNOWN_ACCOUNT,
                WarningSource.LIST,
                messages.UNKNOWN_ACCOUNT.format(account_id=entry.account_id),
                entry.account_id,
            )
        ]
    found: list[ListWarning] = []
    if entry.traced.node_id and account.node_id != entry.traced.node_id:
        found.append(
            ListWarning(
                WarningCode.NODE_MISMATCH,
                WarningSource.LIST,
                messages.NODE_MISMATCH.format(
                    account=entry.label,
                    registry_node=account.node_id,
                    traced_node=entry.traced.node_id,
                ),
                entry.account_id,
                elements=(account.node_id, entry.traced.node_id),
            )
        )
    if account.transfer_pending_since is not None:
        found.append(
            ListWarning(
                WarningCode.TRANSFER_PENDING,
                WarningSource.LIST,
                messages.TRANSFER_PENDING.format(
                    account=entry.label,
                    since=f"{account.transfer_pending_since.astimezone(policy.timezone):%Y-%m-%d}",
                ),
                entry.account_id,
            )
        )
    if entry.important:
        found.append(
            ListWarning(
                WarningCode.IMPORTANT_CUSTOMER,
                WarningSource.LIST,
                messages.IMPORTANT_CUSTOMER.format(
                    account_id=account.account_id,
                    name=account.name,
                    category=messages.CATEGORY_NAMES[account.category],
                    voltage_kv=f"{account.voltage_kv:g}",
                ),
                entry.account_id,
                has_landline=entry.has_landline,
            )
        )
    if not entry.has_valid_mobile:
        template = (
            messages.NO_VALID_MOBILE_CALL if entry.has_landline else messages.NO_VALID_MOBILE_VISIT
        )
        found.append(
            ListWarning(
                WarningCode.NO_VALID_MOBILE,
                WarningSource.LIST,
                template.format(account=entry.label),
                entry.account_id,
                has_landline=entry.has_landline,
            )
        )
    changed_at = account.changed_at
    if (
        changed_at is not None
        and account.change is not None
        and now - changed_at <= policy.recent_change
    ):
        found.append(
            ListWarning(
                WarningCode.RECENTLY_CHANGED,
                WarningSource.LIST,
                messages.RECENTLY_CHANGED.format(
                    account=entry.label,
                    date=f"{changed_at.astimezone(policy.timezone):%Y-%m-%d}",
                    change=messages.CHANGE_NAMES[account.change],
                ),
                entry.account_id,
                elements=(account.change.value,),
            )
        )
    return found


def retrace_warnings(retrace: Retrace, accounts: Mapping[str, Account]) -> list[ListWarning]:
    """The difference a re-trace made, and that an approved predecessor no longer counts."""
    found: list[ListWarning] = []
    if retrace.previous_approved and retrace.previous_version is not None:
        found.append(
            ListWarning(
                WarningCode.REAPPROVAL_REQUIRED,
                WarningSource.LIST,
                messages.REAPPROVAL_REQUIRED.format(
                    version=retrace.previous_version, reason=retrace.reason
                ),
            )
        )
    for change in retrace.changes:
        label = _label(change.account_id, accounts)
        added = change.change == "added"
        found.append(
            ListWarning(
                WarningCode.RETRACE_ADDED if added else WarningCode.RETRACE_REMOVED,
                WarningSource.LIST,
                (messages.RETRACE_ADDED if added else messages.RETRACE_REMOVED).format(
                    account=label, reason=retrace.reason
                ),
                change.account_id,
                elements=(change.node_id,) if change.node_id else (),
            )
        )
    return found


def comparison_warnings(
    previous: PreviousList,
    entries: Sequence[ListEntry],
    feeders: set[str],
    accounts: Mapping[str, Account],
) -> list[ListWarning]:
    """Accounts told last time on the shared feeders and missing now, and those new since.

    Only the feeders both outages touch are compared: an account on a feeder the other outage
    never reached says nothing about either trace.
    """
    current = {e.account_id: e.traced.feeder for e in entries if not e.removed}
    shared = feeders & set(previous.accounts.values())
    found: list[ListWarning] = []
    for account_id, feeder in previous.accounts.items():
        if feeder in shared and account_id not in current:
            found.append(
                ListWarning(
                    WarningCode.MISSING_SINCE_LAST,
                    WarningSource.LIST,
                    messages.MISSING_SINCE_LAST.format(
                        account=_label(account_id, accounts),
                        outage_id=previous.outage_id,
                        version=previous.version,
                    ),
                    account_id,
                    elements=(previous.outage_id,),
                )
            )
    for account_id, feeder in current.items():
        if feeder in shared and account_id not in previous.accounts:
            found.append(
                ListWarning(
                    WarningCode.NEW_SINCE_LAST,
                    WarningSource.LIST,
                    messages.NEW_SINCE_LAST.format(
                        account=_label(account_id, accounts), outage_id=previous.outage_id
                    ),
                    account_id,
                    elements=(previous.outage_id,),
                )
            )
    return found


def plan_areas(
    scope: TraceScope, areas: AreaRegistry, policy: ListingPolicy
) -> tuple[AreaPlan, ...]:
    """Each transformer area in the scope: its posted notice, area contacts and groups."""
    plans: list[AreaPlan] = []
    for node_id, name in scope.transformers:
        people = [c for c in areas.contacts.get(node_id, ()) if c.usable]
        planned = plan_area(
            policy.channels,
            scope.kind,
            node_id,
            name,
            [
                AreaContactProfile(node_id, c.name, c.role.value, c.phone_e164, c.number_type.value)
                for c in people
            ],
            [
                SubscriptionProfile(node_id, s.channel.value, s.address, s.name)
                for s in areas.subscriptions.get(node_id, ())
            ],
        )
        windows = tuple(
            (c.phone_e164, c.call_window)
            for c in people
            if c.phone_e164 is not None and c.call_window is not None
        )
        plans.append(AreaPlan(node_id, name, tuple(PlanItem.of(p) for p in planned), windows))
    return tuple(plans)


def merge_recipients(
    entries: Sequence[ListEntry],
    area_plans: Sequence[AreaPlan],
    outage_plan: Sequence[PlanItem],
    policy: ListingPolicy,
) -> tuple[DraftRecipient, ...]:
    """One recipient per (channel, address) across every account and area on the list.

    The merged recipient is told in the earliest wave any of its accounts plans it, under the
    most demanding audience, with the name and role of the contact that ranks first, and names
    every account it is told about. Its call window is the hours all its contacts accept.
    """
    # Per key: [order of the item speaking for all, that item, account ids, account names,
    # call window, set of the ids or None]. Most keys are planned once (an account's own
    # phone): their ids and names stay the entry's own 1-tuples, lists only come with a merge,
    # and ranks are worked out only when two items meet.
    merged: dict[tuple[str, str], list[Any]] = {}
    ranks: dict[tuple[int, str, str], tuple[int, int, int]] = {}

    def rank_of(item: PlanItem) -> tuple[int, int, int]:
        base = ranks.get((item.wave, item.audience, item.role))
        if base is None:
            base = ranks[(item.wave, item.audience, item.role)] = (
                item.wave,
                policy.audience_rank(item.audience),
                _ROLE_RANK.get(item.role, len(_ROLE_RANK)),
            )
        return base

    def merge(
        slot: list[Any],
        order: int,
        item: PlanItem,
        ids: Sequence[str],
        names: Sequence[str],
        window: CallWindow | None,
    ) -> None:
        if (*rank_of(item), order) < (*rank_of(slot[1]), slot[0]):
            slot[0], slot[1] = order, item
        if slot[5] is None:
            slot[2], slot[3], slot[5] = list(slot[2]), list(slot[3]), set(slot[2])
        for account_id, name in zip(ids, names, strict=True):
            if account_id not in slot[5]:
                slot[5].add(account_id)
                slot[2].append(account_id)
                slot[3].append(name)
        if window:
            slot[4] = _common_window(slot[4], window)

    by_area: dict[str, tuple[list[str], list[str]]] = defaultdict(lambda: ([], []))
    # Service addresses, where door slips (addressed by account id) are delivered.
    locations: dict[str, str] = {}
    order = 0
    for entry in entries:
        if entry.removed:
            continue
        name = entry.account.name if entry.account else ""
        if entry.account is not None and entry.account.address:
            locations[entry.account_id] = entry.account.address
        ids, names = (entry.account_id,), (name,)
        area_ids, area_names = by_area[entry.area_node]
        area_ids.append(entry.account_id)
        area_names.append(name)
        windows = {c.phone_e164: c.call_window for c in entry.contacts if c.call_window}
        for item in entry.plan:
            order += 1
            window = windows.get(item.address) if windows else None
            key = (item.channel, item.address)
            slot = merged.get(key)
            if slot is None:
                merged[key] = [order, item, ids, names, window, None]
            else:
                merge(slot, order, item, ids, names, window)
    extra = [
        (item, *by_area.get(area.node_id, ((), ())), dict(area.windows).get(item.address))
        for area in area_plans
        for item in area.planned
    ] + [(item, (), (), None) for item in outage_plan]
    for item, ids, names, window in extra:
        order += 1
        key = (item.channel, item.address)
        slot = merged.get(key)
        if slot is None:
            merged[key] = [order, item, tuple(ids), tuple(names), window, None]
        else:
            merge(slot, order, item, ids, names, window)
    # Listed wave by wave, channel by channel, then by address.
    buckets: dict[tuple[int, int], list[DraftRecipient]] = defaultdict(list)
    unknown_channel = len(CHANNEL_ORDER)
    for _, item, ids, names, window, _ in merged.values():
        buckets[(item.wave, _CHANNEL_RANK.get(item.channel, unknown_channel))].append(
            DraftRecipient(
                item.channel,
                item.address,
                item.contact_name,
                ids if isinstance(ids, tuple) else tuple(ids),
                names if isinstance(names, tuple) else tuple(names),
                item.role,
                item.wave,
                item.audience,
                window,
                locations.get(item.address, "") if item.channel == "door_slip" else "",
            )
        )
    by_address = attrgetter("address")
    return tuple(
        recipient
        for bucket in sorted(buckets)
        for recipient in sorted(buckets[bucket], key=by_address)
    )


def count(
    entries: Sequence[ListEntry], recipients: Sequence[DraftRecipient], warnings: int
) -> ListCounts:
    live = [e for e in entries if not e.removed]
    first = Counter(r.channel for r in recipients if r.wave == 0)
    return ListCounts(
        accounts=len(live),
        recipients=len(recipients),
        without_valid_mobile=sum(1 for e in live if not e.has_valid_mobile),
        unknown_accounts=sum(1 for e in live if e.account is None),
        important_accounts=sum(1 for e in live if e.important),
        warnings=warnings,
        first_wave=sum(first.values()),
        first_wave_by_channel=tuple(
            sorted(first.items(), key=lambda item: _CHANNEL_RANK.get(item[0], len(CHANNEL_ORDER)))
        ),
        removed_accounts=len(entries) - len(live),
    )


def recipients_digest(recipients: Iterable[Recipient]) -> str:
    """SHA-256 (hex) of the recipients as canonical JSON, for audit of what was approved.

    Canonical form: the recipients' JSON objects sorted by address then channel, keys sorted,
    no blanks, UTF-8 without escaping (``json.dumps(..., sort_keys=True, separators=(",", ":"),
    ensure_ascii=False)``). Anyone holding the event can recompute it.
    """
    ordered = sorted(recipients, key=lambda r: (r.address, r.channel))
    # dump_json then loads: pydantic writes JSON in its core several times faster than it
    # builds the same Python objects with dump_python(mode="json").
    canonical = json.dumps(
        json.loads(_RECIPIENTS.dump_json(ordered)),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def account_profile(account: Account) -> AccountProfile:
    return AccountProfile(
        account_id=account.account_id,
        name=account.name,
        category=account.category.value,
        voltage_kv=account.voltage_kv,
        important=account.important,
        transformer_node=account.transformer_area or None,
        service_address=account.address,
    )


def _common_window(current: CallWindow | None, other: CallWindow) -> CallWindow:
    """The hours both contacts behind a merged phone accept; the first one's when their hours
    do not overlap (a call in someone's hours beats none)."""
    if current is None:
        return other
    earliest = max(current.earliest, other.earliest)
    latest = min(current.latest, other.latest)
    return CallWindow(earliest, latest) if earliest < latest else current


def _by_priority(contacts: Iterable[Contact]) -> tuple[Contact, ...]:
    return tuple(sorted(contacts, key=lambda c: (ROLE_PRIORITY[c.role], c.contact_id)))


def _label(account_id: str, accounts: Mapping[str, Account]) -> str:
    account = accounts.get(account_id)
    return f"{account_id}（{account.name}）" if account else account_id
