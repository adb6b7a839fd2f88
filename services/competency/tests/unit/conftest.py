"""Recording assessments without broker or database: an in-memory repository behind a fake
unit of work, and a fixed clock."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest

from asn_shared.clock import FixedClock
from asn_testkit.fakes import FakeUnitOfWork
from competency import domain
from competency.models import Employee, Jabatan, Unit

TODAY = date(2026, 6, 15)
NIP = "198609262015052001"
BANDS = [
    domain.CategoryBand("jf", "OPT", "Optimal", Decimal(90)),
    domain.CategoryBand("jf", "MMS", "Masih Memenuhi Syarat", Decimal(70)),
    domain.CategoryBand("jf", "KMS", "Kurang Memenuhi Syarat", Decimal(0)),
]


class FakeRecordingRepository:
    """``competency.repository.RecordingRepository`` over dicts and lists."""

    def __init__(self) -> None:
        self.bands = {"jf": BANDS}
        self.units = {"PLJ": Unit(code="PLJ", name="Kecamatan Plaju", kind="kecamatan")}
        self.jabatans: dict[str, Jabatan] = {}
        self.standards: dict[str, list[domain.StandardCell]] = {}
        self.employees: dict[str, Employee] = {}
        self.assessments: dict[uuid.UUID, dict[str, Any]] = {}
        self.results: list[dict[str, Any]] = []

    def category_bands(self, scheme: str) -> list[domain.CategoryBand]:
        return list(self.bands.get(scheme, []))

    def locked_employees(self, nips: set[str]) -> list[Employee]:
        return [self.employees[nip] for nip in sorted(nips) if nip in self.employees]

    def assessments_of(self, nips: set[str]) -> list[Any]:
        return [
            SimpleNamespace(**a) for a in self.assessments.values() if a["employee_nip"] in nips
        ]

    def jabatan(self, code: str) -> Jabatan | None:
        return self.jabatans.get(code)

    def standard(self, code: str) -> list[domain.StandardCell]:
        return self.standards.get(code, [])

    def unit(self, code: str) -> Unit:
        return self.units[code]

    def recorded_levels(self, assessment_id: uuid.UUID) -> dict[str, Decimal]:
        return {
            r["competency_code"]: r["achieved_level"]
            for r in self.results
            if r["assessment_id"] == assessment_id
        }

    def supersede(self, pairs: list[tuple[uuid.UUID, uuid.UUID]]) -> None:
        for old, new in pairs:
            self.assessments[old]["superseded_by"] = new

    def add_assessments(self, rows: list[dict[str, Any]]) -> None:
        self.assessments.update({row["id"]: dict(row) for row in rows})

    def add_results(self, rows: list[dict[str, Any]]) -> None:
        self.results.extend(rows)

    # --- what a test sets up ----------------------------------------------------------------

    def add_jabatan(self, code: str, standard: dict[str, int], kind: str = "manajerial"):
        self.jabatans[code] = Jabatan(
            code=code, name=f"Jabatan {code}", kind="pengawas", grade=None, unit_code="PLJ"
        )
        self.standards[code] = [
            domain.StandardCell(c, f"Kompetensi {c}", kind, level) for c, level in standard.items()
        ]

    def add_employee(self, nip: str = NIP, jabatan_code: str | None = "LURAH") -> Employee:
        employee = Employee(
            nip=nip,
            name="Siti Rahmawati",
            sex="P",
            birth_date=date(1986, 9, 26),
            appointed_on=date(2015, 5, 1),
            golongan="III/b",
            unit_code="PLJ",
            jabatan_code=jabatan_code,
            email=None,
            phone=None,
            supervisor_nip=None,
            language="id",
            version=1,
        )
        self.employees[nip] = employee
        return employee


@pytest.fixture
def repo() -> FakeRecordingRepository:
    repo = FakeRecordingRepository()
    repo.add_jabatan("LURAH", {"M.01": 3, "M.02": 3})
    repo.add_employee()
    return repo


@pytest.fixture
def uow(repo) -> FakeUnitOfWork:
    return FakeUnitOfWork("competency", repo, FixedClock(TODAY))
