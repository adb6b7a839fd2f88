"""Allocations (pagu) and their amendments, from the HTTP API; each use case owns its
transaction and answers the position after it."""

from __future__ import annotations

from typing import Any

from asn_shared.errors import Conflict, NotFound
from asn_shared.persistence import UnitOfWork

from .. import domain, repository
from .postings import position_of, post
from .reports import allocation_view


def create_allocation(
    uow: UnitOfWork, command: dict[str, Any], rules: domain.Rules
) -> dict[str, Any]:
    """Record a unit's initial allocation for a year (a Conflict if it has one); its view."""
    movement = domain.allocation(command["amount_rupiah"])
    unit, year = command["unit_code"], command["fiscal_year"]
    with uow:
        repo = uow.repository(repository.sql)
        _insert_allocation(repo, command)
        allocation = repo.locked_allocation(unit, year)
        post(uow, allocation, movement, rules.thresholds, **_references(command))
        uow.commit()
        return allocation_view(repo, unit, year)


def _insert_allocation(repo: repository.BudgetRepository, command: dict[str, Any]) -> None:
    unit, year = command["unit_code"], command["fiscal_year"]
    created = repo.claim_allocation(
        {
            "unit_code": unit,
            "fiscal_year": year,
            "unit_name": command.get("unit_name"),
            "sub_activity_code": command["sub_activity_code"],
            "sub_activity_name": command.get("sub_activity_name"),
            "account_code": command["account_code"],
            "account_name": command.get("account_name"),
            "allocated_rupiah": 0,
        }
    )
    if not created:
        raise Conflict(
            f"Unit {unit} sudah punya pagu tahun {year}; ubah dengan perubahan (amendment)."
        )


def amend_allocation(
    uow: UnitOfWork, unit: str, year: int, command: dict[str, Any], rules: domain.Rules
) -> dict[str, Any]:
    """Set a new allocated total (the ledger records the difference); the view after it."""
    with uow:
        repo = uow.repository(repository.sql)
        allocation = repo.locked_allocation(unit, year)
        if allocation is None:
            raise NotFound(f"Unit {unit} belum punya pagu tahun {year}.")
        movement = domain.amendment(position_of(allocation), command["allocated_rupiah"])
        post(uow, allocation, movement, rules.thresholds, **_references(command))
        uow.commit()
        return allocation_view(repo, unit, year)


def _references(command: dict[str, Any]) -> dict[str, Any]:
    """What the ledger entry keeps of the request: its reference and note."""
    return {"reference": command.get("reference"), "note": command.get("note")}
