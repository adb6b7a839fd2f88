"""The event contract: CloudEvents envelope, registry of versioned event types, schemas."""

from . import catalog  # noqa: F401 - registers the suite's event types
from .envelope import (
    CONTENT_TYPE,
    Event,
    EventSchemaError,
    InvalidEvent,
    amqp_properties,
    new_event,
    parse_event,
)
from .registry import (
    EventDefinition,
    EventRegistry,
    UnknownEventType,
    event_type,
    exchange_name,
    registry,
)

__all__ = [
    "CONTENT_TYPE",
    "Event",
    "EventDefinition",
    "EventRegistry",
    "EventSchemaError",
    "InvalidEvent",
    "UnknownEventType",
    "amqp_properties",
    "event_type",
    "exchange_name",
    "new_event",
    "parse_event",
    "registry",
]
