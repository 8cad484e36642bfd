"""Request and response bodies of the contacts API.

Phone numbers leave the service masked (``138****8000``) unless the caller's role needs them
whole to do its job: reviewers check them, dispatchers call them, admins maintain them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Generic, TypeVar

from pydantic import BaseModel, Field

from services.contacts.domain.imports import ImportNote
from services.contacts.domain.listing import DraftRecipient, ListEntry, ListWarning
from services.contacts.domain.phones import mask_phone
from services.contacts.domain.registry import Contact
from services.contacts.domain.review import NoticeList
from services.contacts.usecases import AccountView, ImportReport, ListView, Tally
from shared.auth import Principal, Role
from shared.events import FeederScope, OutageDetails, TransformerScope

ItemT = TypeVar("ItemT")


def sees_full_phones(principal: Principal) -> bool:
    return principal.has(Role.REVIEWER, Role.DISPATCHER)


def _shown(phone: str, *, reveal: bool) -> str:
    return phone if reveal else mask_phone(phone)


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
        description="Contacts stored with an invalid number (flag mode): never used, to be fixed."
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


class ContactRead(BaseModel):
    contact_id: int
    role: str
    name: str
    phone: str = Field(description="E.164 when valid, else as written; masked for some roles.")
    number_type: str
    status: str
    can_sms: bool
    can_call: bool
    source: str
    last_verified_at: datetime | None

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
            source=contact.source,
            last_verified_at=contact.last_verified_at,
        )


class AccountRead(BaseModel):
    account_id: str
    name: str
    node_id: str
    voltage_kv: float
    category: str
    flags: list[str]
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
            flags=list(account.flags),
            phones_masked=not reveal,
            contacts=[ContactRead.of(c, reveal=reveal) for c in view.contacts],
        )


class ListCountsRead(BaseModel):
    accounts: int
    recipients: int
    accounts_without_valid_mobile: int = Field(
        description="Accounts no SMS reaches (unknown ones included): call or deliver a slip."
    )
    unknown_accounts: int
    important_accounts: int
    warnings: int


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

    @classmethod
    def of(cls, recipient: DraftRecipient, *, reveal: bool) -> RecipientRead:
        return cls(
            channel="sms",
            address=_shown(recipient.address, reveal=reveal),
            contact_name=recipient.contact_name,
            account_ids=list(recipient.account_ids),
            account_names=list(recipient.account_names),
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
        )


class ListedAccountRead(BaseModel):
    account_id: str
    in_registry: bool
    name: str | None
    category: str | None
    voltage_kv: float | None
    node_id: str = Field(description="Where the trace found the account.")
    registry_node_id: str | None
    isolating_device: str
    feeder: str
    important: bool
    has_valid_mobile: bool
    has_landline: bool
    contacts: list[ListedContactRead]

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
            isolating_device=entry.traced.isolating_device,
            feeder=entry.traced.feeder,
            important=entry.important,
            has_valid_mobile=entry.has_valid_mobile,
            has_landline=entry.has_landline,
            contacts=[ListedContactRead.of(c, reveal=reveal) for c in entry.contacts],
        )


class Page(BaseModel, Generic[ItemT]):
    total: int
    limit: int
    offset: int
    items: list[ItemT]


class ListVersionRead(BaseModel):
    version: int
    status: str


class ListRead(BaseModel):
    outage_id: str
    version: int
    status: str
    details: OutageDetails
    planned_by: str
    counts: ListCountsRead
    warnings: list[ListWarningRead] = Field(
        description="Everything the reviewer must see before approving, gravest kinds first."
    )
    recipients: Page[RecipientRead]
    accounts: Page[ListedAccountRead]
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
        counts = current.counts
        return cls(
            outage_id=current.outage_id,
            version=current.version,
            status=current.status,
            details=current.details,
            planned_by=current.planned_by,
            counts=ListCountsRead(
                accounts=counts.accounts,
                recipients=counts.recipients,
                accounts_without_valid_mobile=counts.without_valid_mobile,
                unknown_accounts=counts.unknown_accounts,
                important_accounts=counts.important_accounts,
                warnings=counts.warnings,
            ),
            warnings=[ListWarningRead.of(w) for w in view.warnings],
            recipients=Page(
                total=counts.recipients,
                limit=limit,
                offset=offset,
                items=[RecipientRead.of(r, reveal=reveal) for r in view.recipients],
            ),
            accounts=Page(
                total=counts.accounts,
                limit=limit,
                offset=offset,
                items=[ListedAccountRead.of(e, reveal=reveal) for e in view.entries],
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
    """The outcome of a review."""

    outage_id: str
    version: int
    status: str
    decided_by: str
    decided_at: datetime
    note: str | None = Field(description="The approval comment or the rejection reason.")
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
