"""The demo's escalation walkthrough: failed SMS, calls, visits, everyone reached in time."""

from __future__ import annotations

from datetime import timedelta

from receipts_harness import (
    DETAILS,
    SENT_AT,
    list_approved,
    notice_sent,
    recipient,
    report,
)

from services.receipts.story import play_escalation
from shared.events import EscalationRequested

WEEK_AHEAD = DETAILS.model_copy(
    update={
        "starts_at": SENT_AT + timedelta(days=7),
        "ends_at": SENT_AT + timedelta(days=7, hours=8),
    }
)


def phone(n: int) -> str:
    return f"+86138000000{n:02d}"


async def test_escalation_reaches_every_reachable_account_before_the_deadline(receipts_app):
    accounts = [f"A{n}" for n in range(1, 10)]
    entries = []
    for n, account in enumerate(accounts, start=1):
        entries += [
            recipient("sms", phone(n), [account], name=f"电工{n}"),
            recipient("voice", phone(n), [account], wave=1, name=f"电工{n}"),
            recipient("sms", phone(n + 50), [account], role="legal", wave=2),
        ]
    await receipts_app.publish(
        list_approved(entries=entries, account_ids=[*accounts, "A0"], details=WEEK_AHEAD),
        *(notice_sent(f"m{n}", [a], address=phone(n)) for n, a in enumerate(accounts, start=1)),
    )
    # Six SMS delivered, two undeliverable, one never reported; A0 has no contact at all.
    await receipts_app.post_reports(
        [report(f"m{n}") for n in range(1, 7)]
        + [report("m7", "UNDELIV", err="MK:0001"), report("m8", "UNDELIV", err="MK:0000")]
    )
    handled: set[str] = set()

    async def settle() -> None:
        """Dispatch's part: each escalation request becomes a notice on its channel."""
        for request in await receipts_app.events("escalation.requested"):
            assert isinstance(request, EscalationRequested)
            if request.escalation_id in handled:
                continue
            handled.add(request.escalation_id)
            await receipts_app.publish(
                notice_sent(
                    f"e-{request.escalation_id[:8]}",
                    request.account_ids,
                    channel=request.recipient.channel,
                    address=request.recipient.address,
                    sent_at=receipts_app.clock(),
                )
            )

    story = await play_escalation(receipts_app.app, "O-1", settle=settle, say=lambda _line: None)

    assert story.coverage_before["accounts_reached"] == 6
    assert story.calls_answered >= 1
    assert story.calls_unanswered >= 1
    assert story.visits_signed >= 2  # A0 without contact, and the unanswered
    assert story.finished_at < story.deadline
    coverage = story.coverage
    assert coverage["accounts_reached"] == coverage["accounts_targeted"] == 10
    assert coverage["accounts_reached_by_deadline"] == 10
    assert coverage["reached_of_reachable_pct"] == 100.0
    assert coverage["open_tasks"] == 0
    assert coverage["by_channel"]["voice"]["sent"] >= 2
