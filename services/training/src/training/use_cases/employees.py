"""Employees as training knows them: a projection of competency's events."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from asn_shared.errors import RuleBroken
from asn_shared.events import Event
from asn_shared.persistence import UnitOfWork

from .. import repository
from ..models import Employee


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


def known_employee(repo: repository.ProposalRepository, nip: str) -> Employee:
    employee = repo.employee(nip)
    if employee is None:
        raise RuleBroken(
            f"Pegawai dengan NIP {nip} belum dikenal layanan pelatihan.",
            fields={"employee_nip": ["Unknown employee."]},
        )
    return employee
