"""The maintenance worklist: scanning the registry, delivery and complaint feedback, and the
people who call, visit and fix.

Closing an item records what was done in the registry itself: a number confirmed on the phone
is valid and verified as of now, a fixed number replaces the old one, a new contact is
registered, a contact who no longer answers for the account is retired.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.contacts.adapters.repository import MaintenanceRepository, RegistryRepository
from services.contacts.domain import maintenance, messages
from services.contacts.domain.changes import (
    ContactPatch,
    HistoryAction,
    after_failures,
    confirm,
    contact_entry,
    require_phone,
)
from services.contacts.domain.maintenance import (
    SCANNED_KINDS,
    Closing,
    ItemKind,
    ItemStatus,
    MaintenanceItem,
    Outcome,
    WorkItem,
    check_closing,
)
from services.contacts.domain.registry import AreaContact, Contact
from services.contacts.usecases import Rules
from services.contacts.usecases.registry import (
    ContactInput,
    add_area_contact,
    add_contact,
    retire_area_contact,
    retire_contact,
    update_area_contact,
    update_contact,
)
from shared.errors import Conflict, InvalidInput, NotFound
from shared.events import ComplaintClassified, ContactUndeliverable
from shared.timeutil import utcnow
from shared.uow import UnitOfWork

log = logging.getLogger(__name__)

SCAN_ACTOR = "scan"
# A worker that found nothing due yet looks again at least this often, so a scan triggered by
# hand on another replica moves the next one along.
_LONGEST_WAIT_S = 3600.0


@dataclass(frozen=True)
class ScanReport:
    opened: int
    resolved: int


async def scan_registry(uow: UnitOfWork, rules: Rules, *, actor: str = SCAN_ACTOR) -> ScanReport:
    """Open an item for every finding not already open (or just closed), and close as
    resolved the open ones whose finding has gone."""
    started = utcnow()
    items = MaintenanceRepository(uow.session)
    policy = rules.maintenance
    tz = rules.timezone
    found: list[WorkItem] = [
        maintenance.no_valid_mobile(account_id, name)
        for account_id, name in await items.accounts_without_mobile()
    ]
    cutoff = started - policy.unverified_after
    found.extend(
        maintenance.unverified(
            account_id=c.account_id,
            area_id=None,
            contact_id=c.contact_id,
            name=c.name,
            phone=c.phone_e164 or c.phone_raw,
            since=since.astimezone(tz),
        )
        for c, since in await items.unverified_contacts(cutoff)
    )
    found.extend(
        maintenance.unverified(
            account_id=None,
            area_id=c.area_id,
            contact_id=c.contact_id,
            name=c.name,
            phone=c.phone_e164 or c.phone_raw,
            since=since.astimezone(tz),
            area_contact=True,
        )
        for c, since in await items.unverified_area_contacts(cutoff)
    )
    found.extend(
        maintenance.shared_number(phone, tuple(account_ids))
        for phone, account_ids in (
            await items.shared_numbers(policy.shared_number_accounts)
        ).items()
    )
    people, area_people = await items.invalid_numbers()
    found.extend(
        maintenance.invalid_number(
            account_id=c.account_id, area_id=None, contact_id=c.contact_id, phone_raw=c.phone_raw
        )
        for c in people
    )
    found.extend(
        maintenance.invalid_number(
            account_id=None,
            area_id=c.area_id,
            contact_id=c.contact_id,
            phone_raw=c.phone_raw,
            area_contact=True,
        )
        for c in area_people
    )
    found.extend(
        maintenance.transfer_pending(a.account_id, a.name, a.transfer_pending_since.astimezone(tz))
        for a in await items.transfers_pending()
        if a.transfer_pending_since is not None
    )
    keys = {item.key for item in found}
    quiet = await items.recently_closed_keys(keys, started - policy.quiet_after_closing)
    opened = await items.open_items([i for i in found if i.key not in quiet], actor, started)
    gone = [
        item_id
        for key, item_id in (await items.open_keys(SCANNED_KINDS)).items()
        if key not in keys
    ]
    await items.resolve(gone, messages.ITEM_RESOLVED_NOTE, started)
    await items.record_scan(started, utcnow(), opened, len(gone))
    log.info("maintenance scan: %s items opened, %s resolved", opened, len(gone))
    return ScanReport(opened, len(gone))


async def scan_when_due(
    uow_factory: Callable[[], UnitOfWork], rules: Rules, interval: timedelta
) -> None:
    """The background worker: scan whenever ``interval`` has passed since the last scan."""
    while True:
        async with uow_factory() as uow:
            last = await MaintenanceRepository(uow.session).last_scan()
        wait = 0.0 if last is None else (last + interval - utcnow()).total_seconds()
        if wait > 0:
            await asyncio.sleep(min(wait, _LONGEST_WAIT_S))
            continue
        async with uow_factory() as uow:
            await scan_registry(uow, rules)
            await uow.commit()


async def list_items(
    uow: UnitOfWork,
    *,
    kind: ItemKind | None,
    status: ItemStatus | None,
    assignee: str | None,
    account_id: str | None,
    limit: int,
    offset: int,
) -> tuple[int, list[MaintenanceItem]]:
    return await MaintenanceRepository(uow.session).items(
        kind=kind,
        status=status,
        assignee=assignee,
        account_id=account_id,
        limit=limit,
        offset=offset,
    )


async def assign_item(uow: UnitOfWork, item_id: int, assignee: str) -> MaintenanceItem:
    items = MaintenanceRepository(uow.session)
    item = await _item(items, item_id)
    item.check_open()
    await items.assign(item_id, assignee, utcnow())
    return await _item(items, item_id)


async def close_item(
    uow: UnitOfWork, item_id: int, closing: Closing, *, actor: str
) -> MaintenanceItem:
    """Close an item with what was done, and write that into the registry."""
    items = MaintenanceRepository(uow.session)
    item = await _item(items, item_id)
    check_closing(item, closing)
    now = utcnow()
    if not await items.close(item_id, closing.outcome, closing.note, actor, now):
        raise Conflict(messages.ITEM_CLOSED.format(item_id=item_id), field="status")
    reason = messages.ITEM_CLOSED_REASON.format(
        item_id=item_id, outcome=closing.outcome.value, note=closing.note
    ).strip()
    outcome = closing.outcome
    if outcome in (Outcome.CALLED, Outcome.VISITED):
        await _confirm(uow, item, closing, actor, reason, now)
    elif outcome is Outcome.NUMBER_FIXED:
        assert closing.phone is not None  # check_closing made sure
        patch = ContactPatch(phone=require_phone(closing.phone, "phone"))
        target = await _target(uow, item, closing)
        if isinstance(target, Contact):
            await update_contact(uow, target.contact_id, patch, actor=actor, reason=reason)
        else:
            await update_area_contact(
                uow, target.area_id, target.contact_id, patch, actor=actor, reason=reason
            )
    elif outcome is Outcome.CONTACT_ADDED:
        assert closing.phone is not None  # check_closing
        assert closing.role is not None
        data = ContactInput(
            closing.role,
            closing.name,
            closing.phone,
            closing.preferred_channel,
            closing.call_window,
        )
        if item.account_id is not None:
            await add_contact(uow, item.account_id, data, actor=actor, reason=reason)
        else:
            assert item.area_id is not None  # check_closing
            await add_area_contact(uow, item.area_id, data, actor=actor, reason=reason)
    else:
        target = await _target(uow, item, closing)
        if isinstance(target, Contact):
            await retire_contact(uow, target.contact_id, actor=actor, reason=reason)
        else:
            await retire_area_contact(
                uow, target.area_id, target.contact_id, actor=actor, reason=reason
            )
    return await _item(items, item_id)


async def record_undeliverable(uow: UnitOfWork, event: ContactUndeliverable, rules: Rules) -> None:
    """A number the carrier keeps failing: every contact on it is doubted (after repeated
    failures, given up on) and goes on the worklist."""
    registry = RegistryRepository(uow.session)
    people = await registry.contacts_with_phone(event.address)
    area_people = await registry.area_contacts_with_phone(event.address)
    if not people and not area_people:
        log.info("undeliverable %s matches no active contact", event.address)
        return
    now = utcnow()
    reason = messages.UNDELIVERABLE_REASON.format(
        failures=event.consecutive_failures, reason=event.last_reason
    )
    changed = [
        after_failures(c, event.consecutive_failures, rules.invalid_after_failures) for c in people
    ]
    changed_area = [
        after_failures(c, event.consecutive_failures, rules.invalid_after_failures)
        for c in area_people
    ]
    await registry.update_contacts(changed, now)
    await registry.update_area_contacts(changed_area, now)
    await registry.add_history(
        [
            contact_entry(before, after, HistoryAction.UNDELIVERABLE, "receipts", reason, now)
            for before, after in zip(people, changed, strict=True)
            if before != after
        ]
        + [
            contact_entry(before, after, HistoryAction.UNDELIVERABLE, "receipts", reason, now)
            for before, after in zip(area_people, changed_area, strict=True)
            if before != after
        ]
    )
    items = [
        maintenance.undeliverable(
            account_id=c.account_id,
            area_id=None,
            contact_id=c.contact_id,
            phone=event.address,
            failures=c.failure_count,
            reason=event.last_reason,
        )
        for c in changed
    ] + [
        maintenance.undeliverable(
            account_id=None,
            area_id=c.area_id,
            contact_id=c.contact_id,
            phone=event.address,
            failures=c.failure_count,
            reason=event.last_reason,
            area_contact=True,
        )
        for c in changed_area
    ]
    await MaintenanceRepository(uow.session).open_items(items, "receipts", now)


async def record_complaint(uow: UnitOfWork, event: ComplaintClassified) -> bool:
    """A complaint traced to a wrong or stale contact: the account is checked. Whether it was
    about a contact at all."""
    if event.cause != "contact":
        return False
    await MaintenanceRepository(uow.session).open_items(
        [
            maintenance.complaint(
                event.complaint_id, event.account_id, event.outage_id, event.detail
            )
        ],
        "receipts",
        utcnow(),
    )
    return True


async def _confirm(
    uow: UnitOfWork,
    item: MaintenanceItem,
    closing: Closing,
    actor: str,
    reason: str,
    now: datetime,
) -> None:
    """Someone reached the people behind the item: their numbers are verified as of now."""
    registry = RegistryRepository(uow.session)
    people: list[Contact] = []
    area_people: list[AreaContact] = []
    if closing.contact_id or item.contact_id or item.area_contact_id:
        target = await _target(uow, item, closing)
        if isinstance(target, Contact):
            people.append(target)
        else:
            area_people.append(target)
    elif item.account_id is not None:
        people = sorted(
            (await registry.contacts_of([item.account_id])).get(item.account_id, []),
            key=lambda c: c.contact_id,
        )
    elif item.phone is not None:
        people = await registry.contacts_with_phone(item.phone)
    confirmed = [(c, confirm(c, now)) for c in people if c.active and c.phone_e164]
    confirmed_area = [(c, confirm(c, now)) for c in area_people if c.active and c.phone_e164]
    await registry.update_contacts([a for _, a in confirmed], now)
    await registry.update_area_contacts([a for _, a in confirmed_area], now)
    await registry.add_history(
        [contact_entry(b, a, HistoryAction.VERIFIED, actor, reason, now) for b, a in confirmed]
        + [
            contact_entry(b, a, HistoryAction.VERIFIED, actor, reason, now)
            for b, a in confirmed_area
        ]
    )


async def _target(
    uow: UnitOfWork, item: MaintenanceItem, closing: Closing
) -> Contact | AreaContact:
    """The contact the closing acts on, which must belong to the item's account, area or number."""
    registry = RegistryRepository(uow.session)
    if item.area_id is not None and item.account_id is None:
        area_contact_id = closing.contact_id or item.area_contact_id
        assert area_contact_id is not None  # check_closing
        found = await registry.area_contact(area_contact_id)
        if found is None or found.area_id != item.area_id:
            raise InvalidInput(
                messages.CLOSING_WRONG_CONTACT.format(contact_id=area_contact_id),
                field="contact_id",
            )
        return found
    contact_id = closing.contact_id or item.contact_id
    assert contact_id is not None  # check_closing
    contact = await registry.contact(contact_id)
    belongs = contact is not None and (
        (item.account_id is not None and contact.account_id == item.account_id)
        or (item.account_id is None and contact.phone_e164 == item.phone)
    )
    if contact is None or not belongs:
        raise InvalidInput(
            messages.CLOSING_WRONG_CONTACT.format(contact_id=contact_id), field="contact_id"
        )
    return contact


async def _item(items: MaintenanceRepository, item_id: int) -> MaintenanceItem:
    item = await items.item(item_id)
    if item is None:
        raise NotFound(messages.ITEM_NOT_FOUND.format(item_id=item_id), field="item_id")
    return item
