"""What the budget's money movements read and write, behind one narrow interface.

Reservations, releases and spending (:mod:`.use_cases.reservations`) and every posting
(:mod:`.use_cases.postings`) reach their rows through ``uow.repository(sql)``: in production
the SQL below, with the unit-year row lock every change of money takes; in the unit tests an
in-memory fake with the same methods.
"""

from __future__ import annotations

import uuid
from typing import Any, Protocol

from sqlalchemy import Table, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from .models import Allocation, LedgerEntry, Proposal, ProposalItem, ThresholdAlert


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


class SqlBudgetRepository:
    """The repository over a unit of work's session (PostgreSQL)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def locked_allocation(self, unit_code: str, fiscal_year: int) -> Allocation | None:
        return self.session.get(Allocation, (unit_code, fiscal_year), with_for_update=True)

    def claim_proposal(self, proposal: dict[str, Any]) -> bool:
        return self._claim(Proposal.__table__, proposal)

    def proposal(self, proposal_id: uuid.UUID, *, lock: bool = False) -> Proposal | None:
        if lock:
            return self.session.get(
                Proposal, proposal_id, with_for_update=True, populate_existing=True
            )
        return self.session.get(Proposal, proposal_id)

    def add_items(self, items: list[dict[str, Any]]) -> None:
        self.session.execute(insert(ProposalItem.__table__), items)

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

    def _claim(self, table: Table, row: dict[str, Any]) -> bool:
        """Insert ``row`` unless its key is taken: True when this call wrote it."""
        inserted = self.session.execute(
            pg_insert(table).values(**row).on_conflict_do_nothing().returning(*table.primary_key)
        ).first()
        return inserted is not None


def sql(session: Session) -> BudgetRepository:
    """What ``uow.repository(sql)`` builds in production."""
    return SqlBudgetRepository(session)
