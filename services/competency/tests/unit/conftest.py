"""Recording assessments without broker or database: an in-memory repository behind a fake
unit of work, and a fixed clock."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest

from asn_shared.auth import ADMIN, OPERATOR, Principal
from asn_shared.clock import FixedClock
from asn_testkit.fakes import FakeUnitOfWork, FakeUnitTree
from competency import domain, views
from competency.models import Competency, Employee, Jabatan, Unit

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
        self.imports: list[dict[str, Any]] = []

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

    def competency_codes(self) -> list[str]:
        return sorted({cell.competency_code for cells in self.standards.values() for cell in cells})

    def import_report(self, sha256: str, first_row: int) -> dict[str, Any] | None:
        return next(
            (
                i["report"]
                for i in self.imports
                if (i["sha256"], i["first_row"]) == (sha256, first_row)
            ),
            None,
        )

    def add_import(self, row: dict[str, Any]) -> None:
        self.imports.append(row)

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


class FakeRegistryRepository:
    """``competency.repository.RegistryRepository`` over dicts: a city, two districts."""

    def __init__(self) -> None:
        self.unit_rows: dict[str, Unit] = {}
        self.jabatans: dict[str, Jabatan] = {}
        self.employees: dict[str, Employee] = {}
        self.development: dict[uuid.UUID, dict[str, Any]] = {}
        self.competencies: dict[str, Competency] = {}
        self.levels: dict[tuple[str, int], str] = {}  # (code, level) -> description
        self.defaults: dict[tuple[str, str, str], int] = {}
        self.standards: dict[str, dict[str, int]] = {"LURAH": {}}
        for code, parent in (("PLG", None), ("PLJ", "PLG"), ("ILR", "PLG")):
            unit = Unit(code=code, name=f"Unit {code}", kind="kecamatan", parent_code=parent)
            unit.updated_at = FixedClock(TODAY).now()  # the row's default when registered
            self.add_unit(unit)
        self.jabatans["LURAH"] = Jabatan(
            code="LURAH", name="Lurah", kind="administrator", grade=None, unit_code="PLJ"
        )

    def _tree(self) -> FakeUnitTree:
        return FakeUnitTree({code: unit.parent_code for code, unit in self.unit_rows.items()})

    def check_unit(self, caller: Principal, unit_code: str | None) -> None:
        if caller.role == OPERATOR:
            caller.require_unit(unit_code, self._tree().scope(caller))
        else:
            caller.require(ADMIN)

    def check_employee(self, caller: Principal, nip: str) -> None:
        nip = "".join(nip.split())
        unit_code = None
        if caller.role == OPERATOR:
            if nip not in self.employees:
                return  # an unknown NIP answers 404 further on
            unit_code = self.employees[nip].unit_code
        self._tree().check_reach(caller, nip, unit_code)

    def unit(self, code: str, *, lock: bool = False) -> Unit | None:
        return self.unit_rows.get(code)

    def units(self) -> list[Unit]:
        return [self.unit_rows[code] for code in sorted(self.unit_rows)]

    def subtree_codes(self, code: str) -> list[str]:
        return sorted(self._tree().within(code))

    def add_unit(self, unit: Unit) -> None:
        self.unit_rows[unit.code] = unit

    def jabatan(self, code: str, *, lock: bool = False) -> Jabatan | None:
        return self.jabatans.get(code)

    def employee(self, nip: str, *, lock: bool = False) -> Employee | None:
        return self.employees.get(nip)

    def add_employee(self, employee: Employee) -> None:
        self.employees[employee.nip] = employee

    def save_employee(self, employee: Employee) -> None:
        assert self.employees[employee.nip] is employee

    def add_development(self, activity: dict[str, Any]) -> None:
        self.development.setdefault(activity["enrollment_id"], activity)

    def competency(self, code: str, *, lock: bool = False) -> Competency | None:
        return self.competencies.get(code)

    def known_competencies(self, codes: Any) -> set[str]:
        return set(codes) & set(self.competencies)

    def add_competency(self, competency: Competency) -> None:
        self.competencies[competency.code] = competency

    def set_levels(self, code: str, levels: list[dict[str, Any]]) -> None:
        for level in levels:
            self.levels[code, level["level"]] = level["description"]

    def competency_view(self, code: str) -> dict[str, Any]:
        """What the fake knows of the view: the row and its level descriptions."""
        found = self.competencies[code]
        return {
            "code": code,
            "name": found.name,
            "kind": found.kind,
            "description": found.description,
            "levels": [
                {"level": lv, "description": text}
                for (c, lv), text in sorted(self.levels.items())
                if c == code
            ],
        }

    def grade_defaults(self) -> dict[tuple[str, str, str], int]:
        return dict(self.defaults)

    def set_grade_default(self, default: dict[str, Any]) -> None:
        key = (default["kind"], default["grade"], default["competency_code"])
        self.defaults[key] = default["level"]

    def add_jabatan(self, jabatan: Jabatan, standard: dict[str, int]) -> None:
        self.jabatans[jabatan.code] = jabatan
        self.standards[jabatan.code] = dict(standard)

    def set_standard(self, code: str, competency_code: str, level: int) -> None:
        self.standards[code][competency_code] = level

    def remove_standard(self, code: str, competency_code: str) -> None:
        self.standards[code].pop(competency_code, None)

    def jabatan_view(self, code: str) -> dict[str, Any]:
        cells = [
            domain.StandardCell(c, self.competencies[c].name, self.competencies[c].kind, level)
            for c, level in sorted(self.standards[code].items())
        ]
        return views.jabatan_out(self.jabatans[code], cells)

    # --- what a test sets up ----------------------------------------------------------------

    def add_to_dictionary(self, code: str, kind: str = "manajerial") -> Competency:
        competency = Competency(code=code, name=f"Kompetensi {code}", kind=kind, description=None)
        self.competencies[code] = competency
        return competency


@pytest.fixture
def registry() -> FakeRegistryRepository:
    return FakeRegistryRepository()


@pytest.fixture
def registry_uow(registry) -> FakeUnitOfWork:
    return FakeUnitOfWork("competency", registry, FixedClock(TODAY))
