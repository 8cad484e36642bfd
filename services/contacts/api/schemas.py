"""Request and response bodies of the contacts API.

Phone numbers leave the service masked (``138****8000``) unless the caller's role needs them
whole to do its job: reviewers check them, dispatchers call them, admins maintain them, and
whoever works the maintenance worklist calls them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, Field, field_validator

from services.contacts.domain.changes import HistoryEntry
from services.contacts.domain.imports import ImportNote
from services.contacts.domain.listing import (
    DraftRecipient,
    ListCounts,
    ListEntry,
    ListWarning,
)
from services.contacts.domain.maintenance import MaintenanceItem, Outcome
from services.contacts.domain.phones import mask_phone
from services.contacts.domain.registry import (
    AreaContact,
    AreaKind,
    AreaSubscription,
    CallWindow,
    Contact,
    ContactStatus,
    PreferredChannel,
    SubscriptionChannel,
)
from services.contacts.domain.review import EditAction, ListEdit, NoticeList
from services.contacts.usecases.imports import ImportReport, Tally
from services.contacts.usecases.lists import ListView
from services.contacts.usecases.registry import AccountView, AreaView, Transfer
from shared.auth import Principal, Role
from shared.events import FeederScope, OutageDetails, TransformerScope

ItemT = TypeVar("ItemT")

_PHONE_FIELDS = ("phone", "phone_e164")


def sees_full_phones(principal: Principal) -> bool:
    return principal.has(Role.REVIEWER, Role.DISPATCHER)


def _shown(phone: str, *, reveal: bool) -> str:
    return phone if reveal else mask_phone(phone)


def _window(window: CallWindow | None) -> str | None:
    return str(window) if window else None


class Page(BaseModel, Generic[ItemT]):
    total: int
    limit: int
    offset: int
    items: list[ItemT]


class Reason(BaseModel):
    reason: str = Field(min_length=1, max_length=500, description="Why; kept in the history.")


def _parse_window(value: str | None) -> str | None:
    if value:
        CallWindow.parse(value)  # ValueError names the format; FastAPI answers 422 on the field
    return value or None


# Imports.


class TallyRead(BaseModel):
    created: int
    updated: int
    unchanged: int

    @classmethod
    def of(cls, tally: Tally) -> TallyRead:
        return cls(created=tally.created, updated=tally.updated, unchanged=tally.unchanged)


class ImportWarningRead(BaseModel):
    code: str
    message: str
    file: str | None = None
    row: int | None = None
    field: str | None = None

    @classmethod
    def of(cls, note: ImportNote) -> ImportWarningRead:
        return cls(
            code=note.code, message=note.message, file=note.file, row=note.row, field=note.field
        )


class ImportRead(BaseModel):
    accounts: TallyRead
    contacts: TallyRead
    invalid_numbers_flagged: int = Field(
        description="Contacts stored with an invalid number (flag mode): never used, each on "
        "the maintenance worklist."
    )
    warnings: list[ImportWarningRead] = Field(
        description="A sample of each kind of warning; `warning_counts` has the totals."
    )
    warning_counts: dict[str, int]

    @classmethod
    def of(cls, report: ImportReport) -> ImportRead:
        return cls(
            accounts=TallyRead.of(report.accounts),
            contacts=TallyRead.of(report.contacts),
            invalid_numbers_flagged=report.invalid_numbers_flagged,
            warnings=[ImportWarningRead.of(note) for note in report.warnings],
            warning_counts=report.warning_counts,
        )


# The registry.


class ContactRead(BaseModel):
    contact_id: int
    role: str
    name: str
    phone: str = Field(description="E.164 when valid, else as written; masked for some roles.")
    number_type: str
    status: str
    can_sms: bool
    can_call: bool
    preferred_channel: str | None
    call_window: str | None = Field(description="Local hours to call or text, e.g. 08:00-20:00.")
    source: str
    last_verified_at: datetime | None
    failure_count: int = Field(description="Consecutive failed deliveries reported.")
    retired_at: datetime | None = Field(description="Set: no longer a contact, kept for history.")

    @classmethod
    def of(cls, contact: Contact, *, reveal: bool) -> ContactRead:
        return cls(
            contact_id=contact.contact_id,
            role=contact.role,
            name=contact.name,
            phone=_shown(contact.phone_e164 or contact.phone_raw, reveal=reveal),
            number_type=contact.number_type,
            status=contact.status,
            can_sms=contact.can_sms,
            can_call=contact.can_call,
            preferred_channel=contact.preferred_channel,
            call_window=_window(contact.call_window),
            source=contact.source,
            last_verified_at=contact.last_verified_at,
            failure_count=contact.failure_count,
            retired_at=contact.retired_at,
        )


class AccountRead(BaseModel):
    account_id: str
    name: str
    node_id: str
    voltage_kv: float
    category: str
    importance: str
    important: bool = Field(description="By importance grade or category (voltage aside).")
    flags: list[str]
    address: str
    transformer_area: str
    transfer_pending_since: datetime | None = Field(
        description="Set by an ownership transfer until the new owner's first contact."
    )
    changed_at: datetime | None
    change: str | None
    phones_masked: bool
    contacts: list[ContactRead]

    @classmethod
    def of(cls, view: AccountView, *, reveal: bool) -> AccountRead:
        account = view.account
        return cls(
            account_id=account.account_id,
            name=account.name,
            node_id=account.node_id,
            voltage_kv=account.voltage_kv,
            category=account.category,
            importance=account.importance,
            important=account.important,
            flags=list(account.flags),
            address=account.address,
            transformer_area=account.transformer_area,
            transfer_pending_since=account.transfer_pending_since,
            changed_at=account.changed_at,
            change=account.change,
            phones_masked=not reveal,
            contacts=[ContactRead.of(c, reveal=reveal) for c in view.contacts],
        )


class ContactCreate(Reason):
    role: str = Field(description="electrical | legal | billing | other.")
    name: str = Field(default="", max_length=100)
    phone: str = Field(min_length=1, max_length=64, description="As written; must be usable.")
    preferred_channel: PreferredChannel | None = None
    call_window: str | None = Field(default=None, description="e.g. 08:00-20:00 (local time).")

    window_format = field_validator("call_window")(_parse_window)

    def parsed_window(self) -> CallWindow | None:
        return CallWindow.parse(self.call_window) if self.call_window else None


class ContactUpdate(Reason):
    """Only the fields sent change; `null` clears the preferred channel or the call window."""

    name: str | None = Field(default=None, max_length=100)
    phone: str | None = Field(default=None, min_length=1, max_length=64)
    preferred_channel: PreferredChannel | None = None
    call_window: str | None = None
    status: ContactStatus | None = None
    verified: bool = Field(
        default=False, description="true: someone confirmed the number just now."
    )

    window_format = field_validator("call_window")(_parse_window)


class TransferCreate(Reason):
    new_name: str | None = Field(
        default=None, min_length=1, max_length=200, description="The new owner's account name."
    )


class TransferRead(BaseModel):
    account: AccountRead
    retired_contacts: int

    @classmethod
    def of(cls, transfer: Transfer, *, reveal: bool) -> TransferRead:
        return cls(
            account=AccountRead.of(AccountView(transfer.account, transfer.retired), reveal=reveal),
            retired_contacts=len(transfer.retired),
        )


class HistoryRead(BaseModel):
    subject: str = Field(description="account | contact | area_contact.")
    subject_id: str
    action: str
    actor: str
    reason: str
    at: datetime
    before: dict[str, Any] | None
    after: dict[str, Any] | None

    @classmethod
    def of(cls, entry: HistoryEntry, *, reveal: bool) -> HistoryRead:
        return cls(
            subject=entry.subject,
            subject_id=entry.subject_id,
            action=entry.action,
            actor=entry.actor,
            reason=entry.reason,
            at=entry.at,
            before=_masked_fields(entry.before, reveal=reveal),
            after=_masked_fields(entry.after, reveal=reveal),
        )


def _masked_fields(fields: Any, *, reveal: bool) -> dict[str, Any] | None:
    if fields is None:
        return None
    shown = dict(fields)
    for key in _PHONE_FIELDS:
        if not reveal and isinstance(shown.get(key), str):
            shown[key] = mask_phone(shown[key])
    return shown


class AreaPut(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    kind: AreaKind
    node_ids: list[str] = Field(
        min_length=1, description="The transformer area nodes the area covers."
    )


class AreaContactCreate(Reason):
    role: str = Field(
        description="property_management | residents_committee | village_committee | other."
    )
    name: str = Field(default="", max_length=100)
    phone: str = Field(min_length=1, max_length=64)
    call_window: str | None = None

    window_format = field_validator("call_window")(_parse_window)

    def parsed_window(self) -> CallWindow | None:
        return CallWindow.parse(self.call_window) if self.call_window else None


class AreaContactRead(BaseModel):
    contact_id: int
    role: str
    name: str
    phone: str
    number_type: str
    status: str
    call_window: str | None
    last_verified_at: datetime | None
    retired_at: datetime | None

    @classmethod
    def of(cls, contact: AreaContact, *, reveal: bool) -> AreaContactRead:
        return cls(
            contact_id=contact.contact_id,
            role=contact.role,
            name=contact.name,
            phone=_shown(contact.phone_e164 or contact.phone_raw, reveal=reveal),
            number_type=contact.number_type,
            status=contact.status,
            call_window=_window(contact.call_window),
            last_verified_at=contact.last_verified_at,
            retired_at=contact.retired_at,
        )


class SubscriptionCreate(BaseModel):
    channel: SubscriptionChannel
    address: str = Field(
        min_length=1, max_length=200, description="The group robot's webhook key or app topic."
    )
    name: str = Field(default="", max_length=100)


class SubscriptionRead(BaseModel):
    subscription_id: int
    channel: str
    address: str
    name: str

    @classmethod
    def of(cls, subscription: AreaSubscription) -> SubscriptionRead:
        return cls(
            subscription_id=subscription.subscription_id,
            channel=subscription.channel,
            address=subscription.address,
            name=subscription.name,
        )


class AreaRead(BaseModel):
    area_id: str
    name: str
    kind: str
    node_ids: list[str]
    phones_masked: bool
    contacts: list[AreaContactRead]
    subscriptions: list[SubscriptionRead]

    @classmethod
    def of(cls, view: AreaView, *, reveal: bool) -> AreaRead:
        return cls(
            area_id=view.area.area_id,
            name=view.area.name,
            kind=view.area.kind,
            node_ids=list(view.area.node_ids),
            phones_masked=not reveal,
            contacts=[AreaContactRead.of(c, reveal=reveal) for c in view.contacts],
            subscriptions=[SubscriptionRead.of(s) for s in view.subscriptions],
        )


# The maintenance worklist.


class MaintenanceItemRead(BaseModel):
    item_id: int
    kind: str
    status: str
    detail: str
    account_id: str | None
    area_id: str | None
    contact_id: int | None
    area_contact_id: int | None
    phone: str | None
    account_ids: list[str]
    opened_at: datetime
    opened_by: str
    assignee: str | None
    assigned_at: datetime | None
    closed_at: datetime | None
    closed_by: str | None
    outcome: str | None
    note: str | None

    @classmethod
    def of(cls, item: MaintenanceItem) -> MaintenanceItemRead:
        return cls(
            item_id=item.item_id,
            kind=item.kind,
            status=item.status,
            detail=item.detail,
            account_id=item.account_id,
            area_id=item.area_id,
            contact_id=item.contact_id,
            area_contact_id=item.area_contact_id,
            phone=item.phone,
            account_ids=list(item.account_ids),
            opened_at=item.opened_at,
            opened_by=item.opened_by,
            assignee=item.assignee,
            assigned_at=item.assigned_at,
            closed_at=item.closed_at,
            closed_by=item.closed_by,
            outcome=item.outcome,
            note=item.note,
        )


class AssignmentCreate(BaseModel):
    assignee: str = Field(min_length=1, max_length=100)


class ClosingCreate(BaseModel):
    """What was done. `number_fixed` needs `phone` (and `contact_id` for an account item);
    `contact_added` needs `role` and `phone`; `contact_removed` needs the contact."""

    outcome: Literal["called", "visited", "number_fixed", "contact_added", "contact_removed"]
    note: str = Field(default="", max_length=2000)
    contact_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    phone: str | None = Field(default=None, min_length=1, max_length=64)
    role: str | None = None
    name: str = Field(default="", max_length=100)
    preferred_channel: PreferredChannel | None = None
    call_window: str | None = None

    window_format = field_validator("call_window")(_parse_window)

    def parsed_window(self) -> CallWindow | None:
        return CallWindow.parse(self.call_window) if self.call_window else None

    def outcome_value(self) -> Outcome:
        return Outcome(self.outcome)


class ScanRead(BaseModel):
    opened: int
    resolved: int


# Lists.


class ListCountsRead(BaseModel):
    accounts: int = Field(description="Accounts on the list (removed ones not counted).")
    recipients: int = Field(description="Recipients in every wave, on every channel.")
    first_wave: int = Field(description="Recipients told on approval (wave 0).")
    first_wave_by_channel: dict[str, int]
    accounts_without_valid_mobile: int = Field(
        description="Accounts no SMS reaches (unknown ones included): call or deliver a slip."
    )
    unknown_accounts: int
    important_accounts: int
    removed_accounts: int = Field(description="Accounts a reviewer took off the list.")
    warnings: int

    @classmethod
    def of(cls, counts: ListCounts) -> ListCountsRead:
        return cls(
            accounts=counts.accounts,
            recipients=counts.recipients,
            first_wave=counts.first_wave,
            first_wave_by_channel=dict(counts.first_wave_by_channel),
            accounts_without_valid_mobile=counts.without_valid_mobile,
            unknown_accounts=counts.unknown_accounts,
            important_accounts=counts.important_accounts,
            removed_accounts=counts.removed_accounts,
            warnings=counts.warnings,
        )


class ListWarningRead(BaseModel):
    code: str
    source: str = Field(description="`trace`: found by topology; `list`: found drafting.")
    message: str
    account_id: str | None
    elements: list[str]
    has_landline: bool | None

    @classmethod
    def of(cls, warning: ListWarning) -> ListWarningRead:
        return cls(
            code=warning.code,
            source=warning.source,
            message=warning.message,
            account_id=warning.account_id,
            elements=list(warning.elements),
            has_landline=warning.has_landline,
        )


class RecipientRead(BaseModel):
    channel: str
    address: str
    contact_name: str
    account_ids: list[str]
    account_names: list[str]
    role: str
    wave: int
    audience: str
    call_window: str | None
    location: str = Field(description="Where a door slip is delivered (service address).")

    @classmethod
    def of(cls, recipient: DraftRecipient, *, reveal: bool) -> RecipientRead:
        phone = recipient.channel in ("sms", "voice")
        return cls(
            channel=recipient.channel,
            address=_shown(recipient.address, reveal=reveal) if phone else recipient.address,
            contact_name=recipient.contact_name,
            account_ids=list(recipient.account_ids),
            account_names=list(recipient.account_names),
            role=recipient.role,
            wave=recipient.wave,
            audience=recipient.audience,
            call_window=_window(recipient.call_window),
            location=recipient.location,
        )


class ListedContactRead(BaseModel):
    contact_id: int
    role: str
    name: str
    phone: str
    number_type: str
    status: str
    can_sms: bool
    can_call: bool
    preferred_channel: str | None
    call_window: str | None

    @classmethod
    def of(cls, contact: Contact, *, reveal: bool) -> ListedContactRead:
        return cls(
            contact_id=contact.contact_id,
            role=contact.role,
            name=contact.name,
            phone=_shown(contact.phone_e164 or contact.phone_raw, reveal=reveal),
            number_type=contact.number_type,
            status=contact.status,
            can_sms=contact.can_sms,
            can_call=contact.can_call,
            preferred_channel=contact.preferred_channel,
            call_window=_window(contact.call_window),
        )


class PlannedRead(BaseModel):
    channel: str
    address: str
    contact_name: str
    role: str
    wave: int


class ListedAccountRead(BaseModel):
    account_id: str
    in_registry: bool
    name: str | None
    category: str | None
    voltage_kv: float | None
    node_id: str = Field(description="Where the trace found the account.")
    registry_node_id: str | None
    transformer_area: str = Field(description="The area whose posted notice reaches it.")
    isolating_device: str
    feeder: str
    important: bool
    has_valid_mobile: bool
    has_landline: bool
    removed: bool = Field(description="A reviewer took it off the list.")
    edited: str | None = Field(description="`add` or `remove` when a reviewer changed it.")
    warnings: list[str] = Field(description="Codes of the warnings about this account.")
    contacts: list[ListedContactRead]
    plan: list[PlannedRead] = Field(description="Its channel plan, wave by wave.")

    @classmethod
    def of(cls, entry: ListEntry, *, reveal: bool) -> ListedAccountRead:
        account = entry.account
        return cls(
            account_id=entry.account_id,
            in_registry=account is not None,
            name=account.name if account else None,
            category=account.category if account else None,
            voltage_kv=account.voltage_kv if account else None,
            node_id=entry.traced.node_id,
            registry_node_id=account.node_id if account else None,
            transformer_area=entry.area_node,
            isolating_device=entry.traced.isolating_device,
            feeder=entry.traced.feeder,
            important=entry.important,
            has_valid_mobile=entry.has_valid_mobile,
            has_landline=entry.has_landline,
            removed=entry.removed,
            edited=entry.edited,
            warnings=list(entry.warning_codes),
            contacts=[ListedContactRead.of(c, reveal=reveal) for c in entry.contacts],
            plan=[
                PlannedRead(
                    channel=p.channel,
                    address=_shown(p.address, reveal=reveal)
                    if p.channel in ("sms", "voice")
                    else p.address,
                    contact_name=p.contact_name,
                    role=p.role,
                    wave=p.wave,
                )
                for p in entry.plan
            ],
        )


class ListVersionRead(BaseModel):
    version: int
    status: str


class ListEditRead(BaseModel):
    action: str
    account_id: str
    reason: str
    edited_by: str
    edited_at: datetime

    @classmethod
    def of(cls, edit: ListEdit) -> ListEditRead:
        return cls(
            action=edit.action,
            account_id=edit.account_id,
            reason=edit.reason,
            edited_by=edit.edited_by,
            edited_at=edit.edited_at,
        )


class ComparedWithRead(BaseModel):
    outage_id: str
    version: int


class ListRead(BaseModel):
    outage_id: str
    version: int
    status: str
    details: OutageDetails
    planned_by: str
    counts: ListCountsRead
    warning_counts: dict[str, int] = Field(description="Warnings of each code, gravest code first.")
    warnings: list[ListWarningRead] = Field(
        description="One page of the warnings the reviewer must see, gravest kinds first."
    )
    warnings_total: int = Field(description="Warnings matching the filter, all pages.")
    recipients: Page[RecipientRead]
    accounts: Page[ListedAccountRead]
    edits: list[ListEditRead] = Field(description="Reviewer edits of this version, in order.")
    retrace_reason: str | None = Field(description="Why this version was traced again.")
    compared_with: ComparedWithRead | None = Field(
        description="The last approved list on the same feeders this one was compared with."
    )
    phones_masked: bool
    model_version: int
    transformers: list[TransformerScope]
    feeders: list[FeederScope]
    drafted_at: datetime
    approved_by: str | None
    approved_at: datetime | None
    approval_comment: str | None
    recipients_sha256: str | None
    rejected_by: str | None
    rejected_at: datetime | None
    rejection_reason: str | None
    cancelled_at: datetime | None
    cancellation_reason: str | None
    versions: list[ListVersionRead]

    @classmethod
    def of(cls, view: ListView, *, limit: int, offset: int, reveal: bool) -> ListRead:
        current = view.notice_list
        return cls(
            outage_id=current.outage_id,
            version=current.version,
            status=current.status,
            details=current.details,
            planned_by=current.planned_by,
            counts=ListCountsRead.of(current.counts),
            warning_counts=dict(view.warning_counts),
            warnings=[ListWarningRead.of(w) for w in view.warnings],
            warnings_total=view.warnings_total,
            recipients=Page(
                total=current.counts.recipients,
                limit=limit,
                offset=offset,
                items=[RecipientRead.of(r, reveal=reveal) for r in view.recipients],
            ),
            accounts=Page(
                total=view.accounts_total,
                limit=limit,
                offset=offset,
                items=[ListedAccountRead.of(e, reveal=reveal) for e in view.entries],
            ),
            edits=[ListEditRead.of(e) for e in view.edits],
            retrace_reason=current.retrace_reason,
            compared_with=(
                ComparedWithRead(
                    outage_id=current.compared_with[0], version=current.compared_with[1]
                )
                if current.compared_with
                else None
            ),
            phones_masked=not reveal,
            model_version=current.model_version,
            transformers=list(current.transformers),
            feeders=list(current.feeders),
            drafted_at=current.drafted_at,
            approved_by=current.approved_by,
            approved_at=current.approved_at,
            approval_comment=current.approval_comment,
            recipients_sha256=current.recipients_sha256,
            rejected_by=current.rejected_by,
            rejected_at=current.rejected_at,
            rejection_reason=current.rejection_reason,
            cancelled_at=current.cancelled_at,
            cancellation_reason=current.cancellation_reason,
            versions=[ListVersionRead(version=v, status=s) for v, s in view.versions],
        )


class ListSummaryRead(BaseModel):
    """One list version in the index the review page starts from."""

    outage_id: str
    version: int
    status: str
    details: OutageDetails
    counts: ListCountsRead
    drafted_at: datetime

    @classmethod
    def of(cls, notice_list: NoticeList) -> ListSummaryRead:
        return cls(
            outage_id=notice_list.outage_id,
            version=notice_list.version,
            status=notice_list.status,
            details=notice_list.details,
            counts=ListCountsRead.of(notice_list.counts),
            drafted_at=notice_list.drafted_at,
        )


class EditCreate(Reason):
    action: EditAction
    account_id: str = Field(min_length=1, max_length=64)
    version: int | None = Field(
        default=None,
        ge=1,
        description="The version the reviewer read; 409 if the list has changed since.",
    )


class ApprovalCreate(BaseModel):
    comment: str | None = Field(default=None, max_length=2000)
    version: int | None = Field(
        default=None,
        ge=1,
        description="The version the reviewer read; 409 if the list has changed since.",
    )


class RejectionCreate(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)
    version: int | None = Field(
        default=None,
        ge=1,
        description="The version the reviewer read; 409 if the list has changed since.",
    )


class DecisionRead(BaseModel):
    """The outcome of a review or an edit."""

    outage_id: str
    version: int
    status: str
    decided_by: str
    decided_at: datetime
    note: str | None = Field(description="The approval comment, rejection reason or edit reason.")
    account_count: int
    recipient_count: int
    recipients_sha256: str | None = Field(
        description="Digest of the approved recipients, as in `list.approved`."
    )

    @classmethod
    def approval(cls, decided: NoticeList) -> DecisionRead:
        assert decided.approved_by is not None
        assert decided.approved_at is not None
        return cls._of(decided, decided.approved_by, decided.approved_at, decided.approval_comment)

    @classmethod
    def rejection(cls, decided: NoticeList) -> DecisionRead:
        assert decided.rejected_by is not None
        assert decided.rejected_at is not None
        return cls._of(decided, decided.rejected_by, decided.rejected_at, decided.rejection_reason)

    @classmethod
    def edit(cls, edited: NoticeList, by: str, at: datetime, reason: str) -> DecisionRead:
        return cls._of(edited, by, at, reason)

    @classmethod
    def _of(cls, decided: NoticeList, by: str, at: datetime, note: str | None) -> DecisionRead:
        return cls(
            outage_id=decided.outage_id,
            version=decided.version,
            status=decided.status,
            decided_by=by,
            decided_at=at,
            note=note,
            account_count=decided.counts.accounts,
            recipient_count=decided.counts.recipients,
            recipients_sha256=decided.recipients_sha256,
        )
