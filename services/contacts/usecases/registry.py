"""Accounts, contacts and areas edited one by one, ownership transfers, and change history.

Every change here is made by a named person for a stated reason and recorded with the fields
before and after. Numbers typed by a person must be usable: an unparseable one is refused with
the field at fault, never stored.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TypeVar

from services.contacts.adapters.repository import MaintenanceRepository, RegistryRepository
from services.contacts.domain import maintenance, messages
from services.contacts.domain.changes import (
    ContactPatch,
    HistoryAction,
    HistoryEntry,
    account_entry,
    contact_entry,
    patch_contact,
    require_phone,
    retire,
    transferred,
)
from services.contacts.domain.maintenance import ItemKind, Outcome
from services.contacts.domain.phones import ParsedPhone
from services.contacts.domain.registry import (
    Account,
    Area,
    AreaContact,
    AreaKind,
    AreaRole,
    AreaSubscription,
    CallWindow,
    Contact,
    ContactRole,
    PreferredChannel,
    SubscriptionChannel,
    fresh_status,
)
from services.contacts.usecases import Rules
from shared.errors import Conflict, InvalidInput, NotFound
from shared.timeutil import utcnow
from shared.uow import UnitOfWork

SOURCE_MANUAL = "manual"

_Role = TypeVar("_Role", ContactRole, AreaRole)


@dataclass(frozen=True)
class AccountView:
    account: Account
    # Active contacts first, in registration order; then the retired ones.
    contacts: list[Contact]


@dataclass(frozen=True)
class ContactInput:
    """A contact as a person enters it; the number is checked before anything is stored."""

    role: str
    name: str
    phone: str
    preferred_channel: PreferredChannel | None = None
    call_window: CallWindow | None = None


async def get_account(uow: UnitOfWork, account_id: str) -> AccountView:
    registry = RegistryRepository(uow.session)
    account = await _account(registry, account_id)
    own = (await registry.contacts_of([account_id], include_retired=True)).get(account_id, [])
    return AccountView(account, sorted(own, key=lambda c: (not c.active, c.contact_id)))


async def account_history(uow: UnitOfWork, account_id: str) -> list[HistoryEntry]:
    """Who changed the account and its contacts, when and why, oldest first."""
    registry = RegistryRepository(uow.session)
    await _account(registry, account_id)
    return await registry.history(account_id=account_id)


async def add_contact(
    uow: UnitOfWork, account_id: str, data: ContactInput, *, actor: str, reason: str
) -> Contact:
    """Register a contact of an account; it is valid and verified as of now."""
    registry = RegistryRepository(uow.session)
    await _account(registry, account_id)
    role = _role(data.role, ContactRole)
    phone = require_phone(data.phone, "phone")
    existing = (await registry.contacts_of([account_id])).get(account_id, [])
    _check_distinct(existing, role, phone, None)
    now = utcnow()
    contact = await registry.insert_contact(
        Contact(
            contact_id=0,
            account_id=account_id,
            role=role,
            name=data.name,
            phone_raw=phone.raw,
            phone_e164=phone.e164,
            number_type=phone.number_type,
            status=fresh_status(phone),
            source=SOURCE_MANUAL,
            last_verified_at=now,
            preferred_channel=data.preferred_channel,
            call_window=data.call_window,
        ),
        now,
    )
    await registry.add_history(
        [contact_entry(None, contact, HistoryAction.CREATED, actor, reason, now)]
    )
    await release_transfers(uow, [account_id], actor, now)
    return contact


async def update_contact(
    uow: UnitOfWork, contact_id: int, patch: ContactPatch, *, actor: str, reason: str
) -> Contact:
    registry = RegistryRepository(uow.session)
    before = await _contact(registry, contact_id)
    now = utcnow()
    after = patch_contact(before, patch, now)
    if after.phone_key != before.phone_key:
        siblings = (await registry.contacts_of([before.account_id])).get(before.account_id, [])
        phone = ParsedPhone(after.phone_raw, after.phone_e164, after.number_type)
        _check_distinct(siblings, after.role, phone, before.contact_id)
    if after == before:
        return before
    await registry.update_contacts([after], now)
    only_confirmed = patch.verified and patch == ContactPatch(verified=True)
    action = HistoryAction.VERIFIED if only_confirmed else HistoryAction.UPDATED
    await registry.add_history([contact_entry(before, after, action, actor, reason, now)])
    return after


async def retire_contact(uow: UnitOfWork, contact_id: int, *, actor: str, reason: str) -> Contact:
    """The person no longer answers for the account: kept for history, never used again."""
    registry = RegistryRepository(uow.session)
    before = await _contact(registry, contact_id)
    now = utcnow()
    after = retire(before, now)
    await registry.update_contacts([after], now)
    await registry.add_history(
        [contact_entry(before, after, HistoryAction.RETIRED, actor, reason, now)]
    )
    return after


@dataclass(frozen=True)
class Transfer:
    account: Account
    retired: list[Contact]


async def transfer_account(
    uow: UnitOfWork, account_id: str, *, new_name: str | None, reason: str, actor: str, rules: Rules
) -> Transfer:
    """A change of owner: the old owner's contacts are retired and the account stays flagged
    (on every list and on the worklist) until the new owner's first contact is registered."""
    registry = RegistryRepository(uow.session)
    before = await _account(registry, account_id)
    now = utcnow()
    after = transferred(before, now, new_name)
    old = sorted(
        (await registry.contacts_of([account_id])).get(account_id, []), key=lambda c: c.contact_id
    )
    retired = [retire(c, now) for c in old]
    why = messages.TRANSFER_RETIRED_REASON.format(reason=reason)
    await registry.update_accounts([after], now)
    await registry.update_contacts(retired, now)
    await registry.add_history(
        [account_entry(before, after, HistoryAction.TRANSFERRED, actor, reason, now)]
        + [
            contact_entry(b, a, HistoryAction.RETIRED, actor, why, now)
            for b, a in zip(old, retired, strict=True)
        ]
    )
    await MaintenanceRepository(uow.session).open_items(
        [maintenance.transfer_pending(account_id, after.name, now.astimezone(rules.timezone))],
        actor,
        now,
    )
    return Transfer(after, retired)


async def release_transfers(
    uow: UnitOfWork, account_ids: Collection[str], actor: str, now: datetime
) -> None:
    """Accounts that just got a new contact after a transfer are no longer flagged."""
    registry = RegistryRepository(uow.session)
    pending = [
        a for a in (await registry.accounts(account_ids)).values() if a.transfer_pending_since
    ]
    if not pending:
        return
    released = [replace(a, transfer_pending_since=None) for a in pending]
    await registry.update_accounts(released, now)
    await registry.add_history(
        [
            account_entry(
                before, after, HistoryAction.UPDATED, actor, messages.TRANSFER_RELEASED, now
            )
            for before, after in zip(pending, released, strict=True)
        ]
    )
    items = MaintenanceRepository(uow.session)
    for account in released:
        item = await items.item_by_key(f"{ItemKind.TRANSFER_PENDING}:{account.account_id}")
        if item is not None:
            await items.close(
                item.item_id, Outcome.CONTACT_ADDED, messages.TRANSFER_RELEASED, actor, now
            )


# Areas: transformer areas and residential compounds, with the people who post notices there.


@dataclass(frozen=True)
class AreaView:
    area: Area
    contacts: list[AreaContact]
    subscriptions: list[AreaSubscription]


async def put_area(
    uow: UnitOfWork, area_id: str, *, name: str, kind: AreaKind, node_ids: list[str], actor: str
) -> tuple[AreaView, bool]:
    """Create or replace an area's name and transformer area nodes; whether it was new."""
    nodes = tuple(sorted({n.strip() for n in node_ids if n.strip()}))
    if not nodes:
        raise InvalidInput(messages.AREA_NODES_REQUIRED, field="node_ids")
    registry = RegistryRepository(uow.session)
    existing = await registry.area(area_id)
    area = Area(area_id, name, kind, nodes)
    await registry.save_area(area, utcnow(), exists_already=existing is not None)
    return await get_area(uow, area_id), existing is None


async def get_area(uow: UnitOfWork, area_id: str) -> AreaView:
    registry = RegistryRepository(uow.session)
    area = await _area(registry, area_id)
    people = (await registry.area_contacts([area_id], include_retired=True)).get(area_id, [])
    return AreaView(
        area,
        sorted(people, key=lambda c: (not c.active, c.contact_id)),
        (await registry.subscriptions([area_id])).get(area_id, []),
    )


async def add_area_contact(
    uow: UnitOfWork, area_id: str, data: ContactInput, *, actor: str, reason: str
) -> AreaContact:
    registry = RegistryRepository(uow.session)
    await _area(registry, area_id)
    role = _role(data.role, AreaRole)
    phone = require_phone(data.phone, "phone")
    for other in (await registry.area_contacts([area_id])).get(area_id, []):
        if other.role is role and other.phone_key == phone.key:
            raise Conflict(
                messages.CONTACT_EXISTS.format(contact_id=other.contact_id), field="phone"
            )
    now = utcnow()
    contact = await registry.insert_area_contact(
        AreaContact(
            contact_id=0,
            area_id=area_id,
            role=role,
            name=data.name,
            phone_raw=phone.raw,
            phone_e164=phone.e164,
            number_type=phone.number_type,
            status=fresh_status(phone),
            source=SOURCE_MANUAL,
            last_verified_at=now,
            call_window=data.call_window,
        ),
        now,
    )
    await registry.add_history(
        [contact_entry(None, contact, HistoryAction.CREATED, actor, reason, now)]
    )
    return contact


async def update_area_contact(
    uow: UnitOfWork,
    area_id: str,
    contact_id: int,
    patch: ContactPatch,
    *,
    actor: str,
    reason: str,
) -> AreaContact:
    registry = RegistryRepository(uow.session)
    before = await _area_contact(registry, area_id, contact_id)
    now = utcnow()
    after = patch_contact(before, patch, now)
    if after == before:
        return before
    await registry.update_area_contacts([after], now)
    await registry.add_history(
        [contact_entry(before, after, HistoryAction.UPDATED, actor, reason, now)]
    )
    return after


async def retire_area_contact(
    uow: UnitOfWork, area_id: str, contact_id: int, *, actor: str, reason: str
) -> AreaContact:
    registry = RegistryRepository(uow.session)
    before = await _area_contact(registry, area_id, contact_id)
    now = utcnow()
    after = retire(before, now)
    await registry.update_area_contacts([after], now)
    await registry.add_history(
        [contact_entry(before, after, HistoryAction.RETIRED, actor, reason, now)]
    )
    return after


async def area_history(uow: UnitOfWork, area_id: str) -> list[HistoryEntry]:
    registry = RegistryRepository(uow.session)
    await _area(registry, area_id)
    return await registry.history(area_id=area_id)


async def add_subscription(
    uow: UnitOfWork, area_id: str, *, channel: SubscriptionChannel, address: str, name: str
) -> AreaSubscription:
    """A WeChat Work group robot or an app topic that gets the area's notices."""
    registry = RegistryRepository(uow.session)
    await _area(registry, area_id)
    stored = await registry.add_subscription(
        AreaSubscription(0, area_id, channel, address, name), utcnow()
    )
    if stored is None:
        raise Conflict(messages.SUBSCRIPTION_EXISTS.format(area_id=area_id), field="address")
    return stored


async def remove_subscription(uow: UnitOfWork, area_id: str, subscription_id: int) -> None:
    registry = RegistryRepository(uow.session)
    await _area(registry, area_id)
    if not await registry.delete_subscription(area_id, subscription_id):
        raise NotFound(
            messages.SUBSCRIPTION_NOT_FOUND.format(subscription_id=subscription_id),
            field="subscription_id",
        )


async def _account(registry: RegistryRepository, account_id: str) -> Account:
    account = await registry.account(account_id)
    if account is None:
        raise NotFound(messages.ACCOUNT_NOT_FOUND.format(account_id=account_id), field="account_id")
    return account


async def _contact(registry: RegistryRepository, contact_id: int) -> Contact:
    contact = await registry.contact(contact_id)
    if contact is None:
        raise NotFound(messages.CONTACT_NOT_FOUND.format(contact_id=contact_id), field="contact_id")
    return contact


async def _area(registry: RegistryRepository, area_id: str) -> Area:
    area = await registry.area(area_id)
    if area is None:
        raise NotFound(messages.AREA_NOT_FOUND.format(area_id=area_id), field="area_id")
    return area


async def _area_contact(registry: RegistryRepository, area_id: str, contact_id: int) -> AreaContact:
    contact = await registry.area_contact(contact_id)
    if contact is None or contact.area_id != area_id:
        raise NotFound(messages.CONTACT_NOT_FOUND.format(contact_id=contact_id), field="contact_id")
    return contact


def _role(value: str, roles: type[_Role]) -> _Role:
    try:
        return roles(value)
    except ValueError:
        raise InvalidInput(
            messages.VALUE_NOT_ALLOWED.format(
                column="role", value=value, allowed="|".join(r.value for r in roles)
            ),
            field="role",
        ) from None


def _check_distinct(
    existing: list[Contact], role: ContactRole, phone: ParsedPhone, except_id: int | None
) -> None:
    for other in existing:
        if other.contact_id != except_id and other.role is role and other.phone_key == phone.key:
            raise Conflict(
                messages.CONTACT_EXISTS.format(contact_id=other.contact_id), field="phone"
            )
