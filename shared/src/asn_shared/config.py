"""Configuration from environment variables (12-factor); every default suits a local machine."""

from __future__ import annotations

import os


def amqp_uri() -> str:
    return os.environ.get("AMQP_URI", "amqp://guest:guest@localhost:5672/")


def database_url(service: str) -> str:
    """``<SERVICE>_DATABASE_URL`` (``COMPETENCY_DATABASE_URL``, ...): each its own database."""
    return os.environ.get(
        f"{service.upper()}_DATABASE_URL", f"postgresql://postgres@127.0.0.1:5432/{service}"
    )


def queue_type() -> str:
    """``classic`` locally; ``quorum`` on a RabbitMQ cluster."""
    return os.environ.get("QUEUE_TYPE", "classic")
