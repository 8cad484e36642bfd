"""Edits of contacts by people and by delivery evidence, transfers, and the history they leave."""

from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest

from services.contacts.domain.changes import (
    ContactPatch,
    HistoryAction,
    Subject,
    account_entry,
    after_failures,
    confirm,
    contact_entry,
    patch_contact,
    require_phone,
    retire,
    transferred,
)
from services.contacts.domain.phones import NumberType
from services.contacts.domain.registry import (
    Account,
    CallWindow,
    Category,
    Contact,
    ContactRole,
    ContactStatus,
    PreferredChannel,
    RecentChange,
)
from shared.errors import Conflict, InvalidInput

NOW = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)


def registered(**overrides: Any) -> Contact:
    values: dict[str, Any] = {
        "contact_id": 7,
        "account_id": "A1",
        "role": ContactRole.ELECTRICAL,
        "name": "王师傅",
        "phone_raw": "138 0013 8000",
        "phone_e164": "+8613800138000",
        "number_type": NumberType.MOBILE,
        "status": ContactStatus.SUSPECT,
        "failure_count": 2,
        "last_verified_at": NOW - timedelta(days=400),
    }
    return Contact(**(values | overrides))


def test_a_number_typed_by_a_person_must_be_usable():
    assert require_phone("0571-88123456", "phone").number_type is NumberType.LANDLINE
    with pytest.raises(InvalidInput) as refused:
        require_phone("1380013", "phone")

    assert refused.value.field == "phone"
    assert "1380013" in refused.value.detail


def test_a_new_number_or_a_confirmation_clears_the_doubts_of_failed_deliveries():
    new_number = patch_contact(
        registered(), ContactPatch(phone=require_phone("13900139000", "p")), NOW
    )
    confirmed = patch_contact(registered(), ContactPatch(verified=True), NOW)
    renamed = patch_contact(registered(), ContactPatch(name="王建国"), NOW)

    assert (new_number.phone_e164, new_number.status, new_number.failure_count) == (
        "+8613900139000",
        ContactStatus.VALID,
        0,
    )
    assert (confirmed.status, confirmed.last_verified_at) == (ContactStatus.VALID, NOW)
    assert (renamed.name, renamed.status, renamed.failure_count) == (
        "王建国",
        ContactStatus.SUSPECT,
        2,
    )


def test_fields_left_unset_stay_and_null_clears_the_window_and_channel():
    contact = registered(
        call_window=CallWindow(time(8), time(20)), preferred_channel=PreferredChannel.VOICE
    )

    kept = patch_contact(contact, ContactPatch(name="王"), NOW)
    cleared = patch_contact(contact, ContactPatch(call_window=None, preferred_channel=None), NOW)

    assert (kept.call_window, kept.preferred_channel) == (
        CallWindow(time(8), time(20)),
        PreferredChannel.VOICE,
    )
    assert (cleared.call_window, cleared.preferred_channel) == (None, None)


def test_a_contact_without_a_number_cannot_be_made_valid_and_a_retired_one_not_edited():
    invalid = registered(phone_e164=None, number_type=NumberType.INVALID, phone_raw="1380013")

    with pytest.raises(InvalidInput) as refused:
        patch_contact(invalid, ContactPatch(status=ContactStatus.VALID), NOW)
    with pytest.raises(Conflict):
        patch_contact(retire(registered(), NOW), ContactPatch(name="x"), NOW)
    with pytest.raises(Conflict):
        retire(retire(registered(), NOW), NOW)

    assert refused.value.field == "status"
    assert confirm(invalid, NOW).status is ContactStatus.INVALID


@pytest.mark.parametrize(
    ("status", "before", "reported", "after", "count"),
    [
        (ContactStatus.VALID, 0, 1, ContactStatus.SUSPECT, 1),
        (ContactStatus.SUSPECT, 1, 2, ContactStatus.SUSPECT, 2),
        (ContactStatus.SUSPECT, 2, 3, ContactStatus.INVALID, 3),
        (ContactStatus.SUSPECT, 2, 1, ContactStatus.SUSPECT, 2),
        (ContactStatus.INVALID, 5, 1, ContactStatus.INVALID, 5),
    ],
)
def test_failed_deliveries_make_a_number_suspect_then_invalid_after_the_threshold(
    status, before, reported, after, count
):
    changed = after_failures(registered(status=status, failure_count=before), reported, 3)

    assert (changed.status, changed.failure_count) == (after, count)


def test_a_transfer_flags_the_account_renames_it_and_dates_the_change():
    account = Account("A1", "旧东家", "N1", 0.4, Category.COMMERCIAL)

    after = transferred(account, NOW, "新东家")

    assert (after.name, after.transfer_pending_since) == ("新东家", NOW)
    assert (after.change, after.changed_at) == (RecentChange.TRANSFERRED, NOW)
    assert transferred(account, NOW, None).name == "旧东家"


def test_history_entries_keep_only_what_changed_and_who_did_it_why():
    before = registered()
    after = confirm(before, NOW)

    created = contact_entry(None, before, HistoryAction.CREATED, "admin-zhou", "导入", NOW)
    changed = contact_entry(before, after, HistoryAction.VERIFIED, "field-li", "电话核实", NOW)
    moved = account_entry(
        Account("A1", "甲", "N1", 0.4, Category.COMMERCIAL),
        Account("A1", "甲", "N2", 0.4, Category.COMMERCIAL),
        HistoryAction.UPDATED,
        "admin-zhou",
        "导入",
        NOW,
    )

    assert created.before is None
    assert created.after is not None
    assert created.after["phone_e164"] == "+8613800138000"
    assert (changed.subject, changed.subject_id, changed.account_id) == (Subject.CONTACT, "7", "A1")
    assert changed.before == {
        "status": "suspect",
        "last_verified_at": (NOW - timedelta(days=400)).isoformat(),
        "failure_count": 2,
    }
    assert changed.after == {
        "status": "valid",
        "last_verified_at": NOW.isoformat(),
        "failure_count": 0,
    }
    assert (changed.actor, changed.reason) == ("field-li", "电话核实")
    assert (moved.before, moved.after) == ({"node_id": "N1"}, {"node_id": "N2"})


@pytest.mark.parametrize(
    ("text", "window"),
    [
        ("08:00-20:00", CallWindow(time(8), time(20))),
        ("8:30~17:45", CallWindow(time(8, 30), time(17, 45))),
        ("09:00至18:00", CallWindow(time(9), time(18))),
    ],
)
def test_call_windows_are_read_as_people_write_them(text, window):
    assert CallWindow.parse(text) == window


@pytest.mark.parametrize("text", ["20:00-08:00", "8点到9点", "25:00-26:00", "08:00-08:00"])
def test_a_call_window_that_is_not_a_daytime_span_is_refused(text):
    with pytest.raises(ValueError, match="通话时段"):
        CallWindow.parse(text)
