"""Coverage of one outage over time, drawn as a PNG with Pillow.

The curve climbs as deliveries are confirmed; the deadline and the start of the outage are
marked, so one glance shows whether everyone reachable was told in time.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from services.receipts.adapters.fonts import FontUnavailable, require_font
from services.receipts.domain import messages
from services.receipts.domain.coverage import CoveragePoint
from shared.timeutil import local

WIDTH, HEIGHT = 960, 480
LEFT, RIGHT, TOP, BOTTOM = 70, 60, 56, 64
BACKGROUND = (255, 255, 255)
AXIS = (90, 90, 90)
GRID = (225, 225, 225)
REACHED = (31, 119, 180)
ACKNOWLEDGED = (44, 160, 44)
DEADLINE = (255, 127, 14)
START = (214, 39, 40)


def render_coverage_png(
    points: Sequence[CoveragePoint],
    *,
    outage_id: str,
    targeted: int,
    since: datetime,
    until: datetime,
    deadline: datetime | None,
    starts_at: datetime | None,
    font_path: Path,
    font_index: int,
    timezone: str,
) -> bytes:
    """Accounts reached and acknowledged from ``since`` to ``until``, as PNG bytes."""
    try:
        font = ImageFont.truetype(str(require_font(font_path)), 14, index=font_index)
        small = ImageFont.truetype(str(font_path), 12, index=font_index)
    except OSError as exc:
        raise FontUnavailable(f"CJK font {font_path} cannot be used: {exc}") from exc
    if until <= since:
        until = since + timedelta(hours=1)
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    top_count = max(targeted, 1)
    span = (until - since).total_seconds()

    def x(moment: datetime) -> float:
        offset = (min(max(moment, since), until) - since).total_seconds()
        return LEFT + plot_w * offset / span

    def y(count: int) -> float:
        return TOP + plot_h * (1 - count / top_count)

    draw.text((LEFT, 16), messages.CHART_TITLE.format(outage=outage_id), fill=AXIS, font=font)
    for share in (0, 25, 50, 75, 100):
        level = TOP + plot_h * (1 - share / 100)
        draw.line([(LEFT, level), (LEFT + plot_w, level)], fill=GRID)
        draw.text((LEFT - 44, level - 8), f"{share}%", fill=AXIS, font=small)
    for tick in range(5):
        moment = since + (until - since) * tick / 4
        left = x(moment)
        draw.line([(left, TOP + plot_h), (left, TOP + plot_h + 5)], fill=AXIS)
        label = local(moment, timezone).strftime("%m-%d %H:%M")
        draw.text((left - 34, TOP + plot_h + 8), label, fill=AXIS, font=small)
    draw.rectangle([(LEFT, TOP), (LEFT + plot_w, TOP + plot_h)], outline=AXIS)

    markers: list[tuple[datetime | None, tuple[int, int, int], str]] = [
        (deadline, DEADLINE, messages.CHART_DEADLINE),
        (starts_at, START, messages.CHART_START),
    ]
    for marker, color, name in markers:
        if marker is not None and since <= marker <= until:
            left = x(marker)
            for dash in range(TOP, TOP + plot_h, 8):
                draw.line([(left, dash), (left, min(dash + 4, TOP + plot_h))], fill=color, width=2)
            # Labels go right of the line, or left of it near the right edge.
            width = draw.textlength(name, font=small)
            label_x = left + 4 if left + 4 + width < WIDTH - 4 else left - 4 - width
            draw.text((label_x, TOP + 2), name, fill=color, font=small)

    # Acknowledged first, reached thinner on top: where they coincide both stay visible.
    for color, value, width in ((ACKNOWLEDGED, "acknowledged", 4), (REACHED, "reached", 2)):
        line = [(x(since), y(0))]
        count = 0
        for point in points:
            following = point.reached if value == "reached" else point.acknowledged
            line.append((x(point.at), y(count)))
            line.append((x(point.at), y(following)))
            count = following
        line.append((x(until), y(count)))
        draw.line(line, fill=color, width=width)

    legend_y = HEIGHT - 22
    for offset, color, name in (
        (0, REACHED, messages.CHART_REACHED),
        (160, ACKNOWLEDGED, messages.CHART_ACKNOWLEDGED),
    ):
        draw.line(
            [(LEFT + offset, legend_y + 8), (LEFT + offset + 24, legend_y + 8)], fill=color, width=3
        )
        draw.text((LEFT + offset + 30, legend_y), name, fill=AXIS, font=small)

    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
