"""What training's use cases read and write, behind one narrow interface.

The proposal orchestration (:mod:`.use_cases.planning`, :mod:`.use_cases.decisions`: an
assessment becomes a proposal, an earlier one is superseded, the budget's answer settles it,
an alternative is proposed), what follows a proposal (enrolment, completion into the JP
ledger, cancellation), the catalogue and the reports reach their rows through
``uow.repository(sql)``: in production the SQL below, over the unit of work's session, with
the row locks the orchestration relies on; in the unit tests an in-memory fake with the same
methods.

Longer than most modules: each interface sits beside its SQL implementation, so that a
method's contract and its statements are read together.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from sqlalchemy import (
    CompoundSelect,
    Integer,
    Select,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal,
    null,
    select,
    union,
    union_all,
)
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.util import identity_key

from asn_shared import units
from asn_shared.auth import Principal
from asn_shared.persistence import transaction_scoped

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

    def prepare(self, nips: Sequence[str]) -> None:
        """Read for a batch of assessments what planning reads of each employee (the
        employee and proposals not yet approved locked, assessments, what they hold), one
        statement per kind; each employee's is answered to the batch's first event of theirs
        (from :meth:`recorded_employee` on), a later one reads again."""
        ...

    def recorded_employee(self, employee: dict[str, Any]) -> Employee:
        """The employee of an event, locked, kept at the highest version seen: written only
        when the event's version is newer than the stored one (or nothing is stored)."""
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

    def prepare_proposals(self, proposal_ids: Iterable[uuid.UUID]) -> None:
        """Lock for a batch of budget answers the proposals they name, with their items and
        batches, in one statement; each is answered to the batch's first
        :meth:`locked_proposal` of it, a later one reads again."""
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
    ) -> tuple[list[domain.Offer], dict[str, ProgrammeFacts]]:
        """Programmes developing any of ``competency_codes`` (but those in ``exclude``) with a
        free seat in a batch starting from today and ending in one of ``years``: for each
        programme and year, its earliest such batch (``catalogue.earliest_offers``)."""
        ...

    def development(self, nip: str, years: Sequence[int]) -> Development:
        """What the employee holds (see ``Development``), ``jp`` for ``years``."""
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

    # --- the gap-closing cost report (:mod:`.use_cases.reports`) ----------------------------

    def reachable_units(self, caller: Principal, unit_code: str | None) -> set[str] | None:
        """The units ``caller`` may report on (``None``: all); refuses (Forbidden) a
        ``unit_code`` outside them."""
        ...

    def employees_in(self, scope: set[str] | None, unit_code: str | None) -> list[Employee]:
        """The known employees of the ``scope`` units (``None``: all), of ``unit_code`` if
        given."""
        ...

    def reviewed_assessments(self, nips: list[str]) -> list[Assessment]:
        """The employees' reviewed assessments neither stale nor superseded, newest first."""
        ...

    def funded_programme_levels(
        self, nips: list[str], items: Iterable[str]
    ) -> list[tuple[str, str, int]]:
        """``(nip, competency, level)`` of every programme of the employees' proposal items in
        ``items`` states, or of their open or completed enrolments."""
        ...

    def unfunded_items(
        self, nips: list[str], year: int, proposals: Iterable[str], items: Iterable[str]
    ) -> list[tuple[ProposalItem, str]]:
        """``(item, nip)``: the items in ``items`` states of the employees' proposals of
        ``year`` in ``proposals`` states."""
        ...

    def programmes_ending_in(self, year: int) -> list[Programme]:
        """The programmes with a batch that ends in ``year``."""
        ...

    def employees_under(
        self, year: int, minimum: int, unit_code: str | None, scope: set[str] | None
    ) -> list[tuple[Employee, int]]:
        """``(employee, JP of year)`` of the known employees of the ``scope`` units (of
        ``unit_code`` if given) under ``minimum``, by unit, JP and NIP."""
        ...


@dataclass(frozen=True)
class Development:
    """What planning leaves out and counts: ``held``, the programmes the employee has booked
    or completed; ``booked_levels``, per competency the highest level booked development not
    yet completed brings them to; ``jp``, per year the JP completed and the JP booked
    (approved or enrolled), each counted in the year its batch (or ledger entry) ends."""

    held: set[str]
    booked_levels: dict[str, int]
    jp: dict[int, tuple[int, int]]


@dataclass(frozen=True)
class ProgrammeFacts:
    """A programme as planning reads it: what an offer and a proposal item copy."""

    code: str
    title: str
    form: str
    activity: str | None
    jp: int
    cost_rupiah: int
    competency_levels: dict[str, int]

    def levels(self) -> dict[str, int]:
        return dict(self.competency_levels)


class SqlProposalRepository:
    """The repository over a unit of work's session (PostgreSQL)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.offered: dict[uuid.UUID, Batch] = {}  # the batches ``offers`` read, by id

    def upsert_employee(self, employee: dict[str, Any]) -> None:
        employees.upsert_employee(self.session, employee)

    def locked_employee(self, nip: str) -> Employee:
        found: Employee = common.locked(self.session, Employee, nip)
        return found

    def prepare(self, nips: Sequence[str]) -> None:
        nips = sorted(set(nips))  # rows locked in one order, whatever the batch's
        employees = self.session.scalars(
            select(Employee)
            .where(Employee.nip.in_(nips))
            .order_by(Employee.nip)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).all()
        assessments = self._assessments_of(nips)
        open_ones = self._open_proposals_of(nips)
        held = self.session.execute(_development_statement(), {"nips": nips}).all()
        prepared = transaction_scoped(self.session, PREPARED)
        for nip in nips:
            prepared[nip] = Prepared()
        for found in employees:
            prepared[found.nip].employee = found
        for assessment in assessments:
            prepared[assessment.employee_nip].assessments.append(assessment)
        for proposal in open_ones:
            prepared[proposal.employee_nip].open_proposals.append(proposal)
        for row in held:
            prepared[row[0]].development.append(row)

    def _prepared(self, nip: str) -> Prepared | None:
        """What :meth:`prepare` read of ``nip``, while the event that took it runs."""
        now: Prepared | None = transaction_scoped(self.session, PREPARED_NOW).get(nip)
        return now

    def recorded_employee(self, employee: dict[str, Any]) -> Employee:
        # one locking read when the stored version is current, the usual case; none when
        # the batch's prepare read it (the first event of this employee takes what it read)
        now = transaction_scoped(self.session, PREPARED_NOW)
        now.clear()
        prepared = transaction_scoped(self.session, PREPARED).pop(employee["nip"], None)
        if prepared is not None:
            now[employee["nip"]] = prepared
            found: Employee | None = prepared.employee
        else:
            found = common.locked(self.session, Employee, employee["nip"])
        if found is None or found.version < employee["version"]:
            employees.upsert_employee(self.session, employee)
            found = common.locked(self.session, Employee, employee["nip"])
        assert found is not None
        return found

    def assessment(self, assessment_id: uuid.UUID) -> Assessment | None:
        return self.session.get(Assessment, assessment_id)

    def assessments_of(self, nip: str, jabatan_code: str) -> list[Assessment]:
        prepared = self._prepared(nip)
        found = prepared.assessments if prepared else self._assessments_of([nip])
        return _of_jabatan(found, jabatan_code)

    def _assessments_of(self, nips: list[str]) -> list[Assessment]:
        statement = select(Assessment).where(Assessment.employee_nip.in_(nips))
        return list(self.session.scalars(statement).all())

    def add_assessment(self, assessment: Assessment) -> None:
        self.session.add(assessment)

    def open_proposals(self, nip: str, jabatan_code: str) -> list[Proposal]:
        prepared = self._prepared(nip)
        found = prepared.open_proposals if prepared else self._open_proposals_of([nip])
        return _of_jabatan(found, jabatan_code)

    def _open_proposals_of(self, nips: list[str]) -> list[Proposal]:
        """The employees' proposals not yet approved, locked, each one's oldest first."""
        not_yet_approved = Proposal.status.in_(domain.NOT_YET_APPROVED)
        return list(
            self.session.scalars(
                select(Proposal)
                .where(Proposal.employee_nip.in_(nips), not_yet_approved)
                .order_by(Proposal.employee_nip, Proposal.created_at, Proposal.id)
                .with_for_update()
                .execution_options(populate_existing=True)
            ).all()
        )

    def locked_proposal(self, proposal_id: uuid.UUID) -> Proposal | None:
        # items and their batches in the same statement: the decision's event names every
        # item's batch; only the proposal's row is locked. What the batch's earlier events
        # left pending is flushed first only when it may include this proposal (re-read,
        # its pending changes would be lost); other proposals' rows it does not read.
        prepared = transaction_scoped(self.session, PREPARED_PROPOSALS)
        if proposal_id in prepared:
            found: Proposal | None = prepared.pop(proposal_id)
            return found
        if self.session.identity_map.get(identity_key(Proposal, proposal_id)) is not None:
            self.session.flush()
        with self.session.no_autoflush:
            locked = self._locked_proposals([proposal_id])
        return locked[0] if locked else None

    def prepare_proposals(self, proposal_ids: Iterable[uuid.UUID]) -> None:
        ids = list(set(proposal_ids))
        found = {proposal.id: proposal for proposal in self._locked_proposals(ids)}
        transaction_scoped(self.session, PREPARED_PROPOSALS).update(
            {proposal_id: found.get(proposal_id) for proposal_id in ids}
        )

    def _locked_proposals(self, proposal_ids: list[uuid.UUID]) -> list[Proposal]:
        statement = _locked_proposals_statement()
        return list(self.session.scalars(statement, {"ids": proposal_ids}).unique().all())

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
        self._seats_change()
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
        return self.offered.get(batch_id) or self.session.get(Batch, batch_id)

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
        # the batch is re-read under its lock: what an earlier event of a batch left pending
        # on it (a seat freed under no autoflush) is written first, not lost to the re-read
        self.session.flush()
        self._seats_change()
        common.free_seat(self.session, enrollment)

    def _seats_change(self) -> None:
        """Open batches read before this point may no longer be open, or others may be."""
        transaction_scoped(self.session, OPEN_BATCHES).clear()

    def offers(
        self,
        competency_codes: Iterable[str],
        today: date,
        years: Iterable[int],
        exclude: Iterable[str] = (),
    ) -> tuple[list[domain.Offer], dict[str, ProgrammeFacts]]:
        """The open batches with their programme's facts, from one statement per
        transaction and set of codes: seats change with every enrolment and batches are
        added through the API, so nothing is kept longer, and a use case that takes or frees
        a seat or adds a batch forgets what was read (see :meth:`_seats_change`)."""
        years = sorted(set(years))
        key = (tuple(sorted(set(competency_codes))), today, tuple(years))
        read = transaction_scoped(self.session, OPEN_BATCHES)
        if key not in read:
            parameters = {
                "codes": list(key[0]),
                "today": today,
                "first_day": date(years[0], 1, 1),
                "last_day": date(years[-1], 12, 31),
            }
            read[key] = self.session.execute(_offers_statement(), parameters).all()
        excluded = set(exclude)
        rows = [row for row in read[key] if row[0].programme_code not in excluded]
        programmes: dict[str, ProgrammeFacts] = {}
        for batch, title, form, activity, jp, cost, competencies in rows:
            self.offered[batch.id] = batch
            programmes[batch.programme_code] = ProgrammeFacts(
                batch.programme_code, title, form, activity, jp, cost, dict(competencies)
            )
        batches = [row[0] for row in rows]
        return catalogue.earliest_offers(programmes, batches, years), programmes  # type: ignore[arg-type]

    def development(self, nip: str, years: Sequence[int]) -> Development:
        """One statement: the employee's ledger entries, booked items, enrolments and the
        levels booked programmes bring, as (kind, code, year, amount) rows."""
        prepared = self._prepared(nip)
        if prepared is not None:
            rows = prepared.development
        else:
            rows = list(self.session.execute(_development_statement(), {"nips": [nip]}))
        return development_of([row[1:] for row in rows], years)

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
        self._seats_change()
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

    def reachable_units(self, caller: Principal, unit_code: str | None) -> set[str] | None:
        return units.reachable_units(self.session, caller, unit_code)

    def employees_in(self, scope: set[str] | None, unit_code: str | None) -> list[Employee]:
        statement = units.in_units(select(Employee), Employee.unit_code, scope)
        if unit_code:
            statement = statement.where(Employee.unit_code == unit_code)
        return list(self.session.scalars(statement))

    def reviewed_assessments(self, nips: list[str]) -> list[Assessment]:
        superseded = select(Assessment.supersedes).where(Assessment.supersedes.is_not(None))
        return list(
            self.session.scalars(
                select(Assessment)
                .where(
                    Assessment.employee_nip.in_(nips),
                    Assessment.outcome != "stale",
                    Assessment.review.is_not(None),
                    Assessment.id.not_in(superseded),
                )
                .order_by(Assessment.assessed_on.desc())
            )
        )

    def funded_programme_levels(
        self, nips: list[str], items: Iterable[str]
    ) -> list[tuple[str, str, int]]:
        item_programmes = (
            select(ProposalItem.programme_code, Proposal.employee_nip)
            .join(Proposal, ProposalItem.proposal_id == Proposal.id)
            .where(Proposal.employee_nip.in_(nips), ProposalItem.status.in_(items))
        )
        enrolled = select(Enrollment.programme_code, Enrollment.employee_nip).where(
            Enrollment.employee_nip.in_(nips), Enrollment.status.in_(("enrolled", "completed"))
        )
        held = item_programmes.union(enrolled).subquery()
        rows = self.session.execute(
            select(
                held.c.employee_nip, ProgrammeCompetency.competency_code, ProgrammeCompetency.level
            ).join(ProgrammeCompetency, ProgrammeCompetency.programme_code == held.c.programme_code)
        )
        return [(nip, competency, level) for nip, competency, level in rows]

    def unfunded_items(
        self, nips: list[str], year: int, proposals: Iterable[str], items: Iterable[str]
    ) -> list[tuple[ProposalItem, str]]:
        rows = self.session.execute(
            select(ProposalItem, Proposal.employee_nip)
            .join(Proposal, ProposalItem.proposal_id == Proposal.id)
            .where(
                Proposal.employee_nip.in_(nips),
                Proposal.fiscal_year == year,
                Proposal.status.in_(proposals),
                ProposalItem.status.in_(items),
            )
        )
        return [(item, nip) for item, nip in rows]

    def programmes_ending_in(self, year: int) -> list[Programme]:
        batch_year = func.extract("year", Batch.ends_on).cast(Integer)
        offered = select(Batch.programme_code).where(batch_year == year)
        return list(self.session.scalars(select(Programme).where(Programme.code.in_(offered))))

    def employees_under(
        self, year: int, minimum: int, unit_code: str | None, scope: set[str] | None
    ) -> list[tuple[Employee, int]]:
        jp_of_year = (
            select(LedgerEntry.employee_nip, func.sum(LedgerEntry.jp).label("jp"))
            .where(LedgerEntry.jp_year == year)
            .group_by(LedgerEntry.employee_nip)
            .subquery()
        )
        jp = func.coalesce(jp_of_year.c.jp, 0)
        statement = (
            select(Employee, jp)
            .outerjoin(jp_of_year, jp_of_year.c.employee_nip == Employee.nip)
            .where(jp < minimum)
            .order_by(Employee.unit_code, jp, Employee.nip)
        )
        if unit_code:
            statement = statement.where(Employee.unit_code == unit_code)
        statement = units.in_units(statement, Employee.unit_code, scope)
        return [(employee, int(total)) for employee, total in self.session.execute(statement)]


OPEN_BATCHES = "training.open_batches"  # the offers read in the transaction
PREPARED = "training.prepared"  # what prepare read, by NIP, until an event takes it
PREPARED_NOW = "training.prepared_now"  # what the running event took
PREPARED_PROPOSALS = "training.prepared_proposals"  # locked for budget answers, by id


@dataclass
class Prepared:
    """What planning reads of one employee, read for a whole batch."""

    employee: Employee | None = None
    assessments: list[Assessment] = field(default_factory=list)
    open_proposals: list[Proposal] = field(default_factory=list)
    development: list[Any] = field(default_factory=list)  # rows of _development_statement


# The statements run for every assessment are built once, with bound parameters: building
# one and computing its cache key took half a millisecond of CPU per call.


@functools.cache
def _locked_proposals_statement() -> Select[Any]:
    """Proposals by id with their items and batches, only the proposals' rows locked, in
    the order planning locks an employee's (whatever the order of the ids)."""
    return (
        select(Proposal)
        .where(Proposal.id.in_(bindparam("ids", expanding=True)))
        .options(joinedload(Proposal.items).joinedload(ProposalItem.batch))
        .order_by(Proposal.employee_nip, Proposal.created_at, Proposal.id)
        .with_for_update(of=Proposal)
        .execution_options(populate_existing=True)
    )


@functools.cache
def _offers_statement() -> Select[Any]:
    levels = (
        select(func.json_object_agg(ProgrammeCompetency.competency_code, ProgrammeCompetency.level))
        .where(ProgrammeCompetency.programme_code == Programme.code)
        .scalar_subquery()
    )
    developing = select(ProgrammeCompetency.programme_code).where(
        ProgrammeCompetency.competency_code.in_(bindparam("codes", expanding=True))
    )
    return (
        select(
            Batch,
            Programme.title,
            Programme.form,
            Programme.activity,
            Programme.jp,
            Programme.cost_rupiah,
            levels,
        )
        .join(Programme, Batch.programme_code == Programme.code)
        .where(
            Batch.programme_code.in_(developing),
            Batch.starts_on >= bindparam("today"),
            Batch.ends_on >= bindparam("first_day"),
            Batch.ends_on <= bindparam("last_day"),
            Batch.enrolled < Batch.capacity,
        )
        .order_by(Batch.starts_on, Batch.id)
    )


@functools.cache
def _development_statement() -> CompoundSelect:
    """(nip, kind, code, year, amount) rows of the employees ``nips``."""
    nips = bindparam("nips", expanding=True)
    batch_year = func.extract("year", Batch.ends_on).cast(Integer)
    counted = and_(
        Proposal.status.in_(common.ACTIVE_PROPOSALS),
        ProposalItem.status == ItemStatus.APPROVED,
    )
    booked = union(
        select(Proposal.employee_nip.label("nip"), ProposalItem.programme_code.label("code"))
        .join(Proposal, ProposalItem.proposal_id == Proposal.id)
        .where(Proposal.employee_nip.in_(nips), ProposalItem.status.in_(common.BOOKED_ITEMS)),
        select(Enrollment.employee_nip, Enrollment.programme_code).where(
            Enrollment.employee_nip.in_(nips), Enrollment.status == "enrolled"
        ),
    ).subquery()
    return union_all(
        select(
            LedgerEntry.employee_nip,
            literal("ledger"),
            LedgerEntry.programme_code,
            LedgerEntry.jp_year,
            LedgerEntry.jp,
        ).where(LedgerEntry.employee_nip.in_(nips)),
        select(
            Proposal.employee_nip,
            case((counted, literal("counted")), else_=literal("booked")),
            ProposalItem.programme_code,
            batch_year,
            ProposalItem.jp,
        )
        .join(Proposal, ProposalItem.proposal_id == Proposal.id)
        .outerjoin(Batch, ProposalItem.batch_id == Batch.id)
        .where(Proposal.employee_nip.in_(nips), ProposalItem.status.in_(common.BOOKED_ITEMS)),
        select(
            Enrollment.employee_nip,
            Enrollment.status,
            Enrollment.programme_code,
            batch_year,
            Enrollment.jp,
        )
        .join(Batch, Enrollment.batch_id == Batch.id)
        .where(Enrollment.employee_nip.in_(nips), Enrollment.status.in_(["enrolled", "completed"])),
        select(
            booked.c.nip,
            literal("level"),
            ProgrammeCompetency.competency_code,
            cast(null(), Integer),
            ProgrammeCompetency.level,
        ).join(booked, ProgrammeCompetency.programme_code == booked.c.code),
    )


def _of_jabatan(rows: Sequence[Any], jabatan_code: str) -> list[Any]:
    """The assessments or proposals of ``jabatan_code``, and those from before jabatan were
    recorded (which count for any)."""
    return [row for row in rows if row.jabatan_code in (jabatan_code, None)]


def development_of(rows: Iterable[Any], years: Sequence[int]) -> Development:
    """``Development`` from the rows of ``SqlProposalRepository.development``."""
    held, completed, levels = set(), set(), {}
    totals = {year: [0, 0] for year in years}
    for kind, code, year, amount in rows:
        if kind == "level":
            levels[code] = max(amount, levels.get(code, 0))
            continue
        if kind in ("counted", "booked", "enrolled"):
            held.add(code)
        elif code is not None:  # "ledger" (a programme's or not) and "completed"
            completed.add(code)
        if year in totals and kind in ("ledger", "counted", "enrolled"):
            totals[year][0 if kind == "ledger" else 1] += int(amount)
    return Development(
        held | completed, levels, {year: (done, booked) for year, (done, booked) in totals.items()}
    )


def sql(session: Session) -> ProposalRepository:
    """What ``uow.repository(sql)`` builds in production."""
    return SqlProposalRepository(session)
