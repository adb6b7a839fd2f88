"""Tables of the competency service's own database.

The dictionary, the level labels, the default levels per grade and the JPM category bands
are data (seeded by migration 0002, editable), not constants in code.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from asn_shared.columns import timestamp_now


class Base(DeclarativeBase):
    pass


metadata = Base.metadata


class LevelLabel(Base):
    """The name of each proficiency level (1 paham ... 5 ahli); wording varies, so data."""

    __tablename__ = "level_labels"
    level: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    label: Mapped[str] = mapped_column(Text, nullable=False)


class Competency(Base):
    __tablename__ = "competencies"
    code: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    kind: Mapped[str] = mapped_column(Text, nullable=False)  # manajerial, sosial_kultural, teknis
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = timestamp_now()
    updated_at: Mapped[datetime] = timestamp_now()


class CompetencyLevel(Base):
    """What a competency looks like at one level (the dictionary's level description)."""

    __tablename__ = "competency_levels"
    competency_code: Mapped[str] = mapped_column(ForeignKey("competencies.code"), primary_key=True)
    level: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    description: Mapped[str] = mapped_column(Text, nullable=False)


class GradeDefault(Base):
    """Default required level per jabatan kind (and functional grade; '' for none)."""

    __tablename__ = "grade_defaults"
    kind: Mapped[str] = mapped_column(Text, primary_key=True)
    grade: Mapped[str] = mapped_column(Text, primary_key=True)
    competency_code: Mapped[str] = mapped_column(ForeignKey("competencies.code"), primary_key=True)
    level: Mapped[int] = mapped_column(Integer, nullable=False)


class JpmCategory(Base):
    """One band of a JPM category scheme: JPM at or above min_percent."""

    __tablename__ = "jpm_categories"
    scheme: Mapped[str] = mapped_column(Text, primary_key=True)
    code: Mapped[str] = mapped_column(Text, primary_key=True)
    label: Mapped[str] = mapped_column(Text, nullable=False)
    min_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2), nullable=False)


class Unit(Base):
    __tablename__ = "units"
    code: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    kind: Mapped[str | None] = mapped_column(Text)  # e.g. opd, kecamatan, kelurahan, puskesmas
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("units.code"), index=True)
    created_at: Mapped[datetime] = timestamp_now()
    updated_at: Mapped[datetime] = timestamp_now()


class Jabatan(Base):
    """A post (*jabatan*) in a unit, with its competency standard."""

    __tablename__ = "jabatan"
    code: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    kind: Mapped[str] = mapped_column(Text, nullable=False)
    grade: Mapped[str | None] = mapped_column(Text)
    unit_code: Mapped[str] = mapped_column(ForeignKey("units.code"), nullable=False, index=True)
    created_at: Mapped[datetime] = timestamp_now()
    updated_at: Mapped[datetime] = timestamp_now()


class JabatanStandard(Base):
    """One cell of a job standard: the level a jabatan requires of one competency."""

    __tablename__ = "jabatan_standards"
    jabatan_code: Mapped[str] = mapped_column(ForeignKey("jabatan.code"), primary_key=True)
    competency_code: Mapped[str] = mapped_column(ForeignKey("competencies.code"), primary_key=True)
    required_level: Mapped[int] = mapped_column(Integer, nullable=False)


class Employee(Base):
    __tablename__ = "employees"
    nip: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    sex: Mapped[str] = mapped_column(Text, nullable=False)  # L or P, from the NIP
    birth_date: Mapped[date] = mapped_column(Date, nullable=False)
    appointed_on: Mapped[date] = mapped_column(Date, nullable=False)  # TMT CPNS month
    golongan: Mapped[str | None] = mapped_column(Text)
    unit_code: Mapped[str] = mapped_column(ForeignKey("units.code"), nullable=False, index=True)
    jabatan_code: Mapped[str | None] = mapped_column(ForeignKey("jabatan.code"), index=True)
    email: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(Text)
    supervisor_nip: Mapped[str | None] = mapped_column(ForeignKey("employees.nip"))
    language: Mapped[str] = mapped_column(Text, nullable=False, server_default=text("'id'"))
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = timestamp_now()
    updated_at: Mapped[datetime] = timestamp_now()


class AssessmentImport(Base):
    """One imported file (or a chunk of one): its hash makes a repeated import a no-op."""

    __tablename__ = "assessment_imports"
    __table_args__ = (UniqueConstraint("sha256", "first_row"),)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    filename: Mapped[str | None] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(Text, nullable=False)
    first_row: Mapped[int] = mapped_column(Integer, nullable=False)
    format: Mapped[str] = mapped_column(Text, nullable=False)
    report: Mapped[dict] = mapped_column(JSONB, nullable=False)
    created_at: Mapped[datetime] = timestamp_now()


class Assessment(Base):
    """An assessment result; the current one of an employee and jabatan has no successor."""

    __tablename__ = "assessments"
    __table_args__ = (
        UniqueConstraint("employee_nip", "jabatan_code", "assessed_on", "method"),
        Index(
            "assessments_current",
            "employee_nip",
            "jabatan_code",
            unique=True,
            postgresql_where=text("superseded_by IS NULL"),
        ),
    )
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    employee_nip: Mapped[str] = mapped_column(ForeignKey("employees.nip"), nullable=False)
    jabatan_code: Mapped[str] = mapped_column(ForeignKey("jabatan.code"), nullable=False)
    unit_code: Mapped[str] = mapped_column(ForeignKey("units.code"), nullable=False, index=True)
    assessed_on: Mapped[date] = mapped_column(Date, nullable=False)
    method: Mapped[str] = mapped_column(Text, nullable=False)
    jpm: Mapped[Decimal] = mapped_column(Numeric(6, 2), nullable=False)
    jpm_method: Mapped[str] = mapped_column(Text, nullable=False)
    category_scheme: Mapped[str] = mapped_column(Text, nullable=False)
    category_code: Mapped[str] = mapped_column(Text, nullable=False)
    category_label: Mapped[str] = mapped_column(Text, nullable=False)
    # no foreign key: an older result arriving late points at a newer one recorded earlier
    superseded_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    supersedes: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    import_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("assessment_imports.id"), index=True
    )
    recorded_at: Mapped[datetime] = timestamp_now()


class AssessmentResult(Base):
    """One competency of an assessment: the standard, the achieved level and the gap."""

    __tablename__ = "assessment_results"
    assessment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("assessments.id"), primary_key=True)
    competency_code: Mapped[str] = mapped_column(Text, primary_key=True)
    competency_name: Mapped[str] = mapped_column(Text, nullable=False)
    kind: Mapped[str] = mapped_column(Text, nullable=False)
    required_level: Mapped[int] = mapped_column(Integer, nullable=False)
    achieved_level: Mapped[Decimal] = mapped_column(Numeric(3, 1), nullable=False)
    gap: Mapped[Decimal] = mapped_column(Numeric(3, 1), nullable=False)


class DevelopmentActivity(Base):
    """Completed development of an employee (from training's enrollment.completed)."""

    __tablename__ = "development_activities"
    enrollment_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    # no foreign key: the completion may arrive before the employee is known here
    employee_nip: Mapped[str] = mapped_column(Text, nullable=False, index=True)
    unit_code: Mapped[str] = mapped_column(Text, nullable=False)
    proposal_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    programme_code: Mapped[str | None] = mapped_column(Text)
    programme_title: Mapped[str] = mapped_column(Text, nullable=False)
    form: Mapped[str] = mapped_column(Text, nullable=False)
    activity: Mapped[str | None] = mapped_column(Text)
    jp: Mapped[int] = mapped_column(Integer, nullable=False)
    started_on: Mapped[date] = mapped_column(Date, nullable=False)
    ended_on: Mapped[date] = mapped_column(Date, nullable=False)
    jp_year: Mapped[int] = mapped_column(Integer, nullable=False)
    competency_codes: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False)
    cost_rupiah: Mapped[int] = mapped_column(BigInteger, nullable=False)
    recorded_at: Mapped[datetime] = timestamp_now()
