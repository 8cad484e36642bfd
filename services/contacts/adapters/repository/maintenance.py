"""The maintenance worklist, and what the registry scan looks for."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Row,
    and_,
    exists,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from services.contacts.adapters.db import (
    accounts,
    area_contacts,
    contacts,
    maintenance_items,
    maintenance_scans,
)
from services.contacts.adapters.repository.rows import (
    ACCOUNT_COLUMNS,
    CONTACT_COLUMNS,
    USABLE,
    account_of,
    area_contact_of,
    aware,
    chunked,
    contact_of,
)
from services.contacts.domain.maintenance import (
    ItemKind,
    ItemStatus,
    MaintenanceItem,
    Outcome,
    WorkItem,
)
from services.contacts.domain.phones import NumberType
from services.contacts.domain.registry import (
    Account,
    AreaContact,
    Contact,
)
from shared.db import upsert_ignore
from shared.timeutil import ensure_aware


class MaintenanceRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def open_items(self, items: Sequence[WorkItem], opened_by: str, now: datetime) -> int:
        """Open the items not already open; how many were new."""
        opened = 0
        for chunk in chunked(items, 1000):
            result = await self.session.execute(
                upsert_ignore(
                    self.session,
                    maintenance_items,
                    [
                        {
                            "kind": item.kind.value,
                            "status": ItemStatus.OPEN.value,
                            "key": item.key,
                            "detail": item.detail,
                            "account_id": item.account_id,
                            "area_id": item.area_id,
                            "contact_id": item.contact_id,
                            "area_contact_id": item.area_contact_id,
                            "phone": item.phone,
                            "account_ids": list(item.account_ids),
                            "opened_at": now,
                            "opened_by": opened_by,
                        }
                        for item in chunk
                    ],
                )
            )
            opened += int(result.rowcount)  # type: ignore[attr-defined]  # CursorResult
        return opened

    async def recently_closed_keys(self, keys: Collection[str], since: datetime) -> set[str]:
        found: set[str] = set()
        for chunk in chunked(sorted(keys)):
            result = await self.session.execute(
                select(maintenance_items.c.key).where(
                    maintenance_items.c.key.in_(chunk),
                    maintenance_items.c.status == ItemStatus.CLOSED.value,
                    maintenance_items.c.closed_at >= since,
                )
            )
            found.update(result.scalars())
        return found

    async def open_keys(self, kinds: Collection[ItemKind]) -> dict[str, int]:
        result = await self.session.execute(
            select(maintenance_items.c.key, maintenance_items.c.id).where(
                maintenance_items.c.kind.in_([k.value for k in kinds]),
                maintenance_items.c.status != ItemStatus.CLOSED.value,
            )
        )
        return {row.key: row.id for row in result}

    async def resolve(self, item_ids: Sequence[int], note: str, now: datetime) -> None:
        for chunk in chunked(item_ids):
            await self.session.execute(
                update(maintenance_items)
                .where(
                    maintenance_items.c.id.in_(chunk),
                    maintenance_items.c.status != ItemStatus.CLOSED.value,
                )
                .values(
                    status=ItemStatus.CLOSED.value,
                    outcome=Outcome.RESOLVED.value,
                    closed_at=now,
                    closed_by="system",
                    note=note,
                )
            )

    async def record_scan(
        self, started_at: datetime, finished_at: datetime, opened: int, resolved: int
    ) -> None:
        await self.session.execute(
            insert(maintenance_scans).values(
                started_at=started_at, finished_at=finished_at, opened=opened, resolved=resolved
            )
        )

    async def last_scan(self) -> datetime | None:
        value = (
            await self.session.execute(select(func.max(maintenance_scans.c.started_at)))
        ).scalar_one_or_none()
        return ensure_aware(value) if value is not None else None

    async def items(
        self,
        *,
        kind: ItemKind | None,
        status: ItemStatus | None,
        assignee: str | None,
        account_id: str | None,
        limit: int,
        offset: int,
    ) -> tuple[int, list[MaintenanceItem]]:
        conditions = []
        if kind is not None:
            conditions.append(maintenance_items.c.kind == kind.value)
        if status is not None:
            conditions.append(maintenance_items.c.status == status.value)
        else:
            conditions.append(maintenance_items.c.status != ItemStatus.CLOSED.value)
        if assignee is not None:
            conditions.append(maintenance_items.c.assignee == assignee)
        if account_id is not None:
            conditions.append(maintenance_items.c.account_id == account_id)
        where = and_(*conditions)
        total = (
            await self.session.execute(
                select(func.count()).select_from(maintenance_items).where(where)
            )
        ).scalar_one()
        rows = await self.session.execute(
            select(maintenance_items)
            .where(where)
            .order_by(maintenance_items.c.id)
            .limit(limit)
            .offset(offset)
        )
        return int(total), [_item(row) for row in rows]

    async def item(self, item_id: int) -> MaintenanceItem | None:
        row = (
            await self.session.execute(
                select(maintenance_items).where(maintenance_items.c.id == item_id)
            )
        ).first()
        return _item(row) if row is not None else None

    async def item_by_key(self, key: str) -> MaintenanceItem | None:
        """The open item of a finding, if any."""
        row = (
            await self.session.execute(
                select(maintenance_items).where(
                    maintenance_items.c.key == key,
                    maintenance_items.c.status != ItemStatus.CLOSED.value,
                )
            )
        ).first()
        return _item(row) if row is not None else None

    async def assign(self, item_id: int, assignee: str, now: datetime) -> bool:
        result = await self.session.execute(
            update(maintenance_items)
            .where(
                maintenance_items.c.id == item_id,
                maintenance_items.c.status != ItemStatus.CLOSED.value,
            )
            .values(status=ItemStatus.ASSIGNED.value, assignee=assignee, assigned_at=now)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]  # CursorResult at runtime

    async def close(
        self, item_id: int, outcome: Outcome, note: str, closed_by: str, now: datetime
    ) -> bool:
        result = await self.session.execute(
            update(maintenance_items)
            .where(
                maintenance_items.c.id == item_id,
                maintenance_items.c.status != ItemStatus.CLOSED.value,
            )
            .values(
                status=ItemStatus.CLOSED.value,
                outcome=outcome.value,
                note=note,
                closed_by=closed_by,
                closed_at=now,
            )
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]  # CursorResult at runtime

    # What the scan looks for.

    async def accounts_without_mobile(self) -> list[tuple[str, str]]:
        usable_mobile = exists().where(
            contacts.c.account_id == accounts.c.account_id,
            contacts.c.retired_at.is_(None),
            contacts.c.number_type == NumberType.MOBILE.value,
            contacts.c.status.in_(USABLE),
        )
        result = await self.session.execute(
            select(accounts.c.account_id, accounts.c.name)
            .where(~usable_mobile)
            .order_by(accounts.c.account_id)
        )
        return [(row.account_id, row.name) for row in result]

    async def unverified_contacts(self, cutoff: datetime) -> list[tuple[Contact, datetime]]:
        """Active contacts whose last confirmation (or registration) is older than ``cutoff``."""
        since = func.coalesce(contacts.c.last_verified_at, contacts.c.created_at)
        result = await self.session.execute(
            select(*CONTACT_COLUMNS, since.label("since"))
            .where(contacts.c.retired_at.is_(None), since < cutoff)
            .order_by(contacts.c.id)
        )
        return [(contact_of(row), ensure_aware(row.since)) for row in result]

    async def unverified_area_contacts(
        self, cutoff: datetime
    ) -> list[tuple[AreaContact, datetime]]:
        since = func.coalesce(area_contacts.c.last_verified_at, area_contacts.c.created_at)
        result = await self.session.execute(
            select(area_contacts, since.label("since"))
            .where(area_contacts.c.retired_at.is_(None), since < cutoff)
            .order_by(area_contacts.c.id)
        )
        return [(area_contact_of(row), ensure_aware(row.since)) for row in result]

    async def shared_numbers(self, min_accounts: int) -> dict[str, list[str]]:
        """Numbers that are the active contact of at least ``min_accounts`` accounts."""
        shared = (
            select(contacts.c.phone_e164)
            .where(contacts.c.retired_at.is_(None), contacts.c.phone_e164.is_not(None))
            .group_by(contacts.c.phone_e164)
            .having(func.count(func.distinct(contacts.c.account_id)) >= min_accounts)
        )
        result = await self.session.execute(
            select(contacts.c.phone_e164, contacts.c.account_id)
            .where(contacts.c.retired_at.is_(None), contacts.c.phone_e164.in_(shared))
            .distinct()
            .order_by(contacts.c.phone_e164, contacts.c.account_id)
        )
        found: dict[str, list[str]] = defaultdict(list)
        for row in result:
            found[row.phone_e164].append(row.account_id)
        return dict(found)

    async def invalid_numbers(self) -> tuple[list[Contact], list[AreaContact]]:
        invalid = NumberType.INVALID.value
        people = await self.session.execute(
            select(*CONTACT_COLUMNS)
            .where(contacts.c.retired_at.is_(None), contacts.c.number_type == invalid)
            .order_by(contacts.c.id)
        )
        area_people = await self.session.execute(
            select(area_contacts)
            .where(area_contacts.c.retired_at.is_(None), area_contacts.c.number_type == invalid)
            .order_by(area_contacts.c.id)
        )
        return [contact_of(r) for r in people], [area_contact_of(r) for r in area_people]

    async def transfers_pending(self) -> list[Account]:
        result = await self.session.execute(
            select(*ACCOUNT_COLUMNS)
            .where(accounts.c.transfer_pending_since.is_not(None))
            .order_by(accounts.c.account_id)
        )
        return [account_of(row) for row in result]


def _item(row: Row[Any]) -> MaintenanceItem:
    return MaintenanceItem(
        item_id=row.id,
        kind=ItemKind(row.kind),
        status=ItemStatus(row.status),
        key=row.key,
        detail=row.detail,
        opened_at=ensure_aware(row.opened_at),
        opened_by=row.opened_by,
        account_id=row.account_id,
        area_id=row.area_id,
        contact_id=row.contact_id,
        area_contact_id=row.area_contact_id,
        phone=row.phone,
        account_ids=tuple(row.account_ids),
        assignee=row.assignee,
        assigned_at=aware(row.assigned_at),
        closed_at=aware(row.closed_at),
        closed_by=row.closed_by,
        outcome=Outcome(row.outcome) if row.outcome else None,
        note=row.note,
    )
