"""The receipts service layer: the webhook route and the event handlers both call these.

Each function works inside the caller's open unit of work and leaves the commit to it, so a
report's receipt row, the notice's new delivery state and the ``sms.delivered`` event it causes
are committed together or not at all.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.receipts.adapters.repository import ReceiptsRepository
from services.receipts.domain.coverage import Coverage, Submission, compute_coverage
from services.receipts.domain.reports import CarrierReport, in_carrier_order, mask_phone, settle
from shared.errors import NotFound
from shared.events import ListApproved, NoticeFailed, NoticeSent, OutageCancelled, SmsDelivered
from shared.timeutil import utcnow
from shared.uow import UnitOfWork

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReportIntake:
    """What became of a batch: new reports stored and emitted, and repeats absorbed."""

    accepted: int
    duplicates: int


async def record_delivery_reports(
    reports: Sequence[CarrierReport], uow: UnitOfWork
) -> ReportIntake:
    """Store the reports not seen before, advance their notices, emit one ``sms.delivered`` each.

    Carriers push a batch again when our answer is lost, so a report already stored changes
    nothing and emits nothing. A report may come before dispatch's ``notice.sent`` (the carrier
    can be faster than the outbox relay); its state is kept by message id and joined to the
    notice when that arrives.
    """
    repository = ReceiptsRepository(uow.session)
    unique = {report.key: report for report in reports}
    received_at = utcnow()
    # Every batch takes its row locks in one order (receipts by key, then delivery states by
    # message id), so concurrent pushes wait for one another instead of deadlocking, and each
    # applies its reports to the state the other left behind.
    stored = await repository.add_receipts(
        [_receipt_row(unique[key], received_at) for key in sorted(unique)]
    )
    new = [report for report in in_carrier_order(list(unique.values())) if report.key in stored]
    by_message: dict[str, list[CarrierReport]] = {}
    for report in new:
        by_message.setdefault(report.message_id, []).append(report)
    await _advance_deliveries(repository, by_message)

    outage_of = await repository.outage_ids(list(by_message))
    for report in new:
        uow.emit(
            SmsDelivered(
                message_id=report.message_id,
                provider_message_id=report.provider_message_id,
                outage_id=outage_of.get(report.message_id),
                status=report.outcome.status.value,
                carrier_stat=report.stat,
                carrier_err=report.err,
                done_at=report.done_at,
            )
        )
    intake = ReportIntake(accepted=len(new), duplicates=len(reports) - len(new))
    log.info(
        "delivery reports: %d new, %d duplicates, %d messages, %d without a known notice",
        intake.accepted,
        intake.duplicates,
        len(by_message),
        len(set(by_message) - set(outage_of)),
    )
    return intake


async def record_notice_sent(event: NoticeSent, uow: UnitOfWork) -> None:
    """Remember a notice handed to the carrier; receipts already stored for it now count."""
    repository = ReceiptsRepository(uow.session)
    details = {
        "outage_id": event.outage_id,
        "notice_kind": event.notice_kind,
        "channel": event.channel,
        "address": event.address,
        "account_ids": list(event.account_ids),
        "list_version": event.list_version,
        "submission": Submission.SENT.value,
        "provider_message_id": event.provider_message_id,
        "parts": event.parts,
        "sent_at": event.sent_at,
        "failed_at": None,
        "failure_reason": None,
    }
    if not await repository.add_notice(
        {"message_id": event.message_id, **details, "recorded_at": utcnow()}
    ):
        # Stored before as failed at submission, or this very notice again: that the carrier
        # took the message is the stronger fact, and writing the same values twice is harmless.
        await repository.update_notice(event.message_id, details)


async def record_notice_failed(event: NoticeFailed, uow: UnitOfWork) -> None:
    """Remember a notice the provider refused at submission (it never reached a handset)."""
    repository = ReceiptsRepository(uow.session)
    # A notice stored as sent stays sent: the carrier had it, so its receipts decide.
    await repository.add_notice(
        {
            "message_id": event.message_id,
            "outage_id": event.outage_id,
            "notice_kind": event.notice_kind,
            "channel": event.channel,
            "address": event.address,
            "account_ids": list(event.account_ids),
            "list_version": event.list_version,
            "submission": Submission.FAILED.value,
            "provider_message_id": None,
            "parts": None,
            "sent_at": None,
            "failed_at": event.failed_at,
            "failure_reason": event.reason,
            "recorded_at": utcnow(),
        }
    )


async def record_list_approved(event: ListApproved, uow: UnitOfWork) -> None:
    """Remember which accounts a version of the list targets; the newest version counts."""
    named_accounts = sorted(
        {account_id for recipient in event.recipients for account_id in recipient.account_ids}
    )
    await ReceiptsRepository(uow.session).add_approved_list(
        {
            "outage_id": event.outage_id,
            "version": event.version,
            "account_count": event.account_count,
            "recipients": len(event.recipients),
            "account_ids": named_accounts,
            "approved_by": event.approved_by,
            "approved_at": event.approved_at,
            "recorded_at": utcnow(),
        }
    )


async def record_outage_cancelled(event: OutageCancelled, uow: UnitOfWork) -> None:
    """Remember that the outage was called off (the first cancellation stands)."""
    await ReceiptsRepository(uow.session).add_cancellation(
        {
            "outage_id": event.outage_id,
            "reason": event.reason,
            "cancelled_by": event.cancelled_by,
            "cancelled_at": event.cancelled_at,
            "recorded_at": utcnow(),
        }
    )


async def outage_coverage(outage_id: str, uow: UnitOfWork) -> Coverage:
    """How many of the outage's accounts and recipients the carriers confirm were reached."""
    repository = ReceiptsRepository(uow.session)
    if not await repository.outage_known(outage_id):
        raise NotFound(
            f"outage {outage_id!r} has no approved list, notice or cancellation here",
            field="outage_id",
        )
    return compute_coverage(
        outage_id,
        await repository.newest_list(outage_id),
        await repository.notice_outcomes(outage_id),
        await repository.cancelled_at(outage_id),
    )


async def _advance_deliveries(
    repository: ReceiptsRepository, by_message: dict[str, list[CarrierReport]]
) -> None:
    """Apply each message's new reports to its delivery state, creating the state if needed."""
    first_states: list[dict[str, Any]] = []
    for message_id in sorted(by_message):
        state, decisive = settle(None, by_message[message_id])
        if state is not None and decisive is not None:
            first_states.append(
                {"message_id": message_id, "status": state.value, **_described_by(decisive)}
            )
    created = await repository.create_deliveries(first_states)
    # A state that already existed (or that a concurrent batch just created) is read under a
    # row lock, so that it is advanced from its latest value.
    current = await repository.lock_deliveries(sorted(set(by_message) - created))
    for message_id, status in current.items():
        state, decisive = settle(status, by_message[message_id])
        if state is not None and decisive is not None:
            await repository.update_delivery(
                message_id, {"status": state.value, **_described_by(decisive)}
            )


def _receipt_row(report: CarrierReport, received_at: datetime) -> dict[str, Any]:
    outcome = report.outcome
    return {
        "report_key": report.key,
        "message_id": report.message_id,
        "provider_message_id": report.provider_message_id,
        "phone_masked": mask_phone(report.phone),
        "carrier_stat": report.stat,
        "carrier_err": report.err,
        "status": outcome.status.value,
        "reason_zh": outcome.reason_zh,
        "reason_en": outcome.reason_en,
        "submitted_at": report.submitted_at,
        "done_at": report.done_at,
        "received_at": received_at,
    }


def _described_by(report: CarrierReport) -> dict[str, Any]:
    """The columns of a delivery state that say which report set it."""
    return {
        "provider_message_id": report.provider_message_id,
        "carrier_stat": report.stat,
        "carrier_err": report.err,
        "done_at": report.done_at,
        "updated_at": utcnow(),
    }
