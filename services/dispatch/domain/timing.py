"""When a message may go out: first notice, reminder, quiet hours, call windows, lead time.

All judged in the service's local time (Asia/Shanghai by default) from the channel policy's
``timing`` and ``kinds`` sections; every function takes ``now`` rather than reading a clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from services.dispatch.domain.messages import CORRECTIONS, NoticeKind
from shared.channel_policy import (
    ChannelPolicy,
    QuietHours,
    lead_time,
    quiet_hours_exempt,
    reminder_enabled,
)
from shared.events.catalog import OutageKind


def _in_window(clock: time, start: time, end: time) -> bool:
    """Whether a time of day lies in [start, end); a window may run over midnight."""
    if start == end:
        return False
    if start < end:
        return start <= clock < end
    return clock >= start or clock < end


def _next_local(moment: datetime, at: time, tz: ZoneInfo) -> datetime:
    """The first moment at or after ``moment`` whose local time of day is ``at``."""
    here = moment.astimezone(tz)
    candidate = datetime.combine(here.date(), at, tz)
    if candidate < here:
        candidate = datetime.combine(here.date() + timedelta(days=1), at, tz)
    # In UTC, like every stored time: SQLite keeps a datetime's wall clock, not its offset.
    return candidate.astimezone(UTC)


def in_quiet_hours(moment: datetime, quiet: QuietHours, timezone: str) -> bool:
    clock = moment.astimezone(ZoneInfo(timezone)).time()
    return _in_window(clock, quiet.start_time, quiet.end_time)


def after_quiet_hours(moment: datetime, quiet: QuietHours, timezone: str) -> datetime:
    """``moment`` itself, or the end of the quiet hours it falls in."""
    if not in_quiet_hours(moment, quiet, timezone):
        return moment
    return _next_local(moment, quiet.end_time, ZoneInfo(timezone))


def within_call_window(
    moment: datetime, earliest: time | None, latest: time | None, timezone: str
) -> datetime:
    """``moment``, or the next opening of the person's call window [earliest, latest]."""
    if earliest is None and latest is None:
        return moment
    tz = ZoneInfo(timezone)
    start = earliest or time(0, 0)
    end = latest or time(23, 59, 59)
    clock = moment.astimezone(tz).time()
    if start <= end:
        if start <= clock <= end:
            return moment
    elif clock >= start or clock <= end:
        return moment
    return _next_local(moment, start, tz)


def subject_to_quiet_hours(
    policy: ChannelPolicy,
    *,
    channel: str,
    notice_kind: NoticeKind,
    outage_kind: OutageKind,
    starts_at: datetime,
    now: datetime,
) -> bool:
    """Whether quiet hours hold this message back.

    Printed and posted channels wake nobody; emergency kinds go at once; a cancellation or a
    new time close to the start must reach people before they act on the old plan.
    """
    if channel not in policy.timing.quiet_channels:
        return False
    if quiet_hours_exempt(policy, outage_kind):
        return False
    return not (
        notice_kind in CORRECTIONS and starts_at - now <= policy.timing.urgent_cancellation_within
    )


def first_notice_at(
    policy: ChannelPolicy, outage_kind: OutageKind, starts_at: datetime, now: datetime
) -> datetime:
    """When the first notice is due: on approval, or ``first_notice_before`` the start.

    Kinds without a lead time (emergencies, load shedding) always go at once.
    """
    before = policy.timing.first_notice_before
    if before is None or lead_time(policy, outage_kind) == timedelta(0):
        return now
    return max(now, starts_at - before)


def reminder_at(
    policy: ChannelPolicy,
    outage_kind: OutageKind,
    starts_at: datetime,
    first_at: datetime,
    timezone: str,
) -> datetime | None:
    """The reminder's time (``reminder_days_before`` at ``reminder_at``), or None when the
    kind has none or it would not fall between the first notice and the start."""
    if not reminder_enabled(policy, outage_kind):
        return None
    tz = ZoneInfo(timezone)
    day = starts_at.astimezone(tz).date() - timedelta(days=policy.timing.reminder_days_before)
    moment = datetime.combine(day, policy.timing.reminder_time, tz).astimezone(UTC)
    if moment <= first_at or moment >= starts_at:
        return None
    return moment


def next_day_start(moment: datetime, timezone: str) -> datetime:
    """Local midnight after ``moment``: when a per-number daily cap starts again."""
    tz = ZoneInfo(timezone)
    midnight = datetime.combine(moment.astimezone(tz).date() + timedelta(days=1), time(0, 0), tz)
    return midnight.astimezone(UTC)


def local_day(moment: datetime, timezone: str) -> date:
    return moment.astimezone(ZoneInfo(timezone)).date()


@dataclass(frozen=True)
class LeadTimeCheck:
    """Whether the first notice comes early enough before the start (the legal lead time)."""

    required: timedelta
    first_notice_at: datetime
    starts_at: datetime

    @property
    def given(self) -> timedelta:
        return self.starts_at - self.first_notice_at

    @property
    def met(self) -> bool:
        # Without a lead time (an emergency) the notice is on time even after the start.
        return self.required == timedelta(0) or self.given >= self.required

    @property
    def short_by(self) -> timedelta:
        return timedelta(0) if self.met else self.required - self.given


def check_lead_time(
    policy: ChannelPolicy, outage_kind: OutageKind, starts_at: datetime, first_at: datetime
) -> LeadTimeCheck:
    return LeadTimeCheck(lead_time(policy, outage_kind), first_at, starts_at)
