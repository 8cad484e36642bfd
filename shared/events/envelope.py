"""The envelope and the registry that maps an event type to its model and topic."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any, ClassVar, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.timeutil import utcnow


class Event(BaseModel):
    """Base of every event payload. ``type`` doubles as the Kafka topic."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: ClassVar[str]
    schema_version: ClassVar[int] = 1

    def subject(self) -> str:
        """What the event is about; the Kafka key. Most events concern one outage."""
        outage_id = getattr(self, "outage_id", None)
        if not isinstance(outage_id, str):
            raise NotImplementedError(f"{type(self).__name__} must define subject()")
        return outage_id


EVENT_TYPES: dict[str, type[Event]] = {}

E = TypeVar("E", bound=type[Event])


def register(event_type: str) -> Callable[[E], E]:
    """Class decorator: give the model its type/topic and add it to the catalogue."""

    def decorate(cls: E) -> E:
        if event_type in EVENT_TYPES:
            raise ValueError(f"event type {event_type!r} registered twice")
        cls.type = event_type
        EVENT_TYPES[event_type] = cls
        return cls

    return decorate


class Envelope(BaseModel):
    """CloudEvents 1.0 attributes around one event's data (structured JSON mode)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    specversion: Literal["1.0"] = "1.0"
    id: uuid.UUID = Field(default_factory=uuid.uuid4)
    type: str
    source: str
    time: datetime = Field(default_factory=utcnow)
    subject: str
    datacontenttype: Literal["application/json"] = "application/json"
    dataschemaversion: int = 1
    traceparent: str | None = Field(
        default=None, description="W3C trace context (CloudEvents distributed tracing extension)."
    )
    data: dict[str, Any]

    @classmethod
    def wrap(cls, event: Event, source: str, traceparent: str | None = None) -> Envelope:
        return cls(
            type=event.type,
            source=source,
            subject=event.subject(),
            dataschemaversion=event.schema_version,
            traceparent=traceparent,
            data=event.model_dump(mode="json"),
        )


class PoisonEvent(ValueError):
    """A message that can never be handled: not JSON, not an envelope, or invalid data."""


def encode(envelope: Envelope) -> bytes:
    return envelope.model_dump_json().encode()


def decode(raw: bytes) -> tuple[Envelope, Event]:
    """Parse raw bytes into the envelope and its typed event, or raise :class:`PoisonEvent`."""
    try:
        envelope = Envelope.model_validate_json(raw)
    except ValidationError as exc:
        raise PoisonEvent(f"not a valid envelope: {exc.errors(include_url=False)}") from exc
    model = EVENT_TYPES.get(envelope.type)
    if model is None:
        raise PoisonEvent(f"unknown event type {envelope.type!r}")
    try:
        return envelope, model.model_validate(envelope.data)
    except ValidationError as exc:
        raise PoisonEvent(f"invalid {envelope.type} data: {exc.errors(include_url=False)}") from exc
