"""Configuration from environment variables (12-factor); every default suits a local machine."""

from __future__ import annotations

import os
from collections.abc import Iterable


def amqp_uri() -> str:
    return os.environ.get("AMQP_URI", "amqp://guest:guest@localhost:5672/")


def database_url(service: str) -> str:
    """``<SERVICE>_DATABASE_URL`` (``COMPETENCY_DATABASE_URL``, ...): each its own database."""
    return os.environ.get(
        f"{service.upper()}_DATABASE_URL", f"postgresql://postgres@127.0.0.1:5432/{service}"
    )


QUEUE_TYPES = ("classic", "quorum")


class SettingError(ValueError):
    """A setting with a value the service cannot work with: it refuses to start."""


def choice(name: str, value: object, allowed: Iterable[str]) -> str:
    """``value`` of setting ``name`` if it is one of ``allowed``; else a SettingError that
    names the variable and the values it takes."""
    allowed = tuple(allowed)
    if str(value) not in allowed:
        raise SettingError(f"{name} must be one of {', '.join(allowed)}; not {str(value)!r}.")
    return str(value)


def queue_type(value: object = None) -> str:
    """``classic`` locally; ``quorum`` on a RabbitMQ cluster (``QUEUE_TYPE``)."""
    return choice("QUEUE_TYPE", value or os.environ.get("QUEUE_TYPE") or "classic", QUEUE_TYPES)


def queue_delivery_limit() -> int:
    """How often a quorum queue delivers a message before it dead-letters it
    (``QUEUE_DELIVERY_LIMIT``, default 20: RabbitMQ 4's default, set explicitly)."""
    return int(os.environ.get("QUEUE_DELIVERY_LIMIT") or 20)


def event_stream_max_age() -> str:
    """How long the event stream keeps events (``EVENT_STREAM_MAX_AGE``: a number and a unit,
    Y M D h m s, as RabbitMQ's ``x-max-age``; default 400D)."""
    return os.environ.get("EVENT_STREAM_MAX_AGE") or "400D"


def event_stream_max_bytes() -> int:
    """The size the event stream is trimmed to, whole segments at a time
    (``EVENT_STREAM_MAX_BYTES``, default 20 GB)."""
    return int(os.environ.get("EVENT_STREAM_MAX_BYTES") or 20_000_000_000)
