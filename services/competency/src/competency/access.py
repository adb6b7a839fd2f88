"""Who may reach which unit's and which employee's records (see asn_shared.auth for roles)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from asn_shared import units
from asn_shared.auth import ADMIN, EMPLOYEE, OPERATOR, Principal

from .models import Employee, Unit


def scope(session: Session, principal: Principal) -> set[str] | None:
    """The unit codes the caller may see; ``None`` for all."""
    return units.units_in_scope(session, principal, Unit.__table__)


def check_unit(session: Session, principal: Principal, unit_code: str | None) -> None:
    """Admins reach every unit; operators theirs and the units below."""
    if principal.role == OPERATOR:
        principal.require_unit(unit_code, scope(session, principal))
    else:
        principal.require(ADMIN)


def check_employee(session: Session, principal: Principal, nip: str) -> None:
    """Employees reach themselves; operators the employees of their units."""
    nip = "".join(nip.split())
    unit_code = None
    if principal.role == OPERATOR:
        unit_code = session.scalar(select(Employee.unit_code).where(Employee.nip == nip))
        if unit_code is None:  # an unknown NIP answers 404 further on
            return
    units.check_reach(session, principal, nip, unit_code, Unit.__table__)


def narrow(session: Session, principal: Principal, query: dict[str, Any]) -> dict[str, Any]:
    """A list query limited to what the caller may see: an employee's own NIP, an operator's
    units (a ``unit`` filter outside them is refused)."""
    if principal.role == EMPLOYEE:
        return {**query, "nip": principal.own_nip("".join(query.get("nip", "").split()))}
    if principal.role == OPERATOR:
        if query.get("unit"):
            check_unit(session, principal, query["unit"])
            return query
        return {**query, "unit": principal.scope, "include_sub_units": True}
    return query
