"""Run a callback once the caller's transaction has committed, and never if it rolls back."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession


def call_after_commit(session: AsyncSession, callback: Callable[[], None]) -> None:
    """Call ``callback`` after the session's next commit.

    Event handlers run inside the consumer's transaction; waking the sender from the handler
    itself would let it look for the new messages before they are visible.
    """

    def _committed(_session: object) -> None:
        callback()

    event.listen(session.sync_session, "after_commit", _committed, once=True)
