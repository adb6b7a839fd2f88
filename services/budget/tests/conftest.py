"""Fixtures of the budget service's tests: the service as real ``nameko run`` processes on a
fresh database and virtual host, a tap on budget events, and builders of the training events
the service consumes (published with the toolkit's ``publish_event``)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import eventlet
import pytest
from sqlalchemy import func, select

import budget
from asn_shared.persistence import make_engine
from asn_testkit.auth import admin_http
from asn_testkit.events import EventTap
from budget.models import Allocation, LedgerEntry

SERVICE_DIR = Path(__file__).resolve().parents[1]
MIGRATIONS = Path(budget.__file__).parent / "migrations"
YEAR = 2026
SUB_ACTIVITY = "x.xx.01.2.05.0009"
ACCOUNT = "5.1.02.02.12.0001"


@pytest.fixture
def budget_db(database) -> str:
    return database(migrations=MIGRATIONS)


@pytest.fixture
def start_budget(run_service, budget_db) -> Iterator[Callable[..., list]]:
    """``start_budget(replicas=1, env=None)``: replicas on one database, each its own port."""
    started: list = []

    def start(replicas: int = 1, env: dict[str, str] | None = None) -> list:
        def one(_: int):
            return run_service(
                "budget",
                "budget.service:BudgetService",
                SERVICE_DIR / "config.yaml",
                budget_db,
                env={"OUTBOX_POLL_INTERVAL": "0.2", **(env or {})},
                wait_healthy=False,
            )

        processes = list(eventlet.GreenPool(replicas).imap(one, range(replicas)))
        for process in processes:
            process.wait_healthy(timeout=60)
        started.extend(processes)
        return processes

    yield start
    # The test is over and its database and virtual host are dropped next: a graceful stop
    # (nameko unregisters the three handler queues one after another, about 1 s each) would
    # only add seconds to every test, so the processes are simply killed.
    for process in started:
        process.kill()


@pytest.fixture
def budget_events(tap) -> EventTap:
    """What the service publishes, seen from a queue bound before the test acts."""
    return tap("budget")


class TrainingEvents:
    """The data of the training events the budget service consumes, valid by the catalogue."""

    nip = "198609262015051001"

    def item(self, cost: int, programme_code: str | None = None) -> dict[str, Any]:
        return {
            "item_id": uuid.uuid4(),
            "programme_code": programme_code or f"PRG-{uuid.uuid4().hex[:6]}",
            "programme_title": "Bimbingan teknis layanan publik digital",
            "form": "klasikal",
            "activity": "bimbingan teknis",
            "jp": 24,
            "cost_rupiah": cost,
            "competency_codes": ["M.05"],
            "batch": None,
            "reasons": [{"competency_code": "M.05", "gap": -1.0, "rule": "closes_gap"}],
        }

    def proposal(self, unit: str, costs: list[int], year: int = YEAR, **extra) -> dict[str, Any]:
        items = [self.item(cost) for cost in costs]
        return {
            "proposal_id": uuid.uuid4(),
            "employee_nip": self.nip,
            "employee_name": "Siti Aminah",
            "unit_code": unit,
            "fiscal_year": year,
            "status": "pending_budget",
            "assessment_id": None,
            "supersedes": None,
            "items": items,
            "total_cost_rupiah": sum(costs),
            "total_jp": 24 * len(costs),
            "jp_before": 0,
            **extra,
        }

    def cancelled(self, proposal: dict[str, Any], reason: str = "dibatalkan operator") -> dict:
        facts = ("proposal_id", "employee_nip", "employee_name", "unit_code", "fiscal_year")
        return {**{k: proposal[k] for k in facts}, "status": "cancelled", "reason": reason}

    def completed(
        self,
        unit: str,
        cost: int,
        *,
        proposal: dict[str, Any] | None = None,
        item: dict[str, Any] | None = None,
        funding: str | None = None,
    ) -> dict[str, Any]:
        return {
            "enrollment_id": uuid.uuid4(),
            "proposal_id": proposal["proposal_id"] if proposal else None,
            "proposal_item_id": item["item_id"] if item else None,
            "funding": funding or ("budget" if item else None),
            "employee_nip": self.nip,
            "unit_code": unit,
            "programme_code": item["programme_code"] if item else "SEMINAR-LUAR",
            "programme_title": "Seminar",
            "form": "klasikal",
            "activity": None,
            "jp": 8,
            "started_on": date(YEAR, 3, 2),
            "ended_on": date(YEAR, 3, 3),
            "jp_year": YEAR,
            "competency_codes": [],
            "cost_rupiah": cost,
        }


@pytest.fixture
def training() -> TrainingEvents:
    return TrainingEvents()


@pytest.fixture
def allocate() -> Callable[..., dict]:
    """``allocate(url, unit, amount)``: POST an allocation with the usual budget codes."""

    def create(url: str, unit: str, amount: int, year: int = YEAR, **extra) -> dict:
        response = admin_http.post(
            f"{url}/allocations",
            json={
                "unit_code": unit,
                "unit_name": f"Unit {unit}",
                "fiscal_year": year,
                "amount_rupiah": amount,
                "sub_activity_code": SUB_ACTIVITY,
                "account_code": ACCOUNT,
                **extra,
            },
            timeout=10,
        )
        assert response.status_code == 201, response.text
        return response.json()

    return create


@pytest.fixture
def ledger_sums(budget_db: str) -> Callable[[str, int], dict[str, int]]:
    """The unit-year row's running sums beside the sums of its ledger entries, read directly."""

    def read(unit: str, year: int = YEAR) -> dict[str, int]:
        engine = make_engine(budget_db, pool_size=1)
        try:
            with engine.connect() as connection:
                sums = connection.execute(
                    select(
                        func.sum(LedgerEntry.allocated_delta),
                        func.sum(LedgerEntry.reserved_delta),
                        func.sum(LedgerEntry.spent_delta),
                    ).where(LedgerEntry.unit_code == unit, LedgerEntry.fiscal_year == year)
                ).one()
                row = connection.execute(
                    select(
                        Allocation.allocated_rupiah,
                        Allocation.reserved_rupiah,
                        Allocation.spent_rupiah,
                    ).where(Allocation.unit_code == unit, Allocation.fiscal_year == year)
                ).one()
        finally:
            engine.dispose()
        names = ("allocated", "reserved", "spent")
        ledger = {name: int(value or 0) for name, value in zip(names, sums, strict=True)}
        balance = dict(zip(names, row, strict=True))
        assert ledger == balance, f"ledger {ledger} != balance row {balance}"
        return ledger

    return read
