"""PDFs of the printed channels, drawn with reportlab in the embedded CJK font.

Every piece of text, tables included, uses the one embedded font (also as the canvas's
initial font, which reportlab would otherwise declare as an unembedded Helvetica), and the
documents are built invariant (no timestamps inside), so the same messages give the same
bytes.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from services.dispatch.adapters.fonts import EmbeddedFont
from services.dispatch.domain.documents import Digest, Sheet

CUT_HINT = "沿此线撕下，回执由送达人员带回供电所"


class _CutLine(Flowable):  # type: ignore[misc]  # reportlab is untyped
    """A dashed line across the page, where the receipt is torn off."""

    def __init__(self, width: float, font: str) -> None:
        super().__init__()
        self.width = width
        self.height = 8 * mm
        self._font = font

    def draw(self) -> None:
        canvas = self.canv
        canvas.setDash(4, 3)
        canvas.setStrokeColor(colors.grey)
        canvas.line(0, self.height / 2, self.width, self.height / 2)
        canvas.setDash()
        canvas.setFont(self._font, 8)
        canvas.setFillColor(colors.grey)
        canvas.drawCentredString(self.width / 2, self.height / 2 + 2, CUT_HINT)


class PdfWriter:
    def __init__(self, font: EmbeddedFont) -> None:
        self.font = font.name
        base = {"fontName": self.font, "wordWrap": "CJK"}
        self.title = ParagraphStyle("title", fontSize=20, leading=28, alignment=TA_CENTER, **base)
        self.subtitle = ParagraphStyle(
            "subtitle", fontSize=11, leading=16, alignment=TA_CENTER, **base
        )
        self.heading = ParagraphStyle("heading", fontSize=13, leading=20, spaceBefore=8, **base)
        self.body = ParagraphStyle("body", fontSize=11.5, leading=19, firstLineIndent=23, **base)
        self.cell = ParagraphStyle("cell", fontSize=10.5, leading=15, **base)
        self.small = ParagraphStyle(
            "small", fontSize=8.5, leading=12, textColor=colors.grey, **base
        )
        self.right = ParagraphStyle("right", fontSize=11, leading=18, alignment=TA_RIGHT, **base)

    def _p(self, text: str, style: ParagraphStyle) -> Paragraph:
        return Paragraph(escape(text).replace("\n", "<br/>"), style)

    def _table(self, rows: Sequence[Sequence[str]], widths: Sequence[float]) -> Table:
        table = Table(
            [[self._p(cell, self.cell) for cell in row] for row in rows], colWidths=list(widths)
        )
        table.setStyle(
            TableStyle(
                [
                    ("FONTNAME", (0, 0), (-1, -1), self.font),
                    ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                    ("BACKGROUND", (0, 0), (0, -1), colors.whitesmoke),
                ]
            )
        )
        return table

    def _build(self, story: list[Flowable], title: str) -> bytes:
        buffer = io.BytesIO()
        document = SimpleDocTemplate(
            buffer,
            pagesize=A4,
            leftMargin=18 * mm,
            rightMargin=18 * mm,
            topMargin=16 * mm,
            bottomMargin=16 * mm,
            title=title,
            author="",
            initialFontName=self.font,
            invariant=True,
        )
        document.build(story)
        return buffer.getvalue()

    def _sheet(self, sheet: Sheet, width: float) -> list[Flowable]:
        label_width = 26 * mm
        story: list[Flowable] = [
            self._p(sheet.title, self.title),
            self._p(f"（{sheet.kind_label}）", self.subtitle),
            Spacer(0, 4 * mm),
        ]
        if sheet.heading_rows:
            story += [self._table(sheet.heading_rows, [label_width, width - label_width])]
        story += [
            Spacer(0, 4 * mm),
            self._p(sheet.body, self.body),
            Spacer(0, 4 * mm),
            self._table(sheet.table_rows, [label_width, width - label_width]),
            Spacer(0, 6 * mm),
            self._p(sheet.issued, self.right),
            self._p(f"编号：{sheet.reference}", self.small),
        ]
        if sheet.receipt_rows:
            signature = "签收人：＿＿＿＿＿＿　签收日期：＿＿＿＿年＿＿月＿＿日　时间：＿＿时＿＿分"
            receipt: list[Flowable] = [
                _CutLine(width, self.font),
                self._p("回　执", self.title),
                self._table(sheet.receipt_rows, [label_width, width - label_width]),
                Spacer(0, 6 * mm),
                self._p(signature, self.cell),
                Spacer(0, 4 * mm),
                self._p("送达人：＿＿＿＿＿＿　　客户签章：", self.cell),
            ]
            story += [Spacer(0, 10 * mm), KeepTogether(receipt)]
        return story

    def sheets(self, sheets: Sequence[Sheet], title: str) -> bytes:
        """One page per sheet (a slip with its receipt, or a posted notice)."""
        width = A4[0] - 36 * mm
        story: list[Flowable] = []
        for position, sheet in enumerate(sheets):
            if position:
                story.append(PageBreak())
            story += self._sheet(sheet, width)
        return self._build(story, title)

    def digest(self, digest: Digest, company: str, hotline: str) -> bytes:
        """The day's outages grouped by district, then the corrections."""
        width = A4[0] - 36 * mm
        day = digest.day
        story: list[Any] = [
            self._p(f"{day.year}年{day.month}月{day.day}日停电信息", self.title),
            self._p(f"{company}　供《{digest.newspaper}》刊登", self.subtitle),
            Spacer(0, 6 * mm),
        ]
        columns = [30 * mm, 50 * mm, width - 110 * mm, 30 * mm]
        for district, entries in digest.districts:
            rows = [["停电时间", "停电范围", "工作内容", "类别"]]
            rows += [[e.period, e.area, e.work, e.kind_label] for e in entries]
            story += [
                CondPageBreak(40 * mm),
                self._p(district, self.heading),
                self._table(rows, columns),
            ]
        if digest.corrections:
            story += [CondPageBreak(30 * mm), self._p("更正", self.heading)]
            story += [self._p(f"· {text}", self.cell) for text in digest.corrections]
        if not digest.districts and not digest.corrections:
            story.append(self._p("本日无停电安排。", self.body))
        story += [
            Spacer(0, 6 * mm),
            self._p(f"如遇天气等原因，停电时间可能调整。咨询电话：{hotline}", self.small),
        ]
        return self._build(story, f"{day.isoformat()} 停电信息")
