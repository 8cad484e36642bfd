"""The sender: the background loop that hands due messages to their channel's gateway.

Each round it fans out the follow-ups that came due (reminders), settles messages whose
outcome is unknown, and sends a batch of due messages:

* the batch is claimed (``queued`` → ``sending``) and committed before any provider is
  called, so a crash leaves a trace instead of a silent resend;
* calls run concurrently, grouped into the provider's batch requests where it has them, each
  provider behind its rate limit and circuit breaker (an open breaker's channel is not even
  claimed; a call it stops is put back without counting as an attempt);
* outcomes are written as they come, many per transaction, each fenced by its claim's token.

Messages whose outcome is unknown, and claims abandoned by a crashed or stalled sender, are
settled by asking the provider. Replicas may run side by side: claims skip each other's rows.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timedelta

from services.dispatch import usecases
from services.dispatch.clock import Clock
from services.dispatch.config import DispatchSettings
from services.dispatch.domain.flow import CircuitBreaker, TokenBucket
from services.dispatch.domain.messages import ClaimedMessage
from services.dispatch.domain.outcomes import (
    Decision,
    LookupOutcome,
    Requeue,
    SubmitOutcome,
    decide_after_lookup,
    decide_after_submit,
    provider_health,
)
from services.dispatch.domain.retry import RetryPolicy
from services.dispatch.domain.timing import after_quiet_hours, next_day_start
from services.dispatch.ports import ChannelGateway
from shared.uow import UnitOfWorkFactory

log = logging.getLogger(__name__)


Outcome = tuple[ClaimedMessage, Decision]

CIRCUIT_OPEN = "circuit_open: {channel}通道连续失败，暂停调用"
LEASE_SPENT = "lease_spent: 限速等待超过认领期限，未调用，重新排队"
SCHEDULE_BATCH = 50


class _Recorder:
    """Writes call outcomes as they arrive, up to ``batch`` per transaction."""

    def __init__(
        self, write: Callable[[list[Outcome]], Awaitable[int]], batch: int, label: str
    ) -> None:
        self._write = write
        self._batch = batch
        self._label = label
        self._queue: asyncio.Queue[Outcome | None] = asyncio.Queue()
        self.recorded = 0
        self.lost = 0
        self._task = asyncio.create_task(self._run(), name=f"dispatch-recorder-{label}")

    def put(self, items: Sequence[Outcome]) -> None:
        for item in items:
            self._queue.put_nowait(item)

    async def close(self) -> None:
        self._queue.put_nowait(None)
        await self._task

    async def _run(self) -> None:
        done = False
        while not done:
            first = await self._queue.get()
            if first is None:
                return
            chunk = [first]
            while len(chunk) < self._batch and not self._queue.empty():
                item = self._queue.get_nowait()
                if item is None:
                    done = True
                    break
                chunk.append(item)
            try:
                written = await self._write(chunk)
            except Exception:
                # The messages stay claimed until their lease runs out and are then settled
                # by asking the provider; one failed write must not stop the batch.
                log.exception("%s: writing %d outcomes failed", self._label, len(chunk))
                continue
            self.recorded += written
            self.lost += len(chunk) - written


class Sender:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        gateways: Mapping[str, ChannelGateway],
        composer: usecases.Composer,
        settings: DispatchSettings,
        clock: Clock,
    ) -> None:
        self._uow = uow_factory
        self._gateways = gateways
        self._composer = composer
        self._settings = settings
        self._clock = clock
        self._policy = RetryPolicy(
            base_s=settings.retry_base_s,
            max_s=settings.retry_max_s,
            max_attempts=settings.max_send_attempts,
        )
        self._buckets = {
            channel: TokenBucket(settings.rate_limits.get(channel, 0.0)) for channel in gateways
        }
        self.breakers = {
            channel: CircuitBreaker(settings.breaker_failures, settings.breaker_cooldown_s)
            for channel in gateways
        }
        self._random = random.Random()
        # Claimed batches being sent: the next batch is claimed while earlier ones are still
        # in their provider calls, so neither the database nor the provider waits for the other.
        self._in_flight: set[asyncio.Task[None]] = set()
        # Provider calls in flight, over all batches.
        self._calls = asyncio.Semaphore(settings.send_concurrency)
        self._wake = asyncio.Event()
        # Set while the sender waits for work, i.e. nothing it could send now is left.
        self.idle = asyncio.Event()

    def wake(self) -> None:
        """Look for due messages now rather than at the next poll (after a commit that queued)."""
        self._wake.set()

    async def run(self) -> None:
        """Send until cancelled; the gateways stay open meanwhile."""
        async with contextlib.AsyncExitStack() as stack:
            for gateway in self._gateways.values():
                await stack.enter_async_context(gateway)
            async with self._uow() as uow:
                await usecases.recover_abandoned_sends(
                    uow, claimer=self._settings.instance_name, now=self._clock()
                )
                await uow.commit()
            try:
                while True:
                    self._wake.clear()
                    if await self.run_once(wait=False):
                        continue
                    await self._drain()
                    self.idle.set()
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(self._settings.poll_interval_s):
                            await self._wake.wait()
                    self.idle.clear()
            finally:
                # Stopping abandons the calls in flight, as a crash would; their messages
                # are settled by asking the provider when a sender starts again.
                for task in self._in_flight:
                    task.cancel()
                await asyncio.gather(*self._in_flight, return_exceptions=True)

    async def run_once(self, *, wait: bool = True) -> bool:
        """One round of schedules, checks and sends; True if there was anything to do.

        ``wait``: return only once the batch claimed is sent and recorded (tests); the loop
        instead claims the next batch while this one is being sent.
        """
        scheduled = await self._run_schedules()
        checked = await self._check_unknown()
        sent = await self._send_due()
        if wait:
            await self._drain()
        return bool(scheduled or checked or sent)

    async def _drain(self) -> None:
        while self._in_flight:
            await asyncio.wait(set(self._in_flight))

    def _open_channels(self) -> frozenset[str]:
        now = time.monotonic()
        return frozenset(
            channel for channel, breaker in self.breakers.items() if breaker.reopens_in(now) == 0
        )

    async def _run_schedules(self) -> int:
        async with self._uow() as uow:
            queued = await usecases.run_due_schedules(
                uow, self._composer, now=self._clock(), limit=SCHEDULE_BATCH
            )
            await uow.commit()
        return queued

    async def _send_due(self) -> int:
        settings = self._settings
        while len(self._in_flight) >= settings.send_pipeline:
            await asyncio.wait(set(self._in_flight), return_when=asyncio.FIRST_COMPLETED)
        limits = usecases.ClaimLimits(
            self._open_channels(),
            dict(settings.daily_caps),
            dict(settings.rate_limits),
            # Half the lease: what a claim takes at the channel's rate ends well within it.
            window_s=settings.claim_lease_s / 2,
        )
        async with self._uow() as uow:
            claimed = await usecases.claim_for_sending(
                uow,
                self._composer,
                limits,
                claimer=self._settings.instance_name,
                now=self._clock(),
                limit=self._settings.send_batch_size,
                lease_s=self._settings.claim_lease_s,
            )
            await uow.commit()
        if claimed:
            task = asyncio.create_task(
                self._each(claimed, self._send_unit, "sent", batched=True), name="dispatch-batch"
            )
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)
        return len(claimed)

    async def _check_unknown(self) -> int:
        async with self._uow() as uow:
            claimed = await usecases.claim_for_checking(
                uow,
                self._open_channels(),
                claimer=self._settings.instance_name,
                now=self._clock(),
                limit=self._settings.send_batch_size,
                lease_s=self._settings.claim_lease_s,
            )
            await uow.commit()
        if claimed:
            await self._each(claimed, self._check_unit, "checked", batched=False)
        return len(claimed)

    def _units(
        self, batch: Sequence[ClaimedMessage], *, batched: bool
    ) -> list[list[ClaimedMessage]]:
        """The calls to make: a provider's batch requests where it has them, else singles."""
        by_channel: dict[str, list[ClaimedMessage]] = {}
        for message in batch:
            by_channel.setdefault(message.channel, []).append(message)
        units: list[list[ClaimedMessage]] = []
        for channel, messages in by_channel.items():
            gateway = self._gateways.get(channel)
            size = gateway.max_batch if gateway is not None and batched else 1
            units.extend(messages[i : i + size] for i in range(0, len(messages), size))
        return units

    async def _each(
        self,
        batch: Sequence[ClaimedMessage],
        handle: Callable[[list[ClaimedMessage], float], Awaitable[list[Outcome]]],
        label: str,
        *,
        batched: bool,
    ) -> None:
        limit = self._calls
        outcomes: Counter[str] = Counter()
        recorder = _Recorder(self._record, self._settings.record_batch_size, label)
        # A call must end before the claim's lease does, or another sender could take the
        # message over while the call is still going.
        deadline = (
            time.monotonic() + self._settings.claim_lease_s - self._settings.provider_timeout_s
        )

        async def guarded(unit: list[ClaimedMessage]) -> None:
            async with limit:
                try:
                    decided = await handle(unit, deadline)
                except Exception:
                    # The messages stay claimed until their lease runs out and are then
                    # settled by asking the provider; one bad call must not stop the batch.
                    log.exception("%s: a call for %d messages failed", label, len(unit))
                    outcomes["error"] += len(unit)
                    return
                for _, decision in decided:
                    outcomes[type(decision).__name__] += 1
                recorder.put(decided)

        try:
            await asyncio.gather(*(guarded(u) for u in self._units(batch, batched=batched)))
        finally:
            await recorder.close()
        if recorder.lost:
            outcomes["claim lost"] = recorder.lost
        log.info(
            "%s %s %d messages: %s", self._settings.instance_name, label, len(batch), dict(outcomes)
        )

    async def _admit(
        self, channel: str, unit: list[ClaimedMessage], deadline: float
    ) -> list[Outcome] | None:
        """Wait for the rate limit; None to go ahead, or the unit put back untouched."""
        breaker = self.breakers[channel]
        now = time.monotonic()
        if not breaker.allows(now):
            at = self._clock() + timedelta(seconds=max(breaker.reopens_in(now), 1.0))
            reason = CIRCUIT_OPEN.format(channel=channel)
            return [(m, Requeue(at, reason, refund_attempt=True)) for m in unit]
        wait_s = self._buckets[channel].reserve(now, len(unit))
        if now + wait_s > deadline:
            return [(m, Requeue(self._clock(), LEASE_SPENT, refund_attempt=True)) for m in unit]
        if wait_s > 0:
            await asyncio.sleep(wait_s)
        return None

    def _observe(self, channel: str, outcomes: Sequence[SubmitOutcome | LookupOutcome]) -> None:
        breaker = self.breakers[channel]
        health = [provider_health(o) for o in outcomes]
        if False in health:
            breaker.failed(time.monotonic())
        elif True in health:
            breaker.succeeded()

    @staticmethod
    def _estimated_parts(message: ClaimedMessage) -> int:
        """Parts as counted when the message was composed, for providers that do not say."""
        return message.parts

    def _cap_resets_at(self, now: datetime) -> datetime:
        tz = self._settings.timezone
        return after_quiet_hours(
            next_day_start(now, tz), self._composer.policy.timing.quiet_hours, tz
        )

    async def _send_unit(self, unit: list[ClaimedMessage], deadline: float) -> list[Outcome]:
        channel = unit[0].channel
        gateway = self._gateways[channel]
        held_back = await self._admit(channel, unit, deadline)
        if held_back is not None:
            return held_back
        if len(unit) == 1:
            outcomes = [await gateway.submit(unit[0])]
        else:
            outcomes = await gateway.submit_many(unit)
        self._observe(channel, outcomes)
        now = self._clock()
        return [
            (
                message,
                decide_after_submit(
                    outcome,
                    attempts=message.attempts,
                    estimated_parts=self._estimated_parts(message),
                    policy=self._policy,
                    settle_delay_s=self._settings.settle_delay_s,
                    now=now,
                    draw=self._random.random(),
                    cap_resets_at=self._cap_resets_at(now),
                    can_lookup=gateway.can_lookup,
                ),
            )
            for message, outcome in zip(unit, outcomes, strict=True)
        ]

    async def _check_unit(self, unit: list[ClaimedMessage], deadline: float) -> list[Outcome]:
        decided: list[Outcome] = []
        for message in unit:
            gateway = self._gateways[message.channel]
            outcome = await gateway.lookup(message)
            self._observe(message.channel, [outcome])
            decided.append(
                (
                    message,
                    decide_after_lookup(
                        outcome,
                        attempts=message.attempts,
                        checks=message.checks,
                        estimated_parts=self._estimated_parts(message),
                        policy=self._policy,
                        now=self._clock(),
                        draw=self._random.random(),
                        can_lookup=gateway.can_lookup,
                    ),
                )
            )
        return decided

    async def _record(self, outcomes: list[Outcome]) -> int:
        async with self._uow() as uow:
            recorded = await usecases.record_decisions(
                uow, outcomes, self._composer, now=self._clock()
            )
            await uow.commit()
        return recorded
