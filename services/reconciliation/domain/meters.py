"""Meter events: parsing a batch, mapping meters to accounts, and reading an outage window.

A smart meter reports when it loses supply (``power_lost``, its "last gasp") and when it has
supply again (``power_restored``, cause ``restoration``); the metering system can also read or
ping a meter and find supply present (``power_restored``, cause ``status_check``). From those a
meter's *reading* of an outage window is:

* ``LOST`` when it reported a loss in the window (from ``lead`` before the start to the end), or
  a restoration in the window or shortly after (``tail``): supply that comes back was lost, even
  when the last gasp never arrived, which is common;
* ``ON`` when, with neither, a status check during the window found supply;
* nothing (unknown) otherwise. A meter that did not report never counts as having kept supply.

An account's reading is ``LOST`` if any of its meters lost supply, else ``ON`` if any had it.
Duplicates change nothing: readings are built from sets of facts, in any arrival order.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from services.reconciliation.domain import messages
from services.reconciliation.domain.network import Supply
from shared.errors import InvalidInput

MAX_ID_LENGTH = 64
MAX_SOURCE_LENGTH = 100
CSV_COLUMNS = ("meter_id", "account_id", "event", "cause", "occurred_at", "source_system")
REQUIRED_COLUMNS = ("meter_id", "event", "occurred_at")


class EventKind(StrEnum):
    LOST = "power_lost"
    RESTORED = "power_restored"


class Cause(StrEnum):
    RESTORATION = "restoration"
    STATUS_CHECK = "status_check"


@dataclass(frozen=True)
class MeterEvent:
    """One report of one meter; ``account_id`` is what the source said (may be empty)."""

    meter_id: str
    kind: EventKind
    occurred_at: datetime
    source_system: str
    account_id: str = ""
    cause: Cause | None = None  # restorations only

    @property
    def key(self) -> tuple[str, str, str, datetime]:
        """What makes two reports the same report (a duplicate)."""
        return (self.meter_id, self.kind.value, self.cause or "", self.occurred_at)


@dataclass(frozen=True)
class Window:
    """An outage's window and the slack around it within which meter events belong to it."""

    starts_at: datetime
    ends_at: datetime
    lead: timedelta = timedelta(minutes=30)
    tail: timedelta = timedelta(hours=2)

    def covers(self, moment: datetime) -> bool:
        return self.starts_at - self.lead <= moment <= self.ends_at + self.tail


def meter_reading(events: Iterable[MeterEvent], window: Window) -> Supply | None:
    """What one meter's events say about its supply during ``window``."""
    on = False
    for event in events:
        at = event.occurred_at
        if event.kind is EventKind.LOST:
            if window.starts_at - window.lead <= at <= window.ends_at:
                return Supply.LOST
        elif event.cause is Cause.STATUS_CHECK:
            on = on or window.starts_at <= at <= window.ends_at
        elif window.starts_at < at <= window.ends_at + window.tail:
            return Supply.LOST
    return Supply.ON if on else None


def account_readings(
    events: Iterable[MeterEvent], account_of: Mapping[str, str], window: Window
) -> dict[str, Supply]:
    """Each account's reading of ``window`` from its meters' events (``account_of``: meter →
    account). Meters without an account are left out; so are accounts without a reading."""
    by_meter: dict[str, list[MeterEvent]] = {}
    for event in events:
        by_meter.setdefault(event.meter_id, []).append(event)
    out: dict[str, Supply] = {}
    for meter, own in by_meter.items():
        account = account_of.get(meter)
        if account is None:
            continue
        reading = meter_reading(own, window)
        if reading is None:
            continue
        if reading is Supply.LOST or out.get(account) is None:
            out[account] = reading
    return out


@dataclass(frozen=True)
class MeterMapping:
    """Meter → account: the account the source stated, the registry, or the default rule
    (meter ``M00000042`` is account ``A00000042``: the prefixes swapped)."""

    registry: Mapping[str, str]
    meter_prefix: str = "M"
    account_prefix: str = "A"

    def account_of(self, meter_id: str, stated: str = "") -> str | None:
        if stated:
            return stated
        known = self.registry.get(meter_id)
        if known is not None:
            return known
        if self.meter_prefix and meter_id.startswith(self.meter_prefix):
            rest = meter_id[len(self.meter_prefix) :]
            if rest:
                return self.account_prefix + rest
        return None

    def resolve(self, events: Iterable[MeterEvent]) -> dict[str, str]:
        out: dict[str, str] = {}
        for event in events:
            account = self.account_of(event.meter_id, event.account_id)
            if account is not None:
                out.setdefault(event.meter_id, account)
        return out


# --- parsing a batch ---------------------------------------------------------------------------


def parse_csv(data: bytes, *, timezone: str, default_source: str, limit: int) -> list[MeterEvent]:
    """Rows of ``meter_id,account_id,event,cause,occurred_at,source_system`` (``account_id``,
    ``cause`` and ``source_system`` may be left out). Any bad row rejects the whole batch, named
    by its line number (the header is line 1)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(messages.BAD_ENCODING, file="events.csv") from None
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    unknown = [c for c in header if c not in CSV_COLUMNS]
    if missing or unknown:
        raise InvalidInput(
            messages.BAD_HEADER.format(expected=",".join(CSV_COLUMNS), found=",".join(header)),
            file="events.csv",
            row=1,
        )
    rows = [(line, row) for line, row in enumerate(reader, start=2)]
    return _parse_rows(rows, timezone=timezone, default_source=default_source, limit=limit)


def parse_json(data: bytes, *, timezone: str, default_source: str, limit: int) -> list[MeterEvent]:
    """A JSON array of objects with the CSV's fields, or ``{"events": [...]}``; rows are
    numbered from 0 as the array's indexes."""
    try:
        body = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InvalidInput(messages.BAD_JSON.format(error=error), field="events") from None
    if isinstance(body, dict):
        body = body.get("events")
    if not isinstance(body, list):
        raise InvalidInput(messages.BAD_JSON.format(error="expected a list"), field="events")
    rows: list[tuple[int, dict[str, Any]]] = []
    for index, item in enumerate(body):
        if not isinstance(item, dict):
            raise InvalidInput(
                messages.BAD_JSON.format(error="expected an object"),
                field=f"events[{index}]",
                row=index,
            )
        rows.append((index, item))
    return _parse_rows(
        rows, timezone=timezone, default_source=default_source, limit=limit, json_rows=True
    )


def _parse_rows(
    rows: Sequence[tuple[int, Mapping[str, Any]]],
    *,
    timezone: str,
    default_source: str,
    limit: int,
    json_rows: bool = False,
) -> list[MeterEvent]:
    if not rows:
        raise InvalidInput(messages.BATCH_EMPTY, field="events")
    if len(rows) > limit:
        raise InvalidInput(
            messages.BATCH_TOO_LARGE.format(limit=limit, count=len(rows)), field="events"
        )
    zone = ZoneInfo(timezone)
    return [_Row(number, row, json_rows).event(zone, default_source) for number, row in rows]


@dataclass(frozen=True)
class _Row:
    number: int
    values: Mapping[str, Any]
    json_row: bool

    def fail(self, name: str, message: str) -> InvalidInput:
        if self.json_row:
            return InvalidInput(message, field=f"events[{self.number}].{name}", row=self.number)
        return InvalidInput(message, file="events.csv", row=self.number, field=name)

    def text(self, name: str, limit: int, *, required: bool) -> str:
        value = self.values.get(name)
        value = "" if value is None else str(value).strip()
        if required and not value:
            raise self.fail(name, messages.FIELD_REQUIRED.format(field=name))
        if len(value) > limit:
            raise self.fail(name, messages.FIELD_TOO_LONG.format(field=name, limit=limit))
        return value

    def event(self, zone: ZoneInfo, default_source: str) -> MeterEvent:
        meter_id = self.text("meter_id", MAX_ID_LENGTH, required=True)
        account_id = self.text("account_id", MAX_ID_LENGTH, required=False)
        raw_kind = self.text("event", 32, required=True)
        try:
            kind = EventKind(raw_kind)
        except ValueError:
            raise self.fail("event", messages.BAD_EVENT.format(value=raw_kind)) from None
        raw_cause = self.text("cause", 32, required=False)
        cause: Cause | None = None
        if kind is EventKind.RESTORED:
            try:
                cause = Cause(raw_cause or Cause.RESTORATION)
            except ValueError:
                raise self.fail("cause", messages.BAD_CAUSE.format(value=raw_cause)) from None
        raw_time = self.text("occurred_at", 64, required=True)
        try:
            occurred_at = datetime.fromisoformat(raw_time)
        except ValueError:
            raise self.fail("occurred_at", messages.BAD_TIME.format(value=raw_time)) from None
        if occurred_at.tzinfo is None:
            # Head-end exports often carry local wall time; it is the service's time zone.
            occurred_at = occurred_at.replace(tzinfo=zone)
        source = self.text("source_system", MAX_SOURCE_LENGTH, required=False) or default_source
        return MeterEvent(meter_id, kind, occurred_at, source, account_id, cause)


def parse_registry(data: bytes) -> list[tuple[str, str]]:
    """``meters.csv``: ``meter_id,account_id``, one meter per row, all or nothing."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(messages.BAD_ENCODING, file="meters.csv") from None
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    if list(header) != ["meter_id", "account_id"]:
        raise InvalidInput(
            messages.BAD_HEADER.format(expected="meter_id,account_id", found=",".join(header)),
            file="meters.csv",
            row=1,
        )
    seen: dict[str, int] = {}
    out = []
    for line, row in enumerate(reader, start=2):
        values = []
        for name in ("meter_id", "account_id"):
            value = (row.get(name) or "").strip()
            if not value:
                raise InvalidInput(
                    messages.FIELD_REQUIRED.format(field=name),
                    file="meters.csv",
                    row=line,
                    field=name,
                )
            if len(value) > MAX_ID_LENGTH:
                raise InvalidInput(
                    messages.FIELD_TOO_LONG.format(field=name, limit=MAX_ID_LENGTH),
                    file="meters.csv",
                    row=line,
                    field=name,
                )
            values.append(value)
        meter_id, account_id = values
        if meter_id in seen:
            raise InvalidInput(
                messages.DUPLICATE_METER.format(meter=meter_id, first=seen[meter_id]),
                file="meters.csv",
                row=line,
                field="meter_id",
            )
        seen[meter_id] = line
        out.append((meter_id, account_id))
    if not out:
        raise InvalidInput(messages.BATCH_EMPTY, file="meters.csv")
    return out
