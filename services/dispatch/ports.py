"""What dispatch needs from a channel provider, whatever the channel.

Every channel (SMS, voice, WeChat Work robots, app push, and the printed door slips, posted
notices and newspaper digest) is an implementation of :class:`ChannelGateway`, registered
under its channel name; the sender, the retry rules and the exactly-once bookkeeping are the
same for all of them.
"""

from __future__ import annotations

from types import TracebackType
from typing import Protocol, Self

from services.dispatch.domain.messages import ClaimedMessage
from services.dispatch.domain.outcomes import LookupOutcome, SubmitOutcome


class ChannelGateway(Protocol):
    """A provider of one channel. Opened for as long as the sender runs.

    ``can_lookup``: the provider can be asked whether it received a message (if not, a
    message in doubt waits for a dispatcher). ``max_batch``: messages per
    :meth:`submit_many` call the provider takes in one request.
    """

    channel: str
    can_lookup: bool
    max_batch: int

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def submit(self, message: ClaimedMessage) -> SubmitOutcome:
        """Hand the message over. Never raises: every failure is one of the outcomes."""
        ...

    async def submit_many(self, messages: list[ClaimedMessage]) -> list[SubmitOutcome]:
        """Hand several messages over; one outcome each, in order. Never raises."""
        ...

    async def lookup(self, message: ClaimedMessage) -> LookupOutcome:
        """Ask whether the provider received the message. Never raises."""
        ...
