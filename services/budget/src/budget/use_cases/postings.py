"""Every change of a unit's money: the unit-year row locked, the movement applied by the
domain rules, its ledger entry appended and thresholds announced once."""

from __future__ import annotations

from typing import Any

from asn_shared.persistence import UnitOfWork

from .. import domain, repository
from ..models import Allocation, LedgerEntry

# --- positions --------------------------------------------------------------------------


def position_of(allocation: Allocation | None) -> domain.Position:
    if allocation is None:
        return domain.Position()
    return domain.Position(
        allocation.allocated_rupiah, allocation.reserved_rupiah, allocation.spent_rupiah
    )


def position_data(unit_code: str, fiscal_year: int, position: domain.Position) -> dict[str, Any]:
    """The position fields every budget event carries."""
    return {
        "unit_code": unit_code,
        "fiscal_year": fiscal_year,
        "allocated_rupiah": position.allocated,
        "committed_rupiah": position.committed,
        "available_rupiah": position.available,
    }


def post(
    uow: UnitOfWork,
    allocation: Allocation,
    movement: domain.Movement,
    thresholds: tuple[int, ...],
    **references: Any,
) -> domain.Position:
    """Apply ``movement`` to the locked ``allocation`` and append its ledger entry."""
    after = domain.apply(position_of(allocation), movement)
    allocation.allocated_rupiah = after.allocated
    allocation.reserved_rupiah = after.reserved
    allocation.spent_rupiah = after.spent
    if movement.amount or movement.allocated or movement.reserved or movement.spent:
        uow.repository(repository.sql).add_entry(
            LedgerEntry(
                unit_code=allocation.unit_code,
                fiscal_year=allocation.fiscal_year,
                kind=movement.kind.value,
                amount_rupiah=movement.amount,
                allocated_delta=movement.allocated,
                reserved_delta=movement.reserved,
                spent_delta=movement.spent,
                **references,
            )
        )
    _announce_thresholds(uow, allocation, after, thresholds)
    return after


def _announce_thresholds(
    uow: UnitOfWork, allocation: Allocation, position: domain.Position, thresholds: tuple[int, ...]
) -> None:
    if not domain.reached_thresholds(position, thresholds):
        return
    unit, year = allocation.unit_code, allocation.fiscal_year
    repo = uow.repository(repository.sql)
    announced = repo.announced_thresholds(unit, year)
    for threshold in domain.to_announce(position, thresholds, announced):
        # the primary key (unit, year, threshold) is the last word on "once per year"
        inserted = repo.claim_threshold(
            {
                "unit_code": unit,
                "fiscal_year": year,
                "threshold_percent": threshold,
                "allocated_rupiah": position.allocated,
                "committed_rupiah": position.committed,
            }
        )
        if inserted:
            uow.publish(
                "budget.threshold_reached",
                {**position_data(unit, year, position), "threshold_percent": threshold},
                subject=f"{unit}/{year}",
            )
