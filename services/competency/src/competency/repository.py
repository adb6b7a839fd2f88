"""What recording assessments reads and writes, behind one narrow interface.

:class:`.recording.Recorder` (one posted assessment, or the rows of an imported file)
reaches its rows through ``uow.repository(sql)``: in production the SQL below, over the unit
of work's session (the employees locked, the writes in bulk); in the unit tests an in-memory
fake with the same methods.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy import Table, Uuid, column, select, text, update, values
from sqlalchemy.orm import Session

from . import domain, queries
from .models import Assessment, AssessmentResult, Employee, Jabatan, JpmCategory, Unit


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
