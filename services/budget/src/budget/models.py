"""Tables of the budget service's own database.

``ledger_entries`` is the record: append-only (a trigger refuses UPDATE and DELETE), each
entry carrying its effect on the allocated, reserved and spent sums. ``allocations`` holds,
per unit and fiscal year, the budget codes and the running sums of its ledger, kept in the
same transaction as each entry: it is the row every change locks (``SELECT ... FOR
UPDATE``), and its CHECK constraint is the database's own guard against overspending.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    Text,
    Uuid,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from asn_shared.columns import timestamp_now

ENTRY_KINDS = ("allocation", "amendment", "reservation", "release", "spend")
PROPOSAL_STATUSES = ("reserved", "rejected", "released", "cancelled")
ITEM_STATES = ("reserved", "refused", "released", "spent")


class Base(DeclarativeBase):
    pass


metadata = Base.metadata


def _one_of(column: str, values: tuple[str, ...], name: str) -> CheckConstraint:
    listed = ", ".join(f"'{value}'" for value in values)
    return CheckConstraint(f"{column} IN ({listed})", name=name)


class Allocation(Base):
    """A unit's training budget for one fiscal year: its codes and its ledger's sums."""

    __tablename__ = "allocations"
    __table_args__ = (
        CheckConstraint("allocated_rupiah >= 0", name="allocations_allocated_not_negative"),
        CheckConstraint("reserved_rupiah >= 0", name="allocations_reserved_not_negative"),
        CheckConstraint("spent_rupiah >= 0", name="allocations_spent_not_negative"),
        CheckConstraint(
            "reserved_rupiah + spent_rupiah <= allocated_rupiah",
            name="allocations_never_overcommitted",
        ),
    )

    unit_code: Mapped[str] = mapped_column(Text, primary_key=True)
    fiscal_year: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_name: Mapped[str | None] = mapped_column(Text)
    sub_activity_code: Mapped[str] = mapped_column(Text)
    sub_activity_name: Mapped[str | None] = mapped_column(Text)
    account_code: Mapped[str] = mapped_column(Text)
    account_name: Mapped[str | None] = mapped_column(Text)
    allocated_rupiah: Mapped[int] = mapped_column(BigInteger)
    reserved_rupiah: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    spent_rupiah: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    created_at: Mapped[datetime] = timestamp_now()


class LedgerEntry(Base):
    """One movement of money; never changed or deleted once written."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        ForeignKeyConstraint(
            ["unit_code", "fiscal_year"],
            ["allocations.unit_code", "allocations.fiscal_year"],
            name="ledger_entries_allocation_fkey",
        ),
        _one_of("kind", ENTRY_KINDS, "ledger_entries_kind"),
        CheckConstraint("amount_rupiah >= 0", name="ledger_entries_amount_not_negative"),
        Index("ledger_entries_by_unit_year_kind", "unit_code", "fiscal_year", "kind", "id"),
        Index("ledger_entries_by_proposal", "proposal_id"),
        Index(
            "ledger_entries_one_spend_per_enrollment",
            "enrollment_id",
            unique=True,
            postgresql_where=text("kind = 'spend'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    unit_code: Mapped[str] = mapped_column(Text)
    fiscal_year: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(Text)
    amount_rupiah: Mapped[int] = mapped_column(BigInteger)
    allocated_delta: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    reserved_delta: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    spent_delta: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    proposal_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    reservation_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    enrollment_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    event_id: Mapped[str | None] = mapped_column(Text)
    reference: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime] = timestamp_now()


class Proposal(Base):
    """The budget's decision on one training proposal (learned from proposal.created)."""

    __tablename__ = "proposals"
    __table_args__ = (
        _one_of("status", PROPOSAL_STATUSES, "proposals_status"),
        Index("proposals_by_unit_year", "unit_code", "fiscal_year"),
    )

    proposal_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    unit_code: Mapped[str] = mapped_column(Text)
    fiscal_year: Mapped[int] = mapped_column(Integer)
    employee_nip: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    reservation_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    requested_rupiah: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    reserved_rupiah: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    decided_at: Mapped[datetime] = timestamp_now()


class ProposalItem(Base):
    """One item of a proposal and what became of its money."""

    __tablename__ = "proposal_items"
    __table_args__ = (
        ForeignKeyConstraint(
            ["proposal_id"], ["proposals.proposal_id"], name="proposal_items_proposal_fkey"
        ),
        _one_of("state", ITEM_STATES, "proposal_items_state"),
    )

    proposal_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    item_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    ordinal: Mapped[int] = mapped_column(Integer)
    programme_code: Mapped[str] = mapped_column(Text)
    cost_rupiah: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(Text)
    enrollment_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    spent_rupiah: Mapped[int | None] = mapped_column(BigInteger)


class ThresholdAlert(Base):
    """A threshold announced for a unit's year; the primary key makes it once per year."""

    __tablename__ = "threshold_alerts"

    unit_code: Mapped[str] = mapped_column(Text, primary_key=True)
    fiscal_year: Mapped[int] = mapped_column(Integer, primary_key=True)
    threshold_percent: Mapped[int] = mapped_column(Integer, primary_key=True)
    allocated_rupiah: Mapped[int] = mapped_column(BigInteger)
    committed_rupiah: Mapped[int] = mapped_column(BigInteger)
    reached_at: Mapped[datetime] = timestamp_now()
