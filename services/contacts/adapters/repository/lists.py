"""Notification lists: versions, their accounts and recipients in chunks of compact JSON
(positional arrays), warnings and reviewer edits."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Row,
    and_,
    delete,
    func,
    insert,
    select,
    true,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from services.contacts.adapters.db import (
    cancelled_outages,
    list_edits,
    list_entries,
    list_feeders,
    list_recipients,
    list_warnings,
    notice_lists,
)
from services.contacts.adapters.repository.rows import (
    CATEGORIES,
    CHANGES,
    CHANNELS,
    IMPORTANCES,
    NUMBER_TYPES,
    ROLES,
    STATUSES,
    aware,
    chunked,
    dumps,
    moment,
)
from services.contacts.domain.listing import (
    AreaPlan,
    DraftList,
    DraftRecipient,
    ListCounts,
    ListEntry,
    ListWarning,
    PlanItem,
    PreviousList,
    WarningSource,
)
from services.contacts.domain.registry import (
    Account,
    CallWindow,
    Contact,
)
from services.contacts.domain.review import (
    CANCELLABLE_STATUSES,
    EditAction,
    ListEdit,
    ListStatus,
    NoticeList,
)
from shared.db import upsert_ignore
from shared.events import (
    AffectedAccount,
    FeederScope,
    OutageCancelled,
    OutageDetails,
    TransformerScope,
)
from shared.timeutil import ensure_aware

# Accounts and recipients per stored chunk: a page of a list reads one or two chunks; drafting
# a 20,000-account list writes about a hundred and thirty rows.
ENTRY_CHUNK = 500
RECIPIENT_CHUNK = 1000


class ListRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def latest(self, outage_id: str, *, lock: bool = False) -> NoticeList | None:
        """The newest version; ``lock`` holds its row until commit, so that an edit and an
        approval of one list never interleave (PostgreSQL; SQLite has one writer anyway)."""
        query = (
            select(notice_lists)
            .where(notice_lists.c.outage_id == outage_id)
            .order_by(notice_lists.c.version.desc())
            .limit(1)
        )
        result = await self.session.execute(query.with_for_update() if lock else query)
        row = result.first()
        return _notice_list(row) if row is not None else None

    async def version(self, outage_id: str, version: int) -> NoticeList | None:
        result = await self.session.execute(
            select(notice_lists).where(
                notice_lists.c.outage_id == outage_id, notice_lists.c.version == version
            )
        )
        row = result.first()
        return _notice_list(row) if row is not None else None

    async def versions(self, outage_id: str) -> list[tuple[int, ListStatus]]:
        result = await self.session.execute(
            select(notice_lists.c.version, notice_lists.c.status)
            .where(notice_lists.c.outage_id == outage_id)
            .order_by(notice_lists.c.version)
        )
        return [(row.version, ListStatus(row.status)) for row in result]

    async def index(
        self, status: ListStatus | None, limit: int, offset: int
    ) -> tuple[int, list[NoticeList]]:
        """List versions, newest first, optionally of one status."""
        where = notice_lists.c.status == status.value if status is not None else true()
        total = (
            await self.session.execute(select(func.count()).select_from(notice_lists).where(where))
        ).scalar_one()
        rows = await self.session.execute(
            select(notice_lists)
            .where(where)
            .order_by(notice_lists.c.drafted_at.desc(), notice_lists.c.id.desc())
            .limit(limit)
            .offset(offset)
        )
        return int(total), [_notice_list(row) for row in rows]

    async def is_outage_cancelled(self, outage_id: str) -> bool:
        result = await self.session.execute(
            select(cancelled_outages.c.outage_id).where(cancelled_outages.c.outage_id == outage_id)
        )
        return result.first() is not None

    async def record_cancellation(self, event: OutageCancelled, now: datetime) -> None:
        await self.session.execute(
            upsert_ignore(
                self.session,
                cancelled_outages,
                {
                    "outage_id": event.outage_id,
                    "reason": event.reason,
                    "cancelled_by": event.cancelled_by,
                    "cancelled_at": event.cancelled_at,
                    "recorded_at": now,
                },
            )
        )

    async def cancel(self, outage_id: str, reason: str, at: datetime, now: datetime) -> int:
        """Cancel every list version of the outage that still counts; how many were."""
        result = await self.session.execute(
            update(notice_lists)
            .where(
                notice_lists.c.outage_id == outage_id,
                notice_lists.c.status.in_([s.value for s in CANCELLABLE_STATUSES]),
            )
            .values(
                status=ListStatus.CANCELLED.value,
                cancelled_at=at,
                cancellation_reason=reason,
                updated_at=now,
            )
        )
        return int(result.rowcount)  # type: ignore[attr-defined]  # CursorResult at runtime

    async def supersede(self, outage_id: str, status: ListStatus, now: datetime) -> None:
        """Older versions in ``status`` stop counting (a new draft, a newer approval)."""
        await self.session.execute(
            update(notice_lists)
            .where(notice_lists.c.outage_id == outage_id, notice_lists.c.status == status.value)
            .values(status=ListStatus.SUPERSEDED.value, updated_at=now)
        )

    async def update_draft_details(
        self, outage_id: str, details: OutageDetails, now: datetime
    ) -> int:
        result = await self.session.execute(
            update(notice_lists)
            .where(
                notice_lists.c.outage_id == outage_id,
                notice_lists.c.status == ListStatus.DRAFT.value,
            )
            .values(details=details.model_dump(mode="json"), updated_at=now)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]  # CursorResult at runtime

    async def add(
        self,
        *,
        outage_id: str,
        version: int,
        details: OutageDetails,
        model_version: int,
        transformers: Sequence[TransformerScope],
        feeders: Sequence[FeederScope],
        draft: DraftList,
        retrace_reason: str | None,
        compared_with: PreviousList | None,
        now: datetime,
    ) -> int:
        """Store a new draft version and its rows; its id."""
        list_id: int = (
            await self.session.execute(
                insert(notice_lists)
                .values(
                    outage_id=outage_id,
                    version=version,
                    status=ListStatus.DRAFT.value,
                    details=details.model_dump(mode="json"),
                    planned_by=details.planned_by,
                    model_version=model_version,
                    scope={
                        "transformers": [t.model_dump(mode="json") for t in transformers],
                        "feeders": [f.model_dump(mode="json") for f in feeders],
                    },
                    counts=_counts_json(draft.counts),
                    area_plans=dumps([_area_plan_json(p) for p in draft.area_plans]),
                    accounts=_accounts_json(draft.entries),
                    outage_plan=dumps(draft.outage_plan),
                    retrace_reason=retrace_reason,
                    compared_outage_id=compared_with.outage_id if compared_with else None,
                    compared_version=compared_with.version if compared_with else None,
                    drafted_at=now,
                    updated_at=now,
                )
                .returning(notice_lists.c.id)
            )
        ).scalar_one()
        feeder_ids = sorted({f.source_node for f in feeders})
        if feeder_ids:
            await self.session.execute(
                insert(list_feeders), [{"list_id": list_id, "feeder": f} for f in feeder_ids]
            )
        await self._insert(
            list_entries,
            [
                _chunk_values(list_id, number, chunk)
                for number, chunk in enumerate(chunked(draft.entries, ENTRY_CHUNK))
            ],
        )
        await self.replace_recipients(list_id, draft.recipients)
        await self.add_warnings(list_id, draft.warnings, start=0)
        return list_id

    async def replace_recipients(self, list_id: int, recipients: Sequence[DraftRecipient]) -> None:
        await self.session.execute(
            delete(list_recipients).where(list_recipients.c.list_id == list_id)
        )
        await self._insert(
            list_recipients,
            [
                {
                    "list_id": list_id,
                    "chunk": number,
                    "size": len(chunk),
                    "data": dumps(chunk),
                }
                for number, chunk in enumerate(chunked(recipients, RECIPIENT_CHUNK))
            ],
        )

    async def add_warnings(self, list_id: int, warnings: Sequence[ListWarning], start: int) -> None:
        await self._insert(
            list_warnings,
            [_warning_values(list_id, start + i, w) for i, w in enumerate(warnings)],
        )

    async def next_warning_position(self, list_id: int) -> int:
        value = (
            await self.session.execute(
                select(func.max(list_warnings.c.position)).where(list_warnings.c.list_id == list_id)
            )
        ).scalar_one_or_none()
        return 0 if value is None else int(value) + 1

    async def delete_account_warnings(self, list_id: int, account_id: str) -> None:
        await self.session.execute(
            delete(list_warnings).where(
                list_warnings.c.list_id == list_id, list_warnings.c.account_id == account_id
            )
        )

    async def set_counts(self, list_id: int, counts: ListCounts, now: datetime) -> None:
        await self.session.execute(
            update(notice_lists)
            .where(notice_lists.c.id == list_id)
            .values(counts=_counts_json(counts), updated_at=now)
        )

    async def approve(
        self, list_id: int, approved_by: str, at: datetime, comment: str | None, digest: str
    ) -> bool:
        """Approve the version if it is still a draft; False if someone else got there first."""
        result = await self.session.execute(
            update(notice_lists)
            .where(notice_lists.c.id == list_id, notice_lists.c.status == ListStatus.DRAFT.value)
            .values(
                status=ListStatus.APPROVED.value,
                approved_by=approved_by,
                approved_at=at,
                approval_comment=comment,
                recipients_sha256=digest,
                updated_at=at,
            )
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]  # CursorResult at runtime

    async def reject(self, list_id: int, rejected_by: str, at: datetime, reason: str) -> bool:
        result = await self.session.execute(
            update(notice_lists)
            .where(notice_lists.c.id == list_id, notice_lists.c.status == ListStatus.DRAFT.value)
            .values(
                status=ListStatus.REJECTED.value,
                rejected_by=rejected_by,
                rejected_at=at,
                rejection_reason=reason,
                updated_at=at,
            )
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]  # CursorResult at runtime

    async def recipients(
        self, list_id: int, *, limit: int | None = None, offset: int = 0
    ) -> list[DraftRecipient]:
        """The recipients of a version, wave by wave, by channel and address."""
        query = (
            select(list_recipients.c.data)
            .where(list_recipients.c.list_id == list_id)
            .order_by(list_recipients.c.chunk)
        )
        first = offset // RECIPIENT_CHUNK
        query = query.where(list_recipients.c.chunk >= first)
        if limit is not None:
            query = query.where(list_recipients.c.chunk <= (offset + limit - 1) // RECIPIENT_CHUNK)
        found = [
            _recipient(item)
            for data in (await self.session.execute(query)).scalars()
            for item in json.loads(data)
        ]
        skip = offset - first * RECIPIENT_CHUNK
        return found[skip : skip + limit if limit is not None else None]

    async def account_ids(self, list_id: int) -> list[str]:
        """Every account still on the version, in trace order."""
        return [account_id for account_id, _ in await self._accounts(list_id)]

    async def _accounts(self, list_id: int) -> list[tuple[str, str]]:
        data = (
            await self.session.execute(
                select(notice_lists.c.accounts).where(notice_lists.c.id == list_id)
            )
        ).scalar_one()
        return [(account_id, feeder) for account_id, feeder in json.loads(data)]

    async def entries(
        self, list_id: int, *, limit: int, offset: int, warning: str | None = None
    ) -> tuple[int, list[ListEntry]]:
        """A page of the version's accounts in trace order (those with ``warning`` only).

        The chunks' code counts say which chunks hold the page, so only those are read.
        """
        chunks = (
            await self.session.execute(
                select(list_entries.c.chunk, list_entries.c.size, list_entries.c.codes)
                .where(list_entries.c.list_id == list_id)
                .order_by(list_entries.c.chunk)
            )
        ).all()
        sizes = [(row.chunk, row.codes.get(warning, 0) if warning else row.size) for row in chunks]
        total = sum(size for _, size in sizes)
        wanted: list[int] = []
        first = 0  # matching accounts before the first chunk read
        seen = 0
        for number, size in sizes:
            if size and seen + size > offset and seen < offset + limit:
                if not wanted:
                    first = seen
                wanted.append(number)
            seen += size
        if not wanted:
            return total, []
        found = [
            entry
            for entry in await self._chunks(list_id, wanted)
            if warning is None or warning in entry.warning_codes
        ]
        return total, found[offset - first : offset - first + limit]

    async def all_entries(self, list_id: int) -> list[ListEntry]:
        return await self._chunks(list_id, None)

    async def _chunks(self, list_id: int, numbers: list[int] | None) -> list[ListEntry]:
        query = (
            select(list_entries.c.data)
            .where(list_entries.c.list_id == list_id)
            .order_by(list_entries.c.chunk)
        )
        if numbers is not None:
            query = query.where(list_entries.c.chunk.in_(numbers))
        return [
            _entry(item)
            for data in (await self.session.execute(query)).scalars()
            for item in json.loads(data)
        ]

    async def save_entries(self, list_id: int, entries: Sequence[ListEntry], changed: int) -> None:
        """Write back the chunk holding the entry at position ``changed`` (a new one included),
        and the accounts on the list."""
        number = changed // ENTRY_CHUNK
        chunk = entries[number * ENTRY_CHUNK : (number + 1) * ENTRY_CHUNK]
        await self.session.execute(
            delete(list_entries).where(
                list_entries.c.list_id == list_id, list_entries.c.chunk == number
            )
        )
        await self.session.execute(
            insert(list_entries).values(_chunk_values(list_id, number, chunk))
        )
        await self.session.execute(
            update(notice_lists)
            .where(notice_lists.c.id == list_id)
            .values(accounts=_accounts_json(entries))
        )

    async def plans(self, list_id: int) -> tuple[list[AreaPlan], list[PlanItem]]:
        row = (
            await self.session.execute(
                select(notice_lists.c.area_plans, notice_lists.c.outage_plan).where(
                    notice_lists.c.id == list_id
                )
            )
        ).one()
        return (
            [_area_plan(item) for item in json.loads(row.area_plans)],
            [PlanItem(*item) for item in json.loads(row.outage_plan)],
        )

    async def warnings(
        self, list_id: int, *, limit: int | None = None, offset: int = 0, code: str | None = None
    ) -> tuple[int, list[ListWarning]]:
        """Warnings gravest first (in drafting order within a kind), optionally of one code."""
        where = list_warnings.c.list_id == list_id
        if code is not None:
            where = and_(where, list_warnings.c.code == code)
        total = (
            await self.session.execute(select(func.count()).select_from(list_warnings).where(where))
        ).scalar_one()
        query = (
            select(list_warnings)
            .where(where)
            .order_by(list_warnings.c.rank, list_warnings.c.position)
            .offset(offset)
        )
        if limit is not None:
            query = query.limit(limit)
        return int(total), [_warning(row) for row in await self.session.execute(query)]

    async def warning_counts(self, list_id: int) -> list[tuple[str, int]]:
        """How many warnings of each code, gravest code first."""
        result = await self.session.execute(
            select(list_warnings.c.code, func.min(list_warnings.c.rank), func.count())
            .where(list_warnings.c.list_id == list_id)
            .group_by(list_warnings.c.code)
            .order_by(func.min(list_warnings.c.rank), list_warnings.c.code)
        )
        return [(row[0], int(row[2])) for row in result]

    async def add_edit(self, list_id: int, edit: ListEdit) -> None:
        await self.session.execute(
            insert(list_edits).values(
                list_id=list_id,
                action=edit.action.value,
                account_id=edit.account_id,
                reason=edit.reason,
                edited_by=edit.edited_by,
                edited_at=edit.edited_at,
            )
        )

    async def edits(self, list_id: int, version: int) -> list[ListEdit]:
        result = await self.session.execute(
            select(list_edits).where(list_edits.c.list_id == list_id).order_by(list_edits.c.id)
        )
        return [
            ListEdit(
                version=version,
                action=EditAction(row.action),
                account_id=row.account_id,
                reason=row.reason,
                edited_by=row.edited_by,
                edited_at=ensure_aware(row.edited_at),
            )
            for row in result
        ]

    async def previous_approved(
        self, outage_id: str, feeders: Collection[str]
    ) -> PreviousList | None:
        """The newest version in force of another outage on any of ``feeders``, its accounts."""
        if not feeders:
            return None
        on_feeders = select(list_feeders.c.list_id).where(
            list_feeders.c.feeder.in_(sorted(feeders))
        )
        row = (
            await self.session.execute(
                select(notice_lists.c.id, notice_lists.c.outage_id, notice_lists.c.version)
                .where(
                    notice_lists.c.id.in_(on_feeders),
                    notice_lists.c.outage_id != outage_id,
                    notice_lists.c.status == ListStatus.APPROVED.value,
                )
                .order_by(notice_lists.c.approved_at.desc(), notice_lists.c.id.desc())
                .limit(1)
            )
        ).first()
        if row is None:
            return None
        return PreviousList(row.outage_id, row.version, dict(await self._accounts(row.id)))

    async def _insert(self, table: Any, rows: list[dict[str, Any]]) -> None:
        for chunk in chunked(rows):
            await self.session.execute(insert(table), chunk)


def _counts_json(counts: ListCounts) -> dict[str, Any]:
    return {
        "accounts": counts.accounts,
        "recipients": counts.recipients,
        "without_valid_mobile": counts.without_valid_mobile,
        "unknown_accounts": counts.unknown_accounts,
        "important_accounts": counts.important_accounts,
        "warnings": counts.warnings,
        "first_wave": counts.first_wave,
        "first_wave_by_channel": [list(item) for item in counts.first_wave_by_channel],
        "removed_accounts": counts.removed_accounts,
    }


def _counts(data: dict[str, Any]) -> ListCounts:
    return ListCounts(
        accounts=data["accounts"],
        recipients=data["recipients"],
        without_valid_mobile=data["without_valid_mobile"],
        unknown_accounts=data["unknown_accounts"],
        important_accounts=data["important_accounts"],
        warnings=data["warnings"],
        first_wave=data["first_wave"],
        first_wave_by_channel=tuple((c, n) for c, n in data["first_wave_by_channel"]),
        removed_accounts=data["removed_accounts"],
    )


def _notice_list(row: Row[Any]) -> NoticeList:
    return NoticeList(
        list_id=row.id,
        outage_id=row.outage_id,
        version=row.version,
        status=ListStatus(row.status),
        details=OutageDetails.model_validate(row.details),
        model_version=row.model_version,
        transformers=tuple(TransformerScope.model_validate(t) for t in row.scope["transformers"]),
        feeders=tuple(FeederScope.model_validate(f) for f in row.scope["feeders"]),
        counts=_counts(row.counts),
        drafted_at=ensure_aware(row.drafted_at),
        approved_by=row.approved_by,
        approved_at=aware(row.approved_at),
        approval_comment=row.approval_comment,
        recipients_sha256=row.recipients_sha256,
        rejected_by=row.rejected_by,
        rejected_at=aware(row.rejected_at),
        rejection_reason=row.rejection_reason,
        cancelled_at=aware(row.cancelled_at),
        cancellation_reason=row.cancellation_reason,
        retrace_reason=row.retrace_reason,
        compared_with=(
            (row.compared_outage_id, row.compared_version)
            if row.compared_outage_id is not None
            else None
        ),
    )


def _area_plan_json(plan: AreaPlan) -> list[Any]:
    return [plan.node_id, plan.name, plan.planned, plan.windows]


def _area_plan(item: list[Any]) -> AreaPlan:
    node_id, name, planned, windows = item
    return AreaPlan(
        node_id,
        name,
        tuple(PlanItem(*p) for p in planned),
        tuple((address, CallWindow.parse(window)) for address, window in windows),
    )


def _accounts_json(entries: Sequence[ListEntry]) -> str:
    return dumps([(e.account_id, e.traced.feeder) for e in entries if not e.removed])


def _chunk_values(list_id: int, number: int, entries: Sequence[ListEntry]) -> dict[str, Any]:
    codes: dict[str, int] = {}
    for entry in entries:
        for code in entry.warning_codes:
            codes[code] = codes.get(code, 0) + 1
    return {
        "list_id": list_id,
        "chunk": number,
        "size": len(entries),
        "codes": codes,
        "data": dumps([_entry_json(e) for e in entries]),
    }


def _entry_json(entry: ListEntry) -> tuple[Any, ...]:
    # Enum members are written as their values, datetimes and call windows through
    # _json_default: no per-field conversion for 20,000 accounts.
    account = entry.account
    traced = entry.traced
    return (
        traced.account_id,
        entry.position,
        traced.isolating_device,
        traced.node_id,
        traced.feeder,
        (
            account.name,
            account.node_id,
            account.voltage_kv,
            account.category,
            account.flags,
            account.address,
            account.transformer_area,
            account.importance,
            account.transfer_pending_since,
            account.changed_at,
            account.change,
        )
        if account is not None
        else None,
        entry.important,
        [
            (
                c.contact_id,
                c.role,
                c.name,
                c.phone_raw,
                c.phone_e164,
                c.number_type,
                c.status,
                c.preferred_channel,
                c.call_window,
                c.last_verified_at,
            )
            for c in entry.contacts
        ],
        entry.plan,
        entry.warning_codes,
        entry.removed,
        entry.edited,
    )


def _entry(item: list[Any]) -> ListEntry:
    (
        account_id,
        position,
        device,
        node_id,
        feeder,
        account_data,
        important,
        contact_data,
        plan,
        codes,
        removed,
        edited,
    ) = item
    account = None
    if account_data is not None:
        (
            name,
            node,
            voltage,
            category,
            flags,
            address,
            area,
            importance,
            pending,
            changed,
            change,
        ) = account_data
        account = Account(
            account_id=account_id,
            name=name,
            node_id=node,
            voltage_kv=voltage,
            category=CATEGORIES[category],
            flags=tuple(flags),
            address=address,
            transformer_area=area,
            importance=IMPORTANCES[importance],
            transfer_pending_since=moment(pending),
            changed_at=moment(changed),
            change=CHANGES[change] if change else None,
        )
    return ListEntry(
        position=position,
        traced=AffectedAccount(
            account_id=account_id, isolating_device=device, node_id=node_id, feeder=feeder
        ),
        account=account,
        contacts=tuple(
            Contact(
                contact_id=cid,
                account_id=account_id,
                role=ROLES[role],
                name=name,
                phone_raw=raw,
                phone_e164=e164,
                number_type=NUMBER_TYPES[kind],
                status=STATUSES[status],
                preferred_channel=CHANNELS[preferred] if preferred else None,
                call_window=CallWindow.parse(window) if window else None,
                last_verified_at=moment(verified),
            )
            for (
                cid,
                role,
                name,
                raw,
                e164,
                kind,
                status,
                preferred,
                window,
                verified,
            ) in contact_data
        ),
        important=important,
        plan=tuple(PlanItem(*p) for p in plan),
        warning_codes=tuple(codes),
        removed=removed,
        edited=edited,
    )


def _recipient(item: list[Any]) -> DraftRecipient:
    channel, address, name, account_ids, account_names, role, wave, audience, window, location = (
        item
    )
    return DraftRecipient(
        channel=channel,
        address=address,
        contact_name=name,
        account_ids=tuple(account_ids),
        account_names=tuple(account_names),
        role=role,
        wave=wave,
        audience=audience,
        call_window=CallWindow.parse(window) if window else None,
        location=location,
    )


def _warning_values(list_id: int, position: int, warning: ListWarning) -> dict[str, Any]:
    return {
        "list_id": list_id,
        "position": position,
        "rank": warning.rank,
        "code": warning.code,
        "source": warning.source.value,
        "account_id": warning.account_id,
        "message": warning.message,
        "elements": list(warning.elements),
        "has_landline": warning.has_landline,
    }


def _warning(row: Row[Any]) -> ListWarning:
    return ListWarning(
        code=row.code,
        source=WarningSource(row.source),
        message=row.message,
        account_id=row.account_id,
        elements=tuple(row.elements),
        has_landline=row.has_landline,
    )
