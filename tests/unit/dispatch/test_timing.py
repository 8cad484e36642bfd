"""When messages may go: quiet hours, call windows, first notice, reminder, lead time."""

from datetime import UTC, datetime, time, timedelta

import pytest

from services.dispatch.domain.messages import NoticeKind
from services.dispatch.domain.timing import (
    after_quiet_hours,
    check_lead_time,
    first_notice_at,
    in_quiet_hours,
    next_day_start,
    reminder_at,
    subject_to_quiet_hours,
    within_call_window,
)
from shared.channel_policy import ChannelPolicy, QuietHours, load_policy, parse_policy

TZ = "Asia/Shanghai"
QUIET = QuietHours(start="22:00", end="07:00")


def shanghai(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment given in Shanghai local time (UTC+8), as an aware UTC datetime."""
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC) - timedelta(hours=8)


@pytest.fixture(scope="module")
def policy() -> ChannelPolicy:
    return load_policy()


@pytest.mark.parametrize(
    ("moment", "quiet"),
    [
        (shanghai(1, 21, 59), False),
        (shanghai(1, 22, 0), True),
        (shanghai(2, 3, 0), True),
        (shanghai(2, 6, 59), True),
        (shanghai(2, 7, 0), False),
        (shanghai(2, 12, 0), False),
    ],
)
def test_quiet_hours_run_from_22_to_7_local_time(moment, quiet):
    assert in_quiet_hours(moment, QUIET, TZ) is quiet


def test_a_message_due_at_night_waits_until_seven_the_next_morning():
    assert after_quiet_hours(shanghai(1, 23, 30), QUIET, TZ) == shanghai(2, 7, 0)
    assert after_quiet_hours(shanghai(2, 1, 0), QUIET, TZ) == shanghai(2, 7, 0)
    assert after_quiet_hours(shanghai(2, 9, 0), QUIET, TZ) == shanghai(2, 9, 0)


def test_equal_start_and_end_means_no_quiet_hours():
    assert not in_quiet_hours(shanghai(1, 23, 0), QuietHours(start="00:00", end="00:00"), TZ)


def test_a_call_window_defers_to_its_next_opening():
    morning, evening = time(8, 0), time(20, 0)
    assert within_call_window(shanghai(1, 12), morning, evening, TZ) == shanghai(1, 12)
    assert within_call_window(shanghai(1, 21), morning, evening, TZ) == shanghai(2, 8)
    assert within_call_window(shanghai(1, 6), morning, evening, TZ) == shanghai(1, 8)
    assert within_call_window(shanghai(1, 6), None, None, TZ) == shanghai(1, 6)
    # A window over midnight (night-shift staff).
    assert within_call_window(shanghai(1, 23), time(22, 0), time(6, 0), TZ) == shanghai(1, 23)
    assert within_call_window(shanghai(1, 12), time(22, 0), time(6, 0), TZ) == shanghai(1, 22)


def quiet_for(policy, *, channel="sms", kind=NoticeKind.NOTICE, outage="planned", hours=48.0):
    now = shanghai(1, 23)
    return subject_to_quiet_hours(
        policy,
        channel=channel,
        notice_kind=kind,
        outage_kind=outage,
        starts_at=now + timedelta(hours=hours),
        now=now,
    )


def test_sms_and_calls_keep_quiet_hours_but_printed_channels_do_not(policy):
    assert quiet_for(policy, channel="sms")
    assert quiet_for(policy, channel="voice")
    assert not quiet_for(policy, channel="door_slip")
    assert not quiet_for(policy, channel="wechat")


def test_emergencies_and_load_shedding_ignore_quiet_hours(policy):
    assert not quiet_for(policy, outage="emergency")
    assert not quiet_for(policy, outage="load_shedding")


def test_a_correction_close_to_the_start_ignores_quiet_hours_a_distant_one_does_not(policy):
    assert not quiet_for(policy, kind=NoticeKind.CANCELLATION, hours=10)
    assert not quiet_for(policy, kind=NoticeKind.RESCHEDULE, hours=24)
    assert quiet_for(policy, kind=NoticeKind.CANCELLATION, hours=30)
    assert quiet_for(policy, kind=NoticeKind.REMINDER, hours=10)


def with_timing(**timing: object) -> ChannelPolicy:
    data = load_policy().model_dump(mode="json")
    data["timing"].update(timing)
    return parse_policy(data)


def test_the_first_notice_goes_on_approval_unless_the_policy_says_how_long_before():
    start = shanghai(20, 8)
    now = shanghai(1, 10)
    assert first_notice_at(load_policy(), "planned", start, now) == now
    week_before = with_timing(first_notice_before="P7D")
    assert first_notice_at(week_before, "planned", start, now) == start - timedelta(days=7)
    # Approved late: at once. An emergency never waits.
    assert first_notice_at(week_before, "planned", start, shanghai(18, 9)) == shanghai(18, 9)
    assert first_notice_at(week_before, "emergency", start, now) == now


def test_the_reminder_is_due_the_day_before_at_ten(policy):
    start = shanghai(5, 8)
    assert reminder_at(policy, "planned", start, shanghai(1, 10), TZ) == shanghai(4, 10)


def test_no_reminder_when_it_would_not_follow_the_first_notice_or_for_emergencies(policy):
    start = shanghai(5, 8)
    assert reminder_at(policy, "planned", start, shanghai(4, 11), TZ) is None
    assert reminder_at(policy, "emergency", start, shanghai(1, 10), TZ) is None


def test_a_planned_outage_announced_four_days_ahead_misses_the_seven_day_lead_time(policy):
    check = check_lead_time(policy, "planned", shanghai(5, 8), shanghai(1, 8))
    assert check.required == timedelta(days=7)
    assert check.given == timedelta(days=4)
    assert not check.met
    assert check.short_by == timedelta(days=3)
    temporary = check_lead_time(policy, "temporary", shanghai(5, 8), shanghai(1, 8))
    assert temporary.met
    assert temporary.short_by == timedelta(0)


def test_the_daily_cap_starts_again_at_local_midnight():
    assert next_day_start(shanghai(1, 23, 30), TZ) == shanghai(2, 0)
    assert next_day_start(shanghai(2, 0, 30), TZ) == shanghai(3, 0)
