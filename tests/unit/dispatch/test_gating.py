"""Which due messages go now: cancelled outages stop, call windows and daily caps defer."""

from datetime import UTC, datetime, time, timedelta

from services.dispatch.domain.gating import (
    CALL_WINDOW,
    DAILY_CAP,
    OUTAGE_CANCELLED,
    OUTAGE_COMPLETED,
    PACED,
    DueMessage,
    gate,
)
from services.dispatch.domain.messages import NoticeKind

NOON = datetime(2026, 3, 1, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai
MIDNIGHT = datetime(2026, 3, 1, 16, 0, tzinfo=UTC)  # the next local midnight


def due(
    message_id: str,
    *,
    kind: NoticeKind = NoticeKind.NOTICE,
    channel: str = "sms",
    address: str = "+8613800000001",
    window: tuple[time | None, time | None] = (None, None),
    cancelled: bool = False,
    completed: bool = False,
) -> DueMessage:
    return DueMessage(message_id, kind, channel, address, *window, cancelled, completed)


def run(messages: list[DueMessage], sent_today: dict | None = None, caps: dict | None = None):
    return gate(
        messages,
        sent_today=sent_today or {},
        caps=caps or {},
        now=NOON,
        timezone="Asia/Shanghai",
    )


def test_announcements_of_a_cancelled_outage_stop_but_its_cancellations_go():
    result = run(
        [
            due("n", cancelled=True),
            due("r", kind=NoticeKind.REMINDER, cancelled=True),
            due("c", kind=NoticeKind.CANCELLATION, cancelled=True),
        ]
    )
    assert result.stop == {"n": OUTAGE_CANCELLED, "r": OUTAGE_CANCELLED}
    assert result.send == ["c"]


def test_announcements_after_the_work_ended_stop_but_the_restoration_goes():
    result = run([due("n", completed=True), due("x", kind=NoticeKind.RESTORATION, completed=True)])
    assert result.stop == {"n": OUTAGE_COMPLETED}
    assert result.send == ["x"]


def test_a_contact_reachable_only_in_the_evening_is_deferred_to_the_window():
    result = run([due("n", window=(time(18, 0), time(21, 0)))])
    at, reason = result.defer["n"]
    assert at == datetime(2026, 3, 1, 10, 0, tzinfo=UTC)  # 18:00 local
    assert reason == CALL_WINDOW.format(earliest="18:00", latest="21:00")
    assert result.send == []


def test_a_number_at_its_daily_cap_waits_for_tomorrow_and_the_batch_counts_too():
    phone = "+8613800000001"
    messages = [
        due("a", address=phone),
        due("b", address=phone),
        due("c", address="+8613900000002"),
    ]
    result = run(messages, sent_today={("sms", phone): 39}, caps={"sms": 40})
    assert result.send == ["a", "c"]
    assert result.defer["b"] == (MIDNIGHT, DAILY_CAP.format(cap=40))
    assert result.counted == {("sms", phone): 1, ("sms", "+8613900000002"): 1}


def test_channels_without_a_cap_are_not_counted():
    result = run([due("a", channel="door_slip", address="A1")], caps={"sms": 40})
    assert result.send == ["a"]
    assert not result.counted


def test_a_slow_channel_takes_what_its_rate_allows_and_the_rest_is_spaced_out():
    calls = [due(f"v{i}", channel="voice", address=f"+861380000000{i}") for i in range(5)]
    texts = [due("s", channel="sms")]
    result = gate(
        [*calls, *texts],
        sent_today={},
        caps={},
        now=NOON,
        timezone="Asia/Shanghai",
        rates={"voice": 2.0, "sms": 500.0},
        window_s=1.0,
    )
    assert result.send == ["v0", "v1", "s"]
    assert [result.defer[f"v{i}"][0] for i in (2, 3, 4)] == [
        NOON + timedelta(seconds=0.5),
        NOON + timedelta(seconds=1.0),
        NOON + timedelta(seconds=1.5),
    ]
    assert result.defer["v2"][1] == PACED.format(channel="voice", rate=2.0)
