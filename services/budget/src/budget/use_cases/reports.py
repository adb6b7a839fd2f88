"""What the API shows: positions summed from the ledger, pages of allocations and ledger
entries, the utilisation report and the decision on a proposal."""

from __future__ import annotations

import uuid
from typing import Any

from asn_shared.auth import Principal
from asn_shared.errors import NotFound
from asn_shared.persistence import UnitOfWork, plain

from .. import domain, repository
from ..models import Allocation


def _views(
    repo: repository.BudgetRepository, allocations: list[Allocation], **options: Any
) -> list[dict]:
    keys = [(a.unit_code, a.fiscal_year) for a in allocations]
    positions = repo.ledger_positions(keys, **options) if keys else {}
    thresholds = repo.thresholds_reached(keys)
    return [
        _view(a, positions.get((a.unit_code, a.fiscal_year), domain.Position()), thresholds[key])
        for a, key in zip(allocations, keys, strict=True)
    ]


def _view(allocation: Allocation, position: domain.Position, thresholds: list[int]) -> dict:
    return {
        "unit_code": allocation.unit_code,
        "unit_name": allocation.unit_name,
        "fiscal_year": allocation.fiscal_year,
        "sub_activity_code": allocation.sub_activity_code,
        "sub_activity_name": allocation.sub_activity_name,
        "account_code": allocation.account_code,
        "account_name": allocation.account_name,
        **_figures(position),
        "thresholds_reached": thresholds,
    }


def _figures(position: domain.Position) -> dict[str, Any]:
    return {
        "allocated_rupiah": position.allocated,
        "reserved_rupiah": position.reserved,
        "spent_rupiah": position.spent,
        "committed_rupiah": position.committed,
        "available_rupiah": position.available,
        "utilisation_percent": position.utilisation_percent,
    }


def position(uow: UnitOfWork, unit: str, year: int, caller: Principal) -> dict[str, Any]:
    """A unit's allocation and position for a year, for a caller who reaches the unit."""
    with uow:
        return allocation_view(uow.repository(repository.sql), unit, year, caller)


def allocation_view(
    repo: repository.BudgetRepository, unit: str, year: int, caller: Principal | None = None
) -> dict[str, Any]:
    """A unit's allocation and position for a year, summed from the ledger; ``caller``, when
    given, must reach the unit."""
    if caller is not None:
        repo.check_unit(caller, unit)
    allocation = repo.allocation(unit, year)
    if allocation is None:
        raise NotFound(f"Unit {unit} belum punya pagu tahun {year}.")
    return _views(repo, [allocation])[0]


def allocations_page(
    uow: UnitOfWork, query: dict[str, Any], caller: Principal
) -> tuple[list[dict], int]:
    with uow:
        repo = uow.repository(repository.sql)
        scope = repo.reachable_units(caller, query.get("unit_code") or None)
        rows, total = repo.allocation_page(query, scope)
        return _views(repo, rows), total


def ledger_page(
    uow: UnitOfWork, query: dict[str, Any], caller: Principal
) -> tuple[list[dict], int]:
    with uow:
        repo = uow.repository(repository.sql)
        rows, total = repo.ledger_page(query, repo.reachable_units(caller, query.get("unit_code")))
        return [plain(row) for row in rows], total


def utilisation_report(uow: UnitOfWork, fiscal_year: int, caller: Principal) -> dict[str, Any]:
    """Every unit's position for the year (of the caller's units), highest utilisation first,
    with their totals."""
    with uow:
        repo = uow.repository(repository.sql)
        allocations = repo.allocations_of_year(fiscal_year, repo.reachable_units(caller))
        positions = sorted(
            _views(repo, allocations, fiscal_year=fiscal_year),
            key=lambda view: (-view["utilisation_percent"], view["unit_code"]),
        )
        totals = domain.total(
            domain.Position(u["allocated_rupiah"], u["reserved_rupiah"], u["spent_rupiah"])
            for u in positions
        )
        return {"fiscal_year": fiscal_year, "units": positions, "totals": _figures(totals)}


def proposal_view(uow: UnitOfWork, proposal_id: uuid.UUID, caller: Principal) -> dict[str, Any]:
    with uow:
        repo = uow.repository(repository.sql)
        proposal = repo.proposal(proposal_id)
        if proposal is None:
            raise NotFound(f"Usulan {proposal_id} belum diterima oleh layanan anggaran.")
        caller.require_unit(proposal.unit_code, repo.reachable_units(caller))
        items = repo.proposal_items(proposal_id)
        return {
            **{
                name: getattr(proposal, name)
                for name in (
                    "proposal_id",
                    "unit_code",
                    "fiscal_year",
                    "employee_nip",
                    "status",
                    "reason",
                    "reservation_id",
                    "requested_rupiah",
                    "reserved_rupiah",
                )
            },
            "items": [plain(item) for item in items],
        }
