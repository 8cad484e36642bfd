"""Example printouts for the README: a door slip, a posted notice and a newspaper digest.

``python -m services.dispatch examples [--out docs/examples]`` writes the PDFs, worded by the
built-in templates from a sample outage, and, where poppler's ``pdftoppm`` is installed
(Debian ``poppler-utils``), a PNG of each first page.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

from services.dispatch.adapters.fonts import load_cjk_font
from services.dispatch.adapters.pdf import PdfWriter
from services.dispatch.config import DispatchSettings
from services.dispatch.domain.documents import (
    Letterhead,
    door_slip,
    newspaper_digest,
    posted_notice,
)
from services.dispatch.domain.messages import Message, MessageStatus, NoticeKind
from services.dispatch.domain.rendering import NoticeRenderer, Wording
from shared.events import OutageDetails

SENT = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
DAY = date(2026, 3, 5)
OUTAGES = [
    OutageDetails(
        kind="planned",
        starts_at=datetime(2026, 3, 5, 0, 0, tzinfo=UTC),
        ends_at=datetime(2026, 3, 5, 9, 0, tzinfo=UTC),
        work="10kV东12线线路检修",
        area="东12线沿线（幸福里小区、城东机械厂）",
        planned_by="planner-li",
        district="城东区",
    ),
    OutageDetails(
        kind="relocation",
        starts_at=datetime(2026, 3, 5, 1, 0, tzinfo=UTC),
        ends_at=datetime(2026, 3, 5, 7, 0, tzinfo=UTC),
        work="地铁6号线管线迁改",
        area="西环路与人民路交叉口周边",
        planned_by="planner-li",
        district="城西区",
    ),
]


def _message(
    details: OutageDetails, channel: str, address: str, contact: str, text: str, **fields: object
) -> Message:
    base = Message(
        message_id="3f2b9c1e-7a4d-4e8b-9c01-5d6e7f8a9b0c",
        outage_id="OUT-20260305-001",
        list_version=1,
        revision=0,
        notice_kind=NoticeKind.NOTICE,
        channel=channel,
        address=address,
        contact_name=contact,
        account_ids=("3301000123",),
        account_names=("城东机械厂",),
        role="account",
        wave=0,
        audience="important",
        location="城东区幸福路88号",
        details=details,
        sign_name="国网城东供电公司",
        text=text,
        status=MessageStatus.SUBMITTED,
        delivery_status=None,
        carrier_stat=None,
        carrier_err=None,
        provider_message_id="print:example",
        parts=1,
        attempts=1,
        checks=0,
        next_attempt_at=SENT,
        last_error=None,
        refers_to=None,
        escalation_id=None,
        created_at=SENT,
        updated_at=SENT,
        submitted_at=SENT,
        delivery_reported_at=None,
    )
    return replace(base, **fields)  # type: ignore[arg-type]  # fields of Message


def write_examples(out: Path, settings: DispatchSettings | None = None) -> list[Path]:
    """Write the example PDFs (and PNGs when pdftoppm is there); return the files."""
    settings = settings or DispatchSettings()
    letterhead = Letterhead(settings.sms_sign_name, settings.hotline, settings.timezone)
    renderer = NoticeRenderer(
        [Path(__file__).parent / "templates"],
        Wording(
            settings.hotline, settings.timezone, settings.max_names_in_text, letterhead.company
        ),
    )
    writer = PdfWriter(load_cjk_font(settings.font_path))
    planned = OUTAGES[0]

    def text(channel: str, details: OutageDetails, contact: str) -> str:
        return renderer.render(
            channel, NoticeKind.NOTICE, details, ["城东机械厂"], contact_name=contact
        )

    slip = _message(
        planned, "door_slip", "3301000123", "城东机械厂", text("door_slip", planned, "城东机械厂")
    )
    notice = _message(
        planned,
        "posted_notice",
        "T-0107",
        "幸福里1号配变",
        text("posted_notice", planned, "幸福里1号配变"),
    )
    digest_messages = [
        _message(
            d,
            "newspaper",
            DAY.isoformat(),
            "城东日报",
            text("newspaper", d, ""),
            outage_id=f"O-{i}",
        )
        for i, d in enumerate(OUTAGES)
    ]
    out.mkdir(parents=True, exist_ok=True)
    documents = {
        "door-slip.pdf": writer.sheets([door_slip(slip, letterhead)], "停电通知单（示例）"),
        "posted-notice.pdf": writer.sheets([posted_notice(notice, letterhead)], "停电公告（示例）"),
        "newspaper-digest.pdf": writer.digest(
            newspaper_digest(digest_messages, DAY, "城东日报", settings.timezone),
            letterhead.company,
            letterhead.hotline,
        ),
    }
    written: list[Path] = []
    renderer_bin = shutil.which("pdftoppm")
    for name, content in documents.items():
        path = out / name
        path.write_bytes(content)
        written.append(path)
        if renderer_bin is not None:
            stem = out / path.stem
            subprocess.run(
                [
                    renderer_bin,
                    "-png",
                    "-r",
                    "60",
                    "-f",
                    "1",
                    "-l",
                    "1",
                    "-singlefile",
                    str(path),
                    str(stem),
                ],
                check=True,
            )
            written.append(stem.with_suffix(".png"))
    return written
