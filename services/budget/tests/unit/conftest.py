"""Reservations, releases and spending without broker or database: an in-memory repository
behind a fake unit of work."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest

from asn_shared.auth import Principal
from asn_testkit.fakes import FakeUnitOfWork, FakeUnitTree, incoming
from budget import domain
from budget.models import Allocation, LedgerEntry, Proposal, ProposalItem

NIP = "198609262015051001"
UNIT, YEAR = "KEC-PLAJU", 2026


class FakeBudgetRepository:
    """``budget.repository.BudgetRepository`` over dicts and lists."""

    def __init__(self) -> None:
        self.allocations: dict[tuple[str, int], Allocation] = {}
        self.proposals: dict[uuid.UUID, Proposal] = {}
        self.items: list[ProposalItem] = []
        self.entries: list[LedgerEntry] = []
        self.alerts: dict[tuple[str, int, int], dict[str, Any]] = {}
        self.units = FakeUnitTree({"KOTA": None, UNIT: "KOTA", "KEC-ILIR": "KOTA"})

    def locked_allocation(self, unit_code: str, fiscal_year: int) -> Allocation | None:
        return self.allocations.get((unit_code, fiscal_year))

    def claim_proposal(self, proposal: dict[str, Any]) -> bool:
        if proposal["proposal_id"] in self.proposals:
            return False
        row = {"requested_rupiah": 0, "reserved_rupiah": 0, "reservation_id": None, **proposal}
        self.proposals[proposal["proposal_id"]] = Proposal(**row)
        return True

    def proposal(self, proposal_id: uuid.UUID, *, lock: bool = False) -> Proposal | None:
        return self.proposals.get(proposal_id)

    def add_items(self, items: list[dict[str, Any]]) -> None:
        self.items.extend(ProposalItem(enrollment_id=None, spent_rupiah=None, **i) for i in items)

    def reserved_items(self, proposal_id: uuid.UUID) -> list[ProposalItem]:
        return [i for i in self.items if i.proposal_id == proposal_id and i.state == "reserved"]

    def reserved_item(
        self, proposal_id: uuid.UUID, item_id: uuid.UUID | None, programme_code: str
    ) -> ProposalItem | None:
        candidates = [
            i
            for i in self.reserved_items(proposal_id)
            if (i.item_id == item_id if item_id else i.programme_code == programme_code)
        ]
        return min(candidates, key=lambda i: i.ordinal, default=None)

    def already_spent(self, enrollment_id: uuid.UUID) -> bool:
        return any(
            e.kind == "spend" and e.enrollment_id == enrollment_id for e in self.entries
        ) or any(i.enrollment_id == enrollment_id for i in self.items)

    def add_entry(self, entry: LedgerEntry) -> None:
        self.entries.append(entry)

    def announced_thresholds(self, unit_code: str, fiscal_year: int) -> list[int]:
        return [t for (u, y, t) in self.alerts if (u, y) == (unit_code, fiscal_year)]

    def claim_threshold(self, alert: dict[str, Any]) -> bool:
        key = (alert["unit_code"], alert["fiscal_year"], alert["threshold_percent"])
        if key in self.alerts:
            return False
        self.alerts[key] = alert
        return True

    def claim_allocation(self, allocation: dict[str, Any]) -> bool:
        key = (allocation["unit_code"], allocation["fiscal_year"])
        if key in self.allocations:
            return False
        self.allocations[key] = Allocation(reserved_rupiah=0, spent_rupiah=0, **allocation)
        return True

    def allocation(self, unit_code: str, fiscal_year: int) -> Allocation | None:
        return self.allocations.get((unit_code, fiscal_year))

    def check_unit(self, caller: Principal, unit_code: str) -> None:
        caller.require_unit(unit_code, self.units.scope(caller))

    def ledger_positions(
        self, keys: list[tuple[str, int]], fiscal_year: int | None = None
    ) -> dict[tuple[str, int], domain.Position]:
        sums: dict[tuple[str, int], list[int]] = {}
        for e in self.entries:
            key = (e.unit_code, e.fiscal_year)
            if key in keys and fiscal_year in (None, e.fiscal_year):
                total = sums.setdefault(key, [0, 0, 0])
                total[0] += e.allocated_delta
                total[1] += e.reserved_delta
                total[2] += e.spent_delta
        return {key: domain.Position(*total) for key, total in sums.items()}

    def thresholds_reached(self, keys: list[tuple[str, int]]) -> dict[tuple[str, int], list[int]]:
        return {key: sorted(t for (u, y, t) in self.alerts if (u, y) == key) for key in keys}

    def reachable_units(self, caller: Principal, unit_code: str | None = None) -> set[str] | None:
        scope = self.units.scope(caller)
        if unit_code is not None:
            caller.require_unit(unit_code, scope)
        return scope

    def allocation_page(
        self, query: dict[str, Any], scope: set[str] | None
    ) -> tuple[list[Allocation], int]:
        found = [
            a
            for a in sorted(self.allocations.values(), key=lambda a: (-a.fiscal_year, a.unit_code))
            if (scope is None or a.unit_code in scope)
            and query.get("fiscal_year") in (None, a.fiscal_year)
            and query.get("unit_code") in (None, "", a.unit_code)
        ]
        return _page(found, query)

    def ledger_page(
        self, query: dict[str, Any], scope: set[str] | None
    ) -> tuple[list[LedgerEntry], int]:
        names = ("unit_code", "fiscal_year", "kind", "proposal_id")
        found = [
            e
            for e in self.entries
            if (scope is None or e.unit_code in scope)
            and all(query.get(n) in (None, getattr(e, n)) for n in names)
        ]
        return _page(found, query)

    def allocations_of_year(self, fiscal_year: int, scope: set[str] | None) -> list[Allocation]:
        return [
            a
            for a in self.allocations.values()
            if a.fiscal_year == fiscal_year and (scope is None or a.unit_code in scope)
        ]

    def proposal_items(self, proposal_id: uuid.UUID) -> list[ProposalItem]:
        return sorted(
            (i for i in self.items if i.proposal_id == proposal_id), key=lambda i: i.ordinal
        )

    # --- what a test sets up ----------------------------------------------------------------

    def allocate(self, rupiah: int, unit: str = UNIT, year: int = YEAR) -> Allocation:
        allocation = Allocation(
            unit_code=unit,
            fiscal_year=year,
            sub_activity_code="5.03.01.2.01",
            account_code="5.1.02.02.01",
            allocated_rupiah=rupiah,
            reserved_rupiah=0,
            spent_rupiah=0,
        )
        self.allocations[unit, year] = allocation
        return allocation


def _page(rows: list[Any], query: dict[str, Any]) -> tuple[list[Any], int]:
    start = (query["page"] - 1) * query["per_page"]
    return rows[start : start + query["per_page"]], len(rows)


@pytest.fixture
def repo() -> FakeBudgetRepository:
    return FakeBudgetRepository()


@pytest.fixture
def uow(repo) -> FakeUnitOfWork:
    return FakeUnitOfWork("budget", repo)


def item(programme: str, cost: int) -> dict[str, Any]:
    return {
        "item_id": uuid.uuid4(),
        "programme_code": programme,
        "programme_title": f"Pelatihan {programme}",
        "form": "klasikal",
        "activity": None,
        "jp": 24,
        "cost_rupiah": cost,
        "competency_codes": ["M.01"],
        "batch": None,
        "reasons": [{"competency_code": "M.01", "gap": -1.0, "rule": "closes_gap"}],
        "funding": None,
    }


def facts(proposal_id: uuid.UUID, status: str, unit: str = UNIT) -> dict[str, Any]:
    return {
        "proposal_id": proposal_id,
        "employee_nip": NIP,
        "employee_name": "Rina Marlina",
        "unit_code": unit,
        "fiscal_year": YEAR,
        "status": status,
    }


def created(*items: dict[str, Any], unit: str = UNIT):
    """``proposal.created`` for ``items`` (``item(...)``)."""
    return incoming(
        "proposal.created",
        {
            **facts(uuid.uuid4(), "pending_budget", unit),
            "assessment_id": None,
            "jabatan_code": None,
            "supersedes": None,
            "alternative_of": None,
            "items": list(items),
            "total_cost_rupiah": sum(i["cost_rupiah"] for i in items),
            "total_jp": sum(i["jp"] for i in items),
            "jp_before": 0,
        },
    )


def cancelled(proposal_id: uuid.UUID, reason: str = "superseded"):
    return incoming("proposal.cancelled", {**facts(proposal_id, "cancelled"), "reason": reason})


def completed(
    cost: int,
    *,
    proposal_id: uuid.UUID | None = None,
    item_id: uuid.UUID | None = None,
    programme: str | None = "P-A",
    funding: str | None = None,
    enrollment_id: uuid.UUID | None = None,
):
    return incoming(
        "enrollment.completed",
        {
            "enrollment_id": enrollment_id or uuid.uuid4(),
            "proposal_id": proposal_id,
            "proposal_item_id": item_id,
            "funding": funding,
            "employee_nip": NIP,
            "unit_code": UNIT,
            "programme_code": programme,
            "programme_title": "Pelatihan",
            "form": "klasikal",
            "activity": None,
            "jp": 24,
            "started_on": date(YEAR, 5, 4),
            "ended_on": date(YEAR, 5, 6),
            "jp_year": YEAR,
            "competency_codes": ["M.01"],
            "cost_rupiah": cost,
        },
    )


class Events:
    """The events budget receives, as the tests build them (a fixture)."""

    item = staticmethod(item)
    created = staticmethod(created)
    cancelled = staticmethod(cancelled)
    completed = staticmethod(completed)


@pytest.fixture
def events() -> type[Events]:
    return Events
