"""Enrolment of employees into batches, from a proposal or directly."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from asn_shared import units
from asn_shared.auth import Principal
from asn_shared.errors import Conflict, RuleBroken
from asn_shared.persistence import UnitOfWork, page_of

from .. import domain, repository, views
from ..domain import ItemStatus, Status
from ..models import Batch, Enrollment, ProposalItem
from ..repository import ProposalRepository
from . import catalogue, common, employees, proposals


def enrol_proposal(
    uow: UnitOfWork, proposal_id: uuid.UUID, caller: Principal
) -> list[dict[str, Any]]:
    """Enrol the approved items in their batches (a full batch: the next one with a seat)."""
    with uow:
        repo = uow.repository(repository.sql)
        proposal = proposals.find_proposal(uow, proposal_id, caller, lock=True)
        proposal.status = common.checked(domain.transition, proposal.status, Status.ENROLLED).value
        enrolments = []
        for item in proposal.items:
            if item.status != ItemStatus.APPROVED:
                continue
            batch = seat(repo, item.programme_code, item.batch)
            enrolments.append(
                enrol(uow, proposal.employee_nip, proposal.unit_code, batch, item, proposal.id)
            )
            item.status = ItemStatus.ENROLLED.value
        uow.commit()
        return [views.enrollment_view(e) for e in enrolments]


def enrol_directly(uow: UnitOfWork, command: dict[str, Any], caller: Principal) -> dict[str, Any]:
    with uow:
        repo = uow.repository(repository.sql)
        employee = employees.known_employee(repo, command["employee_nip"])
        repo.check_reach(caller, employee.nip, employee.unit_code)
        catalogue.find_programme(repo, command["programme_code"])
        wanted = repo.batch(command["batch_id"])
        if wanted is None or wanted.programme_code != command["programme_code"]:
            raise RuleBroken(
                "Angkatan tidak termasuk program itu.", fields={"batch_id": ["Unknown batch."]}
            )
        batch = seat(repo, command["programme_code"], wanted)
        enrollment = enrol(uow, employee.nip, employee.unit_code, batch)
        uow.commit()
        return views.enrollment_view(enrollment)


def seat(repo: ProposalRepository, programme_code: str, wanted: Batch | None) -> Batch:
    """Lock the wanted batch and the later ones; take a seat in the first with room."""
    if wanted is None:
        raise Conflict(f"Butir program {programme_code} tidak memiliki angkatan.")
    batches = repo.batches_from(programme_code, wanted.starts_on)
    by_id = {b.id: b for b in batches}
    placed = domain.place_in_batch(
        seats(by_id[wanted.id]), [seats(b) for b in batches if b.id != wanted.id]
    )
    if placed is None:
        raise Conflict(f"Semua angkatan program {programme_code} sudah penuh.")
    batch = by_id[placed.batch_id]
    batch.enrolled += 1
    return batch


def seats(batch: Batch) -> domain.Seats:
    return domain.Seats(batch.id, batch.starts_on, batch.capacity, batch.enrolled)


def enrol(
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
    uow.repository(repository.sql).add_enrollment(enrollment)
    uow.publish("enrollment.created", views.enrollment_created_data(enrollment), subject=nip)
    return enrollment


def cancel_enrollment(
    uow: UnitOfWork, enrollment_id: uuid.UUID, caller: Principal
) -> dict[str, Any]:
    """Cancel a direct enrolment; one from a proposal is cancelled with its proposal."""
    with uow:
        enrollment = find_enrollment(uow, enrollment_id, caller, lock=True)
        if enrollment.proposal_id is not None:
            raise Conflict(
                "Pendaftaran ini berasal dari usulan: batalkan usulannya "
                f"(POST /proposals/{enrollment.proposal_id}/cancel) agar anggaran dilepas."
            )
        if enrollment.status != "enrolled":
            raise Conflict(f"Pendaftaran berstatus {enrollment.status} tidak dapat dibatalkan.")
        uow.repository(repository.sql).free_seat(enrollment)
        uow.commit()
        return views.enrollment_view(enrollment)


def list_enrollments(uow: UnitOfWork, query: dict[str, Any], caller: Principal) -> dict[str, Any]:
    with uow:
        query, scope = common.narrowed(uow.session, caller, query)
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


def find_enrollment(
    uow: UnitOfWork,
    enrollment_id: uuid.UUID,
    caller: Principal | None = None,
    *,
    lock: bool = False,
) -> Enrollment:
    """The enrolment, if it exists and ``caller`` (when given) may reach its unit's."""
    enrollment = uow.repository(repository.sql).enrollment(enrollment_id, lock=lock)
    missing = f"Pendaftaran {enrollment_id} tidak ada."
    return common.reachable(uow, enrollment, missing, caller)
