"""The dispatch use cases, shared by the event handlers, the sender and the HTTP routes.

Each takes an open unit of work and leaves the commit to its caller: a handler's work commits
together with the consumer's inbox claim, the sender and the routes commit their own.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from services.dispatch.adapters.repository import DispatchRepository
from services.dispatch.domain.audience import Addressee, merge_by_address, newly_owed_notice
from services.dispatch.domain.messages import (
    SUBMISSION_PROVEN_BY_REPORT,
    ClaimedMessage,
    Message,
    MessageStatus,
    NewMessage,
    NoticeKind,
    OutageState,
    StatusCount,
    mask_address,
    merge_delivery_status,
)
from services.dispatch.domain.outcomes import (
    AwaitCheck,
    Decision,
    MarkFailed,
    MarkSubmitted,
    Requeue,
)
from services.dispatch.domain.rendering import NoticeRenderer
from services.dispatch.domain.segments import count_parts, displayed_text
from shared.errors import NotFound
from shared.events import (
    ListApproved,
    NoticeFailed,
    NoticeSent,
    OutageCancelled,
    OutageDetails,
    SmsDelivered,
)
from shared.events.catalog import Channel
from shared.uow import UnitOfWork

log = logging.getLogger(__name__)

# Reasons are "<stable code>: <text for the dispatcher>".
OUTAGE_CANCELLED = "outage_cancelled: 停电计划已取消，通知未发出"
SUPERSEDED = "superseded: 已由第{version}版名单取代，通知未发出"
NO_CHANNEL = "channel_unavailable: 未配置{channel}渠道，无法发送"

# Notices that reached the provider or may have: the people they address count as told.
TOLD_OR_MAYBE_TOLD = frozenset(
    {MessageStatus.SENDING, MessageStatus.UNKNOWN, MessageStatus.SUBMITTED}
)


@dataclass(frozen=True)
class Composer:
    """Turns an addressee and an outage into a message ready to queue."""

    renderer: NoticeRenderer
    sign_name: str
    channels: frozenset[str]

    def compose(
        self,
        kind: NoticeKind,
        outage_id: str,
        list_version: int,
        details: OutageDetails,
        addressee: Addressee,
    ) -> NewMessage:
        """The message, rendered now so that what was sent stays on record.

        An addressee on a channel no gateway serves is recorded as failed at once, so the
        gap shows up as a failed notice instead of a message waiting forever.
        """
        text, parts, status, last_error = "", 0, MessageStatus.QUEUED, None
        if addressee.channel in self.channels:
            text = self.renderer.render(addressee.channel, kind, details, addressee.account_names)
            parts = count_parts(displayed_text(self.sign_name, text))
        else:
            status = MessageStatus.FAILED
            last_error = NO_CHANNEL.format(channel=addressee.channel)
        return NewMessage(
            message_id=str(uuid.uuid4()),
            outage_id=outage_id,
            list_version=list_version,
            notice_kind=kind,
            channel=addressee.channel,
            address=addressee.address,
            contact_name=addressee.contact_name,
            account_ids=addressee.account_ids,
            account_names=addressee.account_names,
            sign_name=self.sign_name,
            text=text,
            parts=parts,
            status=status,
            last_error=last_error,
        )


def _notice_failed(
    message: NewMessage | ClaimedMessage, reason: str, now: datetime
) -> NoticeFailed:
    return NoticeFailed(
        outage_id=message.outage_id,
        message_id=message.message_id,
        notice_kind=message.notice_kind.value,
        list_version=message.list_version,
        channel=cast(Channel, message.channel),
        address=message.address,
        account_ids=list(message.account_ids),
        reason=reason,
        failed_at=now,
    )


async def _insert(
    uow: UnitOfWork, repo: DispatchRepository, new: list[NewMessage], now: datetime
) -> int:
    """Insert ``new`` (the idempotency key drops repeats); return how many were queued."""
    inserted = set(await repo.insert_messages(new, now))
    queued = 0
    for message in new:
        if message.message_id not in inserted:
            continue
        if message.status is MessageStatus.FAILED:
            uow.emit(_notice_failed(message, message.last_error or "", now))
        else:
            queued += 1
    return queued


async def queue_approved_list(
    uow: UnitOfWork, event: ListApproved, composer: Composer, *, now: datetime
) -> int:
    """Queue one notice per recipient of an approved list; return how many were queued.

    Nothing is queued for a cancelled outage or for a version older than one already
    approved. A newer version replaces the older one for every notice not yet handed to the
    provider (those are cancelled as superseded), and queues only recipients not already
    told of all their accounts by an earlier version (see :func:`newly_owed_notice`).
    """
    repo = DispatchRepository(uow.session)
    outage = await repo.lock_outage(event.outage_id, now)
    if outage.cancelled:
        log.info("outage %s is cancelled; list v%d queues nothing", event.outage_id, event.version)
        return 0
    if outage.list_version is not None and event.version < outage.list_version:
        log.info(
            "outage %s: list v%d is older than v%d already approved; ignored",
            event.outage_id,
            event.version,
            outage.list_version,
        )
        return 0
    await repo.store_approved_list(event, now)
    superseded = await repo.cancel_queued_notices(
        event.outage_id, SUPERSEDED.format(version=event.version), now, below_version=event.version
    )
    already_told = await repo.notices_in(event.outage_id, TOLD_OR_MAYBE_TOLD)
    owed = newly_owed_notice(
        [
            Addressee(
                r.channel, r.address, r.contact_name, tuple(r.account_ids), tuple(r.account_names)
            )
            for r in event.recipients
        ],
        already_told,
    )
    new = [
        composer.compose(NoticeKind.NOTICE, event.outage_id, event.version, event.details, a)
        for a in owed
    ]
    queued = await _insert(uow, repo, new, now)
    log.info(
        "outage %s list v%d: %d recipients, %d queued, %d earlier notices superseded",
        event.outage_id,
        event.version,
        len(event.recipients),
        queued,
        superseded,
    )
    return queued


async def _queue_cancellations(
    uow: UnitOfWork,
    repo: DispatchRepository,
    composer: Composer,
    outage: OutageState,
    now: datetime,
    *,
    channel: str | None = None,
    address: str | None = None,
) -> int:
    """Queue one cancellation per address whose notice was handed to the provider.

    The key uses the outage's latest list version, which no longer changes once the outage
    is cancelled, so an address told by several versions still gets one cancellation.
    """
    if outage.details is None or outage.list_version is None:
        return 0
    told = await repo.notices_in(
        outage.outage_id, {MessageStatus.SUBMITTED}, channel=channel, address=address
    )
    new = [
        composer.compose(
            NoticeKind.CANCELLATION, outage.outage_id, outage.list_version, outage.details, a
        )
        for a in merge_by_address(told)
    ]
    return await _insert(uow, repo, new, now)


@dataclass(frozen=True)
class CancellationResult:
    notices_stopped: int
    cancellations_queued: int


async def cancel_outage(
    uow: UnitOfWork, event: OutageCancelled, composer: Composer, *, now: datetime
) -> CancellationResult:
    """Stop the outage's unsent notices and tell everyone already told that it is off.

    Recorded even when no list was approved yet, so that a later approval queues nothing.
    Notices in flight (``sending``/``unknown``) are left to finish: one that turns out to
    have reached the provider gets its cancellation when that is recorded.
    """
    repo = DispatchRepository(uow.session)
    outage = await repo.lock_outage(event.outage_id, now)
    await repo.mark_cancelled(event, now)
    stopped = await repo.cancel_queued_notices(event.outage_id, OUTAGE_CANCELLED, now)
    queued = await _queue_cancellations(uow, repo, composer, outage, now)
    log.info(
        "outage %s cancelled: %d unsent notices stopped, %d cancellations queued",
        event.outage_id,
        stopped,
        queued,
    )
    return CancellationResult(stopped, queued)


async def _record_submitted(
    uow: UnitOfWork,
    repo: DispatchRepository,
    composer: Composer,
    message: Message | ClaimedMessage,
    *,
    provider_message_id: str,
    parts: int,
    now: datetime,
    claim_token: str | None = None,
    from_statuses: frozenset[MessageStatus] = frozenset(
        {MessageStatus.SENDING, MessageStatus.UNKNOWN}
    ),
) -> bool:
    outage = None
    if message.notice_kind is NoticeKind.NOTICE:
        # Read-locked before the message changes: a cancellation committing meanwhile
        # either waits for this transaction (and then sees the notice as submitted) or
        # commits first (and this one sees the outage cancelled). Either way the
        # addressee gets a cancellation.
        outage = await repo.read_outage_shared(message.outage_id)
    recorded = await repo.mark_submitted(
        message.message_id,
        provider_message_id=provider_message_id,
        parts=parts,
        now=now,
        claim_token=claim_token,
        from_statuses=from_statuses,
    )
    if not recorded:
        return False
    uow.emit(
        NoticeSent(
            outage_id=message.outage_id,
            message_id=message.message_id,
            provider_message_id=provider_message_id,
            notice_kind=message.notice_kind.value,
            list_version=message.list_version,
            channel=cast(Channel, message.channel),
            address=message.address,
            account_ids=list(message.account_ids),
            parts=parts,
            sent_at=now,
        )
    )
    if outage is not None and outage.cancelled:
        await _queue_cancellations(
            uow, repo, composer, outage, now, channel=message.channel, address=message.address
        )
    return True


async def claim_for_sending(
    uow: UnitOfWork, *, claimer: str, now: datetime, limit: int, lease_s: float
) -> list[ClaimedMessage]:
    """Due queued messages, now ``sending`` and held by ``claimer`` for ``lease_s``."""
    repo = DispatchRepository(uow.session)
    return await repo.claim_for_sending(now, limit, lease_s, claimer, OUTAGE_CANCELLED)


async def claim_for_checking(
    uow: UnitOfWork, *, claimer: str, now: datetime, limit: int, lease_s: float
) -> list[ClaimedMessage]:
    """Due ``unknown`` messages and abandoned ``sending`` ones, to ask the provider about."""
    repo = DispatchRepository(uow.session)
    return await repo.claim_for_checking(now, limit, lease_s, claimer)


async def recover_abandoned_sends(uow: UnitOfWork, *, claimer: str, now: datetime) -> int:
    """At start-up: make the calls ``claimer`` had in flight when it stopped due for a check.

    Those calls died with the process, so there is nobody to wait for; another replica's
    claims are left alone until their lease runs out, since that replica may be mid-call.
    """
    recovered = await DispatchRepository(uow.session).expire_claims_of(claimer, now)
    if recovered:
        log.warning("%d messages were mid-call when %s stopped; checking them", recovered, claimer)
    return recovered


async def record_decision(
    uow: UnitOfWork,
    message: ClaimedMessage,
    decision: Decision,
    composer: Composer,
    *,
    now: datetime,
) -> bool:
    """Write what a provider call came to; False if the claim was lost meanwhile."""
    repo = DispatchRepository(uow.session)
    token = message.claim_token
    match decision:
        case MarkSubmitted(provider_message_id=provider_message_id, parts=parts):
            return await _record_submitted(
                uow,
                repo,
                composer,
                message,
                provider_message_id=provider_message_id,
                parts=parts,
                now=now,
                claim_token=token,
            )
        case MarkFailed(reason=reason):
            if not await repo.mark_failed(message.message_id, token, reason, now):
                return False
            uow.emit(_notice_failed(message, reason, now))
            return True
        case Requeue(at=at, reason=reason):
            return await repo.requeue(message.message_id, token, at, reason, now)
        case AwaitCheck(at=at, reason=reason):
            return await repo.await_check(message.message_id, token, at, reason, now)


async def record_delivery_report(
    uow: UnitOfWork, event: SmsDelivered, composer: Composer, *, now: datetime
) -> None:
    """Record a carrier's delivery report on the message it is about.

    A report is also proof that the carrier received the message: one about a message we
    still have as in flight or unknown settles it as submitted.
    """
    repo = DispatchRepository(uow.session)
    message = await repo.get_message(event.message_id)
    if message is None:
        log.warning(
            "delivery report %s for unknown message %s ignored",
            event.provider_message_id,
            event.message_id,
        )
        return
    if message.status in SUBMISSION_PROVEN_BY_REPORT:
        await _record_submitted(
            uow,
            repo,
            composer,
            message,
            provider_message_id=event.provider_message_id,
            parts=message.parts,
            now=now,
            from_statuses=SUBMISSION_PROVEN_BY_REPORT,
        )
    if message.delivery_status is not None:
        if event.status != message.delivery_status.value:
            log.info(
                "message %s to %s: %s after final %s ignored",
                message.message_id,
                mask_address(message.address),
                event.status,
                message.delivery_status.value,
            )
        return
    await repo.record_delivery(
        message.message_id,
        delivery_status=merge_delivery_status(None, event.status),
        carrier_stat=event.carrier_stat,
        carrier_err=event.carrier_err,
        reported_at=event.done_at or now,
        now=now,
    )


@dataclass(frozen=True)
class OutageMessages:
    outage: OutageState
    counts: list[StatusCount]
    matching: int
    messages: list[Message]


async def outage_messages(
    uow: UnitOfWork,
    outage_id: str,
    *,
    status: MessageStatus | None = None,
    notice_kind: NoticeKind | None = None,
    limit: int = 500,
    offset: int = 0,
) -> OutageMessages:
    repo = DispatchRepository(uow.session)
    outage = await repo.read_outage(outage_id)
    if outage is None:
        raise NotFound(
            f"dispatch knows no outage {outage_id!r}: no list was approved or cancelled for it",
            field="outage_id",
        )
    counts = await repo.count_messages(outage_id)
    matching = sum(
        c.count
        for c in counts
        if (status is None or c.status == status.value)
        and (notice_kind is None or c.notice_kind == notice_kind.value)
    )
    return OutageMessages(
        outage=outage,
        counts=counts,
        matching=matching,
        messages=await repo.list_messages(
            outage_id, status=status, notice_kind=notice_kind, limit=limit, offset=offset
        ),
    )


async def get_message(uow: UnitOfWork, message_id: str) -> Message:
    message = await DispatchRepository(uow.session).get_message(message_id)
    if message is None:
        raise NotFound(f"no message {message_id!r}", field="message_id")
    return message
