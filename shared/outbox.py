"""Transactional outbox and inbox.

A service never publishes directly: it writes the events it emits into ``outbox`` in the same
transaction as the state change they describe (see :class:`shared.uow.UnitOfWork`), and the
:class:`OutboxRelay` publishes them afterwards. A crash between commit and publish therefore
delays an event but never loses it; a crash between publish and marking it sent publishes it
twice, which consumers absorb through ``inbox`` (one row per consumer and event id).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    delete,
    select,
    update,
)

from shared.bus import Bus, Message
from shared.db import NAMING_CONVENTION, Database
from shared.observability import OUTBOX_PUBLISHED
from shared.timeutil import utcnow

log = logging.getLogger(__name__)

messaging_metadata = MetaData(naming_convention=NAMING_CONVENTION)

outbox_table = Table(
    "outbox",
    messaging_metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("topic", String(200), nullable=False),
    Column("key", String(200), nullable=True),
    Column("payload", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("published_at", DateTime(timezone=True), nullable=True),
)
Index(
    "ix_outbox_unpublished",
    outbox_table.c.id,
    postgresql_where=outbox_table.c.published_at.is_(None),
)

inbox_table = Table(
    "inbox",
    messaging_metadata,
    Column("consumer", String(100), primary_key=True),
    Column("event_id", String(36), primary_key=True),
    Column("handled_at", DateTime(timezone=True), nullable=False),
)


class OutboxRelay:
    """Publishes unpublished outbox rows in id order, then marks them published."""

    def __init__(
        self,
        db: Database,
        bus: Bus,
        *,
        poll_interval_s: float = 0.5,
        batch_size: int = 500,
        keep_published: timedelta = timedelta(days=7),
    ) -> None:
        self.db = db
        self.bus = bus
        self.poll_interval_s = poll_interval_s
        self.batch_size = batch_size
        self.keep_published = keep_published
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        """Called after a commit that wrote events, so they go out without waiting for a poll."""
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"outbox-relay-{self.db.schema}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def publish_pending(self) -> int:
        """Publish one batch; return how many rows went out."""
        table = outbox_table
        async with self.db.session() as session, session.begin():
            query = (
                select(table.c.id, table.c.topic, table.c.key, table.c.payload)
                .where(table.c.published_at.is_(None))
                .order_by(table.c.id)
                .limit(self.batch_size)
            )
            if self.db.is_postgres:
                # Several replicas may relay the same outbox; SKIP LOCKED lets each take rows
                # the others are not publishing, while id order keeps each key's order.
                query = query.with_for_update(skip_locked=True)
            rows = (await session.execute(query)).all()
            if not rows:
                return 0
            await self.bus.publish(
                [
                    Message(
                        topic=r.topic,
                        key=r.key,
                        value=r.payload.encode(),
                        headers={"content-type": "application/cloudevents+json"},
                    )
                    for r in rows
                ]
            )
            await session.execute(
                update(table)
                .where(table.c.id.in_([r.id for r in rows]))
                .values(published_at=utcnow())
            )
        OUTBOX_PUBLISHED.labels(self.db.schema).inc(len(rows))
        return len(rows)

    async def purge_published(self) -> None:
        cutoff = utcnow() - self.keep_published
        async with self.db.session() as session, session.begin():
            await session.execute(delete(outbox_table).where(outbox_table.c.published_at < cutoff))

    async def _run(self) -> None:
        backoff = self.poll_interval_s
        polls = 0
        while True:
            try:
                published = await self.publish_pending()
                backoff = self.poll_interval_s
            except Exception:
                log.exception("outbox relay failed; retrying in %.1fs", backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 30.0)
                continue
            if published:
                continue
            polls += 1
            if polls % 10_000 == 0:
                await self.purge_published()
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.poll_interval_s):
                    await self._wake.wait()
