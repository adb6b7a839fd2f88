"""The time a use case sees: the system's in production, a fixed one in tests.

A unit of work carries a :class:`Clock` (``uow.clock``); use cases ask it for today's date
or the current instant instead of calling ``date.today()`` or ``datetime.now()``, so a test
can place them in December or on a given morning without waiting for one.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def today(self) -> date:
        """The local calendar date."""
        ...

    def now(self) -> datetime:
        """The current instant, timezone-aware (UTC)."""
        ...


class SystemClock:
    """The machine's clock."""

    def today(self) -> date:
        return date.today()

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that stands still at ``at`` (UTC when naive) until moved by :meth:`advance`."""

    def __init__(self, at: datetime | date) -> None:
        if not isinstance(at, datetime):
            at = datetime(at.year, at.month, at.day, 9, 0)
        self.at = at if at.tzinfo is not None else at.replace(tzinfo=UTC)

    def today(self) -> date:
        return self.at.date()

    def now(self) -> datetime:
        return self.at

    def advance(self, by: timedelta) -> None:
        self.at += by


SYSTEM_CLOCK: Clock = SystemClock()
