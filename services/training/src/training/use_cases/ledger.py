"""Completion and the 20 JP ledger (1 JP = 45 minutes)."""

from __future__ import annotations

import uuid
from typing import Any

from asn_shared.auth import Principal
from asn_shared.errors import Conflict, NotFound, RuleBroken
from asn_shared.persistence import UnitOfWork

from .. import domain, repository, views
from ..domain import ItemStatus, Status
from ..models import Enrollment, LedgerEntry, Proposal, ProposalItem
from ..repository import ProposalRepository
from . import catalogue, employees, enrolment, proposals


def complete_enrollment(
    uow: UnitOfWork, enrollment_id: uuid.UUID, command: dict[str, Any], caller: Principal
) -> dict[str, Any]:
    """Credit the JP to the year the development ended in; the proposal completes with its
    last open enrolment."""
    with uow:
        repo = uow.repository(repository.sql)
        proposal_id = enrolment.find_enrollment(uow, enrollment_id, caller).proposal_id
        proposal = proposals.find_proposal(uow, proposal_id, lock=True) if proposal_id else None
        enrollment = enrolment.find_enrollment(uow, enrollment_id, lock=True)
        if enrollment.status != "enrolled":
            raise Conflict(f"Pendaftaran berstatus {enrollment.status} tidak dapat diselesaikan.")
        batch, programme = enrollment.batch, enrollment.programme
        started_on = command.get("started_on") or batch.starts_on
        ended_on = command.get("ended_on") or batch.ends_on
        if ended_on < started_on:
            raise RuleBroken(
                "Tanggal selesai sebelum tanggal mulai.", fields={"ended_on": ["Before start."]}
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
        repo.add_ledger_entry(entry)
        item = complete_item(repo, proposal, enrollment) if proposal else None
        publish_completed(uow, entry, item)
        uow.commit()
        return views.enrollment_view(enrollment)


def publish_completed(uow: UnitOfWork, entry: LedgerEntry, item: ProposalItem | None) -> None:
    """``enrollment.completed``: the JP of ``entry`` booked (``item``: the proposal item it
    settles, if any)."""
    uow.publish(
        "enrollment.completed",
        views.enrollment_completed_data(entry, item),
        subject=entry.employee_nip,
    )


def complete_item(
    repo: ProposalRepository, proposal: Proposal, enrollment: Enrollment
) -> ProposalItem | None:
    """Complete the enrolment's item (returned), and the proposal with its last one."""
    completed = None
    for item in proposal.items:
        if item.id == enrollment.item_id:
            item.status = ItemStatus.COMPLETED.value
            completed = item
    still_open = repo.open_enrolment_count(proposal.id)
    if not still_open and proposal.status == Status.ENROLLED:
        proposal.status = domain.transition(proposal.status, Status.COMPLETED).value
    return completed


def record_development(
    uow: UnitOfWork, command: dict[str, Any], caller: Principal
) -> dict[str, Any]:
    """Development done elsewhere (a seminar, a course), with its evidence, into the ledger."""
    with uow:
        repo = uow.repository(repository.sql)
        employee = employees.known_employee(repo, command["employee_nip"])
        repo.check_reach(caller, employee.nip, employee.unit_code)
        jp = command.get("jp")
        if "minutes" in command:
            jp = domain.jp_from_minutes(command["minutes"])
        jp = catalogue.activity_jp(repo, command["form"], command["activity"], jp)
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
        repo.add_ledger_entry(entry)
        publish_completed(uow, entry, None)
        uow.commit()
        return views.ledger_entry_view(entry)


def jp_ledger(uow: UnitOfWork, nip: str, year: int, caller: Principal) -> dict[str, Any]:
    caller.require_nip(nip)
    with uow:
        repo = uow.repository(repository.sql)
        employee = repo.employee(nip)
        entries = repo.ledger_entries(nip, year)
        if employee is None and not entries:
            raise NotFound(f"Pegawai dengan NIP {nip} belum dikenal layanan pelatihan.")
        unit_code = employee.unit_code if employee else entries[-1].unit_code
        repo.check_reach(caller, nip, unit_code)
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
    grouped: dict[str, dict[str, Any]] = {}
    with uow:
        repo = uow.repository(repository.sql)
        scope = repo.reachable_units(caller, unit_code or None)
        for employee, employee_jp in repo.employees_under(year, minimum, unit_code, scope):
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
