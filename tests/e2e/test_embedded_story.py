"""The demo's story, asserted: one outage planned, reviewed, sent, reported, cancelled."""

from __future__ import annotations

from services.demo import daytime, play_story
from services.sample import ensure_sample
from services.suite import running_suite
from tools.carrier_sim import CarrierSimSettings


async def test_a_planned_outage_is_told_to_its_customers_and_its_cancellation_to_them_only(
    tmp_path,
):
    sample_dir = ensure_sample(tmp_path / "sample")
    carrier = CarrierSimSettings(
        report_url="http://receipts/v1/webhooks/sms-status", report_delay_s=(3600, 3600)
    )
    lines: list[str] = []
    async with running_suite(tmp_path, carrier=carrier, demo_time=daytime()) as suite:
        story = await play_story(suite, sample_dir, say=lines.append)
        stats = (await suite.client("carrier").get("/v1/stats")).json()

    assert story.self_approval_status == 403
    counts = story.list_counts
    assert counts["accounts"] == story.affected_accounts
    notice = story.coverage["notice"]
    # The first wave's SMS, one per phone; other channels and later waves are counted apart.
    assert notice["sent"] == counts["first_wave_by_channel"]["sms"]
    assert notice["delivered"] > 0
    assert notice["failed"] + notice["expired"] > 0
    assert notice["pending"] == 0
    assert notice["delivered"] + notice["failed"] + notice["expired"] == notice["sent"]
    # Escalation took failed and unconfirmed SMS to calls and visits, and before the
    # deadline every account that can be reached was.
    escalation = story.escalation
    assert escalation is not None
    reached = escalation.coverage
    assert escalation.finished_at < escalation.deadline
    assert escalation.calls_answered > 0
    assert escalation.visits_signed > 0
    assert story.coverage["accounts_reached"] < reached["accounts_targeted"]
    assert reached["accounts_reached"] == (
        reached["accounts_targeted"] - reached["accounts_unreachable"]
    )
    assert reached["reached_of_reachable_pct"] == 100.0
    # The cancellation reached exactly the phones that had been sent the notice.
    assert story.cancelled_phones == story.notified_phones
    assert story.cancellation_coverage["cancellation"]["sent"] == len(story.notified_phones)
    # The carrier saw one notice and one cancellation per phone, never a duplicate.
    assert stats["duplicate_submissions"] == 0
    assert stats["distinct_messages"] == 2 * len(story.notified_phones)
    assert set(stats["by_phone"].values()) == {2}
    assert any("four eyes" in line for line in lines)
