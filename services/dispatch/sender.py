"""The sender: the background loop that hands queued messages to their channel's gateway.

Each round it claims a batch of due messages (``queued`` → ``sending``, committed before any
provider is called, so a crash leaves a trace instead of a silent resend), calls the gateways
concurrently, and records each outcome in its own short transaction. Messages whose outcome is
unknown, and claims abandoned by a crashed or stalled sender, are settled by asking the
provider. Replicas may run side by side: claims skip each other's rows and every result is
fenced by its claim's token.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence

from services.dispatch import usecases
from services.dispatch.config import DispatchSettings
from services.dispatch.domain.messages import ClaimedMessage
from services.dispatch.domain.outcomes import (
    Decision,
    MarkFailed,
    decide_after_lookup,
    decide_after_submit,
)
from services.dispatch.domain.retry import RetryPolicy
from services.dispatch.domain.segments import count_parts, displayed_text
from services.dispatch.ports import ChannelGateway
from shared.timeutil import utcnow
from shared.uow import UnitOfWorkFactory

log = logging.getLogger(__name__)


class Sender:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        gateways: Mapping[str, ChannelGateway],
        composer: usecases.Composer,
        settings: DispatchSettings,
    ) -> None:
        self._uow = uow_factory
        self._gateways = gateways
        self._composer = composer
        self._settings = settings
        self._policy = RetryPolicy(
            base_s=settings.retry_base_s,
            max_s=settings.retry_max_s,
            max_attempts=settings.max_send_attempts,
        )
        self._random = random.Random()
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
                    uow, claimer=self._settings.instance_name, now=utcnow()
                )
                await uow.commit()
            while True:
                self._wake.clear()
                if await self.run_once():
                    continue
                self.idle.set()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._settings.poll_interval_s):
                        await self._wake.wait()
                self.idle.clear()

    async def run_once(self) -> bool:
        """One round of checks and sends; True if there was anything to do."""
        checked = await self._check_unknown()
        sent = await self._send_due()
        return bool(checked or sent)

    async def _send_due(self) -> int:
        async with self._uow() as uow:
            claimed = await usecases.claim_for_sending(
                uow,
                claimer=self._settings.instance_name,
                now=utcnow(),
                limit=self._settings.send_batch_size,
                lease_s=self._settings.claim_lease_s,
            )
            await uow.commit()
        if claimed:
            await self._each(claimed, self._send_one, "sent")
        return len(claimed)

    async def _check_unknown(self) -> int:
        async with self._uow() as uow:
            claimed = await usecases.claim_for_checking(
                uow,
                claimer=self._settings.instance_name,
                now=utcnow(),
                limit=self._settings.send_batch_size,
                lease_s=self._settings.claim_lease_s,
            )
            await uow.commit()
        if claimed:
            await self._each(claimed, self._check_one, "checked")
        return len(claimed)

    async def _each(
        self,
        batch: Sequence[ClaimedMessage],
        handle: Callable[[ClaimedMessage], Awaitable[Decision]],
        label: str,
    ) -> None:
        limit = asyncio.Semaphore(self._settings.send_concurrency)
        outcomes: Counter[str] = Counter()

        async def guarded(message: ClaimedMessage) -> None:
            async with limit:
                try:
                    decision = await handle(message)
                    if await self._record(message, decision):
                        outcomes[type(decision).__name__] += 1
                    else:
                        outcomes["claim lost"] += 1
                except Exception:
                    # The message stays claimed until its lease runs out and is then settled
                    # by asking the provider; one bad message must not stop the batch.
                    log.exception("%s: message %s failed", label, message.message_id)
                    outcomes["error"] += 1

        await asyncio.gather(*(guarded(m) for m in batch))
        log.info(
            "%s %s %d messages: %s", self._settings.instance_name, label, len(batch), dict(outcomes)
        )

    def _estimated_parts(self, message: ClaimedMessage) -> int:
        return count_parts(displayed_text(message.sign_name, message.text))

    async def _send_one(self, message: ClaimedMessage) -> Decision:
        gateway = self._gateways.get(message.channel)
        if gateway is None:
            return MarkFailed(usecases.NO_CHANNEL.format(channel=message.channel))
        outcome = await gateway.submit(message)
        return decide_after_submit(
            outcome,
            attempts=message.attempts,
            estimated_parts=self._estimated_parts(message),
            policy=self._policy,
            settle_delay_s=self._settings.settle_delay_s,
            now=utcnow(),
            draw=self._random.random(),
        )

    async def _check_one(self, message: ClaimedMessage) -> Decision:
        gateway = self._gateways.get(message.channel)
        if gateway is None:
            return MarkFailed(usecases.NO_CHANNEL.format(channel=message.channel))
        outcome = await gateway.lookup(message)
        return decide_after_lookup(
            outcome,
            attempts=message.attempts,
            checks=message.checks,
            estimated_parts=self._estimated_parts(message),
            policy=self._policy,
            now=utcnow(),
            draw=self._random.random(),
        )

    async def _record(self, message: ClaimedMessage, decision: Decision) -> bool:
        async with self._uow() as uow:
            recorded = await usecases.record_decision(
                uow, message, decision, self._composer, now=utcnow()
            )
            await uow.commit()
        return recorded
