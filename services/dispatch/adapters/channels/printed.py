"""Printed channels: door-to-door slips, posted notices and the newspaper digest.

Handing such a message over means putting it on the print list: the PDFs dispatch serves
(``/v1/outages/{id}/documents/…``, ``/v1/newspaper/{date}.pdf``) are drawn from the messages
in this state, so field staff and the press office print exactly what was recorded as sent,
once. Whether a slip was signed or a notice posted comes back through receipts.
"""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Self

from services.dispatch.domain.messages import ClaimedMessage
from services.dispatch.domain.outcomes import Accepted, LookupOutcome, Received, SubmitOutcome


class PrintQueue:
    can_lookup = True
    max_batch = 1

    def __init__(self, channel: str) -> None:
        self.channel = channel

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    @staticmethod
    def print_id(message: ClaimedMessage) -> str:
        return f"print:{message.message_id}"

    async def submit(self, message: ClaimedMessage) -> SubmitOutcome:
        return Accepted(self.print_id(message), 1)

    async def submit_many(self, messages: list[ClaimedMessage]) -> list[SubmitOutcome]:
        return list(await asyncio.gather(*(self.submit(m) for m in messages)))

    async def lookup(self, message: ClaimedMessage) -> LookupOutcome:
        return Received(self.print_id(message))
