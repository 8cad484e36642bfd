"""Accounts, contacts, areas and the change history."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator, Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Row,
    bindparam,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from services.contacts.adapters.db import (
    accounts,
    area_contacts,
    area_nodes,
    area_subscriptions,
    areas,
    contact_history,
    contacts,
)
from services.contacts.adapters.repository.rows import (
    ACCOUNT_COLUMNS,
    CHUNK_SIZE,
    CONTACT_COLUMNS,
    account_fields,
    account_of,
    area_contact_of,
    chunked,
    contact_of,
    reachable_fields,
    value_of,
    window_fields,
)
from services.contacts.domain.changes import HistoryAction, HistoryEntry, Subject
from services.contacts.domain.imports import NewContact
from services.contacts.domain.registry import (
    Account,
    Area,
    AreaContact,
    AreaKind,
    AreaSubscription,
    Contact,
    SubscriptionChannel,
)
from shared.db import upsert_ignore
from shared.timeutil import ensure_aware


class RegistryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def registered_account_ids(self, account_ids: Collection[str]) -> set[str]:
        found: set[str] = set()
        for chunk in chunked(sorted(account_ids)):
            result = await self.session.execute(
                select(accounts.c.account_id).where(accounts.c.account_id.in_(chunk))
            )
            found.update(result.scalars())
        return found

    async def accounts(self, account_ids: Collection[str]) -> dict[str, Account]:
        found: dict[str, Account] = {}
        for chunk in chunked(sorted(account_ids)):
            result = await self.session.execute(
                select(*ACCOUNT_COLUMNS).where(accounts.c.account_id.in_(chunk))
            )
            found.update((row[0], account_of(row)) for row in result.all())
        return found

    async def account(self, account_id: str) -> Account | None:
        return (await self.accounts([account_id])).get(account_id)

    async def contacts_of(
        self, account_ids: Collection[str], *, include_retired: bool = False
    ) -> dict[str, list[Contact]]:
        """The contacts of each account, in no particular order (sorting 40,000 rows of a big
        list in SQL costs more than every caller sorting its few)."""
        found: dict[str, list[Contact]] = defaultdict(list)
        for chunk in chunked(sorted(account_ids)):
            query = select(*CONTACT_COLUMNS).where(contacts.c.account_id.in_(chunk))
            if not include_retired:
                query = query.where(contacts.c.retired_at.is_(None))
            for row in (await self.session.execute(query)).all():
                found[row[1]].append(contact_of(row))
        return dict(found)

    async def contact(self, contact_id: int) -> Contact | None:
        row = (
            await self.session.execute(select(*CONTACT_COLUMNS).where(contacts.c.id == contact_id))
        ).first()
        return contact_of(row) if row is not None else None

    async def contacts_with_phone(self, e164: str) -> list[Contact]:
        result = await self.session.execute(
            select(*CONTACT_COLUMNS)
            .where(contacts.c.phone_e164 == e164, contacts.c.retired_at.is_(None))
            .order_by(contacts.c.id)
        )
        return [contact_of(row) for row in result]

    async def add_accounts(self, new: Sequence[Account], now: datetime) -> None:
        for chunk in chunked(new):
            await self.session.execute(
                insert(accounts),
                [
                    {
                        "account_id": a.account_id,
                        **account_fields(a),
                        "created_at": now,
                        "updated_at": now,
                    }
                    for a in chunk
                ],
            )

    async def update_accounts(self, changed: Sequence[Account], now: datetime) -> None:
        statement = update(accounts).where(accounts.c.account_id == bindparam("key"))
        for chunk in chunked(changed):
            await self.session.execute(
                statement,
                [{"key": a.account_id, **account_fields(a), "updated_at": now} for a in chunk],
            )

    async def add_contacts(
        self, new: Sequence[NewContact], source: str, now: datetime
    ) -> list[Contact]:
        """Insert imported contacts; the stored contacts, with their ids, in the same order."""
        stored: list[Contact] = []
        for chunk in chunked(new):
            result = await self.session.execute(
                insert(contacts).returning(*CONTACT_COLUMNS, sort_by_parameter_order=True),
                [
                    {
                        "account_id": item.record.account_id,
                        "role": item.record.role.value,
                        "name": item.record.name,
                        "phone_raw": item.record.phone.raw,
                        "phone_e164": item.record.phone.e164,
                        "phone_key": item.record.phone.key,
                        "number_type": item.record.phone.number_type.value,
                        "status": item.status.value,
                        "source": source,
                        "last_verified_at": item.record.verified_at,
                        "preferred_channel": value_of(item.record.preferred_channel),
                        **window_fields(item.record.call_window),
                        "failure_count": 0,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for item in chunk
                ],
            )
            stored.extend(contact_of(row) for row in result)
        return stored

    async def insert_contact(self, contact: Contact, now: datetime) -> Contact:
        """Store a contact a person entered; the same contact with its id."""
        row = (
            await self.session.execute(
                insert(contacts)
                .values(
                    account_id=contact.account_id,
                    role=contact.role.value,
                    phone_key=contact.phone_key,
                    **reachable_fields(contact),
                    preferred_channel=value_of(contact.preferred_channel),
                    created_at=now,
                    updated_at=now,
                )
                .returning(*CONTACT_COLUMNS)
            )
        ).one()
        return contact_of(row)

    async def update_contacts(self, changed: Sequence[Contact], now: datetime) -> None:
        """Write back every field of contacts changed in place (the key fields included)."""
        statement = update(contacts).where(contacts.c.id == bindparam("key"))
        for chunk in chunked(changed):
            await self.session.execute(
                statement,
                [
                    {
                        "key": c.contact_id,
                        "role": c.role.value,
                        "phone_key": c.phone_key,
                        **reachable_fields(c),
                        "preferred_channel": value_of(c.preferred_channel),
                        "updated_at": now,
                    }
                    for c in chunk
                ],
            )

    async def add_history(self, entries: Sequence[HistoryEntry]) -> None:
        for chunk in chunked(entries):
            await self.session.execute(
                insert(contact_history),
                [
                    {
                        "at": e.at,
                        "actor": e.actor,
                        "action": e.action.value,
                        "reason": e.reason,
                        "subject": e.subject.value,
                        "subject_id": e.subject_id,
                        "account_id": e.account_id,
                        "area_id": e.area_id,
                        "before": dict(e.before) if e.before is not None else None,
                        "after": dict(e.after) if e.after is not None else None,
                    }
                    for e in chunk
                ],
            )

    async def history(
        self, *, account_id: str | None = None, area_id: str | None = None
    ) -> list[HistoryEntry]:
        """The account's (or area's) history, its contacts' included, oldest first."""
        query = select(contact_history).order_by(contact_history.c.id)
        if account_id is not None:
            query = query.where(contact_history.c.account_id == account_id)
        if area_id is not None:
            query = query.where(contact_history.c.area_id == area_id)
        return [
            HistoryEntry(
                subject=Subject(row.subject),
                subject_id=row.subject_id,
                action=HistoryAction(row.action),
                actor=row.actor,
                reason=row.reason,
                at=ensure_aware(row.at),
                account_id=row.account_id,
                area_id=row.area_id,
                before=row.before,
                after=row.after,
            )
            for row in await self.session.execute(query)
        ]

    # Areas.

    async def area(self, area_id: str) -> Area | None:
        return (await self.areas_by_id([area_id])).get(area_id)

    async def areas_by_id(self, area_ids: Collection[str]) -> dict[str, Area]:
        rows = (
            await self.session.execute(select(areas).where(areas.c.area_id.in_(list(area_ids))))
        ).all()
        nodes: dict[str, list[str]] = defaultdict(list)
        for node in await self.session.execute(
            select(area_nodes)
            .where(area_nodes.c.area_id.in_(list(area_ids)))
            .order_by(area_nodes.c.node_id)
        ):
            nodes[node.area_id].append(node.node_id)
        return {
            row.area_id: Area(row.area_id, row.name, AreaKind(row.kind), tuple(nodes[row.area_id]))
            for row in rows
        }

    async def save_area(self, area: Area, now: datetime, *, exists_already: bool) -> None:
        if exists_already:
            await self.session.execute(
                update(areas)
                .where(areas.c.area_id == area.area_id)
                .values(name=area.name, kind=area.kind.value, updated_at=now)
            )
            await self.session.execute(
                delete(area_nodes).where(area_nodes.c.area_id == area.area_id)
            )
        else:
            await self.session.execute(
                insert(areas).values(
                    area_id=area.area_id,
                    name=area.name,
                    kind=area.kind.value,
                    created_at=now,
                    updated_at=now,
                )
            )
        await self.session.execute(
            insert(area_nodes), [{"area_id": area.area_id, "node_id": n} for n in area.node_ids]
        )

    async def area_contacts(
        self, area_ids: Collection[str], *, include_retired: bool = False
    ) -> dict[str, list[AreaContact]]:
        query = select(area_contacts).where(area_contacts.c.area_id.in_(list(area_ids)))
        if not include_retired:
            query = query.where(area_contacts.c.retired_at.is_(None))
        found: dict[str, list[AreaContact]] = defaultdict(list)
        for row in await self.session.execute(query.order_by(area_contacts.c.id)):
            found[row.area_id].append(area_contact_of(row))
        return dict(found)

    async def area_contact(self, contact_id: int) -> AreaContact | None:
        row = (
            await self.session.execute(
                select(area_contacts).where(area_contacts.c.id == contact_id)
            )
        ).first()
        return area_contact_of(row) if row is not None else None

    async def area_contacts_with_phone(self, e164: str) -> list[AreaContact]:
        result = await self.session.execute(
            select(area_contacts)
            .where(area_contacts.c.phone_e164 == e164, area_contacts.c.retired_at.is_(None))
            .order_by(area_contacts.c.id)
        )
        return [area_contact_of(row) for row in result]

    async def insert_area_contact(self, contact: AreaContact, now: datetime) -> AreaContact:
        row = (
            await self.session.execute(
                insert(area_contacts)
                .values(
                    area_id=contact.area_id,
                    role=contact.role.value,
                    phone_key=contact.phone_key,
                    **reachable_fields(contact),
                    created_at=now,
                    updated_at=now,
                )
                .returning(area_contacts)
            )
        ).one()
        return area_contact_of(row)

    async def update_area_contacts(self, changed: Sequence[AreaContact], now: datetime) -> None:
        statement = update(area_contacts).where(area_contacts.c.id == bindparam("key"))
        for chunk in chunked(changed):
            await self.session.execute(
                statement,
                [
                    {
                        "key": c.contact_id,
                        "role": c.role.value,
                        "phone_key": c.phone_key,
                        **reachable_fields(c),
                        "updated_at": now,
                    }
                    for c in chunk
                ],
            )

    async def subscriptions(self, area_ids: Collection[str]) -> dict[str, list[AreaSubscription]]:
        found: dict[str, list[AreaSubscription]] = defaultdict(list)
        for row in await self.session.execute(
            select(area_subscriptions)
            .where(area_subscriptions.c.area_id.in_(list(area_ids)))
            .order_by(area_subscriptions.c.id)
        ):
            found[row.area_id].append(_subscription(row))
        return dict(found)

    async def add_subscription(
        self, subscription: AreaSubscription, now: datetime
    ) -> AreaSubscription | None:
        """Store it; None when the area already has it."""
        result = await self.session.execute(
            upsert_ignore(
                self.session,
                area_subscriptions,
                {
                    "area_id": subscription.area_id,
                    "channel": subscription.channel.value,
                    "address": subscription.address,
                    "name": subscription.name,
                    "created_at": now,
                },
            ).returning(area_subscriptions)
        )
        row = result.first()
        return _subscription(row) if row is not None else None

    async def delete_subscription(self, area_id: str, subscription_id: int) -> bool:
        result = await self.session.execute(
            delete(area_subscriptions).where(
                area_subscriptions.c.area_id == area_id,
                area_subscriptions.c.id == subscription_id,
            )
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]  # CursorResult at runtime

    async def areas_of_nodes(self, node_ids: Collection[str]) -> dict[str, list[str]]:
        """The areas covering each transformer area node: node → area ids."""
        found: dict[str, list[str]] = defaultdict(list)
        for chunk in chunked(sorted(node_ids)):
            for row in await self.session.execute(
                select(area_nodes)
                .where(area_nodes.c.node_id.in_(chunk))
                .order_by(area_nodes.c.area_id)
            ):
                found[row.node_id].append(row.area_id)
        return dict(found)

    # Export.

    async def export_accounts(self, batch: int = CHUNK_SIZE) -> AsyncIterator[list[Account]]:
        """Every account in id order, a batch at a time (keyset pagination)."""
        last = ""
        while True:
            rows = (
                await self.session.execute(
                    select(*ACCOUNT_COLUMNS)
                    .where(accounts.c.account_id > last)
                    .order_by(accounts.c.account_id)
                    .limit(batch)
                )
            ).all()
            if not rows:
                return
            yield [account_of(row) for row in rows]
            last = rows[-1][0]

    async def export_contacts(self, batch: int = CHUNK_SIZE) -> AsyncIterator[list[Contact]]:
        """Every active contact in registration order, a batch at a time."""
        last = 0
        while True:
            rows = (
                await self.session.execute(
                    select(*CONTACT_COLUMNS)
                    .where(contacts.c.id > last, contacts.c.retired_at.is_(None))
                    .order_by(contacts.c.id)
                    .limit(batch)
                )
            ).all()
            if not rows:
                return
            yield [contact_of(row) for row in rows]
            last = rows[-1].id


def _subscription(row: Row[Any]) -> AreaSubscription:
    return AreaSubscription(
        subscription_id=row.id,
        area_id=row.area_id,
        channel=SubscriptionChannel(row.channel),
        address=row.address,
        name=row.name,
    )
