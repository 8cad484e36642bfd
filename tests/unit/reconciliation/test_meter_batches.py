"""Bulk meter events and the meter registry: all or nothing, errors naming row and field."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from services.reconciliation.domain.meters import (
    Cause,
    EventKind,
    parse_csv,
    parse_json,
    parse_registry,
)
from shared.errors import InvalidInput

OPTIONS = {"timezone": "Asia/Shanghai", "default_source": "AMI", "limit": 5}
HEADER = "meter_id,account_id,event,cause,occurred_at,source_system\n"


def test_a_csv_batch_is_read_with_defaults_for_the_optional_columns():
    data = (
        b"meter_id,event,occurred_at\n"
        b"M1,power_lost,2026-11-28T08:00:05+08:00\n"
        b"M1,power_restored,2026-11-28 17:01:00\n"
    )
    first, second = parse_csv(data, **OPTIONS)
    assert first.kind is EventKind.LOST
    assert first.cause is None
    assert first.occurred_at == datetime(2026, 11, 28, 0, 0, 5, tzinfo=UTC)
    assert first.source_system == "AMI"
    assert second.cause is Cause.RESTORATION
    # Local wall time without an offset is the service's time zone.
    assert second.occurred_at.utcoffset() == timedelta(hours=8)


@pytest.mark.parametrize(
    ("row", "field"),
    [
        (",A1,power_lost,,2026-11-28T08:00:00+08:00,", "meter_id"),
        ("M1,A1,power_down,,2026-11-28T08:00:00+08:00,", "event"),
        ("M1,A1,power_restored,ping,2026-11-28T08:00:00+08:00,", "cause"),
        ("M1,A1,power_lost,,28/11/2026 08:00,", "occurred_at"),
        ("M1," + "A" * 65 + ",power_lost,,2026-11-28T08:00:00+08:00,", "account_id"),
    ],
)
def test_one_bad_csv_row_rejects_the_batch_naming_row_and_field(row, field):
    good = "M0,,power_lost,,2026-11-28T08:00:00+08:00,\n"
    with pytest.raises(InvalidInput) as error:
        parse_csv((HEADER + good + row + "\n").encode(), **OPTIONS)
    assert (error.value.file, error.value.row, error.value.field) == ("events.csv", 3, field)


def test_a_csv_with_unknown_columns_is_refused_at_its_header():
    with pytest.raises(InvalidInput) as error:
        parse_csv(b"meter,when\nM1,x\n", **OPTIONS)
    assert error.value.row == 1


def test_a_json_batch_names_the_bad_item():
    body = [
        {"meter_id": "M1", "event": "power_lost", "occurred_at": "2026-11-28T08:00:00+08:00"},
        {"meter_id": "M2", "event": "power_restored", "occurred_at": "soon"},
    ]
    with pytest.raises(InvalidInput) as error:
        parse_json(json.dumps(body).encode(), **OPTIONS)
    assert error.value.field == "events[1].occurred_at"
    ok = parse_json(json.dumps({"events": body[:1]}).encode(), **OPTIONS)
    assert ok[0].occurred_at.tzinfo == timezone(timedelta(hours=8))


def test_batches_over_the_limit_or_empty_are_refused():
    row = {"meter_id": "M1", "event": "power_lost", "occurred_at": "2026-11-28T08:00:00+08:00"}
    with pytest.raises(InvalidInput, match="最多"):
        parse_json(json.dumps([row] * 6).encode(), **OPTIONS)
    with pytest.raises(InvalidInput):
        parse_json(b"[]", **OPTIONS)
    with pytest.raises(InvalidInput):
        parse_json(b"{not json", **OPTIONS)


def test_the_registry_is_all_or_nothing_and_refuses_a_meter_twice():
    assert parse_registry(b"meter_id,account_id\nEM1,A1\nEM2,A1\n") == [
        ("EM1", "A1"),
        ("EM2", "A1"),
    ]
    with pytest.raises(InvalidInput) as error:
        parse_registry(b"meter_id,account_id\nEM1,A1\nEM1,A2\n")
    assert (error.value.row, error.value.field) == (3, "meter_id")
    with pytest.raises(InvalidInput) as error:
        parse_registry(b"meter_id,account_id\nEM1,\n")
    assert error.value.field == "account_id"
