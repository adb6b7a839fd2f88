"""Columns the services' table models share."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, func
from sqlalchemy.orm import Mapped, mapped_column


def timestamp_now() -> Mapped[datetime]:
    """``timestamptz NOT NULL DEFAULT now()``: when the database wrote the row."""
    return mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
