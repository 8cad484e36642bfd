"""Builders of the records the receipts domain reasons about, for unit tests."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from services.receipts.domain.ledger import (
    AckRecord,
    ApprovedList,
    EscalationRecord,
    ListEntry,
    MessageRecord,
    OutageRecord,
    OutageTiming,
    Submission,
    TaskKind,
    TaskOutcome,
    TaskRecord,
    TaskStatus,
)
from services.receipts.domain.status import ReceiptStatus

APPROVED_AT = datetime(2026, 5, 1, 7, 55, tzinfo=UTC)
T0 = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
START = datetime(2026, 5, 3, 0, 0, tzinfo=UTC)
TIMING = OutageTiming("planned", START, START + timedelta(hours=8))
PHONE = {n: f"+861380013{n:04d}" for n in range(100)}


def entry(
    channel: str,
    address: str,
    accounts: list[str],
    *,
    role: str = "electrical",
    wave: int = 0,
    name: str = "",
) -> ListEntry:
    return ListEntry(
        channel=channel,
        address=address,
        account_ids=tuple(accounts),
        account_names=tuple(f"户{a}" for a in accounts),
        contact_name=name,
        role=role,
        wave=wave,
    )


def approved(
    *entries: ListEntry, accounts: list[str] | None = None, version: int = 1
) -> ApprovedList:
    named = {a for e in entries for a in e.account_ids}
    every = frozenset(named | set(accounts or []))
    return ApprovedList(version, APPROVED_AT, len(every), every, tuple(entries))


def message(
    message_id: str,
    accounts: list[str],
    address: str,
    *,
    channel: str = "sms",
    delivery: ReceiptStatus | None = None,
    stat: str = "",
    sent_at: datetime = T0,
    settled_at: datetime | None = None,
    kind: str = "notice",
    refused: str = "",
) -> MessageRecord:
    if delivery is not None and settled_at is None:
        settled_at = sent_at + timedelta(minutes=1)
    return MessageRecord(
        message_id=message_id,
        notice_kind=kind,
        channel=channel,
        address=address,
        account_ids=tuple(accounts),
        submission=Submission.FAILED if refused else Submission.SENT,
        delivery=delivery,
        stat=stat,
        sent_at=sent_at,
        settled_at=settled_at,
        failure_reason=refused,
    )


def ack(
    accounts: list[str], at: datetime, *, via: str = "sms_reply", channel: str = "sms", **kw: Any
) -> AckRecord:
    return AckRecord(
        outage_id="O-1", account_ids=tuple(accounts), channel=channel, via=via, at=at, **kw
    )


def task(
    kind: TaskKind,
    subject: str,
    accounts: list[str],
    *,
    created_at: datetime = T0,
    outcome: TaskOutcome | None = None,
    completed_at: datetime | None = None,
    status: TaskStatus | None = None,
    message_id: str | None = None,
) -> TaskRecord:
    if status is None:
        status = TaskStatus.CLOSED if outcome else TaskStatus.OPEN
    return TaskRecord(
        task_id=f"t-{kind.value}-{subject}",
        kind=kind,
        account_ids=tuple(accounts),
        subject=subject,
        status=status,
        created_at=created_at,
        outcome=outcome,
        completed_at=completed_at,
        message_id=message_id,
    )


def escalation(account: str, step: int, at: datetime, wave: int | None = None) -> EscalationRecord:
    return EscalationRecord(account, step, wave, at)


def record(
    approved_list: ApprovedList | None = None,
    *,
    messages: list[MessageRecord] | None = None,
    acks: list[AckRecord] | None = None,
    tasks: list[TaskRecord] | None = None,
    escalations: list[EscalationRecord] | None = None,
    **fields: Any,
) -> OutageRecord:
    base = OutageRecord(
        outage_id="O-1",
        timing=TIMING,
        approved=approved_list,
        messages=tuple(messages or ()),
        acks=tuple(acks or ()),
        tasks=tuple(tasks or ()),
        escalations=tuple(escalations or ()),
        planned_by="planner-1",
    )
    return replace(base, **fields)
