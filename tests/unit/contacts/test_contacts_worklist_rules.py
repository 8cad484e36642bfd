"""The maintenance worklist's rules: what a closing needs, and how findings are keyed."""

from datetime import UTC, datetime
from typing import Any

import pytest

from services.contacts.domain import maintenance
from services.contacts.domain.maintenance import (
    Closing,
    ItemKind,
    ItemStatus,
    MaintenanceItem,
    Outcome,
    check_closing,
)
from shared.errors import Conflict, InvalidInput

NOW = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)


def item(**overrides: Any) -> MaintenanceItem:
    values: dict[str, Any] = {
        "item_id": 1,
        "kind": ItemKind.NO_VALID_MOBILE,
        "status": ItemStatus.OPEN,
        "key": "no_valid_mobile:A1",
        "detail": "",
        "opened_at": NOW,
        "opened_by": "scan",
        "account_id": "A1",
    }
    return MaintenanceItem(**(values | overrides))


@pytest.mark.parametrize(
    ("closing", "field"),
    [
        (Closing(Outcome.NUMBER_FIXED, phone="13800138000"), "contact_id"),
        (Closing(Outcome.NUMBER_FIXED, contact_id=3), "phone"),
        (Closing(Outcome.CONTACT_REMOVED), "contact_id"),
        (Closing(Outcome.CONTACT_ADDED, role="electrical"), "phone"),
        (Closing(Outcome.CONTACT_ADDED, phone="13800138000", role="boss"), "role"),
        (Closing(Outcome.CONTACT_ADDED, phone="13800138000", role="property_management"), "role"),
        (Closing(Outcome.RESOLVED), "outcome"),
    ],
)
def test_a_closing_must_bring_what_its_outcome_writes_to_the_registry(closing, field):
    with pytest.raises(InvalidInput) as refused:
        check_closing(item(), closing)

    assert refused.value.field == field


def test_complete_closings_pass_and_a_closed_item_cannot_be_closed_again():
    check_closing(item(), Closing(Outcome.CALLED))
    check_closing(item(), Closing(Outcome.CONTACT_ADDED, phone="13800138000", role="legal"))
    check_closing(item(contact_id=3), Closing(Outcome.NUMBER_FIXED, phone="13800138000"))
    area_item = item(account_id=None, area_id="幸福小区", area_contact_id=4)
    check_closing(
        area_item, Closing(Outcome.CONTACT_ADDED, phone="13800138000", role="village_committee")
    )

    with pytest.raises(Conflict):
        check_closing(item(status=ItemStatus.CLOSED), Closing(Outcome.CALLED))


def test_a_shared_number_item_has_no_account_to_add_a_contact_to():
    shared = maintenance.shared_number("+8613800138000", ("A1", "A2"))
    stored = item(
        kind=shared.kind, key=shared.key, account_id=None, phone=shared.phone, account_ids=("A1",)
    )

    with pytest.raises(InvalidInput) as refused:
        check_closing(stored, Closing(Outcome.CONTACT_ADDED, phone="13800138000", role="other"))

    assert refused.value.field == "outcome"


def test_findings_are_keyed_by_what_they_are_about_so_a_rescan_finds_the_same_item():
    assert maintenance.no_valid_mobile("A1", "甲").key == "no_valid_mobile:A1"
    assert maintenance.shared_number("+8613800138000", ("A1",)).key == (
        "shared_number:+8613800138000"
    )
    person = maintenance.invalid_number(
        account_id="A1", area_id=None, contact_id=5, phone_raw="1380013"
    )
    area = maintenance.invalid_number(
        account_id=None, area_id="幸福小区", contact_id=5, phone_raw="1380013", area_contact=True
    )
    assert (person.key, person.contact_id, person.area_contact_id) == ("invalid_number:c5", 5, None)
    assert (area.key, area.contact_id, area.area_contact_id) == ("invalid_number:a5", None, 5)
    assert maintenance.complaint("C9", "A1", "O1", "号码已停机").key == "complaint:C9"
    assert "号码已停机" in maintenance.complaint("C9", "A1", "O1", "号码已停机").detail
