"""Evidence for one account (JSON and PDF), reports over outages (JSON and CSV), the chart."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader
from receipts_harness import (
    DETAILS,
    SENT_AT,
    list_approved,
    notice_sent,
    outage_planned,
    outage_traced,
    recipient,
    report,
)

from shared.auth import Role

ELECTRICIAN = "+8613800000001"
# O-1 (planned by planner-1): A1 on F1 delivered in 60 s and acknowledged; A2 on F1 delivered
# in 120 s; A3 on F2 failed. O-2 (temporary, planner-2): B1 on F1 never reached.
O2_DETAILS = DETAILS.model_copy(
    update={
        "kind": "temporary",
        "planned_by": "planner-2",
        "starts_at": datetime(2026, 5, 4, tzinfo=UTC),
        "ends_at": datetime(2026, 5, 4, 6, tzinfo=UTC),
    }
)


@pytest.fixture
async def history(receipts_app):
    await receipts_app.publish(
        outage_planned(),
        outage_traced({"A1": "F1", "A2": "F1", "A3": "F2"}),
        list_approved(
            entries=[
                recipient("sms", ELECTRICIAN, ["A1"], name="张工"),
                recipient("voice", ELECTRICIAN, ["A1"], wave=1, name="张工"),
                recipient("sms", "+8613800000002", ["A2"]),
                recipient("sms", "+8613800000003", ["A3"]),
            ]
        ),
        notice_sent("m1", ["A1"], address=ELECTRICIAN),
        notice_sent("m2", ["A2"], address="+8613800000002"),
        notice_sent("m3", ["A3"], address="+8613800000003"),
        outage_planned("O-2", details=O2_DETAILS),
        outage_traced({"B1": "F1"}, outage_id="O-2", details=O2_DETAILS),
        list_approved(
            entries=[recipient("sms", "+8613800000009", ["B1"])],
            outage_id="O-2",
            details=O2_DETAILS,
        ),
    )
    await receipts_app.post_reports(
        [
            report("m1", done_at="2026-05-01T08:01:00Z"),
            report("m2", done_at="2026-05-01T08:02:00Z"),
            report("m3", "UNDELIV", err="MK:0001"),
        ]
    )
    await receipts_app.post_replies((ELECTRICIAN, "收到", SENT_AT + timedelta(minutes=10)))
    receipts_app.clock.set(datetime(2026, 5, 3, 12, tzinfo=UTC))  # O-1 has begun, O-2 not
    return receipts_app


async def test_the_evidence_of_an_account_shows_each_step_and_the_lead_time(history):
    evidence = await history.get("/v1/outages/O-1/evidence", account_id="A1")

    assert [e["kind"] for e in evidence["events"]] == ["sent", "receipt", "reply", "acknowledged"]
    assert (
        evidence["events"][0]["summary"] == "发出停电通知（短信）至 张工（电气联系人）138****0001"
    )
    assert evidence["feeder"] == "F1线"
    assert evidence["contacts"][1] == {
        "role": "electrical",
        "name": "张工",
        "channel": "voice",
        "address": "138****0001",
        "wave": 1,
    }
    assert evidence["first_confirmed_at"] == "2026-05-01T16:01:00+08:00"
    assert evidence["acknowledged_at"] == "2026-05-01T16:10:00+08:00"
    assert evidence["lead_time_h"] == 39.98
    assert evidence["required_lead_h"] == 168.0
    assert evidence["in_time"] is False


async def test_the_evidence_pdf_is_readable_chinese_with_every_font_embedded(history):
    response = await history.client.get(
        "/v1/outages/O-1/evidence.pdf",
        params={"account_id": "A1"},
        headers={"Authorization": f"Bearer {history.token}"},
    )

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    text = "".join(page.extract_text() for page in reader.pages)
    for expected in ("停电通知送达证明", "O-1", "A1", "张工", "138****0001", "已送达", "用户回复"):
        assert expected in text
    assert ELECTRICIAN[3:] not in text
    fonts = [
        font.get_object() for page in reader.pages for font in page["/Resources"]["/Font"].values()
    ]
    assert fonts
    for font in fonts:
        descriptor = (
            font.get("/FontDescriptor")
            or font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
        )
        assert {"/FontFile", "/FontFile2", "/FontFile3"} & set(descriptor.get_object().keys())


async def test_evidence_of_an_account_the_outage_never_named_is_not_found(history):
    response = await history.client.get(
        "/v1/outages/O-1/evidence",
        params={"account_id": "Z9"},
        headers={"Authorization": f"Bearer {history.token}"},
    )

    assert (response.status_code, response.json()["field"]) == (404, "account_id")


async def test_without_the_cjk_font_the_pdf_is_refused_naming_the_package(history, monkeypatch):
    monkeypatch.setattr(history.app.state.settings, "font_path", Path("/nonexistent/font.ttc"))

    response = await history.client.get(
        "/v1/outages/O-1/evidence.pdf",
        params={"account_id": "A1"},
        headers={"Authorization": f"Bearer {history.token}"},
    )

    assert response.status_code == 503
    assert "fonts-wqy-zenhei" in response.json()["detail"]


async def test_the_report_by_feeder_has_the_known_answers(history):
    body = await history.get(
        "/v1/reports", **{"from": "2026-05-01", "to": "2026-05-10", "group_by": "feeder"}
    )

    assert body["from"] == "2026-05-01T00:00:00+08:00"
    groups = {g["group"]: g for g in body["groups"]}
    assert set(groups) == {"F1线", "F2线"}
    f1, f2 = groups["F1线"], groups["F2线"]
    assert (f1["outages"], f1["accounts_targeted"], f1["accounts_reached"]) == (2, 3, 2)
    assert (
        f1["accounts_acknowledged"],
        f1["outages_started"],
        f1["accounts_unreached_at_start"],
    ) == (
        1,
        1,
        0,
    )
    assert f1["time_to_delivery"]["sms"] == {
        "count": 2,
        "p50_s": 60.0,
        "p90_s": 120.0,
        "p99_s": 120.0,
    }
    assert (f2["accounts_targeted"], f2["accounts_reached"], f2["accounts_unreached_at_start"]) == (
        1,
        0,
        1,
    )
    assert f2["reached_pct"] == 0.0


async def test_the_report_by_kind_counts_complaints_per_thousand_and_exports_csv(history):
    await history.client.post(
        "/v1/complaints",
        json={
            "work_order_id": "WO-1",
            "outage_id": "O-1",
            "account_id": "A3",
            "type": "not_notified",
            "received_at": "2026-05-03T09:30:00",
        },
        headers=history.bearer(Role.SYSTEM),
    )
    params = {"from": "2026-05-01", "to": "2026-05-10", "group_by": "kind"}

    body = await history.get("/v1/reports", **params)
    exported = await history.client.get(
        "/v1/reports.csv", params=params, headers={"Authorization": f"Bearer {history.token}"}
    )

    planned = next(g for g in body["groups"] if g["group"] == "planned")
    assert planned["complaints"]["contact"] == 1
    assert planned["complaints_per_1000"]["contact"] == 333.33
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert [row["kind"] for row in rows] == ["planned", "temporary"]
    assert rows[0]["complaints_contact"] == "1"
    assert rows[0]["time_to_delivery_sms_p50_s"] == "60.0"
    assert rows[1]["accounts_reached"] == "0"


async def test_a_report_needs_a_period_in_order(history):
    reversed_period = await history.client.get(
        "/v1/reports",
        params={"from": "2026-05-10", "to": "2026-05-01", "group_by": "team"},
        headers={"Authorization": f"Bearer {history.token}"},
    )
    missing = await history.client.get(
        "/v1/reports",
        params={"group_by": "team"},
        headers={"Authorization": f"Bearer {history.token}"},
    )

    assert (reversed_period.status_code, reversed_period.json()["field"]) == (422, "to")
    assert (missing.status_code, missing.json()["field"]) == (422, "from")


async def test_coverage_exports_one_line_per_account_and_a_chart(history):
    headers = {"Authorization": f"Bearer {history.token}"}

    exported = await history.client.get("/v1/outages/O-1/coverage.csv", headers=headers)
    chart = await history.client.get("/v1/outages/O-1/coverage.png", headers=headers)

    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert [(r["account_id"], r["reached"], r["feeder"]) for r in rows] == [
        ("A1", "1", "F1线"),
        ("A2", "1", "F1线"),
        ("A3", "0", "F2线"),
    ]
    assert rows[0]["reached_at"] == "2026-05-01T16:01:00+08:00"
    assert rows[0]["acknowledged_at"] == "2026-05-01T16:10:00+08:00"
    assert chart.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(chart.content)).convert("RGB")
    assert image.size == (960, 480)
    colours = {colour for _, colour in image.getcolors(maxcolors=100_000) or []}
    assert (31, 119, 180) in colours  # the reached curve
    assert (255, 127, 14) in colours  # the deadline
