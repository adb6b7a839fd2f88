"""CloudEvents 1.0 envelope, structured JSON mode, over AMQP.

Producers build events with :func:`new_event`, which refuses data that fails the event's
schema. Consumers turn raw AMQP bodies back into events with :func:`parse_event`, which
refuses anything malformed, unknown or invalid with an :class:`InvalidEvent` naming why.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from marshmallow import ValidationError

from .registry import EventDefinition, EventRegistry, UnknownEventType, registry

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/cloudevents+json"
DATA_CONTENT_TYPE = "application/json"
SOURCE_PREFIX = "urn:kompasasn:"
REQUIRED_ATTRIBUTES = ("specversion", "id", "source", "type")


class EventSchemaError(ValueError):
    """An event's data does not fit its schema; raised at the producer."""

    def __init__(self, event_type: str, errors: dict[str, Any]) -> None:
        super().__init__(f"{event_type}: data does not match its schema: {errors}")
        self.event_type = event_type
        self.errors = errors


class InvalidEvent(ValueError):
    """A received message is not an event this suite can handle; the message says why."""


@dataclass(frozen=True)
class Event:
    definition: EventDefinition
    data: dict[str, Any]
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    time: datetime = field(default_factory=lambda: datetime.now(UTC))
    subject: str | None = None
    correlation_id: str | None = None
    causation_id: str | None = None
    # ``data`` as JSON values, once new_event has serialised it to check it
    dumped: dict[str, Any] | None = field(default=None, compare=False, repr=False)

    @property
    def name(self) -> str:
        return self.definition.name

    @property
    def type(self) -> str:
        return self.definition.type

    @property
    def source(self) -> str:
        return SOURCE_PREFIX + self.definition.producer

    def to_cloudevent(self) -> dict[str, Any]:
        body = {
            "specversion": SPEC_VERSION,
            "id": self.id,
            "source": self.source,
            "type": self.type,
            "time": self.time.isoformat().replace("+00:00", "Z"),
            "datacontenttype": DATA_CONTENT_TYPE,
            "data": self.definition.dump(self.data) if self.dumped is None else self.dumped,
        }
        if self.subject is not None:
            body["subject"] = self.subject
        if self.correlation_id is not None:
            body["correlationid"] = self.correlation_id
        if self.causation_id is not None:
            body["causationid"] = self.causation_id
        return body

    def to_json(self) -> bytes:
        return json.dumps(self.to_cloudevent(), separators=(",", ":"), ensure_ascii=False).encode()

    def amqp_properties(self) -> dict[str, Any]:
        return amqp_properties(self.id, self.type, self.time)


def amqp_properties(event_id: str, ce_type: str, time: datetime) -> dict[str, Any]:
    """AMQP properties that mirror the envelope, so consumers can route without parsing."""
    return {
        "message_id": str(event_id),
        "type": ce_type,
        "timestamp": int(time.timestamp()),  # seconds, as AMQP 0-9-1 defines it
        "content_type": CONTENT_TYPE,
        "content_encoding": "utf-8",
        "delivery_mode": 2,
    }


def new_event(
    definition: EventDefinition,
    data: dict[str, Any],
    *,
    subject: str | None = None,
    correlation_id: str | None = None,
    causation_id: str | None = None,
) -> Event:
    """Build an event, refusing data that does not fit the event's schema."""
    schema = definition.writer
    unknown = sorted(set(data) - set(schema.dump_fields))
    if unknown:
        raise EventSchemaError(definition.type, {name: ["Unknown field."] for name in unknown})
    dumped = _dump(definition, data)
    try:
        definition.check(dumped)
    except ValidationError as exc:
        raise EventSchemaError(definition.type, exc.messages_dict) from None
    return Event(
        definition=definition,
        data=data,
        subject=subject,
        correlation_id=correlation_id or str(uuid.uuid4()),
        causation_id=causation_id,
        dumped=dumped,
    )


def _dump(definition: EventDefinition, data: dict[str, Any]) -> dict[str, Any]:
    """Serialise ``data``; a value that cannot be serialised is reported by its field."""
    try:
        return definition.dump(data)
    except (TypeError, ValueError, AttributeError):
        errors = {}
        for name, field_ in definition.writer.dump_fields.items():
            try:
                field_.serialize(name, data)
            except (TypeError, ValueError, AttributeError) as exc:
                errors[field_.data_key or name] = [f"Cannot serialise: {exc}"]
        raise EventSchemaError(definition.type, errors) from None


def parse_event(body: bytes, registry: EventRegistry = registry) -> Event:
    """Decode a structured-mode CloudEvent; unknown optional data fields are ignored."""
    try:
        envelope = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidEvent(f"body is not JSON: {exc}") from None
    if not isinstance(envelope, dict):
        raise InvalidEvent("body is not a JSON object")
    missing = [name for name in REQUIRED_ATTRIBUTES if not envelope.get(name)]
    if missing:
        raise InvalidEvent(f"missing CloudEvents attributes: {', '.join(missing)}")
    if envelope["specversion"] != SPEC_VERSION:
        raise InvalidEvent(f"unsupported specversion {envelope['specversion']!r}")
    try:
        definition = registry.by_type(envelope["type"])
    except UnknownEventType as exc:
        raise InvalidEvent(str(exc)) from None
    try:
        data = definition.load(envelope.get("data") or {})
    except ValidationError as exc:
        raise InvalidEvent(
            f"{definition.type}: data does not match its schema: {exc.messages}"
        ) from None
    return Event(
        definition=definition,
        data=data,
        id=str(envelope["id"]),
        time=_parse_time(envelope.get("time")),
        subject=envelope.get("subject"),
        correlation_id=envelope.get("correlationid"),
        causation_id=envelope.get("causationid"),
    )


def _parse_time(value: Any) -> datetime:
    if not value:
        return datetime.now(UTC)
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise InvalidEvent(f"time is not RFC 3339: {value!r}") from None
