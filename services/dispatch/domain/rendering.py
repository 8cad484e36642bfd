"""The words of a notice: Jinja2 templates per channel, notice kind and outage kind.

A template is looked up as ``<channel>/<kind>.<outage kind>.txt.j2`` (e.g.
``sms/notice.emergency.txt.j2``) and then ``<channel>/<kind>.txt.j2``; a configured folder is
searched before the built-in one, so a utility can reword any notice without a release.
Undefined variables are errors (StrictUndefined): a notice with a blank where the time should
be is worse than no notice. Times are local (the service's timezone).

For app push and WeChat the first line of the text is the title; for printed channels the
text is the body of the document (the PDF adds the heading, the time table and the receipt).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import jinja2

from services.dispatch.domain.messages import NoticeKind, kinds_carried, unique_in_order
from shared.events import OutageDetails
from shared.events.catalog import OutageKind

OUTAGE_KIND_LABELS: dict[str, str] = {
    "planned": "计划停电",
    "temporary": "临时停电",
    "emergency": "紧急抢修停电",
    "relocation": "迁改工程停电",
    "orderly_use": "有序用电",
    "load_shedding": "限负荷拉闸",
}
OUTAGE_KINDS: tuple[OutageKind, ...] = (
    "planned",
    "temporary",
    "emergency",
    "relocation",
    "orderly_use",
    "load_shedding",
)


# Wordings whose shared context is kept: a few outages at a time are being composed.
_CONTEXT_CACHE = 64


class TemplateMissing(LookupError):
    """No template for a channel and notice kind: that channel cannot carry that notice."""


@dataclass(frozen=True)
class Wording:
    """What every notice says besides the outage: who to call, local time, list length."""

    hotline: str
    timezone: str
    max_names: int
    company: str = ""


@dataclass(frozen=True)
class Followup:
    """What a correction or restoration adds: why, the times it replaces, when work ended."""

    reason: str = ""
    previous_starts_at: datetime | None = None
    previous_ends_at: datetime | None = None
    completed_at: datetime | None = None


def format_period(starts_at: datetime, ends_at: datetime, timezone: str) -> tuple[str, str]:
    """``(3月5日08:00, 17:00)``: the end's date is left out when it is the start's date."""
    tz = ZoneInfo(timezone)
    start, end = starts_at.astimezone(tz), ends_at.astimezone(tz)
    start_text = f"{start.month}月{start.day}日{start:%H:%M}"
    end_text = (
        f"{end:%H:%M}" if end.date() == start.date() else f"{end.month}月{end.day}日{end:%H:%M}"
    )
    return start_text, end_text


def format_moment(moment: datetime, timezone: str) -> str:
    local = moment.astimezone(ZoneInfo(timezone))
    return f"{local.month}月{local.day}日{local:%H:%M}"


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
            # Plain text for a handset or a PDF: escaping would print "&amp;" in a name.
            autoescape=False,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._cache: dict[tuple[str, NoticeKind, str], jinja2.Template] = {}
        self._contexts: dict[tuple[OutageDetails, Followup], dict[str, object]] = {}

    @staticmethod
    def template_names(channel: str, kind: NoticeKind, outage_kind: str) -> list[str]:
        return [
            f"{channel}/{kind.value}.{outage_kind}.txt.j2",
            f"{channel}/{kind.value}.txt.j2",
        ]

    def _template(self, channel: str, kind: NoticeKind, outage_kind: str) -> jinja2.Template:
        key = (channel, kind, outage_kind)
        template = self._cache.get(key)
        if template is None:
            names = self.template_names(channel, kind, outage_kind)
            try:
                template = self._env.select_template(names)
            except jinja2.TemplatesNotFound as exc:
                raise TemplateMissing(f"no template {' or '.join(names)}") from exc
            self._cache[key] = template
        return template

    def _base_context(self, details: OutageDetails, followup: Followup) -> dict[str, object]:
        """What every message of one outage wording says; computed once, not per message."""
        key = (details, followup)
        context = self._contexts.get(key)
        if context is not None:
            return context
        tz = self.wording.timezone
        starts_at, ends_at = format_period(details.starts_at, details.ends_at, tz)
        previous_starts_at = previous_ends_at = ""
        if followup.previous_starts_at and followup.previous_ends_at:
            previous_starts_at, previous_ends_at = format_period(
                followup.previous_starts_at, followup.previous_ends_at, tz
            )
        context = {
            "kind": details.kind,
            "kind_label": OUTAGE_KIND_LABELS[details.kind],
            "work": details.work,
            "area": details.area,
            "district": details.district,
            "starts_at": starts_at,
            "ends_at": ends_at,
            "hotline": self.wording.hotline,
            "company": self.wording.company,
            "reason": followup.reason,
            "previous_starts_at": previous_starts_at,
            "previous_ends_at": previous_ends_at,
            "completed_at": format_moment(followup.completed_at, tz)
            if followup.completed_at
            else "",
        }
        if len(self._contexts) >= _CONTEXT_CACHE:
            self._contexts.clear()
        self._contexts[key] = context
        return context

    def render(
        self,
        channel: str,
        kind: NoticeKind,
        details: OutageDetails,
        account_names: Sequence[str],
        *,
        contact_name: str = "",
        location: str = "",
        audience: str = "",
        followup: Followup | None = None,
    ) -> str:
        """The text of one notice, ready to send (without the signature the gateway adds)."""
        context = self._base_context(details, followup or Followup())
        text = self._template(channel, kind, details.kind).render(
            context,
            account_names=summarise_names(account_names, self.wording.max_names),
            account_count=len(unique_in_order(list(account_names))),
            contact_name=contact_name,
            location=location,
            audience=audience,
        )
        return text.strip()

    def check(self, channel: str) -> None:
        """Render every kind the channel carries for every outage kind once, so a broken
        template stops the start-up. Raises :class:`TemplateMissing` or a Jinja2 error
        naming the template at fault."""
        start = datetime(2026, 3, 5, 0, 0, tzinfo=UTC)
        followup = Followup(
            reason="天气原因",
            previous_starts_at=start,
            previous_ends_at=start.replace(hour=9),
            completed_at=start.replace(hour=8),
        )
        for outage_kind in OUTAGE_KINDS:
            sample = OutageDetails(
                kind=outage_kind,
                starts_at=start,
                ends_at=start.replace(hour=9),
                work="线路检修",
                area="东12线沿线",
                planned_by="check",
                district="城东区",
            )
            for kind in (k for k in NoticeKind if k in kinds_carried(channel)):
                for audience in ("standard", "area"):
                    self.render(
                        channel, kind, sample, ["示例客户"], audience=audience, followup=followup
                    )
