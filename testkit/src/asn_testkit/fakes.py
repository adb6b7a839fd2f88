"""A unit of work without a database, for the use cases' unit tests.

``FakeUnitOfWork`` is the shared :class:`~asn_shared.persistence.UnitOfWork` with its session
taken away: ``uow.repository(...)`` answers with the in-memory repository the test gives,
``uow.publish(...)`` checks each event against its schema as in production and keeps it, and
``uow.clock`` is the test's clock. A use case that reaches past its repositories to the
session fails the test.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from asn_shared.auth import ADMIN, EMPLOYEE, OPERATOR, Principal
from asn_shared.clock import Clock, FixedClock
from asn_shared.events import Event, new_event, parse_event, registry
from asn_shared.persistence import UnitOfWork, outbox

MIDSUMMER = datetime(2026, 6, 15, 9, 0)  # the default fixed clock: mid-year, a working day


def incoming(name: str, data: dict[str, Any]) -> Event:
    """The event as a handler receives it: checked against its schema, written and read back."""
    return parse_event(new_event(registry.latest(name), data).to_json())


def keep_newest(rows: dict[Any, Any], key: Any, row: Any) -> None:
    """A fake repository's upsert of event-carried state: ``rows[key]`` becomes ``row``
    unless the row there has the same or a higher ``version``."""
    known = rows.get(key)
    if known is None or known.version < row.version:
        rows[key] = row


class FakeUnitTree:
    """The organisation tree of :mod:`asn_shared.units` in memory, for a fake repository's
    ``check_reach``: the same refusals (``auth.*`` codes) from the same ``Principal``."""

    def __init__(self, parents: dict[str, str | None] | None = None) -> None:
        self.parents: dict[str, str | None] = dict(parents or {})

    def within(self, root: str) -> set[str]:
        found = {root}
        while True:
            more = {code for code, parent in self.parents.items() if parent in found} - found
            if not more:
                return found
            found |= more

    def scope(self, principal: Principal) -> set[str] | None:
        if principal.role == ADMIN:
            return None
        if principal.role == OPERATOR and principal.scope is not None:
            return self.within(principal.scope)
        return set()

    def check_reach(self, principal: Principal, nip: str, unit_code: str | None) -> None:
        if principal.role == EMPLOYEE:
            principal.require_nip(nip)
        else:
            principal.require_unit(unit_code, self.scope(principal))


class _OutboxOnly:
    """Stands in for the session: takes the outbox rows ``publish`` writes, refuses the rest."""

    def execute(self, statement: Any, parameters: Any = None) -> None:
        if getattr(statement, "table", None) is not outbox:
            raise AssertionError(f"a use case under unit test ran SQL: {statement}")

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"a use case under unit test used the session's {name!r}")


class FakeUnitOfWork(UnitOfWork):
    """``repository`` is what every ``uow.repository(build)`` answers with; ``published``
    holds the events of the commits, ``events`` those of the open transaction."""

    def __init__(self, service: str, repository: Any, clock: Clock | None = None) -> None:
        super().__init__(_OutboxOnly, service=service, clock=clock or FixedClock(MIDSUMMER))
        self.fake = repository
        self.published: list[Event] = []
        self.commits = 0

    def repository(self, build: Callable[..., Any]) -> Any:
        return self.fake

    def __enter__(self) -> FakeUnitOfWork:
        self.session = _OutboxOnly()  # type: ignore[assignment]
        self.events, self._collected = [], {}
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.events, self._collected = [], {}  # what was not committed is lost, as in a rollback

    def commit(self) -> None:
        self.write_collected()
        self.published.extend(self.events)
        self.commits += 1
        self.events = []

    def rollback(self) -> None:
        self.events, self._collected = [], {}

    def named(self, name: str) -> list[Event]:
        """The events of ``name`` published so far, committed or not."""
        return [e for e in self.published + self.events if e.name == name]

    def handle(self, use_case: Callable[[UnitOfWork, Event], Any], event: Event) -> Any:
        """Apply an event use case and commit, as ``handle_once`` does for a first delivery."""
        with self:
            result = use_case(self, event)
            self.commit()
        return result
