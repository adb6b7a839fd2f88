"""From an assessment to a proposal: the year planned, what is held, the review."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

from asn_shared import units
from asn_shared.auth import Principal
from asn_shared.errors import NotFound
from asn_shared.events import Event
from asn_shared.persistence import UnitOfWork

from .. import domain, repository, views
from ..domain import ItemStatus
from ..models import (
    Assessment,
    Employee,
    Proposal,
    ProposalItem,
)
from . import proposals

log = logging.getLogger(__name__)


def record_assessment(uow: UnitOfWork, event: Event) -> None:
    """``assessment.recorded``: supersede what is not yet approved, then propose.

    The current assessment is the employee's latest for one jabatan, as competency decides
    (``current`` and ``supersedes`` in the event): an assessment for another jabatan leaves
    the proposals of the first alone.
    """
    data, repo = event.data, uow.repository(repository.sql)
    nip, jabatan_code = data["employee"]["nip"], data["jabatan"]["code"]
    employee = repo.recorded_employee(data["employee"])  # one employee at a time
    known = repo.assessments_of(nip, jabatan_code)
    if any(a.id == data["assessment_id"] for a in known):
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
    if not data.get("current", True) or is_stale(known, assessment):
        repo.add_assessment(assessment)
        log.info("older assessment ignored", extra={"assessment_id": str(assessment.id)})
        return
    superseded = supersede_open_proposals(uow, nip, jabatan_code)
    needs = [
        domain.Need(r["competency_code"], r["required_level"], r["achieved_level"])
        for r in data["results"]
    ]
    proposal, review = propose_for(
        uow,
        employee,
        needs,
        today=uow.clock.today(),
        assessment_id=assessment.id,
        jabatan_code=jabatan_code,
    )
    if proposal is not None:
        proposal.supersedes = superseded[-1].id if superseded else None
        proposals.publish_created(uow, proposal)
    assessment.outcome = "proposed" if proposal else "no_proposal"
    assessment.proposal_id = proposal.id if proposal else None
    assessment.review = views.review_row(review)
    repo.add_assessment(assessment)
    uow.publish("assessment.reviewed", views.assessment_reviewed_data(assessment), subject=nip)


def prepare(uow: UnitOfWork, events: list[Event]) -> None:
    """What :func:`record_assessment` reads of a batch's employees, read for all of them
    at once (see :meth:`~training.repository.ProposalRepository.prepare`)."""
    nips = [event.data["employee"]["nip"] for event in events]
    uow.repository(repository.sql).prepare(nips)


def is_stale(stored: Sequence[Assessment], incoming: Assessment) -> bool:
    """Stale when a stored assessment of the same employee and jabatan (``stored``)
    supersedes it, or is later and not superseded by it."""
    for known in stored:
        if known.supersedes == incoming.id:
            return True
        if known.assessed_on > incoming.assessed_on and incoming.supersedes != known.id:
            return True
    return False


def supersede_open_proposals(uow: UnitOfWork, nip: str, jabatan_code: str) -> list[Proposal]:
    """Cancel the employee's proposals for the jabatan not yet approved; budget releases
    what it reserved. (Proposals from before jabatan were recorded count for any.)"""
    open_ones = uow.repository(repository.sql).open_proposals(nip, jabatan_code)
    for proposal in open_ones:
        proposals.cancel(uow, proposal, "superseded")
    return open_ones


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
    repo, years = uow.repository(repository.sql), (today.year, today.year + 1)
    held = repo.development(employee.nip, years)
    codes = [n.competency_code for n in needs]
    offers, programmes = repo.offers(codes, today, years, exclude=held.held)
    planned = domain.plan_for(
        needs,
        offers,
        today.year,
        {year: done + booked for year, (done, booked) in held.jp.items()},
        held.booked_levels,
    )
    review, year = planned.review, planned.review.fiscal_year
    if not planned.plan.items:
        return None, review
    proposal = proposals.new_proposal(
        repo,
        employee.nip,
        employee.name,
        employee.unit_code,
        planned.plan,
        programmes,
        fiscal_year=year,
        jp_before=held.jp[year][0],
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


def alternative(
    uow: UnitOfWork, proposal: Proposal, waiting: list[ProposalItem], today: date
) -> Proposal | None:
    repo = uow.repository(repository.sql)
    unpaid = [
        domain.UnpaidItem(i.programme_code, i.cost_rupiah, [views.reason_of(r) for r in i.reasons])
        for i in waiting
    ]
    codes = [r.competency_code for item in unpaid for r in item.reasons]
    year = proposal.fiscal_year
    held = repo.development(proposal.employee_nip, [year])
    offers, programmes = repo.offers(codes, today, [year], exclude=held.held)
    in_proposal = [i.programme_code for i in proposal.items if i.status != ItemStatus.CANCELLED]
    plan = domain.alternatives(unpaid, offers, exclude=in_proposal)
    if not plan.items:
        return None
    return proposals.new_proposal(
        repo,
        proposal.employee_nip,
        proposal.employee_name,
        proposal.unit_code,
        plan,
        programmes,
        fiscal_year=year,
        jp_before=held.jp[year][0],
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
