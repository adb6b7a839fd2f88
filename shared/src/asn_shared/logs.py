"""Structured JSON logs, one object a line, carrying the event id and correlation id."""

from __future__ import annotations

import json
import logging
from contextvars import ContextVar
from datetime import UTC, datetime

correlation_id: ContextVar[str | None] = ContextVar("correlation_id", default=None)
event_id: ContextVar[str | None] = ContextVar("event_id", default=None)
_service: dict[str, str | None] = {"name": None}


def set_service(name: str) -> None:
    """Name the process's service once, at start-up, for every log line."""
    _service["name"] = name


EXPECTED = "(expected)"  # nameko's prefix for errors a client caused: no trace needed
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """Formats records as JSON; ``extra={...}`` fields are kept as they are."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat().replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "service": _service["name"],
            "correlation_id": correlation_id.get(),
            "event_id": event_id.get(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info and not str(record.msg).startswith(EXPECTED):
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(
            {k: v for k, v in entry.items() if v is not None}, default=str, ensure_ascii=False
        )
