"""The life of a notification list: drafted from a trace, then reviewed by a second person.

Each trace of an outage yields a version of its list. A newer trace replaces a draft nobody has
approved yet (the draft becomes ``superseded``); an approved version never changes, so a newer
trace after approval becomes a new draft beside it, to be approved again; approving it
supersedes the older approved version, so exactly one version is ever in force. While a
version is a draft a reviewer may add or remove accounts, each edit with a reason. A reviewer
who is not the planner of the outage approves or rejects the newest version (four-eyes rule);
cancelling the outage cancels its lists, and a cancelled list can no longer be approved.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from services.contacts.domain import messages
from services.contacts.domain.listing import ListCounts
from shared.errors import Conflict, PermissionDenied
from shared.events import FeederScope, OutageDetails, TransformerScope


class ListStatus(StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    SUPERSEDED = "superseded"


# Statuses a cancellation of the outage moves to ``cancelled``; a superseded draft stays what
# it was, since it never counted.
CANCELLABLE_STATUSES = frozenset({ListStatus.DRAFT, ListStatus.APPROVED, ListStatus.REJECTED})


class EditAction(StrEnum):
    ADD = "add"
    REMOVE = "remove"


@dataclass(frozen=True, slots=True)
class ListEdit:
    """A reviewer's change to a draft, kept for audit."""

    version: int
    action: EditAction
    account_id: str
    reason: str
    edited_by: str
    edited_at: datetime


def check_edit(action: EditAction, account_id: str, on_list: bool | None) -> None:
    """``on_list``: True on the list, False on it but removed, None not on it at all."""
    if action is EditAction.ADD and on_list:
        raise Conflict(
            messages.EDIT_ALREADY_ON_LIST.format(account_id=account_id), field="account_id"
        )
    if action is EditAction.REMOVE and not on_list:
        raise Conflict(messages.EDIT_NOT_ON_LIST.format(account_id=account_id), field="account_id")


class TraceDecision(StrEnum):
    DRAFT = "draft"
    STALE = "stale"
    OUTAGE_CANCELLED = "outage_cancelled"


def decide_on_trace(
    trace_version: int, latest_version: int | None, *, outage_cancelled: bool
) -> TraceDecision:
    """Whether a trace yields a new list version.

    Traces may arrive twice or out of order (the bus delivers at least once, and a re-trace can
    overtake an earlier one), so only a version newer than every stored one counts.
    """
    if outage_cancelled:
        return TraceDecision.OUTAGE_CANCELLED
    if latest_version is not None and trace_version <= latest_version:
        return TraceDecision.STALE
    return TraceDecision.DRAFT


@dataclass(frozen=True, slots=True)
class NoticeList:
    """One version of an outage's notification list, without its rows."""

    list_id: int
    outage_id: str
    version: int
    status: ListStatus
    details: OutageDetails
    model_version: int
    transformers: tuple[TransformerScope, ...]
    feeders: tuple[FeederScope, ...]
    counts: ListCounts
    drafted_at: datetime
    approved_by: str | None = None
    approved_at: datetime | None = None
    approval_comment: str | None = None
    recipients_sha256: str | None = None
    rejected_by: str | None = None
    rejected_at: datetime | None = None
    rejection_reason: str | None = None
    cancelled_at: datetime | None = None
    cancellation_reason: str | None = None
    # Why the version was traced again (a re-trace), and the list it was compared with.
    retrace_reason: str | None = None
    compared_with: tuple[str, int] | None = None

    @property
    def planned_by(self) -> str:
        return self.details.planned_by

    def check_approvable_by(self, reviewer: str, seen_version: int | None) -> None:
        """Four eyes: whoever planned the outage may not approve whom it notifies."""
        if reviewer == self.planned_by:
            raise PermissionDenied(messages.FOUR_EYES.format(planned_by=self.planned_by))
        self._check_open(seen_version, messages.ACTION_APPROVE)

    def check_rejectable(self, seen_version: int | None) -> None:
        self._check_open(seen_version, messages.ACTION_REJECT)

    def check_editable(self, seen_version: int | None) -> None:
        self._check_open(seen_version, messages.ACTION_EDIT)

    def _check_open(self, seen_version: int | None, action: str) -> None:
        if self.status is not ListStatus.DRAFT:
            raise Conflict(
                messages.LIST_NOT_DRAFT.format(
                    outage_id=self.outage_id,
                    version=self.version,
                    status=messages.LIST_STATUS_NAMES[self.status],
                    action=action,
                ),
                field="status",
            )
        if seen_version is not None and seen_version != self.version:
            # The reviewer looked at an older version: approving blind what a re-trace changed
            # is how wrong customers get told.
            raise Conflict(
                messages.LIST_VERSION_CHANGED.format(
                    current=self.version, expected=seen_version, action=action
                ),
                field="version",
            )
