"""Who may be told: employees as competency announces them, supervisors, officials by unit."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from sqlalchemy import CompoundSelect, bindparam, exists, func, select, union_all
from sqlalchemy.dialects.postgresql import Insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from asn_shared.errors import NotFound
from asn_shared.events import Event
from asn_shared.persistence import UnitOfWork, transaction_scoped

from .. import repository
from ..domain import (
    BKPSDM_ADMIN,
    EMPLOYEE,
    OFFICIAL_ROLES,
    SUPERVISOR,
    UNIT_OPERATOR,
    EventFacts,
    Recipient,
    language_of,
)
from ..models import Employee
from .common import EMPLOYEES, RecipientUnknown, as_recipient

if TYPE_CHECKING:
    from ..repository import PlanningRepository
    from .setup import Setup

# --- recipients ---------------------------------------------------------------------------


def record_employee(uow: UnitOfWork, event: Event) -> None:
    """employee.registered / employee.updated: keep the highest version, in any order."""
    uow.repository(repository.sql).upsert_employee(event.data)


def upsert_employee(session: Session, employee: dict[str, Any]) -> None:
    """Store the employee unless a newer version is stored; either way the stored row is
    what :func:`known` answers for the rest of the transaction (one statement for both).
    Nothing to do when the transaction stored this version or a newer one already."""
    stored = transaction_scoped(session, STORED)
    if stored.get(employee["nip"], 0) >= employee["version"]:
        return  # what known() holds for the NIP is the row as stored then
    row = session.execute(_upsert_statement(), _values(employee)).first()
    transaction_scoped(session, KNOWN)[employee["nip"]] = row
    stored[employee["nip"]] = employee["version"]


def store_employees(session: Session, employees: Iterable[dict[str, Any]]) -> None:
    """:func:`upsert_employee` for many with one statement, the highest version of each NIP;
    what is stored is read by :func:`read_known`, which must follow."""
    newest: dict[str, dict[str, Any]] = {}
    for employee in employees:
        if employee["version"] > newest.get(employee["nip"], {"version": 0})["version"]:
            newest[employee["nip"]] = employee
    if newest:
        rows = [_values(newest[nip]) for nip in sorted(newest)]  # rows locked in NIP order
        session.execute(_insert_newer(), rows)
        stored = transaction_scoped(session, STORED)
        stored.update({nip: employee["version"] for nip, employee in newest.items()})
        known = transaction_scoped(session, KNOWN)
        for nip in newest:
            known.pop(nip, None)


def _values(employee: dict[str, Any]) -> dict[str, Any]:
    unit = employee["unit"]
    return {
        "nip": employee["nip"],
        "name": employee["name"],
        "email": employee.get("email"),
        "unit_code": unit["code"],
        "unit_name": unit["name"],
        "supervisor_nip": employee.get("supervisor_nip"),
        "language": language_of(employee.get("language")),
        "version": employee["version"],
    }


@functools.cache
def _insert_newer() -> Insert:
    """The employee inserted, or updated when the version is newer."""
    statement = pg_insert(EMPLOYEES).values(
        {name: bindparam(name) for name in (*_RECIPIENT, "version")}
    )
    changed = {name: statement.excluded[name] for name in (*_RECIPIENT, "version") if name != "nip"}
    return statement.on_conflict_do_update(
        index_elements=[EMPLOYEES.c.nip],
        set_={**changed, "updated_at": func.now()},
        where=EMPLOYEES.c.version < statement.excluded.version,
    )


@functools.cache
def _upsert_statement() -> CompoundSelect:
    """:func:`_insert_newer`, then the row as stored: the one written, else the one that was
    there (the CTE's select sees the table as it was before the statement)."""
    written = _insert_newer().returning(*_RECIPIENT_COLUMNS).cte("written")
    kept = _EMPLOYEE.where(~exists(select(written.c.nip)))
    return union_all(select(*[written.c[name] for name in _RECIPIENT]), kept)


def get_employee(uow: UnitOfWork, nip: str) -> Employee:
    with uow:
        employee = uow.repository(repository.sql).stored_employee(nip)
    if employee is None:
        raise NotFound(f"No employee {nip} has been announced to this service.")
    return employee


_RECIPIENT = ("nip", "name", "email", "language", "unit_code", "unit_name", "supervisor_nip")
_RECIPIENT_COLUMNS = [EMPLOYEES.c[name] for name in _RECIPIENT]
_EMPLOYEE = select(*_RECIPIENT_COLUMNS).where(EMPLOYEES.c.nip == bindparam("nip"))


KNOWN = "notification.employees"  # the employees read or stored in the transaction
STORED = "notification.stored_versions"  # the version of each NIP the transaction stored


def known(session: Session, nip: str) -> Any:
    """The employee as this service knows them (a row, or None), read once per transaction."""
    known = transaction_scoped(session, KNOWN)
    if nip not in known:
        known[nip] = session.execute(_EMPLOYEE, {"nip": nip}).first()
    return known[nip]


def read_known(session: Session, nips: Iterable[str]) -> None:
    """The employees ``nips`` and their supervisors read with one statement and kept as
    :func:`known` keeps what it reads (the NIPs not found as unknown)."""
    known = transaction_scoped(session, KNOWN)
    wanted = sorted(set(nips) - set(known))
    if wanted:
        rows = session.execute(_EMPLOYEES_AND_SUPERVISORS, {"nips": wanted}).all()
        known.update(dict.fromkeys(wanted))
        known.update((row.nip, row) for row in rows)


_WANTED = EMPLOYEES.c.nip.in_(bindparam("nips", expanding=True))
_EMPLOYEES_AND_SUPERVISORS = select(*_RECIPIENT_COLUMNS).where(
    _WANTED | EMPLOYEES.c.nip.in_(select(EMPLOYEES.c.supervisor_nip).where(_WANTED))
)


def _employee(repo: PlanningRepository, nip: str, role: str) -> Any:
    employee = repo.employee(nip)
    if employee is None:
        raise RecipientUnknown(f"{role} {nip} is not known yet (no employee.registered seen)")
    return employee


def audience(
    repo: PlanningRepository, kind: str, facts: EventFacts, setup: Setup
) -> list[Recipient]:
    """Who ``kind`` is for an event with these facts (officials from ``setup``)."""
    if kind in (EMPLOYEE, SUPERVISOR):
        if facts.employee_nip is None:
            return []
        employee = _employee(repo, facts.employee_nip, "employee")
        if kind == EMPLOYEE:
            return [as_recipient(employee)]
        if employee.supervisor_nip is None:
            return []
        return [as_recipient(_employee(repo, employee.supervisor_nip, "supervisor"))]
    if kind not in OFFICIAL_ROLES or (kind == UNIT_OPERATOR and facts.unit_code is None):
        return []
    return [
        who
        for role, unit_code, who in setup.officials
        if role == kind and (kind == BKPSDM_ADMIN or unit_code == facts.unit_code)
    ]


def unit_name(repo: PlanningRepository, facts: EventFacts, data: dict[str, Any]) -> str:
    """The unit's name: from the event itself, else from the employee it concerns, else from
    any employee of the unit."""
    if facts.unit_code is None:
        return "-"
    employee = data.get("employee")
    unit = employee.get("unit") if isinstance(employee, dict) else None
    if isinstance(unit, dict) and unit.get("code") == facts.unit_code and unit.get("name"):
        return unit["name"]
    if facts.employee_nip is not None:
        employee = repo.employee(facts.employee_nip)  # the audience needs it anyway
        if employee is not None and employee.unit_code == facts.unit_code:
            return str(employee.unit_name)
    return repo.a_unit_name(facts.unit_code) or facts.unit_code
