"""The carrier simulator's signed pushes land in receipts as its outcomes say."""

from __future__ import annotations

import httpx
from receipts_harness import notice_sent

from tools.carrier_sim import CarrierSimSettings, create_app, flush_reports, outcome


async def test_simulated_reports_are_verified_stored_and_normalised(receipts_app):
    settings = CarrierSimSettings(report_delay_s=(60, 60), dead_suffixes=["0000"])
    carrier = create_app(settings, report_transport=httpx.ASGITransport(app=receipts_app.app))
    phones = {f"m{i}": f"+86138001380{i:02d}" for i in range(1, 9)} | {"dead": "+8613912340000"}
    await receipts_app.publish(*(notice_sent(m, [f"A-{m}"]) for m in phones))

    async with (
        carrier.router.lifespan_context(carrier),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=carrier), base_url="http://c") as sms,
    ):
        for message_id, phone in phones.items():
            response = await sms.post(
                "/v1/sms/send", json={"message_id": message_id, "phone": phone, "text": "停电通知"}
            )
            assert response.status_code == 200
        assert await flush_reports(carrier) == len(phones)
        stats = (await sms.get("/v1/stats")).json()

    assert stats["reports_sent"] == len(phones)
    expected = {
        m: {"DELIVRD": "delivered", "UNDELIV": "failed", "EXPIRED": "expired"}[
            outcome(settings, m, phone)[0]
        ]
        for m, phone in phones.items()
    }
    events = await receipts_app.emitted()
    assert {event.message_id: event.status for event in events} == expected
    assert expected["dead"] == "failed"
    assert all(event.outage_id == "O-1" for event in events)
    notice = (await receipts_app.coverage())["notice"]
    assert notice["delivered"] == list(expected.values()).count("delivered")
    assert notice["pending"] == 0
