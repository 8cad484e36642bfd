"""Checking the registry CSV files and planning the upsert, without touching storage.

An import is all or nothing: every row of both files is checked before anything is written, and
each problem names its file, line (1-based, the header is line 1) and column, so that an
operator fixes the files in one go. Re-importing the same files changes nothing: accounts are
matched by id, contacts by (account, role, number).
"""

from __future__ import annotations

import codecs
import csv
import io
import math
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence, Set
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, tzinfo
from enum import StrEnum
from typing import BinaryIO, TextIO, TypeVar

from services.contacts.domain import messages
from services.contacts.domain.phones import ParsedPhone, parse_phone
from services.contacts.domain.registry import (
    Account,
    CallWindow,
    Category,
    Contact,
    ContactKey,
    ContactRole,
    ContactStatus,
    Importance,
    PreferredChannel,
    RecentChange,
)

CUSTOMER_COLUMNS = ("account_id", "name", "node_id", "voltage_kv", "category")
# Optional columns: a file without one says nothing about it, and what is registered is kept.
# ``flags``: markers such as 医院|养老院 separated by "|".
OPTIONAL_CUSTOMER_COLUMNS = ("flags", "address", "transformer_area", "importance")
CONTACT_COLUMNS = ("account_id", "role", "name", "phone")
# ``call_window``: 08:00-20:00; ``verified_at``: the date (or ISO time) someone last confirmed
# the number, which only ever moves forward.
OPTIONAL_CONTACT_COLUMNS = ("preferred_channel", "call_window", "verified_at")
FLAG_SEPARATOR = "|"

MAX_LENGTHS = {
    "account_id": 64,
    "node_id": 64,
    "account_name": 200,
    "contact_name": 100,
    "phone": 64,
    "flags": 500,
    "address": 300,
}
MAX_REPORTED_PROBLEMS = 50
MAX_NOTES_PER_CODE = 20
# Encoding detection reads the file through once in pieces of this size, never whole.
_DETECT_CHUNK = 1 << 20

_Choice = TypeVar("_Choice", bound=StrEnum)


class InvalidPhonePolicy(StrEnum):
    """What an import does with a number that cannot be used."""

    REJECT = "reject"
    FLAG = "flag"


class NoteCode(StrEnum):
    FILE_READ_AS_GB18030 = "file_read_as_gb18030"
    COLUMNS_IGNORED = "columns_ignored"
    INVALID_PHONE_FLAGGED = "invalid_phone_flagged"
    DUPLICATE_CONTACT = "duplicate_contact"
    CONTACTS_NOT_IN_FILE = "contacts_not_in_file"
    RETIRED_CONTACTS_IN_FILE = "retired_contacts_in_file"


@dataclass(frozen=True, slots=True)
class RowProblem:
    """Why the import was refused; ``row`` and ``field`` are None when a whole file is at fault."""

    file: str
    row: int | None
    field: str | None
    message: str


@dataclass(frozen=True, slots=True)
class ImportNote:
    """Something imported that an operator should still look at."""

    code: NoteCode
    message: str
    file: str | None = None
    row: int | None = None
    field: str | None = None


@dataclass
class ProblemLog:
    """Keeps the first problems of a file (in line order) and counts them all."""

    kept: list[RowProblem] = field(default_factory=list)
    count: int = 0

    def add(self, problem: RowProblem) -> None:
        self.count += 1
        if len(self.kept) < MAX_REPORTED_PROBLEMS:
            self.kept.append(problem)

    def extend(self, other: ProblemLog) -> None:
        """Add the problems of a file that comes after this log's."""
        self.count += other.count
        self.kept.extend(other.kept)
        del self.kept[MAX_REPORTED_PROBLEMS:]

    def merge(self, other: ProblemLog) -> None:
        """Both logs hold the first problems of one file, so the first of both stay in order."""
        self.count += other.count
        self.kept = sorted(self.kept + other.kept, key=lambda p: p.row or 0)
        del self.kept[MAX_REPORTED_PROBLEMS:]


@dataclass
class NoteLog:
    """Keeps a few notes of each kind and counts them all, so one bad column can't flood it."""

    kept: list[ImportNote] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)

    def add(self, note: ImportNote) -> None:
        self.counts[note.code] += 1
        if self.counts[note.code] <= MAX_NOTES_PER_CODE:
            self.kept.append(note)

    def extend(self, other: NoteLog) -> None:
        self.kept.extend(other.kept)
        self.counts.update(other.counts)


@dataclass(frozen=True, slots=True)
class ContactRecord:
    """One contact row of an import, its number already parsed."""

    row: int
    account_id: str
    role: ContactRole
    name: str
    phone: ParsedPhone
    preferred_channel: PreferredChannel | None = None
    call_window: CallWindow | None = None
    verified_at: datetime | None = None

    @property
    def key(self) -> ContactKey:
        return ContactKey(self.account_id, self.role, self.phone.key)


@dataclass
class ParsedCustomers:
    file: str
    accounts: list[Account] = field(default_factory=list)
    # The optional columns the file has.
    columns: frozenset[str] = frozenset()
    # Every id the file names, even on rows with problems: a contact of such an account is not
    # "unknown", and saying so would only add noise to the real error.
    named_account_ids: set[str] = field(default_factory=set)
    problems: ProblemLog = field(default_factory=ProblemLog)
    notes: NoteLog = field(default_factory=NoteLog)


@dataclass
class ParsedContacts:
    file: str
    contacts: list[ContactRecord] = field(default_factory=list)
    columns: frozenset[str] = frozenset()
    invalid_flagged: int = 0
    problems: ProblemLog = field(default_factory=ProblemLog)
    notes: NoteLog = field(default_factory=NoteLog)

    @property
    def account_ids(self) -> set[str]:
        return {c.account_id for c in self.contacts}


def read_customers(source: BinaryIO, file: str) -> ParsedCustomers:
    """Check every row of a ``customers.csv``; the accounts of rows without problems.

    ``source`` is read as a stream (it must be seekable: its encoding is checked first).
    """
    result = ParsedCustomers(file)
    with _text(source, file, result) as text:
        if text is None:
            return result
        first_row_of: dict[str, int] = {}
        table = _Table(text, file, CUSTOMER_COLUMNS, OPTIONAL_CUSTOMER_COLUMNS, result)
        result.columns = frozenset(table.columns & set(OPTIONAL_CUSTOMER_COLUMNS))
        for row, cells in table.rows():
            check = _RowCheck(file, row, cells, result.problems)
            account_id = check.text("account_id", limit=MAX_LENGTHS["account_id"])
            name = check.text("name", limit=MAX_LENGTHS["account_name"])
            node_id = check.text("node_id", limit=MAX_LENGTHS["node_id"])
            voltage_kv = check.voltage("voltage_kv")
            category = check.choice("category", Category)
            flags = check.flags("flags") if "flags" in cells else ()
            address = (
                check.text("address", limit=MAX_LENGTHS["address"], required=False)
                if "address" in cells
                else ""
            )
            area = (
                check.text("transformer_area", limit=MAX_LENGTHS["node_id"], required=False)
                if "transformer_area" in cells
                else ""
            )
            importance = (
                check.choice("importance", Importance, required=False)
                if "importance" in cells
                else None
            )
            if account_id:
                result.named_account_ids.add(account_id)
                if account_id in first_row_of:
                    check.fail(
                        "account_id",
                        messages.ACCOUNT_REPEATED.format(
                            account_id=account_id, first_row=first_row_of[account_id]
                        ),
                    )
                else:
                    first_row_of[account_id] = row
            if check.ok and voltage_kv is not None and category is not None:
                result.accounts.append(
                    Account(
                        account_id,
                        name,
                        node_id,
                        voltage_kv,
                        category,
                        flags,
                        address=address,
                        transformer_area=area,
                        importance=importance or Importance.NORMAL,
                    )
                )
    return result


def read_contacts(
    source: BinaryIO, file: str, policy: InvalidPhonePolicy, *, tz: tzinfo, now: datetime
) -> ParsedContacts:
    """Check every row of a ``contacts.csv``; whether its accounts exist is checked apart.

    With ``policy`` flag an invalid number is kept (and counted) rather than refused, so that
    the contact lands on the maintenance worklist instead of vanishing; it is never used.
    A row repeating an earlier contact of the file is noted and skipped. A ``verified_at``
    given as a date or naive time is read in ``tz``; one later than ``now`` is refused.
    """
    result = ParsedContacts(file)
    with _text(source, file, result) as text:
        if text is None:
            return result
        first_row_of: dict[ContactKey, int] = {}
        table = _Table(text, file, CONTACT_COLUMNS, OPTIONAL_CONTACT_COLUMNS, result)
        result.columns = frozenset(table.columns & set(OPTIONAL_CONTACT_COLUMNS))
        for row, cells in table.rows():
            check = _RowCheck(file, row, cells, result.problems)
            account_id = check.text("account_id", limit=MAX_LENGTHS["account_id"])
            role = check.choice("role", ContactRole)
            # Many registries hold a number without a name; the number is what matters.
            name = check.text("name", limit=MAX_LENGTHS["contact_name"], required=False)
            raw_phone = check.text("phone", limit=MAX_LENGTHS["phone"])
            preferred = (
                check.choice("preferred_channel", PreferredChannel, required=False)
                if "preferred_channel" in cells
                else None
            )
            window = check.call_window("call_window") if "call_window" in cells else None
            verified_at = (
                check.verified_at("verified_at", tz, now) if "verified_at" in cells else None
            )
            phone = parse_phone(raw_phone) if raw_phone else None
            if phone is not None and not phone.is_valid and policy is InvalidPhonePolicy.REJECT:
                check.fail(
                    "phone", messages.PHONE_REJECTED.format(phone=raw_phone, reason=phone.problem)
                )
            if not check.ok or role is None or phone is None:
                continue
            record = ContactRecord(
                row, account_id, role, name, phone, preferred, window, verified_at
            )
            if record.key in first_row_of:
                result.notes.add(
                    ImportNote(
                        NoteCode.DUPLICATE_CONTACT,
                        messages.CONTACT_REPEATED.format(first_row=first_row_of[record.key]),
                        file,
                        row,
                    )
                )
                continue
            first_row_of[record.key] = row
            if not phone.is_valid:
                result.invalid_flagged += 1
                result.notes.add(
                    ImportNote(
                        NoteCode.INVALID_PHONE_FLAGGED,
                        messages.PHONE_FLAGGED.format(phone=raw_phone, reason=phone.problem),
                        file,
                        row,
                        "phone",
                    )
                )
            result.contacts.append(record)
    return result


def check_contact_accounts(contacts: ParsedContacts, known_account_ids: Set[str]) -> None:
    """Refuse contacts of accounts that neither the import nor the registry knows."""
    unknown = ProblemLog()
    for record in contacts.contacts:
        if record.account_id not in known_account_ids:
            unknown.add(
                RowProblem(
                    contacts.file,
                    record.row,
                    "account_id",
                    messages.ACCOUNT_UNKNOWN.format(account_id=record.account_id),
                )
            )
    contacts.problems.merge(unknown)


@dataclass(frozen=True, slots=True)
class AccountUpdate:
    before: Account
    after: Account


@dataclass
class AccountChanges:
    created: list[Account] = field(default_factory=list)
    updated: list[AccountUpdate] = field(default_factory=list)
    unchanged: int = 0


_ACCOUNT_OPTIONAL_FIELDS = {
    "flags": "flags",
    "address": "address",
    "transformer_area": "transformer_area",
    "importance": "importance",
}


def plan_account_upsert(
    incoming: Iterable[Account],
    existing: Mapping[str, Account],
    *,
    columns: Set[str],
    now: datetime,
) -> AccountChanges:
    """Sort imported accounts into new, changed and identical to what the registry holds.

    A changed supply point or address counts as a move and a new name as a change of hands
    worth checking: both are dated, so the next notification list can point them out.
    """
    changes = AccountChanges()
    for account in incoming:
        current = existing.get(account.account_id)
        if current is None:
            changes.created.append(account)
            continue
        kept = {
            attribute: getattr(current, attribute)
            for column, attribute in _ACCOUNT_OPTIONAL_FIELDS.items()
            if column not in columns
        }
        wanted = replace(
            account,
            **kept,
            transfer_pending_since=current.transfer_pending_since,
            changed_at=current.changed_at,
            change=current.change,
        )
        if wanted.registered_fields == current.registered_fields:
            changes.unchanged += 1
            continue
        change = account_change(current, wanted)
        if change is not None:
            wanted = replace(wanted, changed_at=now, change=change)
        changes.updated.append(AccountUpdate(current, wanted))
    return changes


def account_change(before: Account, after: Account) -> RecentChange | None:
    """Whether an edit moved the account or renamed it (the usual trace of a new owner)."""
    if (before.node_id, before.transformer_area, before.address) != (
        after.node_id,
        after.transformer_area,
        after.address,
    ):
        return RecentChange.MOVED
    if before.name != after.name:
        return RecentChange.RENAMED
    return None


@dataclass(frozen=True, slots=True)
class NewContact:
    record: ContactRecord
    status: ContactStatus


@dataclass(frozen=True, slots=True)
class ContactUpdate:
    before: Contact
    after: Contact


@dataclass
class ContactChanges:
    created: list[NewContact] = field(default_factory=list)
    updated: list[ContactUpdate] = field(default_factory=list)
    unchanged: int = 0
    # Registered contacts of the file's accounts that the file no longer lists. They are kept:
    # an import adds and corrects, it never deletes what people may still answer.
    not_in_file: int = 0
    # Rows naming a contact that was retired (e.g. by an ownership transfer): an export of the
    # old marketing data must not bring the old owner's people back.
    retired_in_file: int = 0


def plan_contact_upsert(
    incoming: Iterable[ContactRecord], existing: Sequence[Contact], *, columns: Set[str]
) -> ContactChanges:
    """Match imported contacts to the registered contacts of the same accounts."""
    changes = ContactChanges()
    active = {contact.key: contact for contact in existing if contact.active}
    retired = {contact.key for contact in existing if not contact.active}
    matched: set[int] = set()
    for record in incoming:
        current = active.get(record.key)
        if current is None:
            if record.key in retired:
                changes.retired_in_file += 1
            else:
                changes.created.append(NewContact(record, status_after_import(record.phone, None)))
            continue
        matched.add(current.contact_id)
        wanted = replace(
            current,
            name=record.name,
            phone_raw=record.phone.raw,
            number_type=record.phone.number_type,
            status=status_after_import(record.phone, current.status),
            preferred_channel=(
                record.preferred_channel
                if "preferred_channel" in columns
                else current.preferred_channel
            ),
            call_window=record.call_window if "call_window" in columns else current.call_window,
            last_verified_at=_later(current.last_verified_at, record.verified_at),
        )
        if wanted == current:
            changes.unchanged += 1
        else:
            changes.updated.append(ContactUpdate(current, wanted))
    changes.not_in_file = sum(1 for c in existing if c.active and c.contact_id not in matched)
    return changes


def status_after_import(phone: ParsedPhone, current: ContactStatus | None) -> ContactStatus:
    """A number is valid or invalid as written; doubts raised in the field outlive re-imports."""
    if not phone.is_valid:
        return ContactStatus.INVALID
    if current is ContactStatus.SUSPECT:
        return ContactStatus.SUSPECT
    return ContactStatus.VALID


def _later(current: datetime | None, given: datetime | None) -> datetime | None:
    if current is None or given is None:
        return current or given
    return max(current, given)


def _encoding_of(source: BinaryIO) -> str | None:
    """UTF-8 (with or without BOM), else GB18030, which is how Excel saves CSV in China."""
    for encoding in ("utf-8", "gb18030"):
        source.seek(0)
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            while chunk := source.read(_DETECT_CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        source.seek(0)
        return encoding
    return None


@contextmanager
def _text(
    source: BinaryIO, file: str, logs: ParsedCustomers | ParsedContacts
) -> Iterator[TextIO | None]:
    """The file as text, or None (with the problem logged) when it is neither encoding.

    Falling back to GB18030 is noted: a UTF-8 file with one broken byte would decode as
    GB18030 too. The caller's file stays open.
    """
    encoding = _encoding_of(source)
    if encoding is None:
        logs.problems.add(RowProblem(file, None, None, messages.FILE_NOT_TEXT))
        yield None
        return
    if encoding == "gb18030":
        logs.notes.add(
            ImportNote(NoteCode.FILE_READ_AS_GB18030, messages.FILE_READ_AS_GB18030, file)
        )
    text = io.TextIOWrapper(
        source,
        encoding="utf-8-sig" if encoding == "utf-8" else encoding,
        newline="",
    )
    try:
        yield text
    finally:
        text.detach()


class _Table:
    """The rows of one CSV file as dicts keyed by lower-cased column names, with line numbers."""

    def __init__(
        self,
        text: TextIO,
        file: str,
        required: Sequence[str],
        optional: Sequence[str],
        logs: ParsedCustomers | ParsedContacts,
    ) -> None:
        self.file = file
        self.logs = logs
        self.reader = csv.reader(text)
        self.names: list[str] = []
        self.columns: set[str] = set()
        self._readable = self._read_header(required, optional)

    def _read_header(self, required: Sequence[str], optional: Sequence[str]) -> bool:
        try:
            header = next(self.reader)
        except StopIteration:
            self.logs.problems.add(RowProblem(self.file, 1, None, messages.FILE_EMPTY))
            return False
        except csv.Error as exc:
            self._malformed(1, exc)
            return False
        self.names = [name.strip().lower() for name in header]
        counts = Counter(self.names)
        faults = [
            RowProblem(self.file, 1, column, messages.COLUMN_MISSING.format(column=column))
            for column in required
            if column not in counts
        ] + [
            RowProblem(self.file, 1, column, messages.COLUMN_REPEATED.format(column=column))
            for column, seen in counts.items()
            if seen > 1 and column
        ]
        for fault in faults:
            self.logs.problems.add(fault)
        ignored = [n for n in counts if n and n not in required and n not in optional]
        if ignored:
            self.logs.notes.add(
                ImportNote(
                    NoteCode.COLUMNS_IGNORED,
                    messages.COLUMNS_IGNORED.format(columns="、".join(ignored)),
                    self.file,
                    1,
                )
            )
        self.columns = set(counts)
        # Rows under a header that lacks a column cannot be checked, only misreported.
        return not faults

    def rows(self) -> Iterator[tuple[int, dict[str, str]]]:
        if not self._readable:
            return
        width = len(self.names)
        line = self.reader.line_num
        while True:
            row = line + 1
            try:
                cells = next(self.reader)
            except StopIteration:
                return
            except csv.Error as exc:
                self._malformed(row, exc)
                return
            line = self.reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) != width:
                self.logs.problems.add(
                    RowProblem(
                        self.file,
                        row,
                        None,
                        messages.ROW_WIDTH.format(found=len(cells), expected=width),
                    )
                )
                continue
            yield row, {name: cell.strip() for name, cell in zip(self.names, cells, strict=True)}

    def _malformed(self, row: int, exc: csv.Error) -> None:
        self.logs.problems.add(
            RowProblem(self.file, row, None, messages.CSV_MALFORMED.format(error=exc))
        )


class _RowCheck:
    """Reads the cells of one row, recording each problem against its column."""

    def __init__(self, file: str, row: int, cells: dict[str, str], problems: ProblemLog) -> None:
        self.file = file
        self.row = row
        self.cells = cells
        self.problems = problems
        self.ok = True

    def fail(self, column: str, message: str) -> None:
        self.ok = False
        self.problems.add(RowProblem(self.file, self.row, column, message))

    def text(self, column: str, *, limit: int, required: bool = True) -> str:
        value = self.cells[column]
        if not value and required:
            self.fail(column, messages.VALUE_REQUIRED.format(column=column))
        elif len(value) > limit:
            self.fail(column, messages.VALUE_TOO_LONG.format(column=column, limit=limit))
        return value

    def choice(self, column: str, enum: type[_Choice], *, required: bool = True) -> _Choice | None:
        value = self.cells[column].lower()
        if not value:
            if required:
                self.fail(column, messages.VALUE_REQUIRED.format(column=column))
            return None
        try:
            return enum(value)
        except ValueError:
            allowed = "|".join(member.value for member in enum)
            self.fail(
                column,
                messages.VALUE_NOT_ALLOWED.format(
                    column=column, value=self.cells[column], allowed=allowed
                ),
            )
            return None

    def call_window(self, column: str) -> CallWindow | None:
        value = self.cells[column]
        if not value:
            return None
        try:
            return CallWindow.parse(value)
        except ValueError as exc:
            self.fail(column, str(exc))
            return None

    def verified_at(self, column: str, tz: tzinfo, now: datetime) -> datetime | None:
        value = self.cells[column]
        if not value:
            return None
        try:
            moment = parse_moment(value, tz)
        except ValueError:
            self.fail(column, messages.VERIFIED_AT_FORMAT.format(value=value))
            return None
        if moment > now:
            self.fail(column, messages.VERIFIED_AT_FUTURE.format(value=value))
            return None
        return moment

    def voltage(self, column: str) -> float | None:
        value = self.cells[column]
        if not value:
            self.fail(column, messages.VALUE_REQUIRED.format(column=column))
            return None
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not math.isfinite(number) or number < 0:
            self.fail(column, messages.VOLTAGE_NOT_NUMBER.format(value=value))
            return None
        return number

    def flags(self, column: str) -> tuple[str, ...]:
        value = self.text(column, limit=MAX_LENGTHS["flags"], required=False)
        return tuple(sorted({flag.strip() for flag in value.split(FLAG_SEPARATOR) if flag.strip()}))


def parse_moment(value: str, tz: tzinfo) -> datetime:
    """``2025-06-01`` (the start of that local day) or an ISO time, naive ones read in ``tz``."""
    text = value.strip()
    if len(text) == len("2025-06-01"):
        return datetime.combine(date.fromisoformat(text), time(), tz)
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=tz)


def customer_row(account: Account) -> list[str]:
    """An account as a ``customers.csv`` row, columns as the export header lists them."""
    return [
        account.account_id,
        account.name,
        account.node_id,
        str(account.voltage_kv),
        account.category.value,
        FLAG_SEPARATOR.join(account.flags),
        account.address,
        account.transformer_area,
        account.importance.value,
    ]


def contact_row(contact: Contact, tz: tzinfo) -> list[str]:
    """A contact as a ``contacts.csv`` row; re-importing it changes nothing."""
    return [
        contact.account_id,
        contact.role.value,
        contact.name,
        contact.phone_raw,
        contact.preferred_channel.value if contact.preferred_channel else "",
        str(contact.call_window) if contact.call_window else "",
        contact.last_verified_at.astimezone(tz).isoformat() if contact.last_verified_at else "",
    ]
