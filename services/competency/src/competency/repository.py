"""What competency's use cases read and write, behind two narrow interfaces.

:class:`RecordingRepository` serves :class:`.recording.Recorder` (one posted assessment, or the
rows of an imported file); :class:`RegistryRepository` the dictionary, units, jabatan,
employees and development history (:mod:`.use_cases`). Each use case reaches its rows through
``uow.repository(sql)``: in production the SQL below, over the unit
of work's session (the employees locked, the writes in bulk); in the unit tests an in-memory
fake with the same methods.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy import Table, Uuid, column, delete, insert, select, text, update, values
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from asn_shared.auth import Principal

from . import access, domain, queries
from .models import (
    Assessment,
    AssessmentImport,
    AssessmentResult,
    Competency,
    CompetencyLevel,
    DevelopmentActivity,
    Employee,
    GradeDefault,
    Jabatan,
    JabatanStandard,
    JpmCategory,
    Unit,
)


class RecordingRepository(Protocol):
    def category_bands(self, scheme: str) -> list[domain.CategoryBand]: ...

    def locked_employees(self, nips: set[str]) -> list[Employee]:
        """The employees, locked (in NIP order): their recordings serialise."""
        ...

    def assessments_of(self, nips: set[str]) -> list[Any]:
        """The employees' stored assessments: ``id``, ``employee_nip``, ``jabatan_code``,
        ``assessed_on``, ``method`` and ``superseded_by`` of each."""
        ...

    def jabatan(self, code: str) -> Jabatan | None: ...

    def standard(self, code: str) -> list[domain.StandardCell]:
        """The jabatan's standard, by competency code."""
        ...

    def unit(self, code: str) -> Unit: ...

    def recorded_levels(self, assessment_id: uuid.UUID) -> dict[str, Decimal]:
        """A stored assessment's achieved level per competency."""
        ...

    def supersede(self, pairs: list[tuple[uuid.UUID, uuid.UUID]]) -> None:
        """Mark each ``(old, new)``: the stored assessment ``old`` is superseded by ``new``."""
        ...

    def add_assessments(self, rows: list[dict[str, Any]]) -> None: ...

    def add_results(self, rows: list[dict[str, Any]]) -> None: ...

    # --- imported files (:mod:`.importing`) -------------------------------------------------

    def competency_codes(self) -> list[str]:
        """Every competency code of the dictionary."""
        ...

    def import_report(self, sha256: str, first_row: int) -> dict[str, Any] | None:
        """The report of the file with this digest, imported from ``first_row`` before."""
        ...

    def add_import(self, row: dict[str, Any]) -> None:
        """Keep an import's report (one per digest and first row: a second one fails the
        commit)."""
        ...


class SqlRecordingRepository:
    """The repository over a unit of work's session (PostgreSQL)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def category_bands(self, scheme: str) -> list[domain.CategoryBand]:
        return [
            domain.CategoryBand(row.scheme, row.code, row.label, row.min_percent)
            for row in self.session.scalars(select(JpmCategory).where(JpmCategory.scheme == scheme))
        ]

    def locked_employees(self, nips: set[str]) -> list[Employee]:
        return list(
            self.session.scalars(
                select(Employee)
                .where(Employee.nip.in_(sorted(nips)))
                .order_by(Employee.nip)
                .with_for_update()
            )
        )

    def assessments_of(self, nips: set[str]) -> list[Any]:
        return list(
            self.session.execute(
                select(
                    Assessment.id,
                    Assessment.employee_nip,
                    Assessment.jabatan_code,
                    Assessment.assessed_on,
                    Assessment.method,
                    Assessment.superseded_by,
                ).where(Assessment.employee_nip.in_(list(nips)))
            )
        )

    def jabatan(self, code: str) -> Jabatan | None:
        return self.session.get(Jabatan, code)

    def standard(self, code: str) -> list[domain.StandardCell]:
        cells: list[domain.StandardCell] = queries.standard_cells(self.session, [code])[code]
        return cells

    def unit(self, code: str) -> Unit:
        found: Unit = self.session.get(Unit, code)
        return found

    def recorded_levels(self, assessment_id: uuid.UUID) -> dict[str, Decimal]:
        return dict(
            self.session.execute(
                select(AssessmentResult.competency_code, AssessmentResult.achieved_level).where(
                    AssessmentResult.assessment_id == assessment_id
                )
            ).all()
        )

    def supersede(self, pairs: list[tuple[uuid.UUID, uuid.UUID]]) -> None:
        # one UPDATE ... FROM (VALUES ...) rather than one per row
        table = Assessment.__table__
        rows = values(column("old_id", Uuid), column("new_id", Uuid), name="pairs").data(pairs)
        self.session.execute(
            update(table).where(table.c.id == rows.c.old_id).values(superseded_by=rows.c.new_id)
        )

    def add_assessments(self, rows: list[dict[str, Any]]) -> None:
        insert_rows(self.session, Assessment.__table__, rows)

    def add_results(self, rows: list[dict[str, Any]]) -> None:
        insert_rows(self.session, AssessmentResult.__table__, rows)

    def competency_codes(self) -> list[str]:
        return list(self.session.scalars(select(Competency.code)))

    def import_report(self, sha256: str, first_row: int) -> dict[str, Any] | None:
        report: dict[str, Any] | None = self.session.scalar(
            select(AssessmentImport.report).where(
                AssessmentImport.sha256 == sha256, AssessmentImport.first_row == first_row
            )
        )
        return report

    def add_import(self, row: dict[str, Any]) -> None:
        self.session.execute(insert(AssessmentImport).values(**row))


def insert_rows(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """One ``INSERT ... SELECT FROM unnest(arrays)`` for many rows.

    An import writes tens of thousands of result rows; this is about twice as fast as
    batched parameters, and COPY cannot run under psycogreen's asynchronous wait callback.
    """
    if not rows:
        return
    names = list(rows[0])
    dialect = session.get_bind().dialect
    arrays = ", ".join(
        f"CAST(:{name} AS {table.c[name].type.compile(dialect=dialect)}[])" for name in names
    )
    statement = text(
        f"INSERT INTO {table.name} ({', '.join(names)}) SELECT * FROM unnest({arrays})"
    )
    session.execute(statement, {name: [row[name] for row in rows] for name in names})


def sql(session: Session) -> RecordingRepository:
    """What ``uow.repository(sql)`` builds in production."""
    return SqlRecordingRepository(session)


# --- units, employees and their development history ---------------------------------------


class RegistryRepository(Protocol):
    """Units and employees as administrators and operators register them, and the
    development training announces; ``lock``: the row locked until the commit."""

    def check_unit(self, caller: Principal, unit_code: str | None) -> None:
        """Refuses (Forbidden) a caller who may not manage ``unit_code``."""
        ...

    def check_employee(self, caller: Principal, nip: str) -> None:
        """Refuses (Forbidden) a caller who may not reach the employee ``nip``."""
        ...

    def unit(self, code: str, *, lock: bool = False) -> Unit | None: ...

    def units(self) -> list[Unit]:
        """Every unit, by code."""
        ...

    def subtree_codes(self, code: str) -> list[str]:
        """The unit and every unit below it."""
        ...

    def add_unit(self, unit: Unit) -> None: ...

    def jabatan(self, code: str, *, lock: bool = False) -> Jabatan | None: ...

    def employee(self, nip: str, *, lock: bool = False) -> Employee | None: ...

    def add_employee(self, employee: Employee) -> None:
        """Store the employee now (its row written before the commit)."""
        ...

    def save_employee(self, employee: Employee) -> None:
        """Write the employee's changes now."""
        ...

    def add_development(self, activity: dict[str, Any]) -> None:
        """Keep a completed development activity unless its enrolment is kept already."""
        ...

    # --- the dictionary and the jabatan with their standards --------------------------------

    def competency(self, code: str, *, lock: bool = False) -> Competency | None: ...

    def known_competencies(self, codes: Iterable[str]) -> set[str]:
        """Those of ``codes`` the dictionary has."""
        ...

    def add_competency(self, competency: Competency) -> None:
        """Store the competency now (its row written before its levels)."""
        ...

    def set_levels(self, code: str, levels: list[dict[str, Any]]) -> None:
        """Create or replace the competency's level descriptions."""
        ...

    def competency_view(self, code: str) -> dict[str, Any]:
        """The competency as the API shows it (``queries.competency``)."""
        ...

    def grade_defaults(self) -> dict[tuple[str, str, str], int]:
        """The default required level by (jabatan kind, grade, competency code)."""
        ...

    def set_grade_default(self, default: dict[str, Any]) -> None:
        """Create or replace one cell of the default table."""
        ...

    def add_jabatan(self, jabatan: Jabatan, standard: dict[str, int]) -> None:
        """Store the jabatan and its standard (required level by competency code)."""
        ...

    def set_standard(self, code: str, competency_code: str, level: int) -> None:
        """Create or replace one cell of the jabatan's standard."""
        ...

    def remove_standard(self, code: str, competency_code: str) -> None: ...

    def jabatan_view(self, code: str) -> dict[str, Any]:
        """The jabatan with its standard as the API shows it (``queries.jabatan``)."""
        ...


class SqlRegistryRepository:
    """The registry's repository over a unit of work's session (PostgreSQL)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def check_unit(self, caller: Principal, unit_code: str | None) -> None:
        access.check_unit(self.session, caller, unit_code)

    def check_employee(self, caller: Principal, nip: str) -> None:
        access.check_employee(self.session, caller, nip)

    def unit(self, code: str, *, lock: bool = False) -> Unit | None:
        return self.session.get(Unit, code, with_for_update=lock or None)

    def units(self) -> list[Unit]:
        return list(self.session.scalars(select(Unit).order_by(Unit.code)).all())

    def subtree_codes(self, code: str) -> list[str]:
        return queries.subtree_codes(self.session, code)

    def add_unit(self, unit: Unit) -> None:
        self.session.add(unit)

    def jabatan(self, code: str, *, lock: bool = False) -> Jabatan | None:
        return self.session.get(Jabatan, code, with_for_update=lock or None)

    def employee(self, nip: str, *, lock: bool = False) -> Employee | None:
        return self.session.get(Employee, nip, with_for_update=lock or None)

    def add_employee(self, employee: Employee) -> None:
        self.session.add(employee)
        self.session.flush()

    def save_employee(self, employee: Employee) -> None:
        self.session.flush()

    def add_development(self, activity: dict[str, Any]) -> None:
        self.session.execute(
            pg_insert(DevelopmentActivity)
            .values(**activity)
            .on_conflict_do_nothing(index_elements=["enrollment_id"])
        )

    def competency(self, code: str, *, lock: bool = False) -> Competency | None:
        return self.session.get(Competency, code, with_for_update=lock or None)

    def known_competencies(self, codes: Iterable[str]) -> set[str]:
        return set(
            self.session.scalars(select(Competency.code).where(Competency.code.in_(list(codes))))
        )

    def add_competency(self, competency: Competency) -> None:
        self.session.add(competency)
        self.session.flush()

    def set_levels(self, code: str, levels: list[dict[str, Any]]) -> None:
        for level in levels:
            self.session.execute(
                pg_insert(CompetencyLevel)
                .values(
                    competency_code=code, level=level["level"], description=level["description"]
                )
                .on_conflict_do_update(
                    index_elements=["competency_code", "level"],
                    set_={"description": level["description"]},
                )
            )

    def competency_view(self, code: str) -> dict[str, Any]:
        view: dict[str, Any] = queries.competency.within(self.session, code)
        return view

    def grade_defaults(self) -> dict[tuple[str, str, str], int]:
        return {
            (row.kind, row.grade, row.competency_code): row.level
            for row in self.session.scalars(select(GradeDefault))
        }

    def set_grade_default(self, default: dict[str, Any]) -> None:
        self.session.merge(GradeDefault(**default))

    def add_jabatan(self, jabatan: Jabatan, standard: dict[str, int]) -> None:
        self.session.add(jabatan)
        self.session.flush()
        self.session.add_all(
            JabatanStandard(jabatan_code=jabatan.code, competency_code=code, required_level=lvl)
            for code, lvl in standard.items()
        )

    def set_standard(self, code: str, competency_code: str, level: int) -> None:
        self.session.merge(
            JabatanStandard(
                jabatan_code=code, competency_code=competency_code, required_level=level
            )
        )

    def remove_standard(self, code: str, competency_code: str) -> None:
        self.session.execute(
            delete(JabatanStandard).where(
                JabatanStandard.jabatan_code == code,
                JabatanStandard.competency_code == competency_code,
            )
        )

    def jabatan_view(self, code: str) -> dict[str, Any]:
        view: dict[str, Any] = queries.jabatan.within(self.session, code)
        return view


def registry_sql(session: Session) -> RegistryRepository:
    """What ``uow.repository(registry_sql)`` builds in production."""
    return SqlRegistryRepository(session)
