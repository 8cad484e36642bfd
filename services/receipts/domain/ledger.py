"""What receipts knows about one outage, and what it means for each account on its list.

Every measure, escalation decision, complaint classification and evidence pack starts from the
same facts: the newest approved list (who was to be told, by whom, in which escalation wave),
the notices dispatch sent on every channel and their delivery states, acknowledgements, field
tasks and the escalation steps already taken. :func:`account_ledgers` folds them into one
:class:`AccountLedger` per targeted account, so that all of them agree on who was reached.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import cached_property

from services.receipts.domain.carrier import normalise_carrier_status
from services.receipts.domain.status import ReceiptStatus

NOTICE = "notice"
CANCELLATION = "cancellation"
INVALID_NUMBER = "INVALID_NUMBER"

# A newspaper announcement tells nobody in particular: it confirms no account and is never a
# rung of an escalation ladder.
UNTARGETED_CHANNELS = frozenset({"newspaper"})
# Acknowledgements that come from the customer (or their contact) in person; a posting the
# area contact confirmed tells the area, not each customer.
PERSONAL_VIAS = frozenset({"sms_reply", "voice_keypress", "signed_slip"})


class Submission(StrEnum):
    """Whether dispatch handed a notice to the provider or the provider refused it outright."""

    SENT = "sent"
    FAILED = "failed"


class TaskKind(StrEnum):
    """Field work on the worklist."""

    VISIT = "visit"  # escalation's last step: go and tell the customer in person
    DOOR_SLIP = "door_slip"  # deliver a printed notice dispatch issued and get it signed
    POSTING = "posting"  # put up (or check) the notice of a transformer area


class TaskStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class TaskOutcome(StrEnum):
    SIGNED = "signed"  # handed over and signed for (签收)
    LEFT = "left"  # left at the premises (with staff, in the letterbox), not signed for
    UNREACHABLE = "unreachable"  # nobody to give it to, refused, premises not found
    POSTED = "posted"
    NOT_POSTED = "not_posted"


OUTCOMES_BY_KIND: Mapping[TaskKind, frozenset[TaskOutcome]] = {
    TaskKind.VISIT: frozenset({TaskOutcome.SIGNED, TaskOutcome.LEFT, TaskOutcome.UNREACHABLE}),
    TaskKind.DOOR_SLIP: frozenset({TaskOutcome.SIGNED, TaskOutcome.LEFT, TaskOutcome.UNREACHABLE}),
    TaskKind.POSTING: frozenset({TaskOutcome.POSTED, TaskOutcome.NOT_POSTED}),
}
SUCCESSFUL_OUTCOMES = frozenset({TaskOutcome.SIGNED, TaskOutcome.LEFT, TaskOutcome.POSTED})


@dataclass(frozen=True)
class ListEntry:
    """One recipient of the approved list: an address on a channel, for some accounts."""

    channel: str
    address: str
    account_ids: tuple[str, ...]
    account_names: tuple[str, ...] = ()
    contact_name: str = ""
    role: str = ""
    wave: int = 0

    @property
    def key(self) -> tuple[str, str]:
        return (self.channel, self.address)


@dataclass(frozen=True)
class ApprovedList:
    """The newest approved notification list of an outage."""

    version: int
    approved_at: datetime
    account_count: int
    account_ids: frozenset[str]
    entries: tuple[ListEntry, ...]

    @cached_property
    def named_accounts(self) -> frozenset[str]:
        """Accounts some recipient speaks for; the others have no usable contact."""
        return frozenset(a for entry in self.entries for a in entry.account_ids)

    @cached_property
    def targeted(self) -> frozenset[str]:
        return self.account_ids | self.named_accounts

    @cached_property
    def entries_by_account(self) -> Mapping[str, tuple[ListEntry, ...]]:
        found: dict[str, list[ListEntry]] = defaultdict(list)
        for entry in self.entries:
            for account_id in entry.account_ids:
                found[account_id].append(entry)
        return {account_id: tuple(entries) for account_id, entries in found.items()}

    def account_name(self, account_id: str) -> str:
        for entry in self.entries_by_account.get(account_id, ()):
            if account_id in entry.account_ids:
                index = entry.account_ids.index(account_id)
                if index < len(entry.account_names):
                    return entry.account_names[index]
        return ""


@dataclass(frozen=True)
class OutageTiming:
    kind: str
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True)
class MessageRecord:
    """A notice dispatch sent (or had refused) and the latest word on its delivery.

    ``sent_at`` is when it was handed over (or refused); ``settled_at`` is when the state it is
    in was reached (the carrier's done time, the call's time, the signature's time).
    """

    message_id: str
    notice_kind: str
    channel: str
    address: str
    account_ids: tuple[str, ...]
    submission: Submission
    delivery: ReceiptStatus | None = None
    stat: str = ""
    err: str = ""
    sent_at: datetime | None = None
    settled_at: datetime | None = None
    failure_reason: str = ""

    @property
    def confirmed(self) -> bool:
        return self.submission is Submission.SENT and self.delivery is ReceiptStatus.DELIVERED

    @property
    def failed(self) -> bool:
        """Nothing more will come of it: refused at submission, undeliverable or expired."""
        return self.submission is Submission.FAILED or self.delivery in (
            ReceiptStatus.FAILED,
            ReceiptStatus.EXPIRED,
        )

    @property
    def number_problem(self) -> bool:
        """The failure points at the number (unassigned, suspended), not at the carrier."""
        if self.submission is Submission.FAILED:
            return self.failure_reason.upper().startswith(INVALID_NUMBER)
        if self.delivery is ReceiptStatus.FAILED and self.channel == "sms":
            return normalise_carrier_status(self.stat).number_problem
        return False


@dataclass(frozen=True)
class AckRecord:
    """A confirmation that a notice was received and read (or a posting was put up)."""

    outage_id: str
    account_ids: tuple[str, ...]
    channel: str
    via: str
    at: datetime
    message_id: str | None = None
    notice_kind: str = NOTICE
    address: str = ""

    @property
    def personal(self) -> bool:
        return self.via in PERSONAL_VIAS


@dataclass(frozen=True)
class TaskRecord:
    task_id: str
    kind: TaskKind
    account_ids: tuple[str, ...]
    subject: str
    status: TaskStatus
    created_at: datetime
    due_at: datetime | None = None
    notice_kind: str = NOTICE
    message_id: str | None = None
    outcome: TaskOutcome | None = None
    completed_at: datetime | None = None
    signer: str = ""
    photo_ref: str = ""
    note: str = ""
    closed_by: str = ""
    reason: str = ""

    @property
    def succeeded(self) -> bool:
        return self.status is TaskStatus.CLOSED and self.outcome in SUCCESSFUL_OUTCOMES


@dataclass(frozen=True)
class EscalationRecord:
    """A step an account was moved to; ``wave`` None is the field visit."""

    account_id: str
    step: int
    wave: int | None
    requested_at: datetime
    reason: str = ""


@dataclass(frozen=True)
class OutageRecord:
    """Everything receipts knows about one outage."""

    outage_id: str
    timing: OutageTiming | None = None
    cancelled_at: datetime | None = None
    completed_at: datetime | None = None
    rescheduled_at: datetime | None = None
    cancel_reason: str = ""
    planned_by: str = ""
    work: str = ""
    area: str = ""
    approved: ApprovedList | None = None
    messages: tuple[MessageRecord, ...] = ()
    acks: tuple[AckRecord, ...] = ()
    tasks: tuple[TaskRecord, ...] = ()
    escalations: tuple[EscalationRecord, ...] = ()
    feeders: Mapping[str, str] = field(default_factory=dict)

    @property
    def targeted(self) -> frozenset[str]:
        return self.approved.targeted if self.approved else frozenset()

    def notices(self, kind: str = NOTICE) -> list[MessageRecord]:
        return [m for m in self.messages if m.notice_kind == kind]


class EntryState(StrEnum):
    """How one recipient fared for one account."""

    UNSENT = "unsent"
    PENDING = "pending"
    CONFIRMED = "confirmed"
    FAILED = "failed"


@dataclass(frozen=True)
class Confirmation:
    at: datetime
    channel: str
    how: str


@dataclass(frozen=True)
class AccountLedger:
    """One targeted account: who could tell it, what they were sent, whether it was reached."""

    account_id: str
    entries: tuple[ListEntry, ...]
    messages: tuple[MessageRecord, ...]
    entry_states: Mapping[tuple[str, str], EntryState]
    entry_started: Mapping[tuple[str, str], datetime]
    confirmations: tuple[Confirmation, ...]
    acknowledged_at: datetime | None
    step: int
    escalated: bool
    visit: TaskRecord | None

    @property
    def reached_at(self) -> datetime | None:
        return self.confirmations[0].at if self.confirmations else None

    @property
    def reached(self) -> bool:
        return bool(self.confirmations)

    @property
    def first_confirmation(self) -> Confirmation | None:
        return self.confirmations[0] if self.confirmations else None

    @property
    def waves(self) -> tuple[int, ...]:
        return tuple(sorted({entry.wave for entry in self.entries}))

    def entries_of_wave(self, wave: int) -> tuple[ListEntry, ...]:
        return tuple(entry for entry in self.entries if entry.wave == wave)

    @property
    def every_contact_failed(self) -> bool:
        """No recipient can tell this account: it has none, or all of them failed."""
        return all(
            self.entry_states[e.key] is EntryState.FAILED
            for e in self.entries
            if e.channel not in UNTARGETED_CHANNELS
        )

    @property
    def unreachable(self) -> bool:
        """Every means was tried: the field visit found nobody to tell."""
        return (
            self.visit is not None
            and self.visit.status is TaskStatus.CLOSED
            and not self.visit.succeeded
            and not self.reached
        )


def entry_state(messages: Iterable[MessageRecord]) -> EntryState:
    """One recipient's state from the outage notices sent to it for the account."""
    found = list(messages)
    if not found:
        return EntryState.UNSENT
    if any(m.confirmed for m in found):
        return EntryState.CONFIRMED
    if all(m.failed for m in found):
        return EntryState.FAILED
    return EntryState.PENDING


def account_ledgers(record: OutageRecord) -> dict[str, AccountLedger]:
    """One ledger per account targeted by the newest list, in account id order.

    An account is reached by its first confirmation of an outage notice on any channel: a
    delivered SMS, an answered call, a signed or left door slip, a confirmed posting of its
    area, a successful field visit, or an acknowledgement (which implies delivery). Notices of
    earlier list versions count too; cancellation notices never do.
    """
    approved = record.approved
    if approved is None:
        return {}
    by_entry: dict[tuple[str, str, str], list[MessageRecord]] = defaultdict(list)
    by_account: dict[str, list[MessageRecord]] = defaultdict(list)
    confirmations: dict[str, list[Confirmation]] = defaultdict(list)
    for message in record.notices(NOTICE):
        for account_id in message.account_ids:
            by_account[account_id].append(message)
            by_entry[(account_id, message.channel, message.address)].append(message)
            if message.confirmed:
                at = message.settled_at or message.sent_at
                if at is not None:
                    confirmations[account_id].append(
                        Confirmation(at, message.channel, message.stat or "delivered")
                    )
    acknowledged: dict[str, datetime] = {}
    for ack in record.acks:
        if ack.notice_kind != NOTICE:
            continue
        for account_id in ack.account_ids:
            confirmations[account_id].append(Confirmation(ack.at, ack.channel, ack.via))
            if ack.personal and (
                account_id not in acknowledged or ack.at < acknowledged[account_id]
            ):
                acknowledged[account_id] = ack.at
    visits: dict[str, TaskRecord] = {}
    for task in record.tasks:
        if task.notice_kind != NOTICE:
            continue
        if task.kind is TaskKind.VISIT:
            visits[task.subject] = task
        if task.succeeded and task.completed_at is not None:
            for account_id in task.account_ids:
                confirmations[account_id].append(
                    Confirmation(task.completed_at, task.kind.value, str(task.outcome))
                )
    steps: dict[str, int] = defaultdict(int)
    for escalation in record.escalations:
        steps[escalation.account_id] = max(steps[escalation.account_id], escalation.step)

    ledgers: dict[str, AccountLedger] = {}
    for account_id in sorted(approved.targeted):
        entries = approved.entries_by_account.get(account_id, ())
        states: dict[tuple[str, str], EntryState] = {}
        started: dict[tuple[str, str], datetime] = {}
        for entry in entries:
            sent = by_entry.get((account_id, entry.channel, entry.address), [])
            states[entry.key] = entry_state(sent)
            times = [m.sent_at for m in sent if m.sent_at is not None]
            if times:
                started[entry.key] = min(times)
        ledgers[account_id] = AccountLedger(
            account_id=account_id,
            entries=entries,
            messages=tuple(by_account.get(account_id, ())),
            entry_states=states,
            entry_started=started,
            confirmations=tuple(sorted(confirmations.get(account_id, []), key=lambda c: c.at)),
            acknowledged_at=acknowledged.get(account_id),
            step=steps[account_id],
            escalated=steps[account_id] > 0,
            visit=visits.get(account_id),
        )
    return ledgers
