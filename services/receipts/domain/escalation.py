"""Escalation before the deadline: when an unconfirmed account moves to its next channel.

Each outage has a deadline (by default 24 hours before the start, per outage kind) by which
every account should have a confirmed delivery. An account climbs a ladder made from the
approved list: the recipients of escalation wave 0 are told first, those of wave 1, 2, … (the
contacts service orders them: electrical contact by SMS, then by call, then the legal
representative, then the billing contact, each on their channels) only when escalation asks,
and the last rung is a field visit on the worklist.

The escalation point of the next rung is the earlier of

* when the current rung has had its confirmation window (SMS: delivery reports come within
  minutes, so two hours is generous; a call is answered or not at once), and
* the latest moment that still leaves every further rung its own window before the deadline,
  the visit included (field staff need time to get there),

but never less than a short minimum after the rung began, so a call is not placed seconds
after the SMS when the schedule is already tight. A rung whose every recipient failed for
good (number unassigned, refused at submission) gives way at once, and an account whose every
contact failed, or that has none, goes straight to the visit. Nothing escalates once the
account is reached, the outage is cancelled or completed, or the outage has begun.

Posted notices are confirmed by the area contact (a reply, or the field app); a posting still
unconfirmed at its own escalation point becomes one field task to put it up and photograph it,
and the accounts that rely on it alone move on only if that fails.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

from services.receipts.domain.ledger import (
    NOTICE,
    UNTARGETED_CHANNELS,
    AccountLedger,
    EntryState,
    ListEntry,
    OutageRecord,
    OutageTiming,
    TaskKind,
    account_ledgers,
)
from shared.events.catalog import Channel

POSTED_NOTICE = "posted_notice"
# Delivery reports come within minutes and a call is answered or not at once; printed slips
# and postings need a round of field work.
DEFAULT_WINDOWS: Mapping[Channel, timedelta] = {
    "sms": timedelta(hours=2),
    "voice": timedelta(hours=1),
    "wechat": timedelta(hours=4),
    "app_push": timedelta(hours=4),
    "door_slip": timedelta(hours=12),
    "posted_notice": timedelta(hours=12),
}
_ESCALATION_NAMESPACE = uuid.UUID("6f1d0c8e-3b7a-4d4b-9a55-2c1f0e8d7b61")


class EscalationReason(StrEnum):
    NO_CONTACT = "no_contact"
    ALL_CONTACTS_FAILED = "all_contacts_failed"
    STEP_FAILED = "step_failed"
    UNCONFIRMED = "unconfirmed"
    POSTING_UNCONFIRMED = "posting_unconfirmed"


@dataclass(frozen=True)
class EscalationPolicy:
    """Deadlines per outage kind and confirmation windows per channel."""

    default_deadline: timedelta = timedelta(hours=24)
    deadlines: Mapping[str, timedelta] = field(default_factory=dict)
    default_window: timedelta = timedelta(hours=2)
    windows: Mapping[str, timedelta] = field(
        default_factory=lambda: {str(channel): w for channel, w in DEFAULT_WINDOWS.items()}
    )
    visit_window: timedelta = timedelta(hours=12)
    min_wait: timedelta = timedelta(minutes=15)

    def deadline(self, timing: OutageTiming) -> datetime:
        """When every account of the outage should have a confirmed delivery."""
        return timing.starts_at - self.deadlines.get(timing.kind, self.default_deadline)

    def window(self, channels: Iterable[str]) -> timedelta:
        """How long a rung on these channels is given to be confirmed (the slowest counts)."""
        found = [self.windows.get(channel, self.default_window) for channel in channels]
        return max(found, default=self.default_window)


@dataclass(frozen=True)
class Escalate:
    """Ask dispatch to tell the account through the recipients of its next wave."""

    account_id: str
    step: int
    wave: int
    entries: tuple[ListEntry, ...]
    reason: EscalationReason


@dataclass(frozen=True)
class Visit:
    """Put a field visit to the account on the worklist."""

    account_id: str
    step: int
    reason: EscalationReason


@dataclass(frozen=True)
class CheckPosting:
    """Put the unconfirmed posting of a transformer area on the worklist."""

    area_node: str
    account_ids: tuple[str, ...]
    message_id: str
    reason: EscalationReason = EscalationReason.POSTING_UNCONFIRMED


Action = Escalate | Visit | CheckPosting


@dataclass(frozen=True)
class Plan:
    """What to do now, and when to look at the outage again (None: nothing left to watch)."""

    actions: tuple[Action, ...]
    next_check_at: datetime | None


@dataclass(frozen=True)
class Decision:
    action: Escalate | Visit | None
    next_check_at: datetime | None


def rungs(ledger: AccountLedger) -> list[int | None]:
    """The account's ladder: wave 0 (told first), its later waves in order, then the visit.

    Wave 0 is always the first rung, even when the account has no recipient in it: nothing
    will be sent to it unasked, so such a rung gives way at once.
    """
    waves = sorted({e.wave for e in targeted_entries(ledger) if e.wave > 0})
    return [0, *waves, None]


def targeted_entries(ledger: AccountLedger, wave: int | None = None) -> list[ListEntry]:
    return [
        e
        for e in ledger.entries
        if e.channel not in UNTARGETED_CHANNELS and (wave is None or e.wave == wave)
    ]


def latest_starts(
    ledger: AccountLedger, ladder: list[int | None], deadline: datetime, policy: EscalationPolicy
) -> list[datetime]:
    """For each rung, the latest moment it may begin so that the ones after it fit in too.

    The visit must be on the worklist ``visit_window`` before the deadline; each wave before
    it must begin one confirmation window before the rung that follows. Rung 0 begins when
    the list is sent, so its entry is never used.
    """
    latest = [deadline] * len(ladder)
    latest[-1] = deadline - policy.visit_window
    for index in range(len(ladder) - 2, 0, -1):
        channels = [e.channel for e in targeted_entries(ledger, ladder[index])]
        latest[index] = latest[index + 1] - policy.window(channels)
    return latest


def decide(
    ledger: AccountLedger,
    step_started_at: datetime | None,
    deadline: datetime,
    policy: EscalationPolicy,
    now: datetime,
) -> Decision:
    """The next escalation of one unreached account, if its escalation point has come.

    ``step_started_at`` is when its current rung began: for rung 0 the first notice sent to
    it (None while dispatch has sent nothing), for later rungs the time escalation asked.
    """
    if ledger.reached:
        return Decision(None, None)
    ladder = rungs(ledger)
    last = len(ladder) - 1
    current = min(ledger.step, last)
    if current == last:
        return Decision(None, None)
    if ledger.every_contact_failed:
        reason = (
            EscalationReason.NO_CONTACT
            if not targeted_entries(ledger)
            else EscalationReason.ALL_CONTACTS_FAILED
        )
        return Decision(Visit(ledger.account_id, last, reason), None)

    entries = targeted_entries(ledger, ladder[current])
    states = [ledger.entry_states[e.key] for e in entries]
    if all(state is EntryState.FAILED for state in states):
        point, reason = now, EscalationReason.STEP_FAILED
    elif all(e.channel == POSTED_NOTICE for e in entries) and EntryState.PENDING in states:
        # A posting tells a whole area: when it is not confirmed, one field task puts it up
        # (see CheckPosting) rather than a visit to every household it serves.
        return Decision(None, None)
    else:
        cap = latest_starts(ledger, ladder, deadline, policy)[current + 1]
        reason = EscalationReason.UNCONFIRMED
        if step_started_at is None:
            point = cap
        else:
            window = policy.window(e.channel for e in entries)
            point = max(min(step_started_at + window, cap), step_started_at + policy.min_wait)
    if point > now:
        return Decision(None, point)

    target = ladder[current + 1]
    if target is None:
        return Decision(Visit(ledger.account_id, last, reason), None)
    # A recipient that already failed for this account would only fail again.
    following = tuple(
        e
        for e in targeted_entries(ledger, target)
        if ledger.entry_states[e.key] is not EntryState.FAILED
    )
    return Decision(Escalate(ledger.account_id, current + 1, target, following, reason), None)


def escalation_open(record: OutageRecord, now: datetime) -> bool:
    """Whether the outage may still escalate: approved, not called off, not yet begun."""
    return (
        record.timing is not None
        and record.approved is not None
        and record.cancelled_at is None
        and record.completed_at is None
        and now < record.timing.starts_at
    )


def plan_outage(record: OutageRecord, policy: EscalationPolicy, now: datetime) -> Plan:
    """Every escalation of the outage due at ``now``, and when the next one falls due."""
    if not escalation_open(record, now):
        return Plan((), None)
    assert record.timing is not None  # escalation_open checked it
    deadline = policy.deadline(record.timing)
    requested_at = {(e.account_id, e.step): e.requested_at for e in record.escalations}
    actions: list[Action] = []
    upcoming: list[datetime] = []
    for ledger in account_ledgers(record).values():
        if ledger.step == 0:
            started = min(
                (
                    ledger.entry_started[e.key]
                    for e in targeted_entries(ledger, 0)
                    if e.key in ledger.entry_started
                ),
                default=None,
            )
        else:
            started = requested_at.get((ledger.account_id, ledger.step))
        decision = decide(ledger, started, deadline, policy, now)
        if decision.action is not None:
            actions.append(decision.action)
        if decision.next_check_at is not None:
            upcoming.append(decision.next_check_at)

    checked = {t.subject for t in record.tasks if t.kind is TaskKind.POSTING}
    confirmed_areas = {a.address for a in record.acks if a.channel == POSTED_NOTICE}
    visit_by = deadline - policy.visit_window
    for message in record.notices(NOTICE):
        if (
            message.channel != POSTED_NOTICE
            or message.address in checked
            or message.confirmed
            or message.address in confirmed_areas
            or message.sent_at is None
        ):
            continue
        point = min(message.sent_at + policy.window([POSTED_NOTICE]), visit_by)
        if point <= now:
            actions.append(CheckPosting(message.address, message.account_ids, message.message_id))
            checked.add(message.address)
        else:
            upcoming.append(point)
    return Plan(tuple(actions), min(upcoming, default=None))


@dataclass(frozen=True)
class RequestSpec:
    """One ``escalation.requested``: a recipient asked to tell some accounts at one step."""

    escalation_id: str
    step: int
    recipient: ListEntry
    reason: EscalationReason


def group_requests(outage_id: str, actions: Iterable[Escalate]) -> list[RequestSpec]:
    """One request per (step, recipient), naming only the accounts escalated to it.

    The id is derived from its content, so a request made again (after a crash between the
    commit and the next tick, say) carries the same id and dispatch can recognise it.
    """
    accounts: dict[tuple[int, ListEntry], set[str]] = defaultdict(set)
    reasons: dict[tuple[int, ListEntry], EscalationReason] = {}
    for action in actions:
        for entry in action.entries:
            accounts[(action.step, entry)].add(action.account_id)
            reasons.setdefault((action.step, entry), action.reason)
    specs: list[RequestSpec] = []
    for (step, entry), account_ids in sorted(
        accounts.items(), key=lambda item: (item[0][0], item[0][1].channel, item[0][1].address)
    ):
        kept = [
            (account_id, name)
            for account_id, name in zip(
                entry.account_ids,
                entry.account_names or ("",) * len(entry.account_ids),
                strict=False,
            )
            if account_id in account_ids
        ]
        recipient = replace(
            entry,
            account_ids=tuple(a for a, _ in kept),
            account_names=tuple(n for _, n in kept),
        )
        identity = "|".join(
            [outage_id, str(step), entry.channel, entry.address, *recipient.account_ids]
        )
        specs.append(
            RequestSpec(
                escalation_id=str(uuid.uuid5(_ESCALATION_NAMESPACE, identity)),
                step=step,
                recipient=recipient,
                reason=reasons[(step, entry)],
            )
        )
    return specs
