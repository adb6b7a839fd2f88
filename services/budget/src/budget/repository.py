"""What budget's use cases read and write, behind one narrow interface.

Reservations, releases and spending (:mod:`.use_cases.reservations`), every posting
(:mod:`.use_cases.postings`), allocations and amendments (:mod:`.use_cases.allocations`) and
the reports (:mod:`.use_cases.reports`) reach their rows through ``uow.repository(sql)``:
in production the SQL below, with the unit-year row lock every change of money takes; in the
unit tests an in-memory fake with the same methods.
"""

from __future__ import annotations

import functools
import uuid
from typing import Any, Protocol, cast

from sqlalchemy import Table, bindparam, func, insert, select, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from asn_shared import units
from asn_shared.auth import Principal
from asn_shared.persistence import fetch_page, transaction_scoped

from . import domain
from .models import Allocation, LedgerEntry, Proposal, ProposalItem, ThresholdAlert

UnitYear = tuple[str, int]


class BudgetRepository(Protocol):
    def locked_allocation(self, unit_code: str, fiscal_year: int) -> Allocation | None:
        """The unit-year row, locked until the transaction ends; None without an allocation."""
        ...

    def claim_proposal(self, proposal: dict[str, Any]) -> bool:
        """Store the proposal's row (the decision on it) unless it has one already; True if
        this call stored it."""
        ...

    def proposal(self, proposal_id: uuid.UUID, *, lock: bool = False) -> Proposal | None: ...

    def add_items(self, items: list[dict[str, Any]]) -> None:
        """Store a proposal's items (``proposal_items`` rows)."""
        ...

    def reserved_items(self, proposal_id: uuid.UUID) -> list[ProposalItem]:
        """The proposal's items whose money is still reserved, locked."""
        ...

    def reserved_item(
        self, proposal_id: uuid.UUID, item_id: uuid.UUID | None, programme_code: str
    ) -> ProposalItem | None:
        """The item ``item_id`` if still reserved; without one, the first reserved item of
        ``programme_code``. Locked."""
        ...

    def already_spent(self, enrollment_id: uuid.UUID) -> bool:
        """Whether the enrolment was charged before (a spend entry, or an item marked)."""
        ...

    def add_entry(self, entry: LedgerEntry) -> None:
        """Append a ledger entry."""
        ...

    def announced_thresholds(self, unit_code: str, fiscal_year: int) -> list[int]: ...

    def claim_threshold(self, alert: dict[str, Any]) -> bool:
        """Record a threshold as announced; False if it was (the primary key decides)."""
        ...

    # --- allocations and what is shown of them ----------------------------------------------

    def claim_allocation(self, allocation: dict[str, Any]) -> bool:
        """Store a unit-year's allocation row unless it has one; True if this call stored it."""
        ...

    def allocation(self, unit_code: str, fiscal_year: int) -> Allocation | None: ...

    def check_unit(self, caller: Principal, unit_code: str) -> None:
        """Refuses (Forbidden) a caller who may not reach ``unit_code``."""
        ...

    def ledger_positions(
        self, keys: list[UnitYear], fiscal_year: int | None = None
    ) -> dict[UnitYear, domain.Position]:
        """Each unit-year's position summed from its ledger entries (the definition of it)."""
        ...

    def thresholds_reached(self, keys: list[UnitYear]) -> dict[UnitYear, list[int]]:
        """Each unit-year's announced thresholds, lowest first."""
        ...

    # --- the reports (:mod:`.use_cases.reports`) --------------------------------------------

    def reachable_units(self, caller: Principal, unit_code: str | None = None) -> set[str] | None:
        """The units ``caller`` may see (``None``: all); refuses (Forbidden) a ``unit_code``
        outside them."""
        ...

    def allocation_page(
        self, query: dict[str, Any], scope: set[str] | None
    ) -> tuple[list[Allocation], int]:
        """A page of the allocations of the ``scope`` units, newest year first
        (``fiscal_year``, ``unit_code``, ``page``, ``per_page`` in ``query``)."""
        ...

    def ledger_page(
        self, query: dict[str, Any], scope: set[str] | None
    ) -> tuple[list[LedgerEntry], int]:
        """A page of the ledger of the ``scope`` units, in the order written (``unit_code``,
        ``fiscal_year``, ``kind``, ``proposal_id`` filters)."""
        ...

    def allocations_of_year(self, fiscal_year: int, scope: set[str] | None) -> list[Allocation]: ...

    def proposal_items(self, proposal_id: uuid.UUID) -> list[ProposalItem]:
        """The proposal's items, in their order."""
        ...


class SqlBudgetRepository:
    """The repository over a unit of work's session (PostgreSQL)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def locked_allocation(self, unit_code: str, fiscal_year: int) -> Allocation | None:
        # A row this transaction (or savepoint) locked already is current as the session
        # holds it: no second locking read, so a batch's events of one unit read it once.
        # The locking read needs nothing else the batch left pending: no flush before it.
        key = (unit_code, fiscal_year)
        held = transaction_scoped(self.session, "budget.locked_allocations")
        if key not in held:
            with self.session.no_autoflush:
                found = self.session.get(
                    Allocation, key, with_for_update=True, populate_existing=True
                )
            if found is None:
                return None  # nothing locked: an allocation made meanwhile is read next time
            held[key] = found
        return cast(Allocation, held[key])

    def claim_proposal(self, proposal: dict[str, Any]) -> bool:
        return self._claim(Proposal.__table__, proposal)

    def proposal(self, proposal_id: uuid.UUID, *, lock: bool = False) -> Proposal | None:
        if lock:
            return self.session.get(
                Proposal, proposal_id, with_for_update=True, populate_existing=True
            )
        return self.session.get(Proposal, proposal_id)

    def add_items(self, items: list[dict[str, Any]]) -> None:
        self._insert_alone(insert(ProposalItem.__table__), items)

    def reserved_items(self, proposal_id: uuid.UUID) -> list[ProposalItem]:
        return list(
            self.session.scalars(
                select(ProposalItem)
                .where(ProposalItem.proposal_id == proposal_id, ProposalItem.state == "reserved")
                .with_for_update()
            ).all()
        )

    def reserved_item(
        self, proposal_id: uuid.UUID, item_id: uuid.UUID | None, programme_code: str
    ) -> ProposalItem | None:
        statement = select(ProposalItem).where(
            ProposalItem.proposal_id == proposal_id, ProposalItem.state == "reserved"
        )
        if item_id:
            statement = statement.where(ProposalItem.item_id == item_id)
        else:
            statement = statement.where(ProposalItem.programme_code == programme_code)
        return self.session.scalars(
            statement.order_by(ProposalItem.ordinal).limit(1).with_for_update()
        ).first()

    def already_spent(self, enrollment_id: uuid.UUID) -> bool:
        charged = select(LedgerEntry.id).where(
            LedgerEntry.kind == "spend", LedgerEntry.enrollment_id == enrollment_id
        )
        marked = select(ProposalItem.item_id).where(ProposalItem.enrollment_id == enrollment_id)
        return bool(
            self.session.scalar(select(charged.exists()))
            or self.session.scalar(select(marked.exists()))
        )

    def add_entry(self, entry: LedgerEntry) -> None:
        self.session.add(entry)

    def announced_thresholds(self, unit_code: str, fiscal_year: int) -> list[int]:
        return list(
            self.session.scalars(
                select(ThresholdAlert.threshold_percent).where(
                    ThresholdAlert.unit_code == unit_code, ThresholdAlert.fiscal_year == fiscal_year
                )
            ).all()
        )

    def claim_threshold(self, alert: dict[str, Any]) -> bool:
        return self._claim(ThresholdAlert.__table__, alert)

    def claim_allocation(self, allocation: dict[str, Any]) -> bool:
        return self._claim(Allocation.__table__, allocation)

    def allocation(self, unit_code: str, fiscal_year: int) -> Allocation | None:
        return self.session.get(Allocation, (unit_code, fiscal_year))

    def check_unit(self, caller: Principal, unit_code: str) -> None:
        units.reachable_units(self.session, caller, unit_code)

    def ledger_positions(
        self, keys: list[UnitYear], fiscal_year: int | None = None
    ) -> dict[UnitYear, domain.Position]:
        statement = select(
            LedgerEntry.unit_code,
            LedgerEntry.fiscal_year,
            func.sum(LedgerEntry.allocated_delta),
            func.sum(LedgerEntry.reserved_delta),
            func.sum(LedgerEntry.spent_delta),
        ).group_by(LedgerEntry.unit_code, LedgerEntry.fiscal_year)
        if fiscal_year is not None:
            statement = statement.where(LedgerEntry.fiscal_year == fiscal_year)
        unit_year = tuple_(LedgerEntry.unit_code, LedgerEntry.fiscal_year)
        statement = statement.where(unit_year.in_(keys))
        return {
            (unit, year): domain.Position(int(allocated), int(reserved), int(spent))
            for unit, year, allocated, reserved, spent in self.session.execute(statement)
        }

    def thresholds_reached(self, keys: list[UnitYear]) -> dict[UnitYear, list[int]]:
        found: dict[UnitYear, list[int]] = {key: [] for key in keys}
        if not keys:
            return found
        rows = self.session.execute(
            select(
                ThresholdAlert.unit_code,
                ThresholdAlert.fiscal_year,
                ThresholdAlert.threshold_percent,
            )
            .where(tuple_(ThresholdAlert.unit_code, ThresholdAlert.fiscal_year).in_(keys))
            .order_by(ThresholdAlert.threshold_percent)
        )
        for unit, year, threshold in rows:
            found[(unit, year)].append(threshold)
        return found

    def reachable_units(self, caller: Principal, unit_code: str | None = None) -> set[str] | None:
        return units.reachable_units(self.session, caller, unit_code)

    def allocation_page(
        self, query: dict[str, Any], scope: set[str] | None
    ) -> tuple[list[Allocation], int]:
        statement = select(Allocation).order_by(Allocation.fiscal_year.desc(), Allocation.unit_code)
        if query.get("fiscal_year") is not None:
            statement = statement.where(Allocation.fiscal_year == query["fiscal_year"])
        if query.get("unit_code"):
            statement = statement.where(Allocation.unit_code == query["unit_code"])
        statement = units.in_units(statement, Allocation.unit_code, scope)
        return fetch_page(self.session, statement, page=query["page"], per_page=query["per_page"])

    def ledger_page(
        self, query: dict[str, Any], scope: set[str] | None
    ) -> tuple[list[LedgerEntry], int]:
        statement = select(LedgerEntry).order_by(LedgerEntry.id)
        for name in ("unit_code", "fiscal_year", "kind", "proposal_id"):
            if query.get(name) is not None:
                statement = statement.where(getattr(LedgerEntry, name) == query[name])
        statement = units.in_units(statement, LedgerEntry.unit_code, scope)
        return fetch_page(self.session, statement, page=query["page"], per_page=query["per_page"])

    def allocations_of_year(self, fiscal_year: int, scope: set[str] | None) -> list[Allocation]:
        statement = select(Allocation).where(Allocation.fiscal_year == fiscal_year)
        return list(
            self.session.scalars(units.in_units(statement, Allocation.unit_code, scope)).all()
        )

    def proposal_items(self, proposal_id: uuid.UUID) -> list[ProposalItem]:
        return list(
            self.session.scalars(
                select(ProposalItem)
                .where(ProposalItem.proposal_id == proposal_id)
                .order_by(ProposalItem.ordinal)
            ).all()
        )

    def _claim(self, table: Table, row: dict[str, Any]) -> bool:
        """Insert ``row`` unless its key is taken: True when this call wrote it."""
        statement = _claim_statement(table, tuple(row))
        return self._insert_alone(statement, row).first() is not None

    def _insert_alone(self, statement: Any, rows: Any = None) -> Any:
        """Run an INSERT into a table that only such statements write (proposals, their
        items, thresholds), never the session's pending objects: what the batch left pending
        (ledger entries, allocations) need not be flushed before it."""
        with self.session.no_autoflush:
            return self.session.execute(statement, rows)


@functools.cache
def _claim_statement(table: Table, columns: tuple[str, ...]) -> Any:
    """INSERT of ``columns`` unless the key is taken, answering the key it wrote: built once
    per table and columns (building one and its cache key cost more than running it)."""
    values = {column: bindparam(column) for column in columns}
    statement = pg_insert(table).values(values).on_conflict_do_nothing()
    return statement.returning(*table.primary_key)


def sql(session: Session) -> BudgetRepository:
    """What ``uow.repository(sql)`` builds in production."""
    return SqlBudgetRepository(session)
