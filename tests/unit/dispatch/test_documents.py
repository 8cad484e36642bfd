"""Printed documents: door slips with receipts, posted notices, the newspaper digest, as PDFs
that carry their CJK font (so they render where no Chinese font is installed)."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pypdf
import pytest

from services.dispatch.adapters.fonts import FONT_PACKAGE, FontUnavailable, load_cjk_font
from services.dispatch.adapters.pdf import PdfWriter
from services.dispatch.domain.documents import (
    Letterhead,
    door_slip,
    newspaper_digest,
    posted_notice,
)
from services.dispatch.domain.messages import Message, MessageStatus, NoticeKind
from services.dispatch.examples import write_examples
from shared.events import OutageDetails

LETTERHEAD = Letterhead("国网城东供电公司", "95598", "Asia/Shanghai")
DETAILS = OutageDetails(
    kind="planned",
    starts_at=datetime(2026, 3, 5, 0, 0, tzinfo=UTC),
    ends_at=datetime(2026, 3, 5, 9, 0, tzinfo=UTC),
    work="10kV东12线线路检修",
    area="东12线沿线",
    planned_by="planner-1",
    district="城东区",
)
SENT = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)


def message(**overrides: Any) -> Message:
    values: dict[str, Any] = {
        "message_id": "m-1",
        "outage_id": "O-1",
        "list_version": 1,
        "revision": 0,
        "notice_kind": NoticeKind.NOTICE,
        "channel": "door_slip",
        "address": "A1",
        "contact_name": "城东机械厂",
        "account_ids": ("A1",),
        "account_names": ("城东机械厂",),
        "role": "account",
        "wave": 0,
        "audience": "important",
        "location": "城东路1号",
        "details": DETAILS,
        "sign_name": "国网城东供电公司",
        "text": "城东机械厂：因10kV东12线线路检修，计划停电。",
        "status": MessageStatus.SUBMITTED,
        "delivery_status": None,
        "carrier_stat": None,
        "carrier_err": None,
        "provider_message_id": "print:m-1",
        "parts": 1,
        "attempts": 1,
        "checks": 0,
        "next_attempt_at": SENT,
        "last_error": None,
        "refers_to": None,
        "escalation_id": None,
        "created_at": SENT,
        "updated_at": SENT,
        "submitted_at": SENT,
        "delivery_reported_at": None,
    }
    return Message(**(values | overrides))


@pytest.fixture(scope="module")
def writer() -> PdfWriter:
    return PdfWriter(load_cjk_font(None))


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(content)).pages)


def fonts_of(content: bytes) -> list[tuple[str, bool]]:
    """Every font the pages use, and whether its glyphs are embedded in the file."""
    found = []
    for page in pypdf.PdfReader(io.BytesIO(content)).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptor_owner = font
            if font["/Subtype"] == "/Type0":
                descriptor_owner = font["/DescendantFonts"][0].get_object()
            descriptor = descriptor_owner.get("/FontDescriptor")
            embedded = descriptor is not None and any(
                key in descriptor.get_object() for key in ("/FontFile2", "/FontFile3")
            )
            found.append((str(font["/BaseFont"]), embedded))
    return found


def test_a_door_slip_names_the_account_the_time_and_has_a_receipt_to_sign(writer):
    sheet = door_slip(message(), LETTERHEAD)
    assert sheet.title == "停电通知单"
    assert ("用电地址", "城东路1号") in sheet.heading_rows
    assert ("停电时间", "3月5日08:00至17:00") in sheet.table_rows
    assert ("通知编号", "m-1") in sheet.receipt_rows
    text = pdf_text(writer.sheets([sheet], "slips"))
    for expected in ("停电通知单", "城东机械厂", "城东路1号", "3月5日08:00至17:00", "回", "执"):
        assert expected in text
    assert "签收人" in text
    assert "签收日期" in text
    assert "沿此线撕下" in text


def test_every_font_of_every_document_is_embedded(writer):
    slips = writer.sheets([door_slip(message(), LETTERHEAD)], "slips")
    notices = writer.sheets(
        [posted_notice(message(channel="posted_notice", contact_name="幸福里1号配变"), LETTERHEAD)],
        "notices",
    )
    digest = writer.digest(
        newspaper_digest(
            [message(channel="newspaper")], date(2026, 3, 5), "城东日报", "Asia/Shanghai"
        ),
        "国网城东供电公司",
        "95598",
    )
    for content in (slips, notices, digest):
        fonts = fonts_of(content)
        assert fonts, "the PDF uses no font at all"
        assert all(embedded for _, embedded in fonts), fonts


def test_a_posted_notice_gives_time_window_area_reason_and_hotline(writer):
    sheet = posted_notice(
        message(channel="posted_notice", address="T1", contact_name="幸福里1号配变"), LETTERHEAD
    )
    assert sheet.title == "停电公告"
    assert sheet.receipt_rows == []
    text = pdf_text(writer.sheets([sheet], "notices"))
    for expected in (
        "停电公告",
        "幸福里1号配变",
        "3月5日08:00至17:00",
        "东12线沿线",
        "线路检修",
        "95598",
    ):
        assert expected in text


def test_corrections_are_titled_as_such():
    assert door_slip(message(notice_kind=NoticeKind.CANCELLATION), LETTERHEAD).title == (
        "停电取消通知单"
    )
    assert posted_notice(message(notice_kind=NoticeKind.RESCHEDULE), LETTERHEAD).title == (
        "停电时间变更公告"
    )


def test_the_digest_groups_a_days_outages_by_district_and_lists_corrections(writer):
    day = date(2026, 3, 5)
    west = DETAILS.model_copy(update={"district": "城西区", "area": "西环路"})
    late = DETAILS.model_copy(
        update={"area": "北门", "starts_at": DETAILS.starts_at + timedelta(hours=3)}
    )
    moved = DETAILS.model_copy(update={"starts_at": DETAILS.starts_at + timedelta(days=1)})
    messages = [
        message(outage_id="O-1", channel="newspaper", details=late),
        message(outage_id="O-2", channel="newspaper", details=west),
        message(
            outage_id="O-3",
            channel="newspaper",
            details=DETAILS.model_copy(update={"district": ""}),
        ),
        message(outage_id="O-4", channel="newspaper"),
        message(
            outage_id="O-4",
            channel="newspaper",
            notice_kind=NoticeKind.CANCELLATION,
            text="原定3月5日东12线沿线的停电已取消。",
            created_at=SENT + timedelta(hours=1),
        ),
        message(outage_id="O-5", channel="newspaper"),
        message(
            outage_id="O-5",
            channel="newspaper",
            notice_kind=NoticeKind.RESCHEDULE,
            revision=1,
            details=moved,
            text="原定3月5日的停电改为3月6日。",
        ),
        message(outage_id="O-6", channel="newspaper", details=DETAILS),
    ]
    digest = newspaper_digest(messages, day, "城东日报", "Asia/Shanghai")
    assert [d for d, _ in digest.districts] == ["城东区", "城西区", "其他地区"]
    east = dict(digest.districts)["城东区"]
    assert [e.area for e in east] == ["东12线沿线", "北门"]  # by start time
    assert sorted(digest.corrections) == sorted(
        ["原定3月5日东12线沿线的停电已取消。", "原定3月5日的停电改为3月6日。"]
    )
    text = pdf_text(writer.digest(digest, "国网城东供电公司", "95598"))
    for expected in (
        "2026年3月5日停电信息",
        "城东日报",
        "城东区",
        "城西区",
        "西环路",
        "更正",
        "已取消",
    ):
        assert expected in text


def test_without_a_cjk_font_start_up_names_the_debian_package(tmp_path: Path):
    broken = tmp_path / "not-a-font.ttf"
    broken.write_bytes(b"no glyphs here")
    with pytest.raises(FontUnavailable, match=FONT_PACKAGE):
        load_cjk_font(broken)


def test_the_readme_examples_are_written_each_on_one_page(tmp_path: Path):
    written = write_examples(tmp_path)
    pdfs = [p for p in written if p.suffix == ".pdf"]
    assert [p.name for p in pdfs] == ["door-slip.pdf", "posted-notice.pdf", "newspaper-digest.pdf"]
    for path in pdfs:
        content = path.read_bytes()
        assert len(pypdf.PdfReader(io.BytesIO(content)).pages) == 1
        assert all(embedded for _, embedded in fonts_of(content))
    assert "城东机械厂" in pdf_text(pdfs[0].read_bytes())
    assert "城西区" in pdf_text(pdfs[2].read_bytes())
