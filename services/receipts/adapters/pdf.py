"""The evidence pack as a PDF a customer, a court or a regulator can read anywhere.

Chinese text needs a CJK font, and a PDF that only names one (reportlab's built-in
``STSong-Light``) shows empty boxes on a machine without it; so a TrueType font is embedded
(as a subset of the glyphs used), and the document never falls back to a standard font that
would not be embedded.
"""

from __future__ import annotations

import hashlib
import io
from datetime import datetime, timedelta
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from services.receipts.adapters.fonts import FontUnavailable, require_font
from services.receipts.domain import messages
from services.receipts.domain.evidence import EvidencePack
from shared.timeutil import local


def register_font(path: Path, index: int) -> str:
    """Register the TrueType font once per process; return its reportlab name."""
    name = "CJK-" + hashlib.sha256(f"{path}:{index}".encode()).hexdigest()[:12]
    if name in pdfmetrics.getRegisteredFontNames():
        return name
    try:
        pdfmetrics.registerFont(TTFont(name, str(require_font(path)), subfontIndex=index))
    except FontUnavailable:
        raise
    except Exception as exc:  # reportlab raises plain exceptions for unreadable fonts
        raise FontUnavailable(f"CJK font {path} (face {index}) cannot be used: {exc}") from exc
    return name


def _when(moment: datetime | None, timezone: str) -> str:
    if moment is None:
        return messages.PDF_LABELS["none"]
    return local(moment, timezone).strftime("%Y-%m-%d %H:%M")


def lead_time_text(lead: timedelta | None) -> str:
    if lead is None:
        return messages.PDF_LABELS["none"]
    hours = int(lead.total_seconds() // 3600)
    sign = "-" if hours < 0 else ""
    days, rest = divmod(abs(hours), 24)
    return sign + messages.LEAD_TIME.format(days=days, hours=rest)


def render_evidence_pdf(
    pack: EvidencePack,
    *,
    font_path: Path,
    font_index: int,
    timezone: str,
    generated_at: datetime,
) -> bytes:
    """The evidence pack of one account as PDF bytes (A4, every font embedded)."""
    font = register_font(font_path, font_index)
    labels = messages.PDF_LABELS
    title = ParagraphStyle("title", fontName=font, fontSize=16, leading=22, spaceAfter=4 * mm)
    heading = ParagraphStyle("heading", fontName=font, fontSize=12, leading=16, spaceBefore=4 * mm)
    body = ParagraphStyle("body", fontName=font, fontSize=9, leading=12, wordWrap="CJK")

    def cell(text: object) -> Paragraph:
        return Paragraph(escape(str(text)), body)

    def table(rows: list[list[object]], widths: list[float]) -> Table:
        made = Table([[cell(value) for value in row] for row in rows], colWidths=widths)
        made.setStyle(
            TableStyle(
                [
                    ("FONTNAME", (0, 0), (-1, -1), font),
                    ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ]
            )
        )
        return made

    kind = messages.OUTAGE_KINDS.get(pack.outage_kind or "", pack.outage_kind or "")
    period = f"{_when(pack.starts_at, timezone)} — {_when(pack.ends_at, timezone)}"
    outage_rows: list[list[object]] = [
        [labels["outage"], pack.outage_id],
        [labels["kind"], kind],
        [labels["work"], pack.work],
        [labels["area"], pack.area],
        [labels["period"], period],
        [labels["account"], f"{pack.account_id} {pack.account_name}".strip()],
        [labels["feeder"], pack.feeder or labels["none"]],
    ]
    if pack.cancelled_at is not None:
        outage_rows.append([labels["cancelled"], _when(pack.cancelled_at, timezone)])
    contact_header: list[object] = [
        labels["role"],
        labels["name"],
        labels["channel"],
        labels["address"],
        labels["wave"],
    ]
    contact_rows: list[list[object]] = [contact_header] + [
        [
            messages.ROLES.get(c.role, c.role),
            c.name,
            messages.CHANNELS.get(c.channel, c.channel),
            c.address,
            c.wave,
        ]
        for c in pack.contacts
    ]
    event_header: list[object] = [labels["time"], labels["event"]]
    event_rows: list[list[object]] = [event_header] + [
        [_when(event.at, timezone), event.summary] for event in pack.events
    ]
    in_time = {True: labels["yes"], False: labels["no"], None: labels["none"]}[pack.in_time]
    confirmed = _when(pack.first_confirmed_at, timezone)
    if pack.confirmed_channel:
        confirmed += f"（{messages.CHANNELS.get(pack.confirmed_channel, pack.confirmed_channel)}）"
    summary_rows: list[list[object]] = [
        [labels["first_sent"], _when(pack.first_sent_at, timezone)],
        [labels["first_confirmed"], confirmed],
        [labels["acknowledged"], _when(pack.acknowledged_at, timezone)],
        [labels["lead_time"], lead_time_text(pack.lead_time)],
        [labels["required"], lead_time_text(pack.required_lead)],
        [labels["in_time"], in_time],
    ]

    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title=f"{messages.EVIDENCE_TITLE} {pack.outage_id} {pack.account_id}",
        initialFontName=font,
        invariant=1,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
    )
    width = A4[0] - 36 * mm
    document.build(
        [
            Paragraph(escape(messages.EVIDENCE_TITLE), title),
            table(outage_rows, [32 * mm, width - 32 * mm]),
            Paragraph(escape(labels["contacts"]), heading),
            table(contact_rows, [28 * mm, 30 * mm, 30 * mm, width - 106 * mm, 18 * mm]),
            Paragraph(escape(labels["timeline"]), heading),
            table(event_rows, [32 * mm, width - 32 * mm]),
            Paragraph(escape(labels["summary"]), heading),
            table(summary_rows, [32 * mm, width - 32 * mm]),
            Spacer(1, 4 * mm),
            Paragraph(escape(f"{labels['generated']}：{_when(generated_at, timezone)}"), body),
        ]
    )
    return buffer.getvalue()
