"""Structured JSON logs, one object a line, carrying the event id and correlation id.

No secret reaches a log line: the formatters redact bearer tokens, JWTs, passwords in URLs,
``password=``/``secret:``-style values and the values of the process's secret settings
(``AUTH_JWT_KEY``, ``SMTP_PASSWORD``, any ``*_PASSWORD``, ``*_SECRET``, ``*_TOKEN``, and the
passwords in ``AMQP_URI`` and ``*_DATABASE_URL``), wherever they occur: message, arguments,
``extra`` fields or exception text.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Mapping
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlsplit

correlation_id: ContextVar[str | None] = ContextVar("correlation_id", default=None)
event_id: ContextVar[str | None] = ContextVar("event_id", default=None)
_service: dict[str, str | None] = {"name": None}


def set_service(name: str) -> None:
    """Name the process's service once, at start-up, for every log line."""
    _service["name"] = name


REDACTED = "[REDACTED]"
_SECRET_KEY = r"(?:password|passwd|secret|token|authorization|api[_-]?key|jwt[_-]?key)"
_SECRET_NAME = re.compile(rf"(?i){_SECRET_KEY}")
_SECRET_SETTING = re.compile(r"(?i)(^AUTH_JWT_KEY$|PASSWORD$|SECRET$|TOKEN$|API_KEY$)")
_URL_SETTING = re.compile(r"(?i)(URI|URL)$")
_MIN_SECRET_LENGTH = 6  # shorter values would blank out ordinary words; patterns still apply
# (hints, pattern, replacement): a pattern runs only on text containing one of its hints
_PATTERNS: list[tuple[tuple[str, ...], re.Pattern[str], str]] = [
    # scheme://user:password@host
    (
        ("://",),
        re.compile(r"(?i)(?<![a-z0-9+.\-])([a-z][a-z0-9+.\-]*://[^:/?#@\s]*:)[^@\s/?#]+@"),
        r"\1***@",
    ),
    # Authorization: Bearer <token> / Basic <credentials>
    (
        ("bearer", "basic"),
        re.compile(r"(?i)\b(bearer|basic)(\s+)[A-Za-z0-9._~+/\-]{8,}=*"),
        rf"\1\2{REDACTED}",
    ),
    # password=..., 'secret': '...', "access_token": "...", HTTP_AUTHORIZATION='...'
    (
        ("pass", "secret", "token", "authorization", "key"),
        re.compile(
            rf"""(?ix)
            ({_SECRET_KEY}[\w-]*["']?\s*[:=]\s*)
            (?:(["'])(?:(?!\2).)*\2 | [^\s"',;&)}}\]]+)"""
        ),
        rf"\1\2{REDACTED}\2",
    ),
    # a JWT anywhere: base64url JSON header (starts "{") . payload . signature
    (
        ("ey", "ew"),
        re.compile(
            r"(?<![A-Za-z0-9_-])e[wy][A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]*"
        ),
        REDACTED,
    ),
]


def secret_values(environ: Mapping[str, str] | None = None) -> set[str]:
    """The values of secret settings, and the passwords inside URL settings."""
    environ = os.environ if environ is None else environ
    found = set()
    for name, value in environ.items():
        if _SECRET_SETTING.search(name):
            found.add(value)
        elif _URL_SETTING.search(name) and "@" in value:
            try:
                parts = urlsplit(value)
            except ValueError:
                continue
            # a password equal to the user name (postgres:postgres) is a development default:
            # blanking it everywhere would only mangle the logs
            if parts.password and parts.password != parts.username:
                found.update({parts.password, unquote(parts.password)})
    return {value for value in found if len(value.strip()) >= _MIN_SECRET_LENGTH}


class Redactor:
    """Replaces secrets in text: the known values first, then the patterns."""

    def __init__(self, values: set[str]) -> None:
        ordered = sorted(values, key=len, reverse=True)
        self._values = re.compile("|".join(map(re.escape, ordered))) if ordered else None

    def text(self, text: str) -> str:
        if self._values is not None:
            text = self._values.sub(REDACTED, text)
        lowered = text.lower()
        for hints, pattern, replacement in _PATTERNS:
            if any(hint in lowered for hint in hints):
                text = pattern.sub(replacement, text)
        return text

    def value(self, value: Any, name: str = "") -> Any:
        """A field's value, redacted; a field named like a secret is blanked out entirely."""
        if value is None:
            return None
        if name and _SECRET_NAME.search(name):
            return REDACTED
        if isinstance(value, Mapping):
            return {k: self.value(v, str(k)) for k, v in value.items()}
        if isinstance(value, list | tuple | set):
            return [self.value(item) for item in value]
        if isinstance(value, bool | int | float):
            return value
        return self.text(str(value))


EXPECTED = "(expected)"  # nameko's prefix for errors a client caused: no trace needed
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class RedactingFormatter(logging.Formatter):
    """A plain-text formatter whose lines carry no secret (see the module's docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.redactor = Redactor(secret_values())

    def format(self, record: logging.LogRecord) -> str:
        return self.redactor.text(super().format(record))


class JsonFormatter(logging.Formatter):
    """Formats records as JSON; ``extra={...}`` fields are kept, every value redacted."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.redactor = Redactor(secret_values())

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
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        redacted = {k: self.redactor.value(v, k) for k, v in entry.items() if v is not None}
        return json.dumps(redacted, default=str, ensure_ascii=False)
