"""Allocations (pagu) and their amendments, from the HTTP API; each use case owns its
transaction and answers the position after it."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert

from asn_shared.errors import Conflict, NotFound
from asn_shared.persistence import UnitOfWork

from .. import domain
from ..models import Allocation
from .postings import lock, position_of, post
from .reports import allocation_view


def create_allocation(
    uow: UnitOfWork, command: dict[str, Any], rules: domain.Rules
) -> dict[str, Any]:
    """Record a unit's initial allocation for a year (a Conflict if it has one); its view."""
    movement = domain.allocation(command["amount_rupiah"])
    unit, year = command["unit_code"], command["fiscal_year"]
    with uow:
        _insert_allocation(uow, command)
        allocation = lock(uow.session, unit, year)
        post(uow, allocation, movement, rules.thresholds, **_references(command))
        uow.commit()
        return allocation_view(uow.session, unit, year)


def _insert_allocation(uow: UnitOfWork, command: dict[str, Any]) -> None:
    unit, year = command["unit_code"], command["fiscal_year"]
    created = uow.session.execute(
        pg_insert(Allocation.__table__)
        .values(
            unit_code=unit,
            fiscal_year=year,
            unit_name=command.get("unit_name"),
            sub_activity_code=command["sub_activity_code"],
            sub_activity_name=command.get("sub_activity_name"),
            account_code=command["account_code"],
            account_name=command.get("account_name"),
            allocated_rupiah=0,
        )
        .on_conflict_do_nothing()
        .returning(Allocation.__table__.c.unit_code)
    ).first()
    if not created:
        raise Conflict(
            f"Unit {unit} sudah punya pagu tahun {year}; ubah dengan perubahan (amendment)."
        )


def amend_allocation(
    uow: UnitOfWork, unit: str, year: int, command: dict[str, Any], rules: domain.Rules
) -> dict[str, Any]:
    """Set a new allocated total (the ledger records the difference); the view after it."""
    with uow:
        allocation = lock(uow.session, unit, year)
        if allocation is None:
            raise NotFound(f"Unit {unit} belum punya pagu tahun {year}.")
        movement = domain.amendment(position_of(allocation), command["allocated_rupiah"])
        post(uow, allocation, movement, rules.thresholds, **_references(command))
        uow.commit()
        return allocation_view(uow.session, unit, year)


def _references(command: dict[str, Any]) -> dict[str, Any]:
    """What the ledger entry keeps of the request: its reference and note."""
    return {"reference": command.get("reference"), "note": command.get("note")}
