"""The dispatch use cases, shared by the event handlers, the sender and the HTTP routes.

Each takes an open unit of work and leaves the commit to its caller: a handler's work commits
together with the consumer's inbox claim, the sender and the routes commit their own.

Who is told what:

* ``list.approved``: wave 0 is queued (due on approval, or at the first allowed moment), later
  waves are stored as ``held``; a reminder is scheduled for the day before.
* ``escalation.requested``: one held recipient of the approved list is released.
* ``outage.cancelled`` / ``outage.rescheduled``: unsent messages stop (a reschedule rewords
  them); everyone reached on any channel gets the cancellation or the new time on that
  channel, referring to the message it corrects, and nobody else.
* ``outage.completed``: the restoration notice, to the audiences the policy names.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any, cast

from services.dispatch.adapters.repository import DispatchRepository, ScheduleEntry, Settlement
from services.dispatch.domain.audience import (
    Addressee,
    followup_audience,
    merge_by_address,
    newly_owed_notice,
)
from services.dispatch.domain.gating import OUTAGE_CANCELLED, OUTAGE_COMPLETED, STALE, gate
from services.dispatch.domain.messages import (
    ANNOUNCING,
    SUBMISSION_PROVEN_BY_REPORT,
    TOLD_OR_MAYBE_TOLD,
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
    MarkUnresolved,
    Requeue,
)
from services.dispatch.domain.rendering import Followup, NoticeRenderer
from services.dispatch.domain.segments import count_parts, displayed_text
from services.dispatch.domain.timing import (
    LeadTimeCheck,
    after_quiet_hours,
    check_lead_time,
    first_notice_at,
    in_quiet_hours,
    local_day,
    reminder_at,
    subject_to_quiet_hours,
    within_call_window,
)
from shared.channel_policy import ChannelPolicy, restoration_audiences
from shared.errors import Conflict, NotFound
from shared.events import (
    EscalationRequested,
    ListApproved,
    NoticeFailed,
    NoticeSent,
    OutageCancelled,
    OutageCompleted,
    OutageDetails,
    OutageRescheduled,
    Recipient,
    SmsDelivered,
)
from shared.events.catalog import Channel
from shared.timeutil import ensure_aware
from shared.uow import UnitOfWork

log = logging.getLogger(__name__)

# Reasons are "<stable code>: <text for the dispatcher>".
SUPERSEDED = "superseded: 已由第{version}版名单取代，通知未发出"
RESCHEDULED = STALE
NO_CHANNEL = "channel_unavailable: 未配置{channel}渠道，无法发送"


@dataclass(frozen=True)
class Composer:
    """Turns an addressee and an outage into a message ready to store."""

    renderer: NoticeRenderer
    sign_name: str
    channels: frozenset[str]
    policy: ChannelPolicy
    timezone: str
    # (channel, kind, outage kind, start, now, due) → (quiet, due after quiet hours): the
    # same for every message of a batch, so judged once.
    _timing: dict[tuple[object, ...], tuple[bool, datetime]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def _quiet_due(
        self, channel: str, kind: NoticeKind, details: OutageDetails, now: datetime, due: datetime
    ) -> tuple[bool, datetime]:
        key = (channel, kind, details.kind, details.starts_at, now, due)
        found = self._timing.get(key)
        if found is None:
            quiet = subject_to_quiet_hours(
                self.policy,
                channel=channel,
                notice_kind=kind,
                outage_kind=details.kind,
                starts_at=details.starts_at,
                now=now,
            )
            if quiet:
                due = after_quiet_hours(due, self.policy.timing.quiet_hours, self.timezone)
            if len(self._timing) >= 256:
                self._timing.clear()
            found = self._timing[key] = (quiet, due)
        return found

    def compose(
        self,
        kind: NoticeKind,
        outage_id: str,
        list_version: int,
        revision: int,
        details: OutageDetails,
        addressee: Addressee,
        *,
        now: datetime,
        due_at: datetime | None = None,
        held: bool = False,
        followup: Followup | None = None,
        refers_to: str | None = None,
    ) -> NewMessage:
        """The message, rendered now so that what was sent stays on record.

        An addressee on a channel no gateway serves is recorded as failed at once (unless it
        is held for escalation), so the gap shows up as a failed notice instead of a message
        waiting forever. Quiet hours and the person's call window push the due time on.
        """
        channel = addressee.channel
        text, parts, last_error = "", 0, None
        status = MessageStatus.HELD if held else MessageStatus.QUEUED
        if channel in self.channels:
            text = self.renderer.render(
                channel,
                kind,
                details,
                addressee.account_names,
                contact_name=addressee.contact_name,
                location=addressee.location,
                audience=addressee.audience,
                followup=followup,
            )
            parts = count_parts(displayed_text(self.sign_name, text)) if channel == "sms" else 1
        elif not held:
            status = MessageStatus.FAILED
            last_error = NO_CHANNEL.format(channel=channel)
        quiet, due = self._quiet_due(channel, kind, details, now, due_at or now)
        due = within_call_window(due, addressee.call_earliest, addressee.call_latest, self.timezone)
        return NewMessage(
            message_id=str(uuid.uuid4()),
            outage_id=outage_id,
            list_version=list_version,
            revision=revision,
            notice_kind=kind,
            channel=channel,
            address=addressee.address,
            contact_name=addressee.contact_name,
            account_ids=addressee.account_ids,
            account_names=addressee.account_names,
            role=addressee.role,
            wave=addressee.wave,
            audience=addressee.audience,
            location=addressee.location,
            details=details,
            sign_name=self.sign_name,
            text=text,
            parts=parts,
            status=status,
            due_at=due,
            quiet=quiet,
            last_error=last_error,
            refers_to=refers_to,
            call_earliest=addressee.call_earliest,
            call_latest=addressee.call_latest,
        )

    def followup_of(self, outage: OutageState, kind: NoticeKind) -> Followup:
        """What a follow-up of ``kind`` says besides the outage: why, and the old times."""
        reason = outage.cancel_reason if kind is NoticeKind.CANCELLATION else None
        if kind is NoticeKind.RESCHEDULE:
            reason = outage.reschedule_reason
        return Followup(
            reason=reason or "",
            previous_starts_at=outage.previous_starts_at,
            previous_ends_at=outage.previous_ends_at,
            completed_at=outage.completed_at,
        )


def _addressee(r: Recipient) -> Addressee:
    return Addressee(
        channel=r.channel,
        address=r.address,
        contact_name=r.contact_name,
        account_ids=tuple(r.account_ids),
        account_names=tuple(r.account_names),
        role=r.role,
        wave=r.wave,
        audience=r.audience,
        location=r.location,
        call_earliest=r.call_earliest,
        call_latest=r.call_latest,
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


def _notice_sent(
    message: Message | ClaimedMessage, provider_message_id: str, parts: int, now: datetime
) -> NoticeSent:
    return NoticeSent(
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


async def _insert(
    uow: UnitOfWork, repo: DispatchRepository, new: list[NewMessage], now: datetime
) -> int:
    """Insert ``new`` (the idempotency key drops repeats); return how many may go out."""
    inserted = set(await repo.insert_messages(new, now))
    queued = 0
    for message in new:
        if message.message_id not in inserted:
            continue
        if message.status is MessageStatus.FAILED:
            uow.emit(_notice_failed(message, message.last_error or "", now))
        elif message.status is MessageStatus.QUEUED:
            queued += 1
    return queued


# Approval


async def queue_approved_list(
    uow: UnitOfWork, event: ListApproved, composer: Composer, *, now: datetime
) -> int:
    """Queue wave 0 of an approved list and hold the later waves; return how many queued.

    Nothing is queued for a cancelled or completed outage, or for a version older than one
    already approved. A newer version replaces the older one for every message not yet
    handed to a provider (those are cancelled as superseded), and queues only recipients not
    already told of all their accounts by an earlier version (see :func:`newly_owed_notice`).
    """
    repo = DispatchRepository(uow.session)
    outage = await repo.lock_outage(event.outage_id, now)
    if outage.cancelled or outage.completed:
        log.info("outage %s is closed; list v%d queues nothing", event.outage_id, event.version)
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
    outage = await repo.lock_outage(event.outage_id, now)
    details = outage.details
    assert details is not None  # just stored
    superseded = await repo.cancel_unsent(
        event.outage_id,
        SUPERSEDED.format(version=event.version),
        now,
        kinds={NoticeKind.NOTICE},
        below_version=event.version,
    )
    already_told = await repo.addressees(
        event.outage_id, kinds=ANNOUNCING, statuses=TOLD_OR_MAYBE_TOLD
    )
    recipients = [_addressee(r) for r in event.recipients]
    first_at = first_notice_at(composer.policy, details.kind, details.starts_at, now)
    new = [
        composer.compose(
            NoticeKind.NOTICE,
            event.outage_id,
            event.version,
            outage.revision,
            details,
            a,
            now=now,
            due_at=first_at,
            held=a.wave > 0,
        )
        for a in newly_owed_notice(recipients, already_told)
    ]
    queued = await _insert(uow, repo, new, now)
    reminder = reminder_at(
        composer.policy, details.kind, details.starts_at, first_at, composer.timezone
    )
    if reminder is not None and queued:
        await repo.schedule(event.outage_id, NoticeKind.REMINDER, outage.revision, reminder, now)
    lead = check_lead_time(composer.policy, details.kind, details.starts_at, first_at)
    if not lead.met:
        log.warning(
            "outage %s: first notice at %s gives %s before the start, %s short of the lead time %s",
            event.outage_id,
            first_at.isoformat(),
            lead.given,
            lead.short_by,
            lead.required,
        )
    log.info(
        "outage %s list v%d: %d recipients, %d queued, %d held, %d earlier messages superseded",
        event.outage_id,
        event.version,
        len(event.recipients),
        queued,
        sum(1 for m in new if m.status is MessageStatus.HELD),
        len(superseded),
    )
    return queued


# Follow-ups: cancellation, new time, restoration


async def _queue_followups(
    uow: UnitOfWork,
    repo: DispatchRepository,
    composer: Composer,
    outage: OutageState,
    kind: NoticeKind,
    now: datetime,
    *,
    channel: str | None = None,
    address: str | None = None,
    channels: Collection[str] | None = None,
    audiences: Collection[str] | None = None,
) -> int:
    """Queue ``kind`` to every address an announcing message reached (on that channel).

    The key uses the outage's latest list version and revision, which no longer change for
    this follow-up, so an address reached by several versions still gets one follow-up.
    """
    if outage.details is None or outage.list_version is None:
        return 0
    told = await repo.addressees(
        outage.outage_id,
        kinds=ANNOUNCING,
        statuses={MessageStatus.SUBMITTED},
        channel=channel,
        address=address,
    )
    targets = followup_audience(told, channels=channels, audiences=audiences)
    if not targets:
        return 0
    refers = await repo.first_message_ids(outage.outage_id, ANNOUNCING)
    followup = composer.followup_of(outage, kind)
    last_told = await repo.last_told(outage.outage_id) if kind is NoticeKind.RESCHEDULE else {}
    new: list[NewMessage] = []
    for addressee in targets:
        personal = followup
        if kind is NoticeKind.RESCHEDULE:
            # The new time is told against the times this person was last told, which may
            # be older than the reschedule's own "previous" if a correction never reached
            # them.
            told_of = last_told.get(addressee.key)
            if told_of is not None and (told_of.starts_at, told_of.ends_at) == (
                outage.details.starts_at,
                outage.details.ends_at,
            ):
                continue  # already told the new time (a reworded notice)
            if told_of is not None:
                personal = replace(
                    followup,
                    previous_starts_at=told_of.starts_at,
                    previous_ends_at=told_of.ends_at,
                )
        new.append(
            composer.compose(
                kind,
                outage.outage_id,
                outage.list_version,
                outage.revision,
                outage.details,
                addressee,
                now=now,
                followup=personal,
                refers_to=refers.get(addressee.key),
            )
        )
    return await _insert(uow, repo, new, now)


@dataclass(frozen=True)
class FollowupResult:
    messages_stopped: int
    followups_queued: int


async def cancel_outage(
    uow: UnitOfWork, event: OutageCancelled, composer: Composer, *, now: datetime
) -> FollowupResult:
    """Stop the outage's unsent messages and tell everyone already told that it is off.

    Recorded even when no list was approved yet, so that a later approval queues nothing.
    Messages in flight (``sending``/``unknown``) are left to finish: one that turns out to
    have reached its provider gets its cancellation when that is recorded.
    """
    repo = DispatchRepository(uow.session)
    await repo.lock_outage(event.outage_id, now)
    await repo.mark_cancelled(event, now)
    outage = await repo.lock_outage(event.outage_id, now)
    stopped = await repo.cancel_unsent(
        event.outage_id, OUTAGE_CANCELLED, now, kinds=ANNOUNCING | {NoticeKind.RESTORATION}
    )
    await repo.cancel_schedules(event.outage_id, OUTAGE_CANCELLED, now)
    queued = await _queue_followups(uow, repo, composer, outage, NoticeKind.CANCELLATION, now)
    log.info(
        "outage %s cancelled: %d unsent messages stopped, %d cancellations queued",
        event.outage_id,
        len(stopped),
        queued,
    )
    return FollowupResult(len(stopped), queued)


async def reschedule_outage(
    uow: UnitOfWork, event: OutageRescheduled, composer: Composer, *, now: datetime
) -> FollowupResult:
    """Record new times: unsent notices are reworded, everyone told gets the new time.

    The outage's revision goes up by one; the new-time messages carry it in their key, so a
    second reschedule tells people again, while a repeat of the same one changes nothing.
    A newspaper digest gets its correction on the old day and, when the day changes, the
    outage is listed in the new day's digest too.
    """
    repo = DispatchRepository(uow.session)
    outage = await repo.lock_outage(event.outage_id, now)
    if outage.cancelled or outage.completed:
        log.info("outage %s is closed; reschedule ignored", event.outage_id)
        return FollowupResult(0, 0)
    current = outage.details
    if (
        current is not None
        and current.starts_at == event.details.starts_at
        and current.ends_at == event.details.ends_at
        and outage.revision > 0
    ):
        log.info("outage %s already has these times; reschedule ignored", event.outage_id)
        return FollowupResult(0, 0)
    revision = outage.revision + 1
    await repo.store_reschedule(event, revision, now)
    outage = await repo.lock_outage(event.outage_id, now)
    details = outage.details
    assert details is not None  # just stored
    await repo.cancel_schedules(event.outage_id, RESCHEDULED, now)
    if outage.list_version is None:
        return FollowupResult(0, 0)

    unsent = await repo.cancel_unsent(
        event.outage_id, RESCHEDULED, now, kinds=ANNOUNCING, below_revision=revision
    )
    first_at = first_notice_at(composer.policy, details.kind, details.starts_at, now)
    reworded = [
        composer.compose(
            NoticeKind.NOTICE,
            m.outage_id,
            m.list_version,
            revision,
            details,
            _message_addressee(m),
            now=now,
            due_at=first_at,
            held=m.status is MessageStatus.HELD,
        )
        for m in unsent
        if m.notice_kind is NoticeKind.NOTICE
    ]
    await _insert(uow, repo, reworded, now)
    queued = await _queue_followups(uow, repo, composer, outage, NoticeKind.RESCHEDULE, now)
    queued += await _list_in_new_digest(uow, repo, composer, outage, now)
    reminder = reminder_at(composer.policy, details.kind, details.starts_at, now, composer.timezone)
    if reminder is not None:
        await repo.schedule(event.outage_id, NoticeKind.REMINDER, revision, reminder, now)
    log.info(
        "outage %s rescheduled (revision %d): %d unsent messages reworded, %d told anew",
        event.outage_id,
        revision,
        len(reworded),
        queued,
    )
    return FollowupResult(len(unsent), queued)


async def _list_in_new_digest(
    uow: UnitOfWork,
    repo: DispatchRepository,
    composer: Composer,
    outage: OutageState,
    now: datetime,
) -> int:
    """A rescheduled outage that was in a day's newspaper digest joins its new day's one."""
    details = outage.details
    assert details is not None
    assert outage.list_version is not None
    new_day = local_day(details.starts_at, composer.timezone).isoformat()
    told = await repo.addressees(
        outage.outage_id,
        kinds=ANNOUNCING,
        statuses={MessageStatus.SUBMITTED},
    )
    digests = [a for a in merge_by_address(told) if a.channel == "newspaper"]
    if not digests or any(d.address == new_day for d in digests):
        return 0
    # Listed once on the new day, under the paper the old day's digest went to.
    paper = digests[0]
    listing = replace(paper, address=new_day, wave=0)
    new = [
        composer.compose(
            NoticeKind.NOTICE,
            outage.outage_id,
            outage.list_version,
            outage.revision,
            details,
            listing,
            now=now,
        )
    ]
    return await _insert(uow, repo, new, now)


def _message_addressee(message: Message) -> Addressee:
    return Addressee(
        channel=message.channel,
        address=message.address,
        contact_name=message.contact_name,
        account_ids=message.account_ids,
        account_names=message.account_names,
        role=message.role,
        wave=message.wave,
        audience=message.audience,
        location=message.location,
    )


async def complete_outage(
    uow: UnitOfWork, event: OutageCompleted, composer: Composer, *, now: datetime
) -> FollowupResult:
    """The work ended: stop what is unsent and tell the policy's audiences power is back."""
    repo = DispatchRepository(uow.session)
    await repo.lock_outage(event.outage_id, now)
    await repo.mark_completed(event, now)
    outage = await repo.lock_outage(event.outage_id, now)
    stopped = await repo.cancel_unsent(event.outage_id, OUTAGE_COMPLETED, now, kinds=ANNOUNCING)
    await repo.cancel_schedules(event.outage_id, OUTAGE_COMPLETED, now)
    if outage.cancelled or outage.details is None:
        return FollowupResult(len(stopped), 0)
    audiences = restoration_audiences(composer.policy, outage.details.kind)
    queued = 0
    if audiences:
        queued = await _queue_followups(
            uow,
            repo,
            composer,
            outage,
            NoticeKind.RESTORATION,
            now,
            channels=composer.policy.timing.restoration_channels,
            audiences=audiences,
        )
    log.info(
        "outage %s completed: %d unsent messages stopped, %d restoration notices queued",
        event.outage_id,
        len(stopped),
        queued,
    )
    return FollowupResult(len(stopped), queued)


# Escalation


@dataclass(frozen=True)
class EscalationResult:
    outcome: str
    message_id: str | None = None

    @property
    def queued(self) -> bool:
        return self.outcome == "queued"


async def escalate(
    uow: UnitOfWork, event: EscalationRequested, composer: Composer, *, now: datetime
) -> EscalationResult:
    """Send one held recipient of the approved list, once per escalation id.

    Escalation never reaches anyone a reviewer did not approve: a recipient that is not on
    the outage's latest approved list (as a held, later-wave entry) is refused and logged.
    """
    repo = DispatchRepository(uow.session)
    recipient = event.recipient
    if not await repo.record_escalation(
        event.escalation_id, event.outage_id, recipient.channel, recipient.address, event.step, now
    ):
        return EscalationResult("duplicate")
    outage = await repo.lock_outage(event.outage_id, now)
    result = await _release(uow, repo, composer, outage, event, now)
    await repo.escalation_outcome(event.escalation_id, result.outcome, result.message_id)
    if result.outcome == "not_on_list":
        log.warning(
            "escalation %s of outage %s: %s %s is not on the approved list; nothing sent",
            event.escalation_id,
            event.outage_id,
            recipient.channel,
            mask_address(recipient.address),
        )
    return result


async def _release(
    uow: UnitOfWork,
    repo: DispatchRepository,
    composer: Composer,
    outage: OutageState,
    event: EscalationRequested,
    now: datetime,
) -> EscalationResult:
    if outage.cancelled or outage.completed:
        return EscalationResult("outage_closed")
    if outage.list_version is None:
        return EscalationResult("no_list")
    recipient = event.recipient
    message = await repo.find_by_key(
        outage.outage_id,
        outage.list_version,
        NoticeKind.NOTICE,
        outage.revision,
        recipient.channel,
        recipient.address,
    )
    if message is None:
        return EscalationResult("not_on_list")
    if message.status is not MessageStatus.HELD:
        return EscalationResult(f"already_{message.status.value}", message.message_id)
    if message.channel not in composer.channels:
        # No gateway serves it: say so now rather than leave it waiting.
        reason = NO_CHANNEL.format(channel=message.channel)
        await repo.stop({message.message_id: reason}, now)
        uow.emit(
            NoticeFailed(
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
        )
        return EscalationResult("channel_unavailable", message.message_id)
    await repo.release_held(message.message_id, event.escalation_id, now, now)
    return EscalationResult("queued", message.message_id)


# Scheduled follow-ups


async def run_due_schedules(
    uow: UnitOfWork, composer: Composer, *, now: datetime, limit: int
) -> int:
    """Fan out the follow-ups that came due (reminders); return how many messages queued."""
    repo = DispatchRepository(uow.session)
    queued = 0
    for entry in await repo.due_schedules(now, limit):
        queued += await _run_schedule(uow, repo, composer, entry, now)
    return queued


async def _run_schedule(
    uow: UnitOfWork,
    repo: DispatchRepository,
    composer: Composer,
    entry: ScheduleEntry,
    now: datetime,
) -> int:
    outage = await repo.lock_outage(entry.outage_id, now)
    if outage.cancelled or outage.completed or outage.revision != entry.revision:
        await repo.finish_schedule(entry, "skipped: outage changed", now)
        return 0
    queued = await _queue_followups(
        uow,
        repo,
        composer,
        outage,
        entry.notice_kind,
        now,
        channels=composer.policy.timing.reminder_channels,
    )
    await repo.finish_schedule(entry, f"{queued} queued", now)
    log.info("outage %s: %s due, %d queued", entry.outage_id, entry.notice_kind.value, queued)
    return queued


# Sending


@dataclass(frozen=True)
class ClaimLimits:
    """What the sender may claim now: channels whose breaker is closed, and daily caps."""

    channels: frozenset[str]
    daily_caps: dict[str, int] = field(default_factory=dict)
    rates: dict[str, float] = field(default_factory=dict)
    window_s: float = 0.0


async def claim_for_sending(
    uow: UnitOfWork,
    composer: Composer,
    limits: ClaimLimits,
    *,
    claimer: str,
    now: datetime,
    limit: int,
    lease_s: float,
) -> list[ClaimedMessage]:
    """Due queued messages, now ``sending`` and held by ``claimer`` for ``lease_s``.

    Stops what must not go out and defers what must wait (call windows, daily caps), see
    :func:`services.dispatch.domain.gating.gate`.
    """
    if not limits.channels:
        return []
    repo = DispatchRepository(uow.session)
    quiet_now = in_quiet_hours(now, composer.policy.timing.quiet_hours, composer.timezone)
    rows = await repo.select_due(
        [MessageStatus.QUEUED], now, limit, channels=limits.channels, quiet_now=quiet_now
    )
    if not rows:
        return []
    due = [repo.due_message(r) for r in rows]
    today = local_day(now, composer.timezone)
    capped = {(m.channel, m.address) for m in due if limits.daily_caps.get(m.channel, 0) > 0}
    sent_today = await repo.sent_today(capped, today) if capped else {}
    result = gate(
        due,
        sent_today=sent_today,
        caps=limits.daily_caps,
        now=now,
        timezone=composer.timezone,
        rates=limits.rates,
        window_s=limits.window_s,
    )
    await repo.stop(result.stop, now)
    await _reword_stale(
        uow, repo, composer, [r for r in rows if result.stop.get(r.message_id) == STALE], now
    )
    await repo.defer(result.defer, now)
    if result.counted:
        await repo.add_to_today(result.counted, today)
    send = set(result.send)
    return await repo.mark_sending([r for r in rows if r.message_id in send], now, lease_s, claimer)


async def _reword_stale(
    uow: UnitOfWork, repo: DispatchRepository, composer: Composer, rows: list[Any], now: datetime
) -> None:
    """Notices worded for replaced times go out again worded for the current ones (new-time
    messages and reminders are not: the reschedule's own fan-out and schedule cover them)."""
    notices = [r for r in rows if r.notice_kind == NoticeKind.NOTICE.value]
    if not notices:
        return
    states = await repo.read_outages_shared({r.outage_id for r in notices})
    new = []
    for row in notices:
        outage = states[row.outage_id]
        if outage.details is None:
            continue
        new.append(
            composer.compose(
                NoticeKind.NOTICE,
                row.outage_id,
                row.list_version,
                outage.revision,
                outage.details,
                repo.addressee_of(row),
                now=now,
                held=False,
            )
        )
    await _insert(uow, repo, new, now)


async def claim_for_checking(
    uow: UnitOfWork,
    channels: frozenset[str],
    *,
    claimer: str,
    now: datetime,
    limit: int,
    lease_s: float,
) -> list[ClaimedMessage]:
    """Due ``unknown`` messages and abandoned ``sending`` ones, to ask the provider about."""
    if not channels:
        return []
    repo = DispatchRepository(uow.session)
    rows = await repo.select_due(
        [MessageStatus.UNKNOWN, MessageStatus.SENDING],
        now,
        limit,
        channels=channels,
        quiet_now=False,
    )
    return await repo.mark_checking(rows, now, lease_s, claimer)


async def recover_abandoned_sends(uow: UnitOfWork, *, claimer: str, now: datetime) -> int:
    """At start-up: make the calls ``claimer`` had in flight when it stopped due for a check.

    Those calls died with the process, so there is nobody to wait for; another replica's
    claims are left alone until their lease runs out, since that replica may be mid-call.
    """
    recovered = await DispatchRepository(uow.session).expire_claims_of(claimer, now)
    if recovered:
        log.warning("%d messages were mid-call when %s stopped; checking them", recovered, claimer)
    return recovered


def _settlement(message: ClaimedMessage, decision: Decision) -> Settlement:
    token = message.claim_token
    match decision:
        case MarkSubmitted(provider_message_id=pid, parts=parts):
            return Settlement(
                message.message_id,
                token,
                MessageStatus.SUBMITTED,
                provider_message_id=pid,
                parts=parts,
            )
        case MarkFailed(reason=reason):
            return Settlement(message.message_id, token, MessageStatus.FAILED, last_error=reason)
        case Requeue(at=at, reason=reason, refund_attempt=refund):
            return Settlement(
                message.message_id,
                token,
                MessageStatus.QUEUED,
                next_attempt_at=at,
                last_error=reason,
                refund_attempt=refund,
            )
        case AwaitCheck(at=at, reason=reason):
            return Settlement(
                message.message_id,
                token,
                MessageStatus.UNKNOWN,
                next_attempt_at=at,
                last_error=reason,
            )
        case MarkUnresolved(reason=reason):
            return Settlement(
                message.message_id, token, MessageStatus.UNRESOLVED, last_error=reason
            )


async def record_decisions(
    uow: UnitOfWork,
    outcomes: Sequence[tuple[ClaimedMessage, Decision]],
    composer: Composer,
    *,
    now: datetime,
) -> int:
    """Write what a batch of provider calls came to; return how many claims still held.

    A message whose claim was lost meanwhile (taken over after its lease ran out, or
    settled by a delivery report) is left as the other writer left it.
    """
    if not outcomes:
        return 0
    repo = DispatchRepository(uow.session)
    # Read-locked before the messages change: a cancellation or reschedule committing
    # meanwhile either waits for this transaction (and then sees the notices as submitted)
    # or commits first (and this one sees it). Either way the addressee is told.
    outage_ids = {m.outage_id for m, d in outcomes if isinstance(d, MarkSubmitted)}
    states = await repo.read_outages_shared(outage_ids) if outage_ids else {}
    written = await repo.settle([_settlement(m, d) for m, d in outcomes], now)
    recorded = [(m, d) for m, d in outcomes if m.message_id in written]
    for message, decision in recorded:
        match decision:
            case MarkSubmitted(provider_message_id=pid, parts=parts):
                uow.emit(_notice_sent(message, pid, parts, now))
                outage = states.get(message.outage_id)
                if outage is not None:
                    await _owed_after_submission(uow, repo, composer, outage, message, now)
            case MarkFailed(reason=reason):
                uow.emit(_notice_failed(message, reason, now))
            case _:
                pass
    return len(recorded)


async def _owed_after_submission(
    uow: UnitOfWork,
    repo: DispatchRepository,
    composer: Composer,
    outage: OutageState,
    message: ClaimedMessage | Message,
    now: datetime,
) -> None:
    """An announcing message that reached its provider after the outage was cancelled or
    rescheduled: its addressee is owed the correction the others already got."""
    if message.notice_kind not in ANNOUNCING:
        return
    if outage.cancelled:
        kind = NoticeKind.CANCELLATION
    elif outage.revision > message.revision:
        kind = NoticeKind.RESCHEDULE
    else:
        return
    await _queue_followups(
        uow, repo, composer, outage, kind, now, channel=message.channel, address=message.address
    )


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
        states = await repo.read_outages_shared({message.outage_id})
        if await repo.mark_submitted_by_report(
            message.message_id,
            provider_message_id=event.provider_message_id,
            from_statuses=SUBMISSION_PROVEN_BY_REPORT,
            now=now,
        ):
            uow.emit(_notice_sent(message, event.provider_message_id, message.parts, now))
            outage = states.get(message.outage_id)
            if outage is not None:
                await _owed_after_submission(uow, repo, composer, outage, message, now)
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


async def resolve_message(
    uow: UnitOfWork,
    message_id: str,
    composer: Composer,
    *,
    sent: bool,
    by: str,
    now: datetime,
) -> Message:
    """A dispatcher settles a message whose outcome the provider cannot tell.

    ``sent``: it did arrive (e.g. the group shows it) and is recorded as submitted;
    otherwise it is queued to be sent again. Only an ``unresolved`` message may be settled.
    """
    repo = DispatchRepository(uow.session)
    message = await repo.get_message(message_id)
    if message is None:
        raise NotFound(f"no message {message_id!r}", field="message_id")
    note = f"resolved by {by}: " + ("已确认送达" if sent else "确认未送达，重新发送")
    states = await repo.read_outages_shared({message.outage_id}) if sent else {}
    if not await repo.resolve(message_id, sent=sent, note=note, now=now):
        raise Conflict(
            f"message {message_id} is {message.status.value}; only an unresolved message "
            "can be resolved",
            field="message_id",
        )
    if sent:
        uow.emit(_notice_sent(message, f"resolved:{message_id}", message.parts, now))
        outage = states.get(message.outage_id)
        if outage is not None:
            await _owed_after_submission(uow, repo, composer, outage, message, now)
    resolved = await repo.get_message(message_id)
    assert resolved is not None
    return resolved


# Reading


@dataclass(frozen=True)
class OutageMessages:
    outage: OutageState
    counts: list[StatusCount]
    matching: int
    messages: list[Message]
    lead_time: LeadTimeCheck | None
    waiting: dict[str, int]
    schedules: list[tuple[str, int, datetime, str]]


async def outage_messages(
    uow: UnitOfWork,
    outage_id: str,
    policy: ChannelPolicy,
    *,
    now: datetime,
    status: MessageStatus | None = None,
    notice_kind: NoticeKind | None = None,
    channel: str | None = None,
    limit: int = 500,
    offset: int = 0,
) -> OutageMessages:
    """The outage's messages, their counts, what waits and why, and the lead-time check.

    The lead time is judged from the first notice that reached a provider, or, before any
    did, from when the first one is due.
    """
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
        and (channel is None or c.channel == channel)
    )
    lead = None
    if outage.details is not None:
        first = await repo.first_submitted_at(outage_id) or await repo.first_due_at(outage_id)
        if first is not None:
            lead = check_lead_time(policy, outage.details.kind, outage.details.starts_at, first)
    return OutageMessages(
        outage=outage,
        counts=counts,
        matching=matching,
        messages=await repo.list_messages(
            outage_id,
            status=status,
            notice_kind=notice_kind,
            channel=channel,
            limit=limit,
            offset=offset,
        ),
        lead_time=lead,
        waiting=await repo.count_waiting(outage_id, now),
        schedules=[
            (r.notice_kind, r.revision, ensure_aware(r.due_at), r.status)
            for r in await repo.schedules_of(outage_id)
        ],
    )


async def get_message(uow: UnitOfWork, message_id: str) -> Message:
    message = await DispatchRepository(uow.session).get_message(message_id)
    if message is None:
        raise NotFound(f"no message {message_id!r}", field="message_id")
    return message


async def printed_for_outage(uow: UnitOfWork, outage_id: str, channel: str) -> list[Message]:
    """The outage's door slips or posted notices handed to print (notices and corrections)."""
    repo = DispatchRepository(uow.session)
    if await repo.read_outage(outage_id) is None:
        raise NotFound(f"dispatch knows no outage {outage_id!r}", field="outage_id")
    found = await repo.printed(channel=channel, outage_id=outage_id)
    if not found:
        raise NotFound(
            f"outage {outage_id} has no {channel} handed to print (yet)", field="outage_id"
        )
    return found


async def newspaper_of(uow: UnitOfWork, day: date) -> list[Message]:
    """The digest entries and corrections of one day, across outages."""
    found = await DispatchRepository(uow.session).printed(
        channel="newspaper", address=day.isoformat()
    )
    if not found:
        raise NotFound(f"no outage is in the newspaper digest of {day.isoformat()}", field="date")
    return found
