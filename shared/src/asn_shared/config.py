"""Single settings read from the environment when asked, for code that runs outside a service
(``asn-admin``, the test harness); each is declared, with its default, in asn_shared.settings."""

from __future__ import annotations

from .settings import QUEUE_TYPES, AdminSettings, ServiceSettings, SettingError, choice

__all__ = ["QUEUE_TYPES", "SettingError", "choice"]


def amqp_uri() -> str:
    uri: str = ServiceSettings.read_one("amqp_uri")
    return uri


def database_url(service: str) -> str:
    """``<SERVICE>_DATABASE_URL`` (``COMPETENCY_DATABASE_URL``, ...): each its own database."""
    url: str = ServiceSettings.read_one("database_url", service=service)
    return url


def queue_type(value: object = None) -> str:
    """``classic`` locally; ``quorum`` on a RabbitMQ cluster (``QUEUE_TYPE``, or ``value``)."""
    given = {"QUEUE_TYPE": str(value)} if value else None
    chosen: str = ServiceSettings.read_one("queue_type", given)
    return chosen


def queue_delivery_limit() -> int:
    """How often a quorum queue delivers a message before it dead-letters it
    (``QUEUE_DELIVERY_LIMIT``)."""
    limit: int = ServiceSettings.read_one("queue_delivery_limit")
    return limit


def event_stream_max_age() -> str:
    """How long the event stream keeps events (``EVENT_STREAM_MAX_AGE``, as ``x-max-age``)."""
    age: str = AdminSettings.read_one("event_stream_max_age")
    return age


def event_stream_max_bytes() -> int:
    """The size the event stream is trimmed to, whole segments at a time
    (``EVENT_STREAM_MAX_BYTES``)."""
    size: int = AdminSettings.read_one("event_stream_max_bytes")
    return size
