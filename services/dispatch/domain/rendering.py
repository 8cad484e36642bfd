"""The words of a notice: Jinja2 templates per channel and kind, filled with the outage.

Templates live in ``<channel>/<kind>.txt.j2`` (e.g. ``sms/notice.txt.j2``); a configured
folder is searched before the built-in one, so a utility can reword notices without a release.
Undefined variables are errors (StrictUndefined): a notice with a blank where the time should
be is worse than no notice. Times are local (the service's timezone).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import jinja2

from services.dispatch.domain.messages import NoticeKind, unique_in_order
from shared.events import OutageDetails

OUTAGE_KIND_LABELS = {
    "planned": "计划停电",
    "temporary": "临时停电",
    "emergency": "紧急停电",
    "relocation": "迁改停电",
    "orderly_use": "有序用电",
    "load_shedding": "负荷控制",
}


class TemplateMissing(LookupError):
    """No template for a channel and notice kind: that channel cannot carry that notice."""


@dataclass(frozen=True)
class Wording:
    """What every notice says besides the outage: who to call, local time, list length."""

    hotline: str
    timezone: str
    max_names: int


def format_period(starts_at: datetime, ends_at: datetime, timezone: str) -> tuple[str, str]:
    """``(3月5日08:00, 17:00)``: the end's date is left out when it is the start's date."""
    tz = ZoneInfo(timezone)
    start, end = starts_at.astimezone(tz), ends_at.astimezone(tz)
    start_text = f"{start.month}月{start.day}日{start:%H:%M}"
    end_text = (
        f"{end:%H:%M}" if end.date() == start.date() else f"{end.month}月{end.day}日{end:%H:%M}"
    )
    return start_text, end_text


def summarise_names(names: Sequence[str], limit: int) -> str:
    """``甲、乙、丙等5户``: every name when there are few, else the first ``limit`` and a count."""
    distinct = unique_in_order([n for n in names if n])
    if len(distinct) <= limit:
        return "、".join(distinct)
    return f"{'、'.join(distinct[:limit])}等{len(distinct)}户"


class NoticeRenderer:
    def __init__(self, search_path: Sequence[Path], wording: Wording) -> None:
        self.wording = wording
        self._env = jinja2.Environment(
            loader=jinja2.FileSystemLoader([str(p) for p in search_path]),
            undefined=jinja2.StrictUndefined,
            # Plain text for a handset: escaping would print "&amp;" in a customer's name.
            autoescape=False,
            trim_blocks=True,
            lstrip_blocks=True,
        )

    @staticmethod
    def template_name(channel: str, kind: NoticeKind) -> str:
        return f"{channel}/{kind.value}.txt.j2"

    def _template(self, channel: str, kind: NoticeKind) -> jinja2.Template:
        name = self.template_name(channel, kind)
        try:
            return self._env.get_template(name)
        except jinja2.TemplateNotFound as exc:
            raise TemplateMissing(f"no template {name}") from exc

    def render(
        self,
        channel: str,
        kind: NoticeKind,
        details: OutageDetails,
        account_names: Sequence[str],
    ) -> str:
        """The text of one notice, ready to send (without the signature the gateway adds)."""
        starts_at, ends_at = format_period(
            details.starts_at, details.ends_at, self.wording.timezone
        )
        text = self._template(channel, kind).render(
            kind=details.kind,
            kind_label=OUTAGE_KIND_LABELS[details.kind],
            work=details.work,
            area=details.area,
            starts_at=starts_at,
            ends_at=ends_at,
            account_names=summarise_names(account_names, self.wording.max_names),
            account_count=len(unique_in_order(list(account_names))),
            hotline=self.wording.hotline,
        )
        return text.strip()

    def check(self, channel: str) -> None:
        """Render every kind for ``channel`` once, so a broken template stops the start-up.

        Raises :class:`TemplateMissing` or a Jinja2 error naming the template at fault.
        """
        sample = OutageDetails(
            kind="planned",
            starts_at=datetime(2026, 3, 5, 0, 0, tzinfo=UTC),
            ends_at=datetime(2026, 3, 5, 9, 0, tzinfo=UTC),
            work="线路检修",
            area="东12线沿线",
            planned_by="check",
        )
        for kind in NoticeKind:
            self.render(channel, kind, sample, ["示例客户"])
