"""Aware timestamps. Naive datetimes are a bug here: notices are judged by their lead time."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo


def utcnow() -> datetime:
    return datetime.now(UTC)


def local(dt: datetime, tz: str = "Asia/Shanghai") -> datetime:
    return dt.astimezone(ZoneInfo(tz))


def ensure_aware(dt: datetime) -> datetime:
    """SQLite hands back naive datetimes for values we stored as UTC."""
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)
