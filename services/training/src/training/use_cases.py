"""The training service's use cases: load, ask the domain, write, publish, commit.

Event use cases take ``(uow, event)`` and never commit (``handle_once`` commits the inbox row
with their effects). HTTP use cases take a unit of work, the validated command and the
caller, check the caller's reach in the same transaction, commit, and return a view for the
output schema. Rows whose counters or states change are locked (``FOR UPDATE``): handlers
run concurrently and events arrive in any order.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import Integer, func, literal, or_, select, union, union_all
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session, selectinload

from asn_shared import units
from asn_shared.auth import EMPLOYEE, Principal
from asn_shared.events import Event
from asn_shared.persistence import UnitOfWork, page_of
from asn_shared.web import Conflict, NotFound, Unprocessable

from . import domain, views
from .domain import Funding, IllegalTransition, ItemStatus, Status
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

log = logging.getLogger(__name__)


def locked(session: Session, model: type, key: Any) -> Any:
    """The row, locked FOR UPDATE and re-read: what another transaction committed counts."""
    return session.get(model, key, with_for_update=True, populate_existing=True)


# --- who may reach what (the roles of each route are named in service.py) ------------------


def narrowed(
    session: Session, principal: Principal, query: dict[str, Any]
) -> tuple[dict[str, Any], set[str] | None]:
    """A list query limited to the caller and the units it may list (``None``: all).

    An employee lists only their own NIP (an ``employee_nip`` filter for another is
    refused); an operator only its units (a ``unit_code`` filter outside them is refused).
    """
    if principal.role == EMPLOYEE:
        return {**query, "employee_nip": principal.own_nip(query.get("employee_nip"))}, None
    return query, units.reachable_units(session, principal, query.get("unit_code"))


BOOKED_ITEMS = (ItemStatus.APPROVED, ItemStatus.ENROLLED)
ACTIVE_PROPOSALS = (Status.APPROVED, Status.PARTIALLY_APPROVED, Status.ENROLLED)


# --- employees, learnt from competency's events ----------------------------------------------


def upsert_employee(session: Session, employee: dict[str, Any]) -> None:
    """Keep the highest version seen: an older event arriving late changes nothing."""
    values = {
        "nip": employee["nip"],
        "name": employee["name"],
        "unit_code": employee["unit"]["code"],
        "unit_name": employee["unit"]["name"],
        "version": employee["version"],
    }
    statement = pg_insert(Employee).values(**values)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[Employee.nip],
            set_={k: statement.excluded[k] for k in values if k != "nip"},
            where=Employee.version < statement.excluded.version,
        )
    )


def record_employee(uow: UnitOfWork, event: Event) -> None:
    upsert_employee(uow.session, event.data)


def known_employee(session: Session, nip: str, *, lock: bool = False) -> Employee:
    employee = locked(session, Employee, nip) if lock else session.get(Employee, nip)
    if employee is None:
        raise Unprocessable(
            f"Pegawai dengan NIP {nip} belum dikenal layanan pelatihan.",
            errors={"employee_nip": ["Unknown employee."]},
        )
    return employee


# --- the catalogue -----------------------------------------------------------------------


def list_activities(uow: UnitOfWork) -> list[dict[str, Any]]:
    with uow:
        rows = uow.session.scalars(select(Activity).order_by(Activity.form, Activity.code))
        return [_activity_view(a) for a in rows]


def update_activity(uow: UnitOfWork, code: str, default_jp: int) -> dict[str, Any]:
    with uow:
        activity = locked(uow.session, Activity, code)
        if activity is None:
            raise NotFound(f"Jenis kegiatan {code} tidak ada.")
        activity.default_jp = default_jp
        uow.commit()
        return _activity_view(activity)


def _activity_view(activity: Activity) -> dict[str, Any]:
    return {
        "code": activity.code,
        "form": activity.form,
        "name": activity.name,
        "default_jp": activity.default_jp,
    }


def _activity_jp(session: Session, form: str, activity_code: str | None, jp: int | None) -> int:
    """The JP given, else the activity's default; refuses an activity of another form."""
    activity = session.get(Activity, activity_code) if activity_code else None
    if activity_code and activity is None:
        raise Unprocessable(
            f"Jenis kegiatan {activity_code} tidak ada.", errors={"activity": ["Unknown."]}
        )
    if activity and activity.form != form:
        raise Unprocessable(
            f"Jenis kegiatan {activity_code} termasuk bentuk {activity.form}, bukan {form}.",
            errors={"activity": [f"Belongs to form {activity.form}."]},
        )
    if jp is not None:
        return jp
    if activity is None:
        raise Unprocessable(
            "JP wajib diisi bila jenis kegiatan tidak disebut.",
            errors={"jp": ["Missing data for required field."]},
        )
    return activity.default_jp


def create_programme(uow: UnitOfWork, command: dict[str, Any]) -> dict[str, Any]:
    with uow:
        session = uow.session
        if session.get(Programme, command["code"]) is not None:
            raise Conflict(f"Program {command['code']} sudah ada.")
        programme = Programme(
            code=command["code"],
            title=command["title"],
            form=command["form"],
            activity=command["activity"],
            jp=_activity_jp(session, command["form"], command["activity"], command.get("jp")),
            cost_rupiah=command["cost_rupiah"],
            provider=command["provider"],
            competencies=[ProgrammeCompetency(**c) for c in command["competencies"]],
        )
        session.add(programme)
        for batch in command["batches"]:
            session.add(Batch(programme_code=programme.code, enrolled=0, **batch))
        uow.commit()
        return views.programme_view(_programme(session, programme.code))


def add_batch(uow: UnitOfWork, code: str, command: dict[str, Any]) -> dict[str, Any]:
    with uow:
        _programme(uow.session, code)
        batch = Batch(programme_code=code, enrolled=0, **command)
        uow.session.add(batch)
        uow.commit()
        return views.batch_view(batch)


def get_programme(uow: UnitOfWork, code: str) -> dict[str, Any]:
    with uow:
        return views.programme_view(_programme(uow.session, code))


def list_programmes(uow: UnitOfWork, query: dict[str, Any]) -> dict[str, Any]:
    statement = select(Programme).order_by(Programme.code)
    if "competency_code" in query:
        statement = statement.where(
            Programme.code.in_(
                select(ProgrammeCompetency.programme_code).where(
                    ProgrammeCompetency.competency_code == query["competency_code"]
                )
            )
        )
    if "form" in query:
        statement = statement.where(Programme.form == query["form"])
    statement = statement.options(
        selectinload(Programme.competencies), selectinload(Programme.batches)
    )
    with uow:
        return page_of(uow.session, statement, query, views.programme_view)


def _programme(session: Session, code: str) -> Programme:
    programme = session.get(Programme, code)
    if programme is None:
        raise NotFound(f"Program {code} tidak ada dalam katalog.")
    return programme


def load_offers(
    session: Session,
    competency_codes: Iterable[str],
    today: date,
    years: Iterable[int],
    exclude: Iterable[str] = (),
) -> tuple[list[domain.Offer], dict[str, Programme]]:
    """Programmes developing any of ``competency_codes`` (but those in ``exclude``) with a free
    seat in a batch starting from today and ending in one of ``years``: for each programme
    and year, its earliest such batch. A batch counts in the year it ends (the JP ledger's
    rule), so a December batch ending in January is next year's."""
    codes, years = sorted(set(competency_codes)), sorted(set(years))
    programmes = session.scalars(
        select(Programme)
        .where(
            Programme.code.in_(
                select(ProgrammeCompetency.programme_code).where(
                    ProgrammeCompetency.competency_code.in_(codes)
                )
            ),
            Programme.code.not_in(list(exclude)),
        )
        .options(selectinload(Programme.competencies))
    ).all()
    by_code = {p.code: p for p in programmes}
    batches = session.scalars(
        select(Batch)
        .where(
            Batch.programme_code.in_(list(by_code)),
            Batch.starts_on >= today,
            Batch.ends_on >= date(years[0], 1, 1),
            Batch.ends_on <= date(years[-1], 12, 31),
            Batch.enrolled < Batch.capacity,
        )
        .order_by(Batch.starts_on, Batch.id)
    ).all()
    earliest: dict[tuple[str, int], Batch] = {}
    for batch in batches:
        if batch.ends_on.year in years:
            earliest.setdefault((batch.programme_code, batch.ends_on.year), batch)
    offers = [
        domain.Offer(
            code=code,
            jp=by_code[code].jp,
            cost_rupiah=by_code[code].cost_rupiah,
            levels=by_code[code].levels(),
            batch=domain.OpenBatch(batch.id, batch.starts_on, batch.ends_on),
        )
        for (code, _), batch in earliest.items()
    ]
    return offers, by_code


# --- proposals from assessments ----------------------------------------------------------------


def record_assessment(uow: UnitOfWork, event: Event, *, today: date) -> None:
    """``assessment.recorded``: supersede what is not yet approved, then propose.

    The current assessment is the employee's latest for one jabatan, as competency decides
    (``current`` and ``supersedes`` in the event): an assessment for another jabatan leaves
    the proposals of the first alone.
    """
    data, session = event.data, uow.session
    nip, jabatan_code = data["employee"]["nip"], data["jabatan"]["code"]
    upsert_employee(session, data["employee"])
    employee = locked(session, Employee, nip)  # one employee at a time
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
    if not data.get("current", True) or _is_stale(session, assessment):
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
        publish_created(uow, proposal)
    assessment.outcome = "proposed" if proposal else "no_proposal"
    assessment.proposal_id = proposal.id if proposal else None
    assessment.review = views.review_row(review)
    session.add(assessment)
    uow.publish("assessment.reviewed", views.assessment_reviewed_data(assessment), subject=nip)


def _is_stale(session: Session, incoming: Assessment) -> bool:
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
        _cancel(uow, proposal, "superseded")
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
    offers, programmes = load_offers(
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
    proposal = new_proposal(
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


def new_proposal(
    session: Session,
    nip: str,
    name: str,
    unit_code: str,
    plan: domain.Plan,
    programmes: dict[str, Programme],
    **attributes: Any,
) -> Proposal:
    proposal = Proposal(
        id=uuid.uuid4(),
        employee_nip=nip,
        employee_name=name,
        unit_code=unit_code,
        status=Status.PENDING_BUDGET.value,
        total_cost_rupiah=plan.total_cost_rupiah,
        total_jp=plan.total_jp,
        reserved_rupiah=0,
        **attributes,
    )
    for position, planned in enumerate(plan.items):
        programme = programmes[planned.offer.code]
        proposal.items.append(
            ProposalItem(
                id=uuid.uuid4(),
                position=position,
                programme_code=programme.code,
                programme_title=programme.title,
                form=programme.form,
                activity=programme.activity,
                jp=programme.jp,
                cost_rupiah=programme.cost_rupiah,
                competency_codes=planned.competency_codes,
                batch=session.get(Batch, planned.offer.batch.batch_id),
                reasons=[views.reason_row(r) for r in planned.reasons],
                status=ItemStatus.PROPOSED.value,
            )
        )
    session.add(proposal)
    return proposal


def publish_created(uow: UnitOfWork, proposal: Proposal) -> None:
    uow.publish(
        "proposal.created", views.proposal_created_data(proposal), subject=proposal.employee_nip
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
            Proposal.status.in_(ACTIVE_PROPOSALS),
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
        .where(Proposal.employee_nip == nip, ProposalItem.status.in_(BOOKED_ITEMS))
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


# --- the budget's answers ----------------------------------------------------------------------


def _locked_proposal(session: Session, proposal_id: uuid.UUID) -> Proposal | None:
    """The proposal locked, with its items and their batches in one more query (not one per
    item: the decision's event names every item's batch)."""
    return session.get(
        Proposal,
        proposal_id,
        with_for_update=True,
        populate_existing=True,
        options=[selectinload(Proposal.items).joinedload(ProposalItem.batch)],
    )


def _apply(proposal: Proposal, settlement: domain.Settlement) -> None:
    proposal.status = settlement.status.value
    for item in proposal.items:
        status = settlement.items[item.id]
        if status is ItemStatus.APPROVED and item.status != ItemStatus.APPROVED:
            item.funding = Funding.BUDGET.value  # the budget reserved it
        item.status = status.value


def budget_reserved(uow: UnitOfWork, event: Event, *, today: date) -> None:
    """``budget.reserved``: approve the items paid for; the rest wait, with alternatives."""
    data = event.data
    proposal = _locked_proposal(uow.session, data["proposal_id"])
    if proposal is None:
        log.warning("budget answer for an unknown proposal", extra={"proposal": str(data)})
        return
    try:
        settlement = domain.settle_reservation(
            proposal.status, {i.id: i.status for i in proposal.items}, data["item_ids"]
        )
    except IllegalTransition as exc:
        log.warning("stale budget.reserved ignored", extra={"reason": str(exc)})
        return
    _apply(proposal, settlement)
    proposal.reserved_rupiah += data["amount_rupiah"]
    proposal.status_reason = None
    _publish_approved(uow, proposal)
    if settlement.newly_waitlisted:
        _waitlist(uow, proposal, settlement.newly_waitlisted, "insufficient_funds", today)


def budget_rejected(uow: UnitOfWork, event: Event, *, today: date) -> None:
    """``budget.rejected``: the items wait; a free or cheaper programme is proposed instead."""
    data = event.data
    proposal = _locked_proposal(uow.session, data["proposal_id"])
    if proposal is None:
        log.warning("budget answer for an unknown proposal", extra={"proposal": str(data)})
        return
    try:
        settlement = domain.settle_rejection(
            proposal.status, {i.id: i.status for i in proposal.items}
        )
    except IllegalTransition as exc:
        log.warning("stale budget.rejected ignored", extra={"reason": str(exc)})
        return
    _apply(proposal, settlement)
    _waitlist(uow, proposal, settlement.newly_waitlisted, data["reason"], today)


def _publish_approved(uow: UnitOfWork, proposal: Proposal) -> None:
    approved = [i for i in proposal.items if i.status == ItemStatus.APPROVED]
    uow.publish(
        "proposal.approved",
        {
            **views.proposal_facts(proposal),
            "approved_items": [views.item_data(i) for i in approved],
            "reserved_rupiah": proposal.reserved_rupiah,
        },
        subject=proposal.employee_nip,
    )


def _waitlist(
    uow: UnitOfWork, proposal: Proposal, item_ids: list[uuid.UUID], reason: str, today: date
) -> None:
    proposal.status_reason = reason
    waiting = [i for i in proposal.items if i.id in set(item_ids)]
    alternative = _alternative(uow, proposal, waiting, today)
    if alternative is not None:
        publish_created(uow, alternative)
    uow.publish(
        "proposal.waitlisted",
        {
            **views.proposal_facts(proposal),
            "waitlisted_items": [views.item_data(i) for i in waiting],
            "reason": reason,
            "alternative_proposal_id": alternative.id if alternative else None,
        },
        subject=proposal.employee_nip,
    )


def _alternative(
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
    offers, programmes = load_offers(session, codes, today, [year], exclude=held)
    in_proposal = [i.programme_code for i in proposal.items if i.status != ItemStatus.CANCELLED]
    plan = domain.alternatives(unpaid, offers, exclude=in_proposal)
    if not plan.items:
        return None
    return new_proposal(
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


# --- an operator's decisions -------------------------------------------------------------------


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


def get_proposal(uow: UnitOfWork, proposal_id: uuid.UUID, caller: Principal) -> dict[str, Any]:
    with uow:
        return views.proposal_view(_proposal(uow.session, proposal_id, caller))


def list_proposals(uow: UnitOfWork, query: dict[str, Any], caller: Principal) -> dict[str, Any]:
    with uow:
        query, scope = narrowed(uow.session, caller, query)
        statement = select(Proposal).order_by(Proposal.created_at.desc(), Proposal.id)
        for name in ("employee_nip", "unit_code", "status", "fiscal_year"):
            if name in query:
                statement = statement.where(getattr(Proposal, name) == query[name])
        statement = units.in_units(statement, Proposal.unit_code, scope).options(
            selectinload(Proposal.items).selectinload(ProposalItem.batch)
        )
        return page_of(uow.session, statement, query, views.proposal_view)


def _proposal(
    session: Session,
    proposal_id: uuid.UUID,
    caller: Principal | None = None,
    *,
    lock: bool = False,
) -> Proposal:
    """The proposal, if it exists and ``caller`` (when given) may reach it."""
    proposal = (
        locked(session, Proposal, proposal_id) if lock else session.get(Proposal, proposal_id)
    )
    if proposal is None:
        raise NotFound(f"Usulan {proposal_id} tidak ada.")
    if caller is not None:
        units.check_reach(session, caller, proposal.employee_nip, proposal.unit_code)
    return proposal


def approve_proposal(
    uow: UnitOfWork, proposal_id: uuid.UUID, note: str | None, caller: Principal
) -> dict:
    """An operator approves what the budget left waiting (funded another way)."""
    with uow:
        proposal = _proposal(uow.session, proposal_id, caller, lock=True)
        proposal.status = _checked(domain.operator_approval, proposal.status).value
        for item in proposal.items:
            if item.status in (ItemStatus.PROPOSED, ItemStatus.WAITLISTED):
                item.status = ItemStatus.APPROVED.value
                item.funding = Funding.OTHER.value  # never charged to the unit's budget
        proposal.status_reason = note or "disetujui operator"
        _publish_approved(uow, proposal)
        uow.commit()
        return views.proposal_view(proposal)


def cancel_proposal(
    uow: UnitOfWork, proposal_id: uuid.UUID, reason: str, caller: Principal
) -> dict:
    with uow:
        proposal = _proposal(uow.session, proposal_id, caller, lock=True)
        _checked(domain.transition, proposal.status, Status.CANCELLED)
        _cancel(uow, proposal, reason)
        uow.commit()
        return views.proposal_view(proposal)


def _cancel(uow: UnitOfWork, proposal: Proposal, reason: str) -> None:
    """Cancel a proposal, its items and open enrolments (seats freed); budget is told."""
    proposal.status = domain.transition(proposal.status, Status.CANCELLED).value
    proposal.status_reason = reason
    for item in proposal.items:
        if item.status != ItemStatus.COMPLETED:
            item.status = ItemStatus.CANCELLED.value
    enrolments = uow.session.scalars(
        select(Enrollment)
        .where(Enrollment.proposal_id == proposal.id, Enrollment.status == "enrolled")
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    for enrollment in enrolments:
        _free_seat(uow.session, enrollment)
    uow.publish(
        "proposal.cancelled",
        {**views.proposal_facts(proposal), "reason": reason},
        subject=proposal.employee_nip,
    )


def _checked(rule: Callable[..., Status], *args: Any) -> Status:
    """Apply a state-machine rule; an illegal transition is the client's conflict."""
    try:
        return rule(*args)
    except IllegalTransition as exc:
        raise Conflict(str(exc), current_status=exc.current, requested_status=exc.target) from None


# --- enrolment ---------------------------------------------------------------------------------


def enrol_proposal(
    uow: UnitOfWork, proposal_id: uuid.UUID, caller: Principal
) -> list[dict[str, Any]]:
    """Enrol the approved items in their batches (a full batch: the next one with a seat)."""
    with uow:
        session = uow.session
        proposal = _proposal(session, proposal_id, caller, lock=True)
        proposal.status = _checked(domain.transition, proposal.status, Status.ENROLLED).value
        enrolments = []
        for item in proposal.items:
            if item.status != ItemStatus.APPROVED:
                continue
            batch = _seat(session, item.programme_code, item.batch)
            enrolments.append(
                _enrol(uow, proposal.employee_nip, proposal.unit_code, batch, item, proposal.id)
            )
            item.status = ItemStatus.ENROLLED.value
        uow.commit()
        return [views.enrollment_view(e) for e in enrolments]


def enrol_directly(uow: UnitOfWork, command: dict[str, Any], caller: Principal) -> dict[str, Any]:
    with uow:
        session = uow.session
        employee = known_employee(session, command["employee_nip"])
        units.check_reach(session, caller, employee.nip, employee.unit_code)
        _programme(session, command["programme_code"])
        wanted = session.get(Batch, command["batch_id"])
        if wanted is None or wanted.programme_code != command["programme_code"]:
            raise Unprocessable(
                "Angkatan tidak termasuk program itu.", errors={"batch_id": ["Unknown batch."]}
            )
        batch = _seat(session, command["programme_code"], wanted)
        enrollment = _enrol(uow, employee.nip, employee.unit_code, batch)
        uow.commit()
        return views.enrollment_view(enrollment)


def _seat(session: Session, programme_code: str, wanted: Batch | None) -> Batch:
    """Lock the wanted batch and the later ones; take a seat in the first with room."""
    if wanted is None:
        raise Conflict(f"Butir program {programme_code} tidak memiliki angkatan.")
    batches = session.scalars(
        select(Batch)
        .where(Batch.programme_code == programme_code, Batch.starts_on >= wanted.starts_on)
        .order_by(Batch.starts_on, Batch.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    seats = {b.id: b for b in batches}
    placed = domain.place_in_batch(
        _seats(seats[wanted.id]), [_seats(b) for b in batches if b.id != wanted.id]
    )
    if placed is None:
        raise Conflict(f"Semua angkatan program {programme_code} sudah penuh.")
    batch = seats[placed.batch_id]
    batch.enrolled += 1
    return batch


def _seats(batch: Batch) -> domain.Seats:
    return domain.Seats(batch.id, batch.starts_on, batch.capacity, batch.enrolled)


def _enrol(
    uow: UnitOfWork,
    nip: str,
    unit_code: str,
    batch: Batch,
    item: ProposalItem | None = None,
    proposal_id: uuid.UUID | None = None,
) -> Enrollment:
    programme = batch.programme
    enrollment = Enrollment(
        id=uuid.uuid4(),
        proposal_id=proposal_id,
        item_id=item.id if item else None,
        employee_nip=nip,
        unit_code=unit_code,
        programme_code=programme.code,
        batch_id=batch.id,
        jp=programme.jp,
        cost_rupiah=item.cost_rupiah if item else programme.cost_rupiah,
        competency_codes=(
            list(item.competency_codes)
            if item
            else [c.competency_code for c in programme.competencies]
        ),
        status="enrolled",
    )
    enrollment.programme, enrollment.batch = programme, batch
    uow.session.add(enrollment)
    uow.publish("enrollment.created", views.enrollment_created_data(enrollment), subject=nip)
    return enrollment


def _free_seat(session: Session, enrollment: Enrollment) -> None:
    batch = locked(session, Batch, enrollment.batch_id)
    batch.enrolled -= 1
    enrollment.status = "cancelled"


def cancel_enrollment(
    uow: UnitOfWork, enrollment_id: uuid.UUID, caller: Principal
) -> dict[str, Any]:
    """Cancel a direct enrolment; one from a proposal is cancelled with its proposal."""
    with uow:
        enrollment = _enrollment(uow.session, enrollment_id, caller, lock=True)
        if enrollment.proposal_id is not None:
            raise Conflict(
                "Pendaftaran ini berasal dari usulan: batalkan usulannya "
                f"(POST /proposals/{enrollment.proposal_id}/cancel) agar anggaran dilepas."
            )
        if enrollment.status != "enrolled":
            raise Conflict(f"Pendaftaran berstatus {enrollment.status} tidak dapat dibatalkan.")
        _free_seat(uow.session, enrollment)
        uow.commit()
        return views.enrollment_view(enrollment)


def list_enrollments(uow: UnitOfWork, query: dict[str, Any], caller: Principal) -> dict[str, Any]:
    with uow:
        query, scope = narrowed(uow.session, caller, query)
        statement = (
            select(Enrollment)
            .order_by(Enrollment.enrolled_at.desc(), Enrollment.id)
            .options(selectinload(Enrollment.programme), selectinload(Enrollment.batch))
        )
        for name in ("employee_nip", "proposal_id", "batch_id", "status"):
            if name in query:
                statement = statement.where(getattr(Enrollment, name) == query[name])
        statement = units.in_units(statement, Enrollment.unit_code, scope)
        return page_of(uow.session, statement, query, views.enrollment_view)


def _enrollment(
    session: Session,
    enrollment_id: uuid.UUID,
    caller: Principal | None = None,
    *,
    lock: bool = False,
) -> Enrollment:
    """The enrolment, if it exists and ``caller`` (when given) may reach its unit's."""
    enrollment = (
        locked(session, Enrollment, enrollment_id)
        if lock
        else session.get(Enrollment, enrollment_id)
    )
    if enrollment is None:
        raise NotFound(f"Pendaftaran {enrollment_id} tidak ada.")
    if caller is not None:
        units.check_reach(session, caller, enrollment.employee_nip, enrollment.unit_code)
    return enrollment


# --- completion and the JP ledger ------------------------------------------------------------


def complete_enrollment(
    uow: UnitOfWork, enrollment_id: uuid.UUID, command: dict[str, Any], caller: Principal
) -> dict[str, Any]:
    """Credit the JP to the year the development ended in; the proposal completes with its
    last open enrolment."""
    with uow:
        session = uow.session
        proposal_id = _enrollment(session, enrollment_id, caller).proposal_id
        proposal = _proposal(session, proposal_id, lock=True) if proposal_id else None
        enrollment = _enrollment(session, enrollment_id, lock=True)
        if enrollment.status != "enrolled":
            raise Conflict(f"Pendaftaran berstatus {enrollment.status} tidak dapat diselesaikan.")
        batch, programme = enrollment.batch, enrollment.programme
        started_on = command.get("started_on") or batch.starts_on
        ended_on = command.get("ended_on") or batch.ends_on
        if ended_on < started_on:
            raise Unprocessable(
                "Tanggal selesai sebelum tanggal mulai.", errors={"ended_on": ["Before start."]}
            )
        enrollment.status, enrollment.ended_on = "completed", ended_on
        entry = LedgerEntry(
            id=uuid.uuid4(),
            employee_nip=enrollment.employee_nip,
            unit_code=enrollment.unit_code,
            enrollment_id=enrollment.id,
            proposal_id=enrollment.proposal_id,
            programme_code=programme.code,
            title=programme.title,
            form=programme.form,
            activity=programme.activity,
            provider=programme.provider,
            jp=enrollment.jp,
            started_on=started_on,
            ended_on=ended_on,
            jp_year=ended_on.year,
            competency_codes=list(enrollment.competency_codes),
            cost_rupiah=enrollment.cost_rupiah,
        )
        session.add(entry)
        item = _complete_item(session, proposal, enrollment) if proposal else None
        uow.publish(
            "enrollment.completed",
            views.enrollment_completed_data(entry, item),
            subject=enrollment.employee_nip,
        )
        uow.commit()
        return views.enrollment_view(enrollment)


def _complete_item(
    session: Session, proposal: Proposal, enrollment: Enrollment
) -> ProposalItem | None:
    """Complete the enrolment's item (returned), and the proposal with its last one."""
    completed = None
    for item in proposal.items:
        if item.id == enrollment.item_id:
            item.status = ItemStatus.COMPLETED.value
            completed = item
    session.flush()
    still_open = session.scalar(
        select(func.count())
        .select_from(Enrollment)
        .where(Enrollment.proposal_id == proposal.id, Enrollment.status == "enrolled")
    )
    if not still_open and proposal.status == Status.ENROLLED:
        proposal.status = domain.transition(proposal.status, Status.COMPLETED).value
    return completed


def record_development(
    uow: UnitOfWork, command: dict[str, Any], caller: Principal
) -> dict[str, Any]:
    """Development done elsewhere (a seminar, a course), with its evidence, into the ledger."""
    with uow:
        session = uow.session
        employee = known_employee(session, command["employee_nip"])
        units.check_reach(session, caller, employee.nip, employee.unit_code)
        jp = command.get("jp")
        if "minutes" in command:
            jp = domain.jp_from_minutes(command["minutes"])
        jp = _activity_jp(session, command["form"], command["activity"], jp)
        entry = LedgerEntry(
            id=uuid.uuid4(),
            employee_nip=employee.nip,
            unit_code=employee.unit_code,
            title=command["title"],
            form=command["form"],
            activity=command["activity"],
            provider=command["provider"],
            jp=jp,
            started_on=command["started_on"],
            ended_on=command["ended_on"],
            jp_year=command["ended_on"].year,
            competency_codes=command["competency_codes"],
            cost_rupiah=command["cost_rupiah"],
            evidence=command["evidence"],
        )
        session.add(entry)
        uow.publish(
            "enrollment.completed",
            views.enrollment_completed_data(entry, None),
            subject=employee.nip,
        )
        uow.commit()
        return views.ledger_entry_view(entry)


def jp_ledger(uow: UnitOfWork, nip: str, year: int, caller: Principal) -> dict[str, Any]:
    caller.require_nip(nip)
    with uow:
        session = uow.session
        employee = session.get(Employee, nip)
        entries = session.scalars(
            select(LedgerEntry)
            .where(LedgerEntry.employee_nip == nip, LedgerEntry.jp_year == year)
            .order_by(LedgerEntry.ended_on, LedgerEntry.id)
        ).all()
        if employee is None and not entries:
            raise NotFound(f"Pegawai dengan NIP {nip} belum dikenal layanan pelatihan.")
        unit_code = employee.unit_code if employee else entries[-1].unit_code
        units.check_reach(session, caller, nip, unit_code)
        jp = sum(e.jp for e in entries)
        return {
            "employee_nip": nip,
            "employee_name": employee.name if employee else None,
            "unit_code": unit_code,
            "year": year,
            "jp": jp,
            "minimum_jp": domain.MINIMUM_JP_PER_YEAR,
            "shortfall_jp": max(domain.MINIMUM_JP_PER_YEAR - jp, 0),
            "entries": [views.ledger_entry_view(e) for e in entries],
        }


def under_minimum(
    uow: UnitOfWork, year: int, unit_code: str | None, caller: Principal
) -> dict[str, Any]:
    """Known employees of the caller's units whose JP of ``year`` stay under the minimum,
    grouped by unit."""
    minimum = domain.MINIMUM_JP_PER_YEAR
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
    grouped: dict[str, dict[str, Any]] = {}
    with uow:
        scope = units.reachable_units(uow.session, caller, unit_code or None)
        statement = units.in_units(statement, Employee.unit_code, scope)
        for employee, employee_jp in uow.session.execute(statement):
            unit = grouped.setdefault(
                employee.unit_code,
                {"unit_code": employee.unit_code, "unit_name": employee.unit_name, "employees": []},
            )
            unit["employees"].append(
                {
                    "nip": employee.nip,
                    "name": employee.name,
                    "jp": int(employee_jp),
                    "shortfall_jp": minimum - int(employee_jp),
                }
            )
    return {"year": year, "minimum_jp": minimum, "units": list(grouped.values())}
