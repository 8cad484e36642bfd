"""Reads and writes of the receipts tables, in the session of the caller's unit of work."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.receipts.adapters.db import (
    approved_lists,
    cancellations,
    deliveries,
    notices,
    receipts,
)
from services.receipts.domain.coverage import NoticeOutcome, Submission, TargetList
from services.receipts.domain.status import ReceiptStatus
from shared.db import upsert_ignore
from shared.timeutil import ensure_aware


class ReceiptsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add_receipts(self, rows: list[dict[str, Any]]) -> set[str]:
        """Insert the receipts not stored yet; return the report keys that were new."""
        return await self._insert_new(receipts, rows, receipts.c.report_key)

    async def create_deliveries(self, rows: list[dict[str, Any]]) -> set[str]:
        """Insert delivery states for messages that have none; return their message ids."""
        return await self._insert_new(deliveries, rows, deliveries.c.message_id)

    async def lock_deliveries(self, message_ids: Collection[str]) -> dict[str, ReceiptStatus]:
        """Current delivery states, locked until commit so concurrent reports apply in turn."""
        if not message_ids:
            return {}
        query = (
            select(deliveries.c.message_id, deliveries.c.status)
            .where(deliveries.c.message_id.in_(message_ids))
            .order_by(deliveries.c.message_id)
            .with_for_update()
        )
        rows = (await self.session.execute(query)).all()
        return {row.message_id: ReceiptStatus(row.status) for row in rows}

    async def update_delivery(self, message_id: str, values: dict[str, Any]) -> None:
        await self.session.execute(
            update(deliveries).where(deliveries.c.message_id == message_id).values(values)
        )

    async def outage_ids(self, message_ids: Collection[str]) -> dict[str, str]:
        """The outage of each message whose notice is known."""
        if not message_ids:
            return {}
        query = select(notices.c.message_id, notices.c.outage_id).where(
            notices.c.message_id.in_(message_ids)
        )
        return {row.message_id: row.outage_id for row in (await self.session.execute(query))}

    async def add_notice(self, row: dict[str, Any]) -> bool:
        """Insert a notice; False if one with this message id is already stored."""
        return bool(await self._insert_new(notices, [row], notices.c.message_id))

    async def update_notice(self, message_id: str, values: dict[str, Any]) -> None:
        await self.session.execute(
            update(notices).where(notices.c.message_id == message_id).values(values)
        )

    async def add_approved_list(self, row: dict[str, Any]) -> None:
        await self.session.execute(upsert_ignore(self.session, approved_lists, row))

    async def add_cancellation(self, row: dict[str, Any]) -> None:
        await self.session.execute(upsert_ignore(self.session, cancellations, row))

    async def outage_known(self, outage_id: str) -> bool:
        """Whether any list, notice or cancellation of ``outage_id`` has reached us."""
        query = select(
            or_(
                exists().where(approved_lists.c.outage_id == outage_id),
                exists().where(notices.c.outage_id == outage_id),
                exists().where(cancellations.c.outage_id == outage_id),
            )
        )
        return bool((await self.session.execute(query)).scalar())

    async def newest_list(self, outage_id: str) -> TargetList | None:
        query = (
            select(approved_lists)
            .where(approved_lists.c.outage_id == outage_id)
            .order_by(approved_lists.c.version.desc())
            .limit(1)
        )
        row = (await self.session.execute(query)).first()
        if row is None:
            return None
        return TargetList(
            version=row.version,
            account_count=row.account_count,
            recipients=row.recipients,
            account_ids=frozenset(row.account_ids),
        )

    async def notice_outcomes(self, outage_id: str) -> list[NoticeOutcome]:
        query = (
            select(
                notices.c.message_id,
                notices.c.notice_kind,
                notices.c.account_ids,
                notices.c.submission,
                deliveries.c.status,
            )
            .select_from(
                notices.outerjoin(deliveries, deliveries.c.message_id == notices.c.message_id)
            )
            .where(notices.c.outage_id == outage_id)
        )
        return [
            NoticeOutcome(
                message_id=row.message_id,
                notice_kind=row.notice_kind,
                account_ids=tuple(row.account_ids),
                submission=Submission(row.submission),
                delivery=ReceiptStatus(row.status) if row.status else None,
            )
            for row in await self.session.execute(query)
        ]

    async def cancelled_at(self, outage_id: str) -> datetime | None:
        query = select(cancellations.c.cancelled_at).where(cancellations.c.outage_id == outage_id)
        cancelled_at = (await self.session.execute(query)).scalar()
        return ensure_aware(cancelled_at) if cancelled_at is not None else None

    async def _insert_new(
        self, table: Any, rows: list[dict[str, Any]], key_column: Any
    ) -> set[str]:
        if not rows:
            return set()
        statement = upsert_ignore(self.session, table, rows).returning(key_column)
        return set((await self.session.execute(statement)).scalars())
