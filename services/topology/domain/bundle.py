"""The CSV interchange bundle of the network model: its files, columns and row checks.

``nodes.csv``, ``devices.csv`` and ``customers.csv`` are UTF-8 (a BOM is accepted) with an exact
header line. An import reads them twice: :func:`check_bundle` checks every row and builds the
model without touching the database, and only if nothing is wrong does :func:`bundle_rows`
read them again to be written. Row numbers are line numbers in the file, the header being
line 1, as a spreadsheet shows them.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from services.topology.domain import messages
from services.topology.domain.network import NetworkBuilder, RowRejected

NODES_FILE = "nodes.csv"
DEVICES_FILE = "devices.csv"
CUSTOMERS_FILE = "customers.csv"
BUNDLE_FILES = (NODES_FILE, DEVICES_FILE, CUSTOMERS_FILE)

COLUMNS: dict[str, tuple[str, ...]] = {
    NODES_FILE: ("node_id", "kind", "name"),
    DEVICES_FILE: ("device_id", "kind", "from_node", "to_node", "normal_state", "name"),
    CUSTOMERS_FILE: ("account_id", "name", "node_id", "voltage_kv", "category"),
}
DEVICE_KINDS = ("line", "switch", "breaker", "fuse", "disconnector", "transformer")
NORMAL_STATES = ("closed", "open")
CUSTOMER_CATEGORIES = ("residential", "commercial", "industrial", "important")

# Column widths of the tables the rows are written to.
ID_MAX_LENGTH = 64
KIND_MAX_LENGTH = 32
NAME_MAX_LENGTH = 200
MAX_LISTED_ERRORS = 50

Row = dict[str, Any]


@dataclass(frozen=True)
class RowError:
    """One thing wrong with one row; ``field`` is None when the row as a whole is wrong."""

    file: str
    row: int
    field: str | None
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "row": self.row, "field": self.field, "message": self.message}


class ErrorLog:
    """Counts every error and keeps the first ``limit`` to report."""

    def __init__(self, limit: int = MAX_LISTED_ERRORS) -> None:
        self.limit = limit
        self.listed: list[RowError] = []
        self.total = 0

    def add(self, error: RowError) -> None:
        self.total += 1
        if len(self.listed) < self.limit:
            self.listed.append(error)

    def __bool__(self) -> bool:
        return self.total > 0


class BundleChanged(RuntimeError):
    """A file failed a check on the second reading that it passed on the first."""

    def __init__(self, error: RowError) -> None:
        super().__init__(messages.BUNDLE_CHANGED.format(file=error.file))
        self.error = error


def check_bundle(
    files: Mapping[str, Iterable[bytes]], builder: NetworkBuilder, errors: ErrorLog
) -> None:
    """Check every row of the three files in order, feeding the valid ones to ``builder``."""
    nodes = _Table(NODES_FILE, files[NODES_FILE], errors)
    for line, row in _typed_rows(nodes):
        try:
            builder.add_node(row["node_id"], row["kind"], row["name"])
        except RowRejected as rejected:
            errors.add(RowError(NODES_FILE, line, rejected.field, rejected.message))
    # Without a readable nodes.csv every reference would look unknown and bury the one error
    # that matters; the other files are then checked for their own content only.
    linked = nodes.readable
    for line, row in _typed_rows(_Table(DEVICES_FILE, files[DEVICES_FILE], errors)):
        if not linked:
            continue
        try:
            builder.add_device(
                row["device_id"],
                row["from_node"],
                row["to_node"],
                normally_closed=row["normal_state"] == "closed",
                kind=row["kind"],
                name=row["name"],
            )
        except RowRejected as rejected:
            errors.add(RowError(DEVICES_FILE, line, rejected.field, rejected.message))
    for line, row in _typed_rows(_Table(CUSTOMERS_FILE, files[CUSTOMERS_FILE], errors)):
        if not linked:
            continue
        try:
            builder.add_customer(row["account_id"], row["node_id"])
        except RowRejected as rejected:
            errors.add(RowError(CUSTOMERS_FILE, line, rejected.field, rejected.message))


def bundle_rows(file: str, raw_lines: Iterable[bytes]) -> Iterator[Row]:
    """The rows of a file that :func:`check_bundle` accepted, typed for the database."""
    errors = ErrorLog(limit=1)
    for _line, row in _typed_rows(_Table(file, raw_lines, errors)):
        yield row
    if errors:
        raise BundleChanged(errors.listed[0])


class _NotUtf8(Exception):
    def __init__(self, line: int) -> None:
        self.line = line


class _Table:
    """The records of one file with their line numbers, after the encoding, header and width
    checks; ``readable`` turns False when the header is missing or wrong."""

    def __init__(self, file: str, raw_lines: Iterable[bytes], errors: ErrorLog) -> None:
        self.file = file
        self.columns = COLUMNS[file]
        self.errors = errors
        self.readable = True
        self._raw_lines = raw_lines
        self._lines_read = 0

    def error(self, line: int, field: str | None, message: str) -> None:
        self.errors.add(RowError(self.file, line, field, message))

    def records(self) -> Iterator[tuple[int, dict[str, str]]]:
        reader = csv.reader(self._text_lines())
        end = 0
        try:
            header = next(reader, None)
            if header is None:
                self.readable = False
                self.error(1, None, messages.CSV_EMPTY)
                return
            if [column.strip() for column in header] != list(self.columns):
                self.readable = False
                self.error(
                    1,
                    None,
                    messages.CSV_HEADER.format(
                        expected=",".join(self.columns), actual=",".join(header)
                    ),
                )
                return
            end = reader.line_num
            for record in reader:
                # line_num counts physical lines, so a record with a quoted line break spans
                # several; it is reported at the line it starts on.
                line, end = end + 1, reader.line_num
                if not any(value.strip() for value in record):
                    continue
                if len(record) != len(self.columns):
                    self.error(
                        line,
                        None,
                        messages.CSV_COLUMNS.format(expected=len(self.columns), actual=len(record)),
                    )
                    continue
                yield (
                    line,
                    {
                        column: value.strip()
                        for column, value in zip(self.columns, record, strict=True)
                    },
                )
        except _NotUtf8 as failure:
            self.error(failure.line, None, messages.CSV_NOT_UTF8)
        except csv.Error as failure:
            self.error(end + 1, None, messages.CSV_MALFORMED.format(error=failure))

    def _text_lines(self) -> Iterator[str]:
        # Decoded line by line, not through a text wrapper, so that a file saved in GBK is
        # reported at the exact line of its first non-UTF-8 character.
        for raw in self._raw_lines:
            self._lines_read += 1
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise _NotUtf8(self._lines_read) from None
            yield text.removeprefix("\ufeff") if self._lines_read == 1 else text


class _Fields:
    """Checks of one record's fields; every failure is logged and clears ``ok``."""

    def __init__(self, table: _Table, line: int, values: dict[str, str]) -> None:
        self.table = table
        self.line = line
        self.values = values
        self.ok = True

    def fail(self, column: str, message: str) -> None:
        self.ok = False
        self.table.error(self.line, column, message)

    def text(self, column: str, limit: int, *, required: bool = True) -> str:
        value = self.values[column]
        if required and not value:
            self.fail(column, messages.REQUIRED)
        elif len(value) > limit:
            self.fail(column, messages.TOO_LONG.format(limit=limit))
        return value

    def choice(self, column: str, allowed: tuple[str, ...]) -> str:
        value = self.values[column]
        if not value:
            self.fail(column, messages.REQUIRED)
        elif value not in allowed:
            self.fail(column, messages.NOT_ONE_OF.format(value=value, allowed="|".join(allowed)))
        return value

    def positive_number(self, column: str) -> float:
        value = self.values[column]
        if not value:
            self.fail(column, messages.REQUIRED)
            return 0.0
        try:
            number = float(value)
        except ValueError:
            self.fail(column, messages.NOT_A_NUMBER.format(value=value))
            return 0.0
        if not math.isfinite(number):
            self.fail(column, messages.NOT_A_NUMBER.format(value=value))
        elif number <= 0:
            self.fail(column, messages.NOT_POSITIVE)
        return number


def _node(fields: _Fields) -> Row:
    return {
        "node_id": fields.text("node_id", ID_MAX_LENGTH),
        "kind": fields.text("kind", KIND_MAX_LENGTH),
        "name": fields.text("name", NAME_MAX_LENGTH, required=False),
    }


def _device(fields: _Fields) -> Row:
    return {
        "device_id": fields.text("device_id", ID_MAX_LENGTH),
        "kind": fields.choice("kind", DEVICE_KINDS),
        "from_node": fields.text("from_node", ID_MAX_LENGTH),
        "to_node": fields.text("to_node", ID_MAX_LENGTH),
        "normal_state": fields.choice("normal_state", NORMAL_STATES),
        "name": fields.text("name", NAME_MAX_LENGTH, required=False),
    }


def _customer(fields: _Fields) -> Row:
    return {
        "account_id": fields.text("account_id", ID_MAX_LENGTH),
        "name": fields.text("name", NAME_MAX_LENGTH),
        "node_id": fields.text("node_id", ID_MAX_LENGTH),
        "voltage_kv": fields.positive_number("voltage_kv"),
        "category": fields.choice("category", CUSTOMER_CATEGORIES),
    }


_ROW_TYPES: dict[str, Callable[[_Fields], Row]] = {
    NODES_FILE: _node,
    DEVICES_FILE: _device,
    CUSTOMERS_FILE: _customer,
}


def _typed_rows(table: _Table) -> Iterator[tuple[int, Row]]:
    typed = _ROW_TYPES[table.file]
    for line, values in table.records():
        fields = _Fields(table, line, values)
        row = typed(fields)
        if fields.ok:
            yield line, row
