"""What closing the open competency gaps would cost, per unit and fiscal year.

A gap is a competency below its standard in an employee's current assessment (as the
review of that assessment stored it). Per gap, the first that applies:

- *funded*: development approved, enrolled or completed for the employee reaches the
  required level; it costs nothing more (budget has reserved or spent it already);
- *proposed*: an item of an open, not yet funded proposal of the year (pending budget,
  waitlisted, or the waiting part of a partial approval) names the competency; the item's cost
  counts once however many gaps it serves;
- *open*: the rest. Their cost is the cheapest set of catalogue programmes, per employee,
  that together reach every such required level, using programmes with a batch that ends in
  the year; a gap no programme reaches is counted as unclosable.

The cost of closing the gaps is what is proposed plus what is open: the money the unit
still needs beyond what budget has already committed.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from asn_shared.auth import Principal
from asn_shared.persistence import UnitOfWork

from .. import repository
from ..domain import NOT_YET_APPROVED, ItemStatus, Status
from ..models import Assessment, ProposalItem

FUNDED_ITEMS = (ItemStatus.APPROVED, ItemStatus.ENROLLED, ItemStatus.COMPLETED)
UNFUNDED_PROPOSALS = (*NOT_YET_APPROVED, Status.PARTIALLY_APPROVED)
UNFUNDED_ITEMS = (ItemStatus.PROPOSED, ItemStatus.WAITLISTED)
EXACT_UP_TO = 16  # open gaps of one employee planned exactly; more (unheard of) greedily


@dataclass(frozen=True)
class Gap:
    nip: str
    competency_code: str
    required_level: int


@dataclass
class UnitCost:
    unit_code: str
    unit_name: str
    employees: set[str] = field(default_factory=set)
    gaps: int = 0
    funded_gaps: int = 0
    proposed_gaps: int = 0
    open_gaps: int = 0
    unclosable_gaps: int = 0
    proposed_rupiah: int = 0
    unplanned_rupiah: int = 0

    def view(self) -> dict[str, Any]:
        return {
            "unit_code": self.unit_code,
            "unit_name": self.unit_name,
            "employees_with_gaps": len(self.employees),
            "gaps": self.gaps,
            "funded_gaps": self.funded_gaps,
            "proposed_gaps": self.proposed_gaps,
            "open_gaps": self.open_gaps,
            "unclosable_gaps": self.unclosable_gaps,
            "proposed_rupiah": self.proposed_rupiah,
            "unplanned_rupiah": self.unplanned_rupiah,
            "closing_cost_rupiah": self.proposed_rupiah + self.unplanned_rupiah,
        }


def cheapest_cover(
    needed: Iterable[str], programmes: Mapping[str, tuple[int, frozenset[str]]]
) -> tuple[int, set[str], set[str]]:
    """The cheapest set of ``programmes`` (code → cost, competencies it closes) closing every
    ``needed`` competency it can: (cost, programmes chosen, competencies none closes)."""
    needed = sorted(set(needed))
    reachable = set().union(*(covers for _, covers in programmes.values())) if programmes else set()
    closable = [code for code in needed if code in reachable]
    unclosable = set(needed) - set(closable)
    if not closable:
        return 0, set(), unclosable
    bit = {code: 1 << index for index, code in enumerate(closable)}
    masks = {
        code: (cost, sum(bit[c] for c in covers if c in bit))
        for code, (cost, covers) in programmes.items()
    }
    masks = {code: value for code, value in masks.items() if value[1]}
    full = (1 << len(closable)) - 1
    if len(closable) > EXACT_UP_TO:
        return (*_greedy(full, masks), unclosable)
    best: dict[int, tuple[int, tuple[str, ...]]] = {0: (0, ())}
    for mask in range(full + 1):  # every reachable mask is final before it is extended
        if mask not in best:
            continue
        cost, chosen = best[mask]
        for code, (price, covers) in sorted(masks.items()):
            grown = mask | covers
            if grown != mask and (grown not in best or cost + price < best[grown][0]):
                best[grown] = (cost + price, (*chosen, code))
    cost, chosen = best[full]
    return cost, set(chosen), unclosable


def _greedy(full: int, masks: Mapping[str, tuple[int, int]]) -> tuple[int, set[str]]:
    covered, cost, chosen = 0, 0, set()
    while covered != full:
        code, (price, covers) = min(
            masks.items(),
            key=lambda kv: (kv[1][0] / max(bin(kv[1][1] & ~covered).count("1"), 1e-9), kv[0]),
        )
        covered |= covers
        cost += price
        chosen.add(code)
    return cost, chosen


def gap_closing_cost(
    uow: UnitOfWork, fiscal_year: int, unit_code: str | None, caller: Principal
) -> dict[str, Any]:
    with uow:
        repo = uow.repository(repository.sql)
        scope = repo.reachable_units(caller, unit_code or None)
        employees = {e.nip: e for e in repo.employees_in(scope, unit_code)}
        nips = list(employees)
        gaps = current_gaps(repo.reviewed_assessments(nips))
        funded = _highest(repo.funded_programme_levels(nips, FUNDED_ITEMS))
        proposed_items: dict[str, list[ProposalItem]] = defaultdict(list)
        for item, nip in repo.unfunded_items(nips, fiscal_year, UNFUNDED_PROPOSALS, UNFUNDED_ITEMS):
            proposed_items[nip].append(item)
        catalogue = {
            p.code: (p.cost_rupiah, p.levels()) for p in repo.programmes_ending_in(fiscal_year)
        }
        report = _per_unit(employees, gaps, funded, proposed_items, catalogue)
    return {
        "fiscal_year": fiscal_year,
        "units": [cost.view() for _, cost in sorted(report.items())],
    }


def current_gaps(assessments: Iterable[Assessment]) -> list[Gap]:
    """The negative gaps of each employee's current assessments (one per jabatan), from
    their reviewed assessments newest first."""
    latest: dict[tuple[str, str | None], Assessment] = {}
    for assessment in assessments:
        latest.setdefault((assessment.employee_nip, assessment.jabatan_code), assessment)
    gaps = []
    for assessment in latest.values():
        for row in assessment.review.get("competencies", []):
            if row["achieved_level"] < row["required_level"]:
                gaps.append(
                    Gap(assessment.employee_nip, row["competency_code"], row["required_level"])
                )
    return gaps


def _highest(rows: Iterable[tuple[str, str, int]]) -> dict[tuple[str, str], int]:
    """Per employee and competency, the highest level funded development brings them to."""
    levels: dict[tuple[str, str], int] = {}
    for nip, competency, level in rows:
        levels[(nip, competency)] = max(level, levels.get((nip, competency), 0))
    return levels


def _per_unit(employees, gaps, funded, proposed_by_nip, catalogue) -> dict[str, UnitCost]:
    report: dict[str, UnitCost] = {}
    open_by_nip: dict[str, list[Gap]] = defaultdict(list)
    counted_items: set[uuid.UUID] = set()
    for gap in gaps:
        employee = employees[gap.nip]
        unit = report.setdefault(
            employee.unit_code, UnitCost(employee.unit_code, employee.unit_name)
        )
        unit.gaps += 1
        unit.employees.add(gap.nip)
        if funded.get((gap.nip, gap.competency_code), 0) >= gap.required_level:
            unit.funded_gaps += 1
            continue
        serving = [i for i in proposed_by_nip[gap.nip] if gap.competency_code in i.competency_codes]
        if serving:
            unit.proposed_gaps += 1
            for item in serving:
                if item.id not in counted_items:
                    counted_items.add(item.id)
                    unit.proposed_rupiah += item.cost_rupiah
            continue
        unit.open_gaps += 1
        open_by_nip[gap.nip].append(gap)
    for nip, open_gaps in open_by_nip.items():
        unit = report[employees[nip].unit_code]
        required = {g.competency_code: g.required_level for g in open_gaps}
        programmes = {
            code: (cost, frozenset(c for c, need in required.items() if levels.get(c, 0) >= need))
            for code, (cost, levels) in catalogue.items()
        }
        cost, _, unclosable = cheapest_cover(required, programmes)
        unit.unplanned_rupiah += cost
        unit.unclosable_gaps += len(unclosable)
    return report
