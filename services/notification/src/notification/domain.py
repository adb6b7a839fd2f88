"""Who is told what, and how it reads: plain rules without I/O.

Formatting follows what a civil servant is used to: ``Rp 5.260.000``, ``26 November 2026``,
decimal commas in Bahasa Indonesia; the English variant for recipients who chose ``en``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from asn_shared.vocabulary import Channel

LANGUAGES = ("id", "en")
DEFAULT_LANGUAGE = "id"

MONTHS = {
    "id": (
        "Januari",
        "Februari",
        "Maret",
        "April",
        "Mei",
        "Juni",
        "Juli",
        "Agustus",
        "September",
        "Oktober",
        "November",
        "Desember",
    ),
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
}

# Audiences a rule can name; who they are is resolved from the event and the read model.
EMPLOYEE, SUPERVISOR, UNIT_OPERATOR, BKPSDM_ADMIN = (
    "employee",
    "supervisor",
    "unit_operator",
    "bkpsdm_admin",
)
AUDIENCES = (EMPLOYEE, SUPERVISOR, UNIT_OPERATOR, BKPSDM_ADMIN)
OFFICIAL_ROLES = (UNIT_OPERATOR, BKPSDM_ADMIN)

EMAIL, WEBHOOK, INBOX = Channel.EMAIL, Channel.WEBHOOK, Channel.INBOX
RULE_CHANNELS = (EMAIL, INBOX)  # webhooks follow subscriptions, not rules

# The events this service listens to; a rule can only name one of these.
NOTIFIED_EVENTS = (
    "assessment.recorded",
    "proposal.created",
    "proposal.approved",
    "proposal.waitlisted",
    "proposal.cancelled",
    "enrollment.created",
    "enrollment.completed",
    "budget.reserved",
    "budget.rejected",
    "budget.released",
    "budget.spent",
    "budget.threshold_reached",
)

PENDING, DELIVERED, PARKED = "pending", "delivered", "parked"
DELIVERY_STATES = (PENDING, DELIVERED, PARKED)


def language_of(value: str | None) -> str:
    return value if value in LANGUAGES else DEFAULT_LANGUAGE


# --- formatting ---------------------------------------------------------------------------


def format_rupiah(amount: int | None) -> str:
    """Whole rupiah with dots between thousands: ``Rp 5.260.000`` (the same in English)."""
    if amount is None:
        return "-"
    sign = "-" if amount < 0 else ""
    return f"{sign}Rp {abs(int(amount)):,}".replace(",", ".")


def format_number(value: float | int | None, language: str = DEFAULT_LANGUAGE) -> str:
    """A level, gap or percentage: at most two decimals, no trailing zeros, a decimal comma
    in Bahasa Indonesia, and a sign on negative values."""
    if value is None:
        return "-"
    text = f"{float(value):.2f}".rstrip("0").rstrip(".")
    if text == "-0":
        text = "0"
    return text.replace(".", ",") if language_of(language) == "id" else text


def format_gap(value: float | int | None, language: str = DEFAULT_LANGUAGE) -> str:
    """A gap with its sign: ``+0,5``, ``0``, ``-1``."""
    text = format_number(value, language)
    return f"+{text}" if value is not None and float(value) > 0 else text


def format_percent(value: float | int | None, language: str = DEFAULT_LANGUAGE) -> str:
    return "-" if value is None else f"{format_number(value, language)}%"


def format_date(value: date | datetime | str | None, language: str = DEFAULT_LANGUAGE) -> str:
    """``26 November 2026``; accepts dates, datetimes and ISO strings."""
    if value is None:
        return "-"
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    month = MONTHS[language_of(language)][value.month - 1]
    return f"{value.day} {month} {value.year}"


# --- webhooks -----------------------------------------------------------------------------

_PATTERN = re.compile(r"^(\*|#|[a-z][a-z0-9_]*)(\.(\*|#|[a-z][a-z0-9_]*))*$")


def valid_pattern(pattern: str) -> bool:
    """Event-type patterns as in AMQP topics: ``budget.*``, ``assessment.recorded``, ``#``."""
    return bool(_PATTERN.match(pattern))


def pattern_matches(pattern: str, event_type: str) -> bool:
    """``*`` stands for one word, ``#`` for any number of words (none included)."""
    return _match(pattern.split("."), event_type.split("."))


def _match(words: list[str], parts: list[str]) -> bool:
    if not words:
        return not parts
    head, rest = words[0], words[1:]
    if head == "#":
        return any(_match(rest, parts[i:]) for i in range(len(parts) + 1))
    return bool(parts) and head in ("*", parts[0]) and _match(rest, parts[1:])


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>`` of HMAC-SHA256 over ``<timestamp>.<body>`` with the subscriber's
    secret: what a subscriber recomputes to trust a webhook and to refuse replays."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


# --- retries ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential back-off: ``base * 2**(attempt-1)`` seconds, at most ``cap``."""

    max_attempts: int
    base_delay: float
    max_delay: float

    def delay_after(self, attempts: int) -> float:
        return min(self.base_delay * 2.0 ** max(attempts - 1, 0), self.max_delay)


# --- audiences ----------------------------------------------------------------------------


@dataclass(frozen=True)
class EventFacts:
    """Whom an event concerns: the employee (by NIP) and the unit (by code)."""

    employee_nip: str | None
    unit_code: str | None


def facts_of(event_name: str, data: dict[str, Any]) -> EventFacts:
    """Where an event names its employee and unit; the catalogue fixes these places."""
    employee = data.get("employee")
    if isinstance(employee, dict):
        unit = employee.get("unit") or {}
        return EventFacts(employee.get("nip"), unit.get("code"))
    return EventFacts(data.get("employee_nip"), data.get("unit_code"))


def concerns_people(event_name: str, data: dict[str, Any]) -> bool:
    """False for news nobody should be told of in person, though agencies still get it:
    an older assessment recorded after a newer one is history, not a result to act on."""
    return not (event_name == "assessment.recorded" and data.get("current", True) is False)


@dataclass(frozen=True)
class Recipient:
    """Someone who can be told: ``key`` is a NIP or an official's id; the inbox is keyed by it."""

    key: str
    name: str
    email: str | None
    language: str = DEFAULT_LANGUAGE


def delivery_outcome(succeeded: bool, attempts: int, limit: int) -> str:
    """The state of a delivery after an attempt."""
    if succeeded:
        return DELIVERED
    return PARKED if attempts >= limit else PENDING
