"""What the printed documents say: door slips, posted notices and the newspaper digest.

Pure: they are laid out from the messages recorded as handed to print, so a document shows
exactly what dispatch counts as sent. The PDF adapter only draws these models.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from services.dispatch.domain.messages import Message, NoticeKind
from services.dispatch.domain.rendering import OUTAGE_KIND_LABELS, format_period

SLIP_TITLES = {
    NoticeKind.NOTICE: "停电通知单",
    NoticeKind.CANCELLATION: "停电取消通知单",
    NoticeKind.RESCHEDULE: "停电时间变更通知单",
}
POSTED_TITLES = {
    NoticeKind.NOTICE: "停电公告",
    NoticeKind.CANCELLATION: "停电取消公告",
    NoticeKind.RESCHEDULE: "停电时间变更公告",
}
NO_DISTRICT = "其他地区"


@dataclass(frozen=True)
class Letterhead:
    company: str
    hotline: str
    timezone: str


@dataclass(frozen=True)
class Sheet:
    """One page: a door slip (with its tear-off receipt) or a posted notice."""

    title: str
    kind_label: str
    reference: str
    heading_rows: list[tuple[str, str]]
    body: str
    table_rows: list[tuple[str, str]]
    issued: str
    receipt_rows: list[tuple[str, str]]


def _period(message: Message, timezone: str) -> str:
    start, end = format_period(message.details.starts_at, message.details.ends_at, timezone)
    return f"{start}至{end}"


def _issued(message: Message, timezone: str) -> str:
    moment = (message.submitted_at or message.created_at).astimezone(ZoneInfo(timezone))
    return f"{moment.year}年{moment.month}月{moment.day}日"


def door_slip(message: Message, letterhead: Letterhead) -> Sheet:
    """A slip per account, and below the cut line the receipt the customer signs."""
    names = "、".join(message.account_names) or message.contact_name
    accounts = "、".join(message.account_ids) or message.address
    return Sheet(
        title=SLIP_TITLES[message.notice_kind],
        kind_label=OUTAGE_KIND_LABELS[message.details.kind],
        reference=message.message_id,
        heading_rows=[
            ("户号", accounts),
            ("户名", names),
            ("用电地址", message.location or "—"),
        ],
        body=message.text,
        table_rows=[
            ("停电时间", _period(message, letterhead.timezone)),
            ("停电范围", message.details.area or "—"),
            ("停电原因", message.details.work),
            ("咨询电话", letterhead.hotline),
        ],
        issued=f"{letterhead.company}　{_issued(message, letterhead.timezone)}",
        receipt_rows=[
            ("户号", accounts),
            ("户名", names),
            (
                "通知",
                f"{SLIP_TITLES[message.notice_kind]}（{_period(message, letterhead.timezone)}）",
            ),
            ("通知编号", message.message_id),
        ],
    )


def posted_notice(message: Message, letterhead: Letterhead) -> Sheet:
    """A notice for a transformer area's board: time window, area, reason, hotline."""
    return Sheet(
        title=POSTED_TITLES[message.notice_kind],
        kind_label=OUTAGE_KIND_LABELS[message.details.kind],
        reference=message.message_id,
        heading_rows=[("台区", message.contact_name or message.address)],
        body=message.text,
        table_rows=[
            ("停电时间", _period(message, letterhead.timezone)),
            ("停电范围", message.details.area or message.contact_name),
            ("停电原因", message.details.work),
            ("咨询电话", letterhead.hotline),
        ],
        issued=f"{letterhead.company}　{_issued(message, letterhead.timezone)}",
        receipt_rows=[],
    )


@dataclass(frozen=True)
class DigestEntry:
    period: str
    area: str
    work: str
    kind_label: str
    starts_at: datetime


@dataclass(frozen=True)
class Digest:
    day: date
    newspaper: str
    districts: list[tuple[str, list[DigestEntry]]]
    corrections: list[str]


def newspaper_digest(
    messages: Sequence[Message], day: date, newspaper: str, timezone: str
) -> Digest:
    """A day's outages by district, and the corrections of outages cancelled or moved.

    Per outage the newest word counts: a cancellation takes it out and says so; a new time
    says so and keeps it listed (with the new time) only if it still falls on this day.
    """
    by_outage: dict[str, list[Message]] = {}
    for message in messages:
        by_outage.setdefault(message.outage_id, []).append(message)
    listed: dict[str, list[DigestEntry]] = {}
    corrections: list[str] = []
    for found in by_outage.values():
        found.sort(key=lambda m: (m.revision, m.created_at))
        cancellations = [m for m in found if m.notice_kind is NoticeKind.CANCELLATION]
        corrections.extend(m.text for m in found if m.notice_kind is NoticeKind.RESCHEDULE)
        if cancellations:
            corrections.append(cancellations[-1].text)
            continue
        latest = found[-1]
        details = latest.details
        if details.starts_at.astimezone(ZoneInfo(timezone)).date() != day:
            continue
        start, end = format_period(details.starts_at, details.ends_at, timezone)
        listed.setdefault(details.district or NO_DISTRICT, []).append(
            DigestEntry(
                period=f"{start}至{end}",
                area=details.area or "—",
                work=details.work,
                kind_label=OUTAGE_KIND_LABELS[details.kind],
                starts_at=details.starts_at,
            )
        )
    districts = [
        (district, sorted(entries, key=lambda e: (e.starts_at, e.area)))
        for district, entries in sorted(
            listed.items(), key=lambda item: (item[0] == NO_DISTRICT, item[0])
        )
    ]
    return Digest(day, newspaper, districts, corrections)
