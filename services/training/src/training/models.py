"""Tables of the training service's own database.

Money is whole rupiah (BIGINT); JP are whole *jam pelajaran* (1 JP = 45 minutes).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Text,
    Uuid,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from asn_shared.columns import timestamp_now


class Base(DeclarativeBase):
    pass


metadata = Base.metadata


class Activity(Base):
    """A kind of development (seminar, e-learning, coaching, ...) of one form, with the JP a
    programme of that kind gets when none is given. The defaults are data: editable."""

    __tablename__ = "activities"

    code: Mapped[str] = mapped_column(Text, primary_key=True)
    form: Mapped[str] = mapped_column(Text, nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    default_jp: Mapped[int] = mapped_column(Integer, nullable=False)


class Programme(Base):
    __tablename__ = "programmes"

    code: Mapped[str] = mapped_column(Text, primary_key=True)
    title: Mapped[str] = mapped_column(Text, nullable=False)
    form: Mapped[str] = mapped_column(Text, nullable=False)
    activity: Mapped[str | None] = mapped_column(ForeignKey("activities.code"))
    jp: Mapped[int] = mapped_column(Integer, nullable=False)
    cost_rupiah: Mapped[int] = mapped_column(BigInteger, nullable=False)
    provider: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = timestamp_now()

    competencies: Mapped[list[ProgrammeCompetency]] = relationship(
        cascade="all, delete-orphan", order_by="ProgrammeCompetency.competency_code"
    )
    batches: Mapped[list[Batch]] = relationship(
        back_populates="programme", order_by="Batch.starts_on"
    )

    def levels(self) -> dict[str, int]:
        return {c.competency_code: c.level for c in self.competencies}


class ProgrammeCompetency(Base):
    """A competency a programme develops, and the level it brings a participant to."""

    __tablename__ = "programme_competencies"

    programme_code: Mapped[str] = mapped_column(
        ForeignKey("programmes.code", ondelete="CASCADE"), primary_key=True
    )
    competency_code: Mapped[str] = mapped_column(Text, primary_key=True)
    level: Mapped[int] = mapped_column(Integer, nullable=False)


Index("programme_competencies_competency", ProgrammeCompetency.competency_code)


class Batch(Base):
    """One run of a programme (*angkatan*): dates, place or online, seats."""

    __tablename__ = "batches"
    __table_args__ = (
        CheckConstraint("enrolled <= capacity", name="batches_seats"),
        CheckConstraint("ends_on >= starts_on", name="batches_dates"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    programme_code: Mapped[str] = mapped_column(
        ForeignKey("programmes.code"), nullable=False, index=True
    )
    starts_on: Mapped[date] = mapped_column(Date, nullable=False)
    ends_on: Mapped[date] = mapped_column(Date, nullable=False)
    place: Mapped[str | None] = mapped_column(Text)
    online: Mapped[bool] = mapped_column(Boolean, nullable=False)
    capacity: Mapped[int] = mapped_column(Integer, nullable=False)
    enrolled: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    programme: Mapped[Programme] = relationship(back_populates="batches")


class Employee(Base):
    """What this service knows of an employee, from competency's events (highest version)."""

    __tablename__ = "employees"

    nip: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    unit_code: Mapped[str] = mapped_column(Text, nullable=False, index=True)
    unit_name: Mapped[str] = mapped_column(Text, nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)


class Assessment(Base):
    """Each assessment received, so an older one arriving late cannot supersede a newer one
    of the same jabatan, and what it led to (``review``: per competency and for the JP)."""

    __tablename__ = "assessments"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    employee_nip: Mapped[str] = mapped_column(Text, nullable=False, index=True)
    jabatan_code: Mapped[str | None] = mapped_column(Text)
    unit_code: Mapped[str | None] = mapped_column(Text)
    assessed_on: Mapped[date] = mapped_column(Date, nullable=False)
    supersedes: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    outcome: Mapped[str] = mapped_column(Text, nullable=False)
    proposal_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    review: Mapped[dict | None] = mapped_column(JSONB)
    received_at: Mapped[datetime] = timestamp_now()


class Proposal(Base):
    __tablename__ = "proposals"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    employee_nip: Mapped[str] = mapped_column(Text, nullable=False, index=True)
    employee_name: Mapped[str] = mapped_column(Text, nullable=False)
    unit_code: Mapped[str] = mapped_column(Text, nullable=False, index=True)
    fiscal_year: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[str] = mapped_column(Text, nullable=False, index=True)
    status_reason: Mapped[str | None] = mapped_column(Text)
    assessment_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    jabatan_code: Mapped[str | None] = mapped_column(Text)  # of the assessment it follows
    supersedes: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    alternative_of: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    total_cost_rupiah: Mapped[int] = mapped_column(BigInteger, nullable=False)
    total_jp: Mapped[int] = mapped_column(Integer, nullable=False)
    jp_before: Mapped[int] = mapped_column(Integer, nullable=False)
    reserved_rupiah: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    created_at: Mapped[datetime] = timestamp_now()
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now(), onupdate=func.now()
    )

    items: Mapped[list[ProposalItem]] = relationship(
        cascade="all, delete-orphan", order_by="ProposalItem.position"
    )


class ProposalItem(Base):
    __tablename__ = "proposal_items"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    proposal_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("proposals.id"), nullable=False, index=True
    )
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    programme_code: Mapped[str] = mapped_column(ForeignKey("programmes.code"), nullable=False)
    programme_title: Mapped[str] = mapped_column(Text, nullable=False)
    form: Mapped[str] = mapped_column(Text, nullable=False)
    activity: Mapped[str | None] = mapped_column(Text)
    jp: Mapped[int] = mapped_column(Integer, nullable=False)
    cost_rupiah: Mapped[int] = mapped_column(BigInteger, nullable=False)
    competency_codes: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False)
    batch_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("batches.id"))
    # [{competency_code, rule, required_level, achieved_level}]
    reasons: Mapped[list[dict]] = mapped_column(JSONB, nullable=False)
    status: Mapped[str] = mapped_column(Text, nullable=False)
    funding: Mapped[str | None] = mapped_column(Text)  # budget | other, once approved

    batch: Mapped[Batch | None] = relationship()


class Enrollment(Base):
    __tablename__ = "enrollments"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    proposal_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("proposals.id"), index=True)
    item_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("proposal_items.id"))
    employee_nip: Mapped[str] = mapped_column(Text, nullable=False, index=True)
    unit_code: Mapped[str] = mapped_column(Text, nullable=False)
    programme_code: Mapped[str] = mapped_column(ForeignKey("programmes.code"), nullable=False)
    batch_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("batches.id"), nullable=False, index=True
    )
    jp: Mapped[int] = mapped_column(Integer, nullable=False)
    cost_rupiah: Mapped[int] = mapped_column(BigInteger, nullable=False)
    competency_codes: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False)
    status: Mapped[str] = mapped_column(Text, nullable=False)
    enrolled_at: Mapped[datetime] = timestamp_now()
    ended_on: Mapped[date | None] = mapped_column(Date)

    programme: Mapped[Programme] = relationship()
    batch: Mapped[Batch] = relationship()


class LedgerEntry(Base):
    """Completed development and its JP, credited to the calendar year it ended in: from an
    enrolment here, or recorded directly (a seminar elsewhere) with its evidence."""

    __tablename__ = "jp_ledger"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    employee_nip: Mapped[str] = mapped_column(Text, nullable=False)
    unit_code: Mapped[str] = mapped_column(Text, nullable=False)
    enrollment_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("enrollments.id"), unique=True
    )
    proposal_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    programme_code: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text, nullable=False)
    form: Mapped[str] = mapped_column(Text, nullable=False)
    activity: Mapped[str | None] = mapped_column(Text)
    provider: Mapped[str | None] = mapped_column(Text)
    jp: Mapped[int] = mapped_column(Integer, nullable=False)
    started_on: Mapped[date] = mapped_column(Date, nullable=False)
    ended_on: Mapped[date] = mapped_column(Date, nullable=False)
    jp_year: Mapped[int] = mapped_column(Integer, nullable=False)
    competency_codes: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False)
    cost_rupiah: Mapped[int] = mapped_column(BigInteger, nullable=False)
    evidence: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime] = timestamp_now()


Index("jp_ledger_employee_year", LedgerEntry.employee_nip, LedgerEntry.jp_year)
