"""What the proposal orchestration reads and writes, behind one narrow interface.

The use cases of :mod:`.use_cases.planning` and :mod:`.use_cases.decisions` (an assessment
becomes a proposal, an earlier one is superseded, the budget's answer settles it, an
alternative is proposed), and those that follow a proposal (enrolment, completion into the
JP ledger, cancellation) reach their rows through ``uow.repository(sql)``: in production the
SQL below, over the unit of work's session, with the row locks the orchestration relies on;
in the unit tests an in-memory fake with the same methods.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any, Protocol

from sqlalchemy import Integer, func, literal, or_, select, union, union_all
from sqlalchemy.orm import Session, selectinload

from asn_shared import units
from asn_shared.auth import Principal

from . import domain
from .domain import ItemStatus
from .models import (
    Activity,
    Assessment,
    Batch,
    Employee,
    Enrollment,
    LedgerEntry,
    Programme,
    ProgrammeCompetency,
    Proposal,
    ProposalItem,
)
from .use_cases import catalogue, common, employees


class ProposalRepository(Protocol):
    """Employees, assessments, proposals, the catalogue's offers and the JP booked or done,
    as the orchestration needs them. ``locked`` reads hold the rows until the commit."""

    def upsert_employee(self, employee: dict[str, Any]) -> None:
        """Keep the highest version of the employee seen."""
        ...

    def locked_employee(self, nip: str) -> Employee:
        """The employee, locked: one assessment of theirs at a time."""
        ...

    def assessment(self, assessment_id: uuid.UUID) -> Assessment | None: ...

    def assessments_of(self, nip: str, jabatan_code: str) -> list[Assessment]:
        """The employee's stored assessments for the jabatan (or of no recorded jabatan)."""
        ...

    def add_assessment(self, assessment: Assessment) -> None: ...

    def open_proposals(self, nip: str, jabatan_code: str) -> list[Proposal]:
        """The employee's proposals for the jabatan (or of no recorded jabatan) not yet
        approved, oldest first, locked."""
        ...

    def locked_proposal(self, proposal_id: uuid.UUID) -> Proposal | None:
        """The proposal locked, with its items and their batches."""
        ...

    def proposal(self, proposal_id: uuid.UUID, *, lock: bool = False) -> Proposal | None:
        """The proposal (``lock``: locked and read afresh)."""
        ...

    def enrollment(self, enrollment_id: uuid.UUID, *, lock: bool = False) -> Enrollment | None:
        """The enrolment (``lock``: locked and read afresh)."""
        ...

    def batches_from(self, programme_code: str, starts_on: date) -> list[Batch]:
        """The programme's batches starting on or after ``starts_on``, in order, locked."""
        ...

    def add_enrollment(self, enrollment: Enrollment) -> None: ...

    def open_enrolment_count(self, proposal_id: uuid.UUID) -> int:
        """How many of the proposal's enrolments are still open (changes so far counted)."""
        ...

    def add_ledger_entry(self, entry: LedgerEntry) -> None: ...

    def add_proposal(self, proposal: Proposal) -> None: ...

    def batch(self, batch_id: uuid.UUID) -> Batch | None: ...

    def open_enrolments(self, proposal_id: uuid.UUID) -> list[Enrollment]:
        """The proposal's enrolments still open, locked."""
        ...

    def free_seat(self, enrollment: Enrollment) -> None:
        """Cancel the enrolment and give its seat back to its batch (locked)."""
        ...

    def offers(
        self,
        competency_codes: Iterable[str],
        today: date,
        years: Iterable[int],
        exclude: Iterable[str] = (),
    ) -> tuple[list[domain.Offer], dict[str, Programme]]:
        """The catalogue's offers for the competencies (see ``catalogue.load_offers``)."""
        ...

    def jp_counts(self, nip: str, years: Sequence[int]) -> dict[int, tuple[int, int]]:
        """Per year, the JP completed and the JP booked (approved or enrolled), each counted
        in the year its batch (or ledger entry) ends."""
        ...

    def development_held(self, nip: str) -> tuple[set[str], dict[str, int]]:
        """The programmes the employee has booked or completed, and per competency the
        highest level booked development not yet completed brings them to."""
        ...

    # --- the catalogue, direct enrolment and the ledger -------------------------------------

    def check_reach(self, caller: Principal, nip: str, unit_code: str | None) -> None:
        """Refuses (Forbidden) a caller who may not reach the employee of ``unit_code``."""
        ...

    def employee(self, nip: str) -> Employee | None: ...

    def activities(self) -> list[Activity]:
        """Every form of development's activities, by form and code."""
        ...

    def activity(self, code: str, *, lock: bool = False) -> Activity | None:
        """The activity (``lock``: locked and read afresh)."""
        ...

    def catalogue_programme(self, code: str) -> Programme | None:
        """The programme with its competencies and batches."""
        ...

    def add_programme(self, programme: Programme) -> None: ...

    def add_batches(self, batches: Iterable[Batch]) -> None: ...

    def ledger_entries(self, nip: str, year: int) -> list[LedgerEntry]:
        """The employee's ledger entries credited to ``year``, in the order they ended."""
        ...


class SqlProposalRepository:
    """The repository over a unit of work's session (PostgreSQL)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def upsert_employee(self, employee: dict[str, Any]) -> None:
        employees.upsert_employee(self.session, employee)

    def locked_employee(self, nip: str) -> Employee:
        found: Employee = common.locked(self.session, Employee, nip)
        return found

    def assessment(self, assessment_id: uuid.UUID) -> Assessment | None:
        return self.session.get(Assessment, assessment_id)

    def assessments_of(self, nip: str, jabatan_code: str) -> list[Assessment]:
        return list(
            self.session.scalars(
                select(Assessment).where(
                    Assessment.employee_nip == nip,
                    or_(
                        Assessment.jabatan_code == jabatan_code,
                        Assessment.jabatan_code.is_(None),
                    ),
                )
            )
        )

    def add_assessment(self, assessment: Assessment) -> None:
        self.session.add(assessment)

    def open_proposals(self, nip: str, jabatan_code: str) -> list[Proposal]:
        return list(
            self.session.scalars(
                select(Proposal)
                .where(
                    Proposal.employee_nip == nip,
                    Proposal.status.in_(domain.NOT_YET_APPROVED),
                    or_(Proposal.jabatan_code == jabatan_code, Proposal.jabatan_code.is_(None)),
                )
                .order_by(Proposal.created_at, Proposal.id)
                .with_for_update()
                .execution_options(populate_existing=True)
            ).all()
        )

    def locked_proposal(self, proposal_id: uuid.UUID) -> Proposal | None:
        # items and their batches in one more query, not one per item: the decision's event
        # names every item's batch
        return self.session.get(
            Proposal,
            proposal_id,
            with_for_update=True,
            populate_existing=True,
            options=[selectinload(Proposal.items).joinedload(ProposalItem.batch)],
        )

    def proposal(self, proposal_id: uuid.UUID, *, lock: bool = False) -> Proposal | None:
        if lock:
            found: Proposal | None = common.locked(self.session, Proposal, proposal_id)
            return found
        return self.session.get(Proposal, proposal_id)

    def enrollment(self, enrollment_id: uuid.UUID, *, lock: bool = False) -> Enrollment | None:
        if lock:
            found: Enrollment | None = common.locked(self.session, Enrollment, enrollment_id)
            return found
        return self.session.get(Enrollment, enrollment_id)

    def batches_from(self, programme_code: str, starts_on: date) -> list[Batch]:
        return list(
            self.session.scalars(
                select(Batch)
                .where(Batch.programme_code == programme_code, Batch.starts_on >= starts_on)
                .order_by(Batch.starts_on, Batch.id)
                .with_for_update()
                .execution_options(populate_existing=True)
            ).all()
        )

    def add_enrollment(self, enrollment: Enrollment) -> None:
        self.session.add(enrollment)

    def open_enrolment_count(self, proposal_id: uuid.UUID) -> int:
        self.session.flush()
        return (
            self.session.scalar(
                select(func.count())
                .select_from(Enrollment)
                .where(Enrollment.proposal_id == proposal_id, Enrollment.status == "enrolled")
            )
            or 0
        )

    def add_ledger_entry(self, entry: LedgerEntry) -> None:
        self.session.add(entry)

    def add_proposal(self, proposal: Proposal) -> None:
        self.session.add(proposal)

    def batch(self, batch_id: uuid.UUID) -> Batch | None:
        return self.session.get(Batch, batch_id)

    def open_enrolments(self, proposal_id: uuid.UUID) -> list[Enrollment]:
        return list(
            self.session.scalars(
                select(Enrollment)
                .where(Enrollment.proposal_id == proposal_id, Enrollment.status == "enrolled")
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        )

    def free_seat(self, enrollment: Enrollment) -> None:
        common.free_seat(self.session, enrollment)

    def offers(
        self,
        competency_codes: Iterable[str],
        today: date,
        years: Iterable[int],
        exclude: Iterable[str] = (),
    ) -> tuple[list[domain.Offer], dict[str, Programme]]:
        return catalogue.load_offers(self.session, competency_codes, today, years, exclude)

    def jp_counts(self, nip: str, years: Sequence[int]) -> dict[int, tuple[int, int]]:
        """One query: the ledger's entries, approved items not yet enrolled and open
        enrolments, summed per year and kind."""
        batch_year = func.extract("year", Batch.ends_on).cast(Integer)
        completed = select(
            LedgerEntry.jp_year.label("year"), LedgerEntry.jp, literal(True).label("done")
        ).where(LedgerEntry.employee_nip == nip, LedgerEntry.jp_year.in_(years))
        approved = (
            select(batch_year.label("year"), ProposalItem.jp, literal(False).label("done"))
            .join(Proposal, ProposalItem.proposal_id == Proposal.id)
            .join(Batch, ProposalItem.batch_id == Batch.id)
            .where(
                Proposal.employee_nip == nip,
                Proposal.status.in_(common.ACTIVE_PROPOSALS),
                ProposalItem.status == ItemStatus.APPROVED,
            )
        )
        enrolled = (
            select(batch_year.label("year"), Enrollment.jp, literal(False).label("done"))
            .join(Batch, Enrollment.batch_id == Batch.id)
            .where(Enrollment.employee_nip == nip, Enrollment.status == "enrolled")
        )
        rows = union_all(completed, approved, enrolled).subquery()
        totals = {year: [0, 0] for year in years}
        for year, done, jp in self.session.execute(
            select(rows.c.year, rows.c.done, func.sum(rows.c.jp)).group_by(rows.c.year, rows.c.done)
        ):
            if year in totals:
                totals[year][0 if done else 1] += int(jp)
        return {year: (done, booked) for year, (done, booked) in totals.items()}

    def development_held(self, nip: str) -> tuple[set[str], dict[str, int]]:
        booked_items = (
            select(ProposalItem.programme_code)
            .join(Proposal, ProposalItem.proposal_id == Proposal.id)
            .where(Proposal.employee_nip == nip, ProposalItem.status.in_(common.BOOKED_ITEMS))
        )
        open_enrolments = select(Enrollment.programme_code).where(
            Enrollment.employee_nip == nip, Enrollment.status == "enrolled"
        )
        booked = set(self.session.scalars(union(booked_items, open_enrolments)))
        completed = self.session.scalars(
            union(
                select(Enrollment.programme_code).where(
                    Enrollment.employee_nip == nip, Enrollment.status == "completed"
                ),
                select(LedgerEntry.programme_code).where(
                    LedgerEntry.employee_nip == nip, LedgerEntry.programme_code.is_not(None)
                ),
            )
        )
        levels: dict[str, int] = {}
        for code, level in self.session.execute(
            select(ProgrammeCompetency.competency_code, func.max(ProgrammeCompetency.level))
            .where(ProgrammeCompetency.programme_code.in_(booked))
            .group_by(ProgrammeCompetency.competency_code)
        ):
            levels[code] = level
        return booked | set(completed), levels

    def check_reach(self, caller: Principal, nip: str, unit_code: str | None) -> None:
        units.check_reach(self.session, caller, nip, unit_code)

    def employee(self, nip: str) -> Employee | None:
        return self.session.get(Employee, nip)

    def activities(self) -> list[Activity]:
        return list(self.session.scalars(select(Activity).order_by(Activity.form, Activity.code)))

    def activity(self, code: str, *, lock: bool = False) -> Activity | None:
        if lock:
            found: Activity | None = common.locked(self.session, Activity, code)
            return found
        return self.session.get(Activity, code)

    def catalogue_programme(self, code: str) -> Programme | None:
        return self.session.get(Programme, code)

    def add_programme(self, programme: Programme) -> None:
        self.session.add(programme)

    def add_batches(self, batches: Iterable[Batch]) -> None:
        for batch in batches:
            self.session.add(batch)

    def ledger_entries(self, nip: str, year: int) -> list[LedgerEntry]:
        return list(
            self.session.scalars(
                select(LedgerEntry)
                .where(LedgerEntry.employee_nip == nip, LedgerEntry.jp_year == year)
                .order_by(LedgerEntry.ended_on, LedgerEntry.id)
            ).all()
        )


def sql(session: Session) -> ProposalRepository:
    """What ``uow.repository(sql)`` builds in production."""
    return SqlProposalRepository(session)
