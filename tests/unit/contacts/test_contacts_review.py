"""Reviewing a list: which traces draft a version, and who may approve or reject it when."""

from datetime import UTC, datetime

import pytest

from services.contacts.domain.listing import ListCounts
from services.contacts.domain.review import (
    EditAction,
    ListStatus,
    NoticeList,
    TraceDecision,
    check_edit,
    decide_on_trace,
)
from shared.errors import Conflict, PermissionDenied
from shared.events import OutageDetails

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def notice_list(
    status: ListStatus = ListStatus.DRAFT, version: int = 1, planned_by: str = "planner-li"
) -> NoticeList:
    return NoticeList(
        list_id=1,
        outage_id="O1",
        version=version,
        status=status,
        details=OutageDetails(
            kind="planned",
            starts_at=NOW,
            ends_at=NOW,
            work="线路检修",
            planned_by=planned_by,
        ),
        model_version=1,
        transformers=(),
        feeders=(),
        counts=ListCounts(1, 1, 0, 0, 0, 0),
        drafted_at=NOW,
    )


@pytest.mark.parametrize(
    ("trace_version", "latest", "cancelled", "decision"),
    [
        (1, None, False, TraceDecision.DRAFT),
        (2, 1, False, TraceDecision.DRAFT),
        (1, 1, False, TraceDecision.STALE),
        (1, 2, False, TraceDecision.STALE),
        (1, None, True, TraceDecision.OUTAGE_CANCELLED),
        (3, 2, True, TraceDecision.OUTAGE_CANCELLED),
    ],
)
def test_only_a_trace_newer_than_every_stored_version_of_a_live_outage_drafts_one(
    trace_version, latest, cancelled, decision
):
    assert decide_on_trace(trace_version, latest, outage_cancelled=cancelled) is decision


def test_the_planner_of_the_outage_may_not_approve_its_list():
    with pytest.raises(PermissionDenied, match="planner-li"):
        notice_list().check_approvable_by("planner-li", None)


def test_another_reviewer_may_approve_a_draft():
    notice_list().check_approvable_by("reviewer-wang", None)
    notice_list(version=2).check_approvable_by("reviewer-wang", 2)


@pytest.mark.parametrize(
    "status",
    [ListStatus.APPROVED, ListStatus.REJECTED, ListStatus.CANCELLED, ListStatus.SUPERSEDED],
)
def test_only_a_draft_can_be_approved_or_rejected(status):
    with pytest.raises(Conflict) as approving:
        notice_list(status).check_approvable_by("reviewer-wang", None)
    with pytest.raises(Conflict):
        notice_list(status).check_rejectable(None)

    assert approving.value.field == "status"


def test_a_reviewer_who_read_an_older_version_is_told_to_read_again():
    with pytest.raises(Conflict) as approving:
        notice_list(version=2).check_approvable_by("reviewer-wang", 1)

    assert approving.value.field == "version"
    assert "第 2 版" in approving.value.detail


def test_only_a_draft_can_be_edited_and_only_the_version_the_reviewer_read():
    notice_list().check_editable(None)
    with pytest.raises(Conflict):
        notice_list(ListStatus.APPROVED).check_editable(None)
    with pytest.raises(Conflict) as stale:
        notice_list(version=3).check_editable(2)

    assert stale.value.field == "version"


@pytest.mark.parametrize(
    ("action", "on_list", "allowed"),
    [
        (EditAction.ADD, None, True),
        (EditAction.ADD, False, True),
        (EditAction.ADD, True, False),
        (EditAction.REMOVE, True, True),
        (EditAction.REMOVE, False, False),
        (EditAction.REMOVE, None, False),
    ],
)
def test_an_account_is_added_only_when_off_the_list_and_removed_only_when_on_it(
    action, on_list, allowed
):
    if allowed:
        check_edit(action, "A1", on_list)
        return
    with pytest.raises(Conflict) as refused:
        check_edit(action, "A1", on_list)
    assert (refused.value.field, "A1" in refused.value.detail) == ("account_id", True)
