"""Drafting the notification list of an outage from the traced accounts and the registry.

Given the accounts a trace found, what the registry knows about them and the trace's own
warnings, the draft says who gets an SMS, who must be called or visited instead, and what the
reviewer has to look at before approving. Nothing is sent from a draft: a second person
approves it first (the paper's remedy for lists sent straight from a faulty trace).

One phone is one recipient: an electrician who is the contact of five small firms gets one SMS
naming all five, and a phone registered under two roles of the same account gets one as well.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from services.contacts.domain import messages
from services.contacts.domain.registry import ROLE_PRIORITY, Account, Category, Contact
from shared.events import AffectedAccount, Recipient, TraceWarning


@dataclass(frozen=True, slots=True)
class ListingPolicy:
    """Which accounts must be called whatever their mobiles: hospitals, 10 kV plants and such."""

    important_voltage_kv: float = 10.0

    def is_important(self, account: Account) -> bool:
        return (
            account.category is Category.IMPORTANT
            or account.voltage_kv >= self.important_voltage_kv
        )


class WarningCode(StrEnum):
    UNKNOWN_ACCOUNT = "unknown_account"
    NODE_MISMATCH = "node_mismatch"
    IMPORTANT_CUSTOMER = "important_customer"
    NO_VALID_MOBILE = "no_valid_mobile"


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


@dataclass(frozen=True, slots=True)
class ListEntry:
    """One traced account: where the trace found it, what the registry says, whom to reach."""

    position: int
    traced: AffectedAccount
    account: Account | None
    contacts: tuple[Contact, ...]
    important: bool

    @property
    def account_id(self) -> str:
        return self.traced.account_id

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
class DraftRecipient:
    """One mobile number and every traced account it is the contact of."""

    address: str
    contact_name: str
    account_ids: tuple[str, ...]
    account_names: tuple[str, ...]
    contact_ids: tuple[int, ...]

    def to_event(self) -> Recipient:
        return Recipient(
            channel="sms",
            address=self.address,
            contact_name=self.contact_name,
            account_ids=list(self.account_ids),
            account_names=list(self.account_names),
        )


@dataclass(frozen=True, slots=True)
class ListCounts:
    accounts: int
    recipients: int
    without_valid_mobile: int
    unknown_accounts: int
    important_accounts: int
    warnings: int


@dataclass(frozen=True, slots=True)
class DraftList:
    entries: tuple[ListEntry, ...]
    recipients: tuple[DraftRecipient, ...]
    warnings: tuple[ListWarning, ...]

    @property
    def counts(self) -> ListCounts:
        return ListCounts(
            accounts=len(self.entries),
            recipients=len(self.recipients),
            without_valid_mobile=sum(1 for e in self.entries if not e.has_valid_mobile),
            unknown_accounts=sum(1 for e in self.entries if e.account is None),
            important_accounts=sum(1 for e in self.entries if e.important),
            warnings=len(self.warnings),
        )


def draft_list(
    affected: Iterable[AffectedAccount],
    accounts: Mapping[str, Account],
    contacts: Mapping[str, Sequence[Contact]],
    trace_warnings: Iterable[TraceWarning] = (),
    policy: ListingPolicy | None = None,
) -> DraftList:
    """The notification list for the traced ``affected`` accounts, in trace order.

    ``accounts`` and ``contacts`` are what the registry holds for (at least) those accounts.
    Only usable mobiles (status valid or suspect) become SMS recipients; accounts without one
    are warned about, saying whether a landline can be called or a slip must be delivered.
    """
    policy = policy or ListingPolicy()
    entries: list[ListEntry] = []
    seen: set[str] = set()
    for traced in affected:
        if traced.account_id in seen:
            continue
        seen.add(traced.account_id)
        account = accounts.get(traced.account_id)
        own_contacts = _by_priority(contacts.get(traced.account_id, ())) if account else ()
        important = account is not None and policy.is_important(account)
        entries.append(ListEntry(len(entries), traced, account, own_contacts, important))
    warnings = [
        ListWarning(w.code, WarningSource.TRACE, w.message, elements=tuple(w.elements))
        for w in trace_warnings
    ]
    warnings.extend(_registry_warnings(entries))
    return DraftList(tuple(entries), _recipients(entries), tuple(warnings))


def recipients_digest(recipients: Iterable[Recipient]) -> str:
    """SHA-256 (hex) of the recipients as canonical JSON, for audit of what was approved.

    Canonical form: the recipients' JSON objects sorted by address, keys sorted, no blanks,
    UTF-8 without escaping (``json.dumps(..., sort_keys=True, separators=(",", ":"),
    ensure_ascii=False)``). Anyone holding the event can recompute it.
    """
    ordered = sorted(recipients, key=lambda r: (r.address, r.channel))
    canonical = json.dumps(
        [r.model_dump(mode="json") for r in ordered],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _by_priority(contacts: Sequence[Contact]) -> tuple[Contact, ...]:
    return tuple(sorted(contacts, key=lambda c: (ROLE_PRIORITY[c.role], c.contact_id)))


def _registry_warnings(entries: Sequence[ListEntry]) -> list[ListWarning]:
    """Grouped by kind, the gravest first: nobody can be told about an unknown account."""
    unknown: list[ListWarning] = []
    mismatched: list[ListWarning] = []
    important: list[ListWarning] = []
    unreachable: list[ListWarning] = []
    for entry in entries:
        account = entry.account
        if account is None:
            unknown.append(
                ListWarning(
                    WarningCode.UNKNOWN_ACCOUNT,
                    WarningSource.LIST,
                    messages.UNKNOWN_ACCOUNT.format(account_id=entry.account_id),
                    entry.account_id,
                )
            )
            continue
        if account.node_id != entry.traced.node_id:
            mismatched.append(
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
        if entry.important:
            important.append(
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
                messages.NO_VALID_MOBILE_CALL
                if entry.has_landline
                else messages.NO_VALID_MOBILE_VISIT
            )
            unreachable.append(
                ListWarning(
                    WarningCode.NO_VALID_MOBILE,
                    WarningSource.LIST,
                    template.format(account=entry.label),
                    entry.account_id,
                    has_landline=entry.has_landline,
                )
            )
    return unknown + mismatched + important + unreachable


@dataclass
class _RecipientBuilder:
    address: str
    account_ids: list[str] = field(default_factory=list)
    account_names: list[str] = field(default_factory=list)
    contact_ids: list[int] = field(default_factory=list)
    # (role priority, order seen, name): the electrical contact's name wins, then the first.
    best_name: tuple[int, int, str] | None = None

    def add(self, entry: ListEntry, contact: Contact, order: int) -> None:
        if not self.account_ids or self.account_ids[-1] != entry.account_id:
            assert entry.account is not None
            self.account_ids.append(entry.account_id)
            self.account_names.append(entry.account.name)
        self.contact_ids.append(contact.contact_id)
        if contact.name:
            candidate = (ROLE_PRIORITY[contact.role], order, contact.name)
            if self.best_name is None or candidate < self.best_name:
                self.best_name = candidate

    def build(self) -> DraftRecipient:
        return DraftRecipient(
            address=self.address,
            contact_name=self.best_name[2] if self.best_name else "",
            account_ids=tuple(self.account_ids),
            account_names=tuple(self.account_names),
            contact_ids=tuple(self.contact_ids),
        )


def _recipients(entries: Sequence[ListEntry]) -> tuple[DraftRecipient, ...]:
    builders: dict[str, _RecipientBuilder] = {}
    order = 0
    for entry in entries:
        for contact in entry.contacts:
            if not contact.can_sms or contact.phone_e164 is None:
                continue
            builder = builders.get(contact.phone_e164)
            if builder is None:
                builder = builders[contact.phone_e164] = _RecipientBuilder(contact.phone_e164)
            builder.add(entry, contact, order)
            order += 1
    return tuple(builders[address].build() for address in sorted(builders))
