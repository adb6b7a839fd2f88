"""What planning an event's deliveries reads and writes, behind one narrow interface.

:func:`.use_cases.planning.notify` (who hears of an event, over which channel, in which
words) reaches its rows through ``uow.repository(sql)``: in production the SQL below, over
the unit of work's session (the same statements, the same per-transaction reads); in the
unit tests an in-memory fake with the same methods.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.event import listen
from sqlalchemy.orm import Session

from .models import Delivery, DeliveryAttempt, Employee
from .use_cases import recipients
from .use_cases.setup import Setup, SetupCache, read_setup

DELIVERIES, DELIVERY_ATTEMPTS = Delivery.__table__, DeliveryAttempt.__table__


class PlanningRepository(Protocol):
    def upsert_employee(self, employee: dict[str, Any]) -> None:
        """Keep the highest version of the employee seen."""
        ...

    def setup(self, cache: SetupCache | None) -> Setup:
        """The rules, templates, subscriptions and officials (from ``cache`` when given)."""
        ...

    def employee(self, nip: str) -> Any:
        """The employee as this service knows them (nip, name, email, language, unit_code,
        unit_name, supervisor_nip), or None."""
        ...

    def a_unit_name(self, unit_code: str) -> str | None:
        """The unit's name as any of its known employees carries it."""
        ...

    def add_deliveries(self, rows: list[dict[str, Any]]) -> list[Any]:
        """Insert the deliveries an event does not have yet (at most one per recipient and
        channel); returns the inserted ones (``id``, ``recipient``, ``channel``)."""
        ...

    def add_attempts(self, rows: list[dict[str, Any]]) -> None: ...

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` once the transaction has committed."""
        ...


_PLAN_ONCE = (
    pg_insert(DELIVERIES)
    .on_conflict_do_nothing(constraint="deliveries_once")
    .returning(DELIVERIES.c.id, DELIVERIES.c.recipient, DELIVERIES.c.channel)
)


class SqlPlanningRepository:
    """The repository over a unit of work's session (PostgreSQL)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def upsert_employee(self, employee: dict[str, Any]) -> None:
        recipients.upsert_employee(self.session, employee)

    def setup(self, cache: SetupCache | None) -> Setup:
        return cache.get(self.session) if cache else read_setup(self.session)

    def employee(self, nip: str) -> Any:
        return recipients.known(self.session, nip)

    def a_unit_name(self, unit_code: str) -> str | None:
        return self.session.scalar(
            select(Employee.unit_name).where(Employee.unit_code == unit_code).limit(1)
        )

    def add_deliveries(self, rows: list[dict[str, Any]]) -> list[Any]:
        return list(self.session.execute(_PLAN_ONCE, rows).all())  # one statement for all rows

    def add_attempts(self, rows: list[dict[str, Any]]) -> None:
        self.session.execute(DELIVERY_ATTEMPTS.insert(), rows)

    def after_commit(self, callback: Callable[[], None]) -> None:
        listen(self.session, "after_commit", lambda _session: callback(), once=True)


def sql(session: Session) -> PlanningRepository:
    """What ``uow.repository(sql)`` builds in production."""
    return SqlPlanningRepository(session)
