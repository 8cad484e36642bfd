"""Unit of work: one transaction that carries a state change and the events it emits."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from types import TracebackType
from typing import Self

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import Database, upsert_ignore
from shared.events import Envelope, Event, encode
from shared.outbox import inbox_table, outbox_table
from shared.timeutil import utcnow
from shared.tracing import current_traceparent


class UnitOfWork:
    """``async with uow: …; await uow.commit()`` — rolls back unless committed.

    Events given to :meth:`emit` are written to the outbox inside the same transaction, so they
    exist exactly when the state change does.
    """

    def __init__(
        self, db: Database, source: str, on_events_committed: Callable[[], None] | None = None
    ) -> None:
        self.db = db
        self.source = source
        self._on_events_committed = on_events_committed
        self._pending: list[Envelope] = []
        self._session: AsyncSession | None = None

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("UnitOfWork used outside 'async with'")
        return self._session

    async def __aenter__(self) -> Self:
        self._session = self.db.session()
        self._pending = []
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session = self.session
        try:
            await session.rollback()
        finally:
            await session.close()
            self._session = None

    def emit(self, event: Event) -> Envelope:
        envelope = Envelope.wrap(event, self.source, current_traceparent())
        self._pending.append(envelope)
        return envelope

    async def claim(self, consumer: str, event_id: uuid.UUID) -> bool:
        """Record that ``consumer`` handles ``event_id``; False if it already did (redelivery)."""
        statement = upsert_ignore(
            self.session,
            inbox_table,
            {"consumer": consumer, "event_id": str(event_id), "handled_at": utcnow()},
        )
        result = await self.session.execute(statement)
        return bool(result.rowcount)  # type: ignore[attr-defined]  # CursorResult at runtime

    async def commit(self) -> None:
        session = self.session
        emitted = bool(self._pending)
        if emitted:
            now = utcnow()
            await session.execute(
                insert(outbox_table),
                [
                    {
                        "event_id": str(e.id),
                        "topic": e.type,
                        "key": e.subject,
                        "payload": encode(e).decode(),
                        "created_at": now,
                    }
                    for e in self._pending
                ],
            )
            self._pending = []
        await session.commit()
        if emitted and self._on_events_committed is not None:
            self._on_events_committed()


UnitOfWorkFactory = Callable[[], UnitOfWork]
