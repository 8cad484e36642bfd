"""What dispatch needs from a channel provider, whatever the channel.

SMS is the first channel; voice calls, door slips, posted notices, WeChat and app push become
further implementations of :class:`ChannelGateway`, registered under their channel name, and
the sender, the retry rules and the exactly-once bookkeeping stay as they are.
"""

from __future__ import annotations

from types import TracebackType
from typing import Protocol, Self

from services.dispatch.domain.messages import ClaimedMessage
from services.dispatch.domain.outcomes import LookupOutcome, SubmitOutcome


class ChannelGateway(Protocol):
    """A provider of one channel. Opened for as long as the sender runs."""

    channel: str

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

    async def lookup(self, message: ClaimedMessage) -> LookupOutcome:
        """Ask whether the provider received the message. Never raises."""
        ...
