"""From an assessment to a proposal: the year planned, what is held, the review."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Integer, func, literal, or_, select, union, union_all
from sqlalchemy.orm import Session

from asn_shared import units
from asn_shared.auth import Principal
from asn_shared.errors import NotFound
from asn_shared.events import Event
from asn_shared.persistence import UnitOfWork

from .. import domain, views
from ..domain import ItemStatus
from ..models import (
    Assessment,
    Batch,
    Employee,
    Enrollment,
    LedgerEntry,
    ProgrammeCompetency,
    Proposal,
    ProposalItem,
)
from . import catalogue, common, employees, proposals

log = logging.getLogger(__name__)


def record_assessment(uow: UnitOfWork, event: Event, *, today: date) -> None:
    """``assessment.recorded``: supersede what is not yet approved, then propose.

    The current assessment is the employee's latest for one jabatan, as competency decides
    (``current`` and ``supersedes`` in the event): an assessment for another jabatan leaves
    the proposals of the first alone.
    """
    data, session = event.data, uow.session
    nip, jabatan_code = data["employee"]["nip"], data["jabatan"]["code"]
    employees.upsert_employee(session, data["employee"])
    employee = common.locked(session, Employee, nip)  # one employee at a time
    if session.get(Assessment, data["assessment_id"]) is not None:
        return  # the same assessment announced again under another event id
    assessment = Assessment(
        id=data["assessment_id"],
        employee_nip=nip,
        jabatan_code=jabatan_code,
        unit_code=employee.unit_code,
        assessed_on=data["assessed_on"],
        supersedes=data.get("supersedes"),
        outcome="stale",
    )
    # competency marks an older result recorded after a newer one as history (current=False)
    if not data.get("current", True) or is_stale(session, assessment):
        session.add(assessment)
        log.info("older assessment ignored", extra={"assessment_id": str(assessment.id)})
        return
    superseded = supersede_open_proposals(uow, nip, jabatan_code)
    needs = [
        domain.Need(r["competency_code"], r["required_level"], r["achieved_level"])
        for r in data["results"]
    ]
    proposal, review = propose_for(
        uow, employee, needs, today=today, assessment_id=assessment.id, jabatan_code=jabatan_code
    )
    if proposal is not None:
        proposal.supersedes = superseded[-1].id if superseded else None
        proposals.publish_created(uow, proposal)
    assessment.outcome = "proposed" if proposal else "no_proposal"
    assessment.proposal_id = proposal.id if proposal else None
    assessment.review = views.review_row(review)
    session.add(assessment)
    uow.publish("assessment.reviewed", views.assessment_reviewed_data(assessment), subject=nip)


def is_stale(session: Session, incoming: Assessment) -> bool:
    """Stale when a stored assessment of the same employee and jabatan supersedes it, or is
    later and not superseded by it."""
    for known in session.scalars(
        select(Assessment).where(
            Assessment.employee_nip == incoming.employee_nip,
            or_(
                Assessment.jabatan_code == incoming.jabatan_code,
                Assessment.jabatan_code.is_(None),
            ),
        )
    ):
        if known.supersedes == incoming.id:
            return True
        if known.assessed_on > incoming.assessed_on and incoming.supersedes != known.id:
            return True
    return False


def supersede_open_proposals(uow: UnitOfWork, nip: str, jabatan_code: str) -> list[Proposal]:
    """Cancel the employee's proposals for the jabatan not yet approved; budget releases
    what it reserved. (Proposals from before jabatan were recorded count for any.)"""
    open_ones = uow.session.scalars(
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
    for proposal in open_ones:
        proposals.cancel(uow, proposal, "superseded")
    return list(open_ones)


def propose_for(
    uow: UnitOfWork,
    employee: Employee,
    needs: Sequence[domain.Need],
    *,
    today: date,
    assessment_id: uuid.UUID | None,
    jabatan_code: str | None,
) -> tuple[Proposal | None, domain.Review]:
    """Plan this year (or next, when no batch of this year narrows a gap), leaving out what
    the employee already has booked or completed."""
    session, years = uow.session, (today.year, today.year + 1)
    held, booked_levels = development_held(session, employee.nip)
    offers, programmes = catalogue.load_offers(
        session, [n.competency_code for n in needs], today, years, exclude=held
    )
    jp = jp_counts(session, employee.nip, years)
    planned = domain.plan_for(
        needs,
        offers,
        today.year,
        {year: done + booked for year, (done, booked) in jp.items()},
        booked_levels,
    )
    review, year = planned.review, planned.review.fiscal_year
    if not planned.plan.items:
        return None, review
    proposal = proposals.new_proposal(
        session,
        employee.nip,
        employee.name,
        employee.unit_code,
        planned.plan,
        programmes,
        fiscal_year=year,
        jp_before=jp[year][0],
        assessment_id=assessment_id,
        jabatan_code=jabatan_code,
    )
    if review.next_year:
        proposal.status_reason = NEXT_YEAR_REASON
    return proposal, review


NEXT_YEAR_REASON = (
    "Tidak ada angkatan tahun ini yang menutup kesenjangan: usulan memakai angkatan tahun "
    "depan dan anggaran tahun depan."
)


def jp_counts(session: Session, nip: str, years: Sequence[int]) -> dict[int, tuple[int, int]]:
    """Per year, the JP completed (the ledger) and booked (approved items not yet enrolled,
    open enrolments), each counted in the year its batch ends: one query."""
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
    for year, done, jp in session.execute(
        select(rows.c.year, rows.c.done, func.sum(rows.c.jp)).group_by(rows.c.year, rows.c.done)
    ):
        if year in totals:
            totals[year][0 if done else 1] += int(jp)
    return {year: (done, booked) for year, (done, booked) in totals.items()}


def development_held(session: Session, nip: str) -> tuple[set[str], dict[str, int]]:
    """The programmes the employee has approved, enrolled or completed (never proposed
    again), and per competency the highest level booked development not yet completed
    will bring them to."""
    booked_items = (
        select(ProposalItem.programme_code)
        .join(Proposal, ProposalItem.proposal_id == Proposal.id)
        .where(Proposal.employee_nip == nip, ProposalItem.status.in_(common.BOOKED_ITEMS))
    )
    open_enrolments = select(Enrollment.programme_code).where(
        Enrollment.employee_nip == nip, Enrollment.status == "enrolled"
    )
    booked = set(session.scalars(union(booked_items, open_enrolments)))
    completed = session.scalars(
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
    for code, level in session.execute(
        select(ProgrammeCompetency.competency_code, func.max(ProgrammeCompetency.level))
        .where(ProgrammeCompetency.programme_code.in_(booked))
        .group_by(ProgrammeCompetency.competency_code)
    ):
        levels[code] = level
    return booked | set(completed), levels


def alternative(
    uow: UnitOfWork, proposal: Proposal, waiting: list[ProposalItem], today: date
) -> Proposal | None:
    session = uow.session
    unpaid = [
        domain.UnpaidItem(i.programme_code, i.cost_rupiah, [views.reason_of(r) for r in i.reasons])
        for i in waiting
    ]
    codes = [r.competency_code for item in unpaid for r in item.reasons]
    year = proposal.fiscal_year
    held, _ = development_held(session, proposal.employee_nip)
    offers, programmes = catalogue.load_offers(session, codes, today, [year], exclude=held)
    in_proposal = [i.programme_code for i in proposal.items if i.status != ItemStatus.CANCELLED]
    plan = domain.alternatives(unpaid, offers, exclude=in_proposal)
    if not plan.items:
        return None
    return proposals.new_proposal(
        session,
        proposal.employee_nip,
        proposal.employee_name,
        proposal.unit_code,
        plan,
        programmes,
        fiscal_year=year,
        jp_before=jp_counts(session, proposal.employee_nip, [year])[year][0],
        assessment_id=proposal.assessment_id,
        jabatan_code=proposal.jabatan_code,
        alternative_of=proposal.id,
    )


def get_assessment_review(
    uow: UnitOfWork, assessment_id: uuid.UUID, caller: Principal
) -> dict[str, Any]:
    with uow:
        session = uow.session
        assessment = session.get(Assessment, assessment_id)
        if assessment is None or assessment.review is None:
            raise NotFound(f"Penilaian {assessment_id} belum ditelaah layanan pelatihan.")
        units.check_reach(session, caller, assessment.employee_nip, assessment.unit_code)
        return views.assessment_review_view(assessment)
