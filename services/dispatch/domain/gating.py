"""Which due messages may be handed to their provider now, and what waits for later.

Quiet hours are applied by the claim query itself (a message subject to them is not even
selected at night). What remains is judged per message, in the order they were selected:

* a notice, reminder or new time of a cancelled outage is stopped (its cancellation may have
  committed after the message was queued), and so is one of an outage whose work has ended;
* one worded for times a reschedule has replaced (it was in a provider call when the new
  times came, and then not accepted) is stopped as stale, for the caller to word anew;
* a person's call window defers the message to the window's next opening;
* a number that reached its carrier's daily cap waits until the next day, counted before the
  call because carriers count every submission, whatever becomes of it;
* a channel slower than the batch (a voice platform, a group robot) takes what its rate
  allows during the claim's lease, and the rest is spaced out at that rate, so it neither
  outlives its claim nor holds up the other channels' messages behind it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from services.dispatch.domain.messages import ANNOUNCING, NoticeKind
from services.dispatch.domain.timing import next_day_start, within_call_window

OUTAGE_CANCELLED = "outage_cancelled: 停电计划已取消，通知未发出"
OUTAGE_COMPLETED = "outage_completed: 停电工作已结束，通知未发出"
STALE = "rescheduled: 停电时间已变更，已按新时间重新生成"
CALL_WINDOW = "call_window: 联系人登记的联系时段为{earliest}-{latest}，顺延至该时段"
DAILY_CAP = "daily_cap: 该号码今日已达{cap}条通知上限（运营商限制），顺延至次日"
PACED = "paced: {channel}通道限速每秒{rate:g}条，排队发送"


@dataclass(frozen=True)
class DueMessage:
    """A selected due message and what the gates need to know about it."""

    message_id: str
    notice_kind: NoticeKind
    channel: str
    address: str
    call_earliest: time | None
    call_latest: time | None
    outage_cancelled: bool
    outage_completed: bool
    stale: bool = False


@dataclass
class GateResult:
    send: list[str] = field(default_factory=list)
    stop: dict[str, str] = field(default_factory=dict)
    defer: dict[str, tuple[datetime, str]] = field(default_factory=dict)
    # Per (channel, address): messages counted against today's cap by this claim.
    counted: Counter[tuple[str, str]] = field(default_factory=Counter)


def gate(
    due: Sequence[DueMessage],
    *,
    sent_today: Mapping[tuple[str, str], int],
    caps: Mapping[str, int],
    now: datetime,
    timezone: str,
    rates: Mapping[str, float] | None = None,
    window_s: float = 0.0,
) -> GateResult:
    """Split ``due`` into messages to send now, to stop and to defer (with the reason).

    ``rates`` (messages per second per channel) and ``window_s`` (how long a claim may
    take) bound what one claim sends per channel.
    """
    result = GateResult()
    rates = rates or {}
    taken: Counter[str] = Counter()
    for message in due:
        if message.notice_kind in ANNOUNCING and message.outage_cancelled:
            result.stop[message.message_id] = OUTAGE_CANCELLED
            continue
        if message.notice_kind in ANNOUNCING and message.outage_completed:
            result.stop[message.message_id] = OUTAGE_COMPLETED
            continue
        if message.notice_kind in ANNOUNCING and message.stale:
            result.stop[message.message_id] = STALE
            continue
        opening = within_call_window(now, message.call_earliest, message.call_latest, timezone)
        if opening != now:
            result.defer[message.message_id] = (
                opening,
                CALL_WINDOW.format(
                    earliest=_hhmm(message.call_earliest, "00:00"),
                    latest=_hhmm(message.call_latest, "24:00"),
                ),
            )
            continue
        cap = caps.get(message.channel, 0)
        key = (message.channel, message.address)
        if cap > 0 and sent_today.get(key, 0) + result.counted[key] >= cap:
            result.defer[message.message_id] = (
                next_day_start(now, timezone),
                DAILY_CAP.format(cap=cap),
            )
            continue
        rate = rates.get(message.channel, 0.0)
        if rate > 0:
            quota = max(1, int(rate * window_s))
            taken[message.channel] += 1
            beyond = taken[message.channel] - quota
            if beyond > 0:
                result.defer[message.message_id] = (
                    now + timedelta(seconds=beyond / rate),
                    PACED.format(channel=message.channel, rate=rate),
                )
                continue
        if cap > 0:
            result.counted[key] += 1
        result.send.append(message.message_id)
    return result


def _hhmm(value: time | None, open_end: str) -> str:
    return value.strftime("%H:%M") if value is not None else open_end
